import { useState, type FormEvent } from "react";

import type { ApiClient } from "../api/client";
import type { Rating } from "../api/types";
import type { ShownError } from "../conversation";
import { shownError } from "../errors";
import { ErrorNotice } from "./ErrorNotice";

/** Thumbs up or down on a stored assistant message, with an optional comment and corrected reply. */
export function FeedbackControls({ client, messageId, reply }: { client: ApiClient; messageId: string; reply: string }) {
  const [rating, setRating] = useState<Rating | null>(null);
  const [open, setOpen] = useState(false);
  const [comment, setComment] = useState("");
  const [correction, setCorrection] = useState("");
  const [sent, setSent] = useState<Rating | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | null>(null);

  const send = async (chosen: Rating) => {
    setBusy(true);
    setError(null);
    try {
      await client.sendFeedback({
        message_id: messageId,
        rating: chosen,
        comment: comment.trim() || null,
        corrected_reply: correction.trim() || null,
      });
      setSent(chosen);
      setOpen(false);
    } catch (err) {
      setError(shownError(err));
    } finally {
      setBusy(false);
    }
  };

  const choose = (chosen: Rating) => {
    setRating(chosen);
    if (chosen === "up") void send("up");
    else {
      if (!correction) setCorrection(reply);
      setOpen(true);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (rating) void send(rating);
  };

  const idPrefix = `fb-${messageId}`;
  return (
    <div className="feedback">
      <div className="feedback-buttons">
        <button
          type="button"
          className={`thumb${sent === "up" ? " chosen" : ""}`}
          aria-label="Thumbs up"
          aria-pressed={sent === "up"}
          disabled={busy}
          onClick={() => choose("up")}
        >
          👍
        </button>
        <button
          type="button"
          className={`thumb${sent === "down" || (open && rating === "down") ? " chosen" : ""}`}
          aria-label="Thumbs down"
          aria-pressed={sent === "down"}
          disabled={busy}
          onClick={() => choose("down")}
        >
          👎
        </button>
        {!open && (
          <button type="button" className="link" onClick={() => { setRating(rating ?? "down"); setOpen(true); if (!correction) setCorrection(reply); }}>
            Suggest a correction
          </button>
        )}
        {sent && !open && <span className="muted" role="status">Feedback saved</span>}
      </div>
      {open && (
        <form className="feedback-form" onSubmit={submit}>
          <fieldset className="rating-choice">
            <legend>Rating</legend>
            <label>
              <input type="radio" name={`${idPrefix}-rating`} checked={rating === "up"} onChange={() => setRating("up")} /> Good
            </label>
            <label>
              <input type="radio" name={`${idPrefix}-rating`} checked={rating === "down"} onChange={() => setRating("down")} /> Bad
            </label>
          </fieldset>
          <label htmlFor={`${idPrefix}-comment`}>Comment (optional)</label>
          <input id={`${idPrefix}-comment`} value={comment} onChange={(e) => setComment(e.target.value)} />
          <label htmlFor={`${idPrefix}-correction`}>Corrected reply (optional)</label>
          <textarea id={`${idPrefix}-correction`} rows={3} value={correction} onChange={(e) => setCorrection(e.target.value)} />
          <div className="row">
            <button type="submit" disabled={busy || !rating}>
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
