import { useState, type FormEvent } from "react";

import type { ApiClient } from "../api/client";
import type { FeedbackCreate, Rating } from "../api/types";
import { feedbackBody, MAX_CORRECTED_REPLY_CHARS, MAX_FEEDBACK_COMMENT_CHARS, type ShownError } from "../conversation";
import { shownError } from "../errors";
import { ErrorNotice } from "./ErrorNotice";

// A thumb icon drawn inline: emoji need a colour-emoji font, which many desktops and servers lack.
function Thumb({ down = false }: { down?: boolean }) {
  return (
    <svg viewBox="0 0 24 24" aria-hidden="true" style={down ? { transform: "rotate(180deg)" } : undefined}>
      <path
        fill="currentColor"
        d="M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z"
      />
    </svg>
  );
}

function describeSent(sent: FeedbackCreate): string {
  const parts = [sent.rating === "up" ? "thumbs up" : "thumbs down"];
  if (sent.comment) parts.push("a comment");
  if (sent.corrected_reply) parts.push("a corrected reply");
  return `Feedback sent: ${parts.join(", ")}`;
}

/**
 * Thumbs up or down on a stored assistant message, with an optional comment and corrected reply.
 * One feedback per reply from this console: once sent, the controls say what was sent and stay off.
 */
export function FeedbackControls({
  client,
  messageId,
  reply,
}: {
  client: ApiClient;
  messageId: string;
  reply: string;
}) {
  const [rating, setRating] = useState<Rating | null>(null);
  const [open, setOpen] = useState(false);
  const [comment, setComment] = useState("");
  const [correction, setCorrection] = useState("");
  const [sent, setSent] = useState<FeedbackCreate | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | null>(null);

  const send = async (chosen: Rating) => {
    setBusy(true);
    setError(null);
    try {
      const body = feedbackBody(messageId, chosen, comment, correction, reply);
      await client.sendFeedback(body);
      setSent(body);
      setOpen(false);
    } catch (err) {
      setError(shownError(err));
    } finally {
      setBusy(false);
    }
  };

  const openForm = (chosen: Rating) => {
    setRating(chosen);
    // Starts from the assistant's reply to edit; sent only if it was changed (see feedbackBody).
    if (!correction) setCorrection(reply);
    setOpen(true);
  };

  const choose = (chosen: Rating) => {
    if (chosen === "up") void send("up");
    else openForm("down");
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (rating) void send(rating);
  };

  const idPrefix = `fb-${messageId}`;
  const locked = busy || sent !== null;
  return (
    <div className="feedback">
      <div className="feedback-buttons">
        <button
          type="button"
          className={`thumb${sent?.rating === "up" ? " chosen" : ""}`}
          aria-label="Thumbs up"
          aria-pressed={sent?.rating === "up"}
          disabled={locked}
          onClick={() => choose("up")}
        >
          <Thumb />
        </button>
        <button
          type="button"
          className={`thumb${sent?.rating === "down" || (open && rating === "down") ? " chosen" : ""}`}
          aria-label="Thumbs down"
          aria-pressed={sent?.rating === "down"}
          disabled={locked}
          onClick={() => choose("down")}
        >
          <Thumb down />
        </button>
        {!open && !sent && (
          <button type="button" className="link" onClick={() => openForm(rating ?? "down")}>
            Suggest a correction
          </button>
        )}
        {sent && (
          <span className="muted" role="status">
            {describeSent(sent)}
          </span>
        )}
      </div>
      {open && (
        <form className="feedback-form" onSubmit={submit}>
          <fieldset className="rating-choice">
            <legend>Rating</legend>
            <label>
              <input
                type="radio"
                name={`${idPrefix}-rating`}
                checked={rating === "up"}
                onChange={() => setRating("up")}
              />{" "}
              Good
            </label>
            <label>
              <input
                type="radio"
                name={`${idPrefix}-rating`}
                checked={rating === "down"}
                onChange={() => setRating("down")}
              />{" "}
              Bad
            </label>
          </fieldset>
          <label htmlFor={`${idPrefix}-comment`}>Comment (optional)</label>
          <input
            id={`${idPrefix}-comment`}
            value={comment}
            maxLength={MAX_FEEDBACK_COMMENT_CHARS}
            onChange={(e) => setComment(e.target.value)}
          />
          <label htmlFor={`${idPrefix}-correction`}>Corrected reply (optional: sent only if you change it)</label>
          <textarea
            id={`${idPrefix}-correction`}
            rows={3}
            value={correction}
            maxLength={MAX_CORRECTED_REPLY_CHARS}
            onChange={(e) => setCorrection(e.target.value)}
          />
          <div className="row">
            <button type="submit" disabled={locked || !rating}>
              Send feedback
            </button>
            <button type="button" className="secondary" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <ErrorNotice error={error} onDismiss={() => setError(null)} />
    </div>
  );
}
