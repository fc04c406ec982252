import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";

import type { ApiClient } from "../api/client";
import type { SuggestPublic, TurnRole } from "../api/types";
import { storeAssistTurn, type StoredTurn } from "../assist";
import {
  DEFAULT_MAX_MESSAGE_CHARS,
  draftAfterUnfinishedReply,
  finishTurn,
  isSendKey,
  newTurn,
  unfinishedReplyError,
  withoutCitationMarkers,
  type ShownError,
  type Turn,
} from "../conversation";
import { isAbort, shownError } from "../errors";
import { ErrorNotice } from "./ErrorNotice";
import { SuggestionList } from "./SuggestionList";
import { TurnView } from "./TurnView";

export type Mode = "chat" | "assist";

interface Props {
  client: ApiClient;
  mode: Mode;
  onModeChange: (mode: Mode) => void;
  /** The conversation shown when the pane opens: App mounts a new pane (a new `key`) for each one. */
  opened: { id: string | null; turns: Turn[] };
  onConversationStarted: (id: string) => void;
}

function submitOnEnter(e: KeyboardEvent<HTMLTextAreaElement>) {
  if (isSendKey({ key: e.key, shiftKey: e.shiftKey, isComposing: e.nativeEvent.isComposing, keyCode: e.keyCode })) {
    e.preventDefault();
    e.currentTarget.form?.requestSubmit();
  }
}

/** Characters typed against the server's default limit (see DEFAULT_MAX_MESSAGE_CHARS). */
function CharCount({ id, text }: { id: string; text: string }) {
  const over = text.length > DEFAULT_MAX_MESSAGE_CHARS;
  return (
    <span
      id={id}
      className={over ? "char-count over" : "char-count"}
      title="naa serve refuses longer messages with its default settings (NAA_MAX_MESSAGE_CHARS)"
    >
      {text.length} / {DEFAULT_MAX_MESSAGE_CHARS}
      {over && " characters: too long for the default limit"}
    </span>
  );
}

export function ChatPane({ client, mode, onModeChange, opened, onConversationStarted }: Props) {
  const [turns, setTurns] = useState(opened.turns);
  const [conversationId, setConversationId] = useState(opened.id);
  const [announcement, setAnnouncement] = useState("");
  const [draft, setDraft] = useState("");
  const [agentDraft, setAgentDraft] = useState("");
  const [busy, setBusy] = useState(false);
  const [suggestions, setSuggestions] = useState<SuggestPublic | null>(null);
  const [error, setError] = useState<ShownError | null>(null);
  const abort = useRef<AbortController | null>(null);
  const live = useRef(true);
  const bottom = useRef<HTMLDivElement>(null);
  const customerBox = useRef<HTMLTextAreaElement>(null);
  const agentBox = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: "end" });
  }, [turns, suggestions]);
  // Another conversation opened (App mounts a new pane): stop this one's request, and let nothing it
  // still hears (a late reply, a conversation it started) reach App.
  useEffect(() => {
    live.current = true;
    return () => {
      live.current = false;
      abort.current?.abort();
    };
  }, []);
  useEffect(() => {
    setSuggestions(null);
    setError(null);
  }, [mode]);

  const started = (id: string) => {
    if (!live.current) return;
    setConversationId(id);
    onConversationStarted(id);
  };

  const update = (key: string, change: (t: Turn) => Turn) =>
    setTurns((all) => all.map((t) => (t.key === key ? change(t) : t)));

  const askAssistant = async (message: string) => {
    const customer = newTurn("customer", message);
    const reply = { ...newTurn("assistant", ""), streaming: true };
    setTurns((all) => [...all, customer, reply]);
    const controller = new AbortController();
    abort.current = controller;
    let accepted = false;
    try {
      const done = await client.chatStream(
        { message, conversation_id: conversationId },
        {
          onAccepted: () => {
            accepted = true;
            setDraft((d) => (d.trim() === message ? "" : d));
          },
          onIntent: (intent) => update(reply.key, (t) => ({ ...t, intent })),
          onPassages: ({ passages }) => update(reply.key, (t) => ({ ...t, passages })),
          onToken: ({ text }) => update(reply.key, (t) => ({ ...t, content: t.content + text })),
        },
        controller.signal,
      );
      update(reply.key, (t) => finishTurn(t, done));
      setAnnouncement(`Assistant replied: ${done.reply}`);
      if (done.conversation_id !== conversationId) started(done.conversation_id);
    } catch (err) {
      if (!accepted) {
        // Refused or unsent: nothing was stored, and the message stays in its box to edit and send again.
        setTurns((all) => all.filter((t) => t.key !== customer.key && t.key !== reply.key));
        if (!isAbort(err)) setError(shownError(err));
        return;
      }
      // Nothing was stored (the API stores the turn with its finished reply): the message goes back in its box.
      setDraft((d) => draftAfterUnfinishedReply(d, message));
      update(reply.key, (t) => ({
        ...t,
        streaming: false,
        error: unfinishedReplyError(isAbort(err) ? null : shownError(err)),
      }));
    }
  };

  const askSuggestions = async (id: string) => {
    const controller = new AbortController();
    abort.current = controller;
    try {
      const found = await client.suggest({ conversation_id: id, n: 3 }, controller.signal);
      setSuggestions(found);
      setAnnouncement(`${found.suggestions.length} suggested ${found.suggestions.length === 1 ? "reply" : "replies"}`);
    } catch (err) {
      if (!isAbort(err)) setError(shownError(err));
    }
  };

  /** Store an assist turn and show it; on failure show the error and keep the draft to send again. */
  const storeTurn = async (role: TurnRole, text: string): Promise<StoredTurn | null> => {
    const first = conversationId === null;
    try {
      const stored = await storeAssistTurn(client, conversationId, role, text, started);
      setTurns((all) => [...all, stored.turn]);
      // The list was reloaded when the conversation was created, before this turn: again, for its preview.
      if (first && live.current) onConversationStarted(stored.conversationId);
      return stored;
    } catch (err) {
      setError(shownError(err));
      return null;
    }
  };

  const sendCustomer = async (e: FormEvent) => {
    e.preventDefault();
    const message = draft.trim();
    if (!message || busy) return;
    // Sent with the button, which is disabled while busy: the box keeps the focus for the next message.
    customerBox.current?.focus();
    setError(null);
    setSuggestions(null);
    setBusy(true);
    try {
      if (mode === "chat") {
        await askAssistant(message);
      } else {
        const stored = await storeTurn("customer", message);
        if (stored) {
          setDraft((d) => (d.trim() === message ? "" : d));
          await askSuggestions(stored.conversationId);
        }
      }
    } finally {
      setBusy(false);
      abort.current = null;
    }
  };

  const sendAgent = async (e: FormEvent) => {
    e.preventDefault();
    const reply = agentDraft.trim();
    if (!reply || busy) return;
    agentBox.current?.focus();
    setError(null);
    setBusy(true);
    try {
      if (await storeTurn("agent", reply)) {
        setAgentDraft((d) => (d.trim() === reply ? "" : d));
        setSuggestions(null);
      }
    } finally {
      setBusy(false);
    }
  };

  const refreshSuggestions = async () => {
    if (!conversationId) return;
    agentBox.current?.focus();
    setError(null);
    setBusy(true);
    try {
      await askSuggestions(conversationId);
    } finally {
      setBusy(false);
      abort.current = null;
    }
  };

  const handedOff = turns.some((t) => t.role === "assistant" && t.handoff);
  const lastIsCustomer = turns.length > 0 && turns[turns.length - 1].role === "customer";

  return (
    <section className="panel chat" aria-label="Conversation">
      <header className="panel-head">
        <h2>Conversation</h2>
        <span className="muted conv-id">{conversationId ? `#${conversationId.slice(0, 8)}` : "new"}</span>
        <div className="mode-switch" role="radiogroup" aria-label="Mode">
          <label className={mode === "chat" ? "active" : ""}>
            <input type="radio" name="mode" checked={mode === "chat"} onChange={() => onModeChange("chat")} /> Assistant
            answers
          </label>
          <label className={mode === "assist" ? "active" : ""}>
            <input type="radio" name="mode" checked={mode === "assist"} onChange={() => onModeChange("assist")} /> Agent
            assist
          </label>
        </div>
      </header>

      {handedOff && (
        <div className="handoff-banner" role="status">
          <strong>Handoff:</strong> the assistant passed this conversation to a human agent.
          {mode === "chat" && (
            <>
              {" "}
              <button type="button" className="secondary small" onClick={() => onModeChange("assist")}>
                Answer as the agent
              </button>
            </>
          )}
        </div>
      )}
      {mode === "assist" && (
        <p className="hint">
          Agent assist: type as the customer, then pick or edit a suggested reply and send it as the agent. Each turn is
          stored in this conversation, so it shows in the conversation list and the export.
        </p>
      )}

      {/* Screen readers hear each finished reply once, not every streamed token. */}
      <div className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </div>
      <div className="transcript">
        {turns.length === 0 && (
          <p className="empty">
            {mode === "chat"
              ? "Type a message as the customer; the assistant's reply streams in with its intent and sources."
              : "Type the customer's first message to get suggested replies."}
          </p>
        )}
        {turns.map((turn) => (
          <TurnView key={turn.key} turn={turn} client={client} />
        ))}
        {mode === "assist" && suggestions && (
          <SuggestionList
            result={suggestions}
            onUse={(reply) => {
              setAgentDraft(withoutCitationMarkers(reply));
              // Straight to the reply box to edit it, and Enter sends it.
              agentBox.current?.focus();
            }}
          />
        )}
        <div ref={bottom} />
      </div>

      <ErrorNotice error={error} onDismiss={() => setError(null)} />

      {mode === "assist" && (
        <form className="composer agent" onSubmit={sendAgent}>
          <label htmlFor="agent-reply">Agent reply</label>
          <textarea
            id="agent-reply"
            ref={agentBox}
            rows={3}
            value={agentDraft}
            placeholder="Pick a suggestion or write the reply"
            onChange={(e) => setAgentDraft(e.target.value)}
            onKeyDown={submitOnEnter}
            aria-describedby="agent-reply-count"
          />
          <div className="row">
            <CharCount id="agent-reply-count" text={agentDraft} />
            <button type="submit" disabled={busy || !agentDraft.trim()}>
              Send as agent
            </button>
            <button
              type="button"
              className="secondary"
              disabled={busy || !lastIsCustomer || !conversationId}
              onClick={refreshSuggestions}
            >
              Suggest again
            </button>
          </div>
        </form>
      )}

      <form className="composer" onSubmit={sendCustomer}>
        <label htmlFor="customer-message">Customer message</label>
        <textarea
          id="customer-message"
          ref={customerBox}
          rows={2}
          value={draft}
          placeholder="e.g. How long does a refund take?"
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={submitOnEnter}
          aria-describedby="customer-message-count"
        />
        <div className="row">
          <CharCount id="customer-message-count" text={draft} />
          <button type="submit" disabled={busy || !draft.trim()}>
            {mode === "chat" ? "Send" : "Send and suggest"}
          </button>
          {busy && (
            <button type="button" className="secondary" onClick={() => abort.current?.abort()}>
              Stop
            </button>
          )}
        </div>
      </form>
    </section>
  );
}
