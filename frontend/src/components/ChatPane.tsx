import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";

import type { ApiClient } from "../api/client";
import type { SuggestPublic, TurnRole } from "../api/types";
import { storeAssistTurn, type StoredTurn } from "../assist";
import {
  assistantTurn,
  DEFAULT_MAX_MESSAGE_CHARS,
  draftAfterUnfinishedReply,
  finishTurn,
  handedOffError,
  handedOffIn,
  isSendKey,
  newTurn,
  turnFromStored,
  unfinishedReplyError,
  withoutCitationMarkers,
  type Mode,
  type ShownError,
  type Turn,
} from "../conversation";
import { isAbort, isHandedOff, shownError } from "../errors";
import { ErrorNotice } from "./ErrorNotice";
import { SuggestionList } from "./SuggestionList";
import { TurnView } from "./TurnView";

export type { Mode };

interface Props {
  client: ApiClient;
  /** The mode chosen; a handed-off conversation is shown in agent assist whatever it is. */
  mode: Mode;
  onModeChange: (mode: Mode) => void;
  /**
   * The conversation shown when the pane opens (`handoff`: the API's flag for it): App mounts a new pane (a
   * new `key`) for each one.
   */
  opened: { id: string | null; turns: Turn[]; handoff?: boolean };
  /** A conversation was stored, or changed as the conversation list shows it (its first turn, a handoff). */
  onConversationChanged: (id: string) => void;
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

export function ChatPane({ client, mode, onModeChange, opened, onConversationChanged }: Props) {
  const [turns, setTurns] = useState(opened.turns);
  const [conversationId, setConversationId] = useState(opened.id);
  // Set by the API's flag when the pane opens, or by a 409 `handed_off` (handed off elsewhere meanwhile).
  const [markedHandedOff, setMarkedHandedOff] = useState(opened.handoff ?? false);
  const [announcement, setAnnouncement] = useState("");
  const [draft, setDraft] = useState("");
  const [agentDraft, setAgentDraft] = useState("");
  const [busy, setBusy] = useState(false);
  const [suggestions, setSuggestions] = useState<SuggestPublic | null>(null);
  const [error, setError] = useState<ShownError | null>(null);
  const abort = useRef<AbortController | null>(null);
  const live = useRef(true);
  // Whether App knows the conversation (it is in the list); one the assistant's first reply has not been
  // stored in yet is not listed, so that a refused first message leaves no conversation selected.
  const listed = useRef(opened.id !== null);
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

  // The assistant no longer answers a handed-off conversation (/v1/chat is a 409): people do, in agent assist.
  const handedOff = markedHandedOff || handedOffIn(turns);
  const shownMode: Mode = handedOff ? "assist" : mode;

  const changeMode = (next: Mode) => {
    setSuggestions(null);
    setError(null);
    onModeChange(next);
  };

  /** App hears the conversation (it selects it and reloads the list); nothing once another one opened. */
  const changed = (id: string) => {
    if (!live.current) return;
    setConversationId(id);
    listed.current = true;
    onConversationChanged(id);
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
    const id = conversationId;
    try {
      const done = await client.chatStream(
        assistantTurn(conversationId, message),
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
      setAnnouncement(
        done.handoff
          ? `Assistant replied: ${done.reply} The conversation is handed to a human agent: agent assist is on.`
          : `Assistant replied: ${done.reply}`,
      );
      // The list shows a new conversation once its first turn is stored, and a handoff's badge.
      if (!listed.current || done.handoff) changed(done.conversation_id);
    } catch (err) {
      if (!accepted) {
        // Refused or unsent: nothing was stored, and the message stays in its box to edit and send again.
        setTurns((all) => all.filter((t) => t.key !== customer.key && t.key !== reply.key));
        if (isHandedOff(err) && id !== null) {
          // Handed off elsewhere meanwhile: the pane turns to agent assist, where the message can be sent.
          setMarkedHandedOff(true);
          setError(handedOffError());
          if (listed.current) changed(id);
          void showStoredTurns(id);
        } else if (!isAbort(err)) setError(shownError(err));
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

  /** The turns stored meanwhile (the handoff, elsewhere); without them, the pane keeps what it shows. */
  const showStoredTurns = async (id: string) => {
    try {
      const conversation = await client.getConversation(id);
      if (live.current) setTurns(conversation.messages.map(turnFromStored));
    } catch {
      // The handoff banner and the notice already say what to do.
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
    // Not listed yet: this turn starts the conversation.
    const first = !listed.current;
    try {
      const stored = await storeAssistTurn(client, conversationId, role, text, changed);
      setTurns((all) => [...all, stored.turn]);
      // The list was reloaded when the conversation was created, before this turn: again, for its preview.
      if (first) changed(stored.conversationId);
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
      if (shownMode === "chat") {
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

  const lastIsCustomer = turns.length > 0 && turns[turns.length - 1].role === "customer";

  return (
    <section className="panel chat" aria-label="Conversation">
      <header className="panel-head">
        <h2>Conversation</h2>
        <span className="muted conv-id">{conversationId ? `#${conversationId.slice(0, 8)}` : "new"}</span>
        <div className="mode-switch" role="radiogroup" aria-label="Mode">
          <label
            className={shownMode === "chat" ? "active" : handedOff ? "disabled" : ""}
            title={
              handedOff ? "The assistant handed this conversation to a human agent: it no longer answers here" : ""
            }
          >
            <input
              type="radio"
              name="mode"
              checked={shownMode === "chat"}
              disabled={handedOff}
              onChange={() => changeMode("chat")}
            />{" "}
            Assistant answers
          </label>
          <label className={shownMode === "assist" ? "active" : ""}>
            <input type="radio" name="mode" checked={shownMode === "assist"} onChange={() => changeMode("assist")} />{" "}
            Agent assist
          </label>
        </div>
      </header>

      {handedOff && (
        <div className="handoff-banner" role="status">
          <strong>Handoff:</strong> the assistant passed this conversation to a human agent and no longer answers in it;
          people carry on here in agent assist.{" "}
          <button type="button" className="secondary small" onClick={() => agentBox.current?.focus()}>
            Answer as the agent
          </button>
        </div>
      )}
      {shownMode === "assist" && (
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
            {shownMode === "chat"
              ? "Type a message as the customer; the assistant's reply streams in with its intent and sources."
              : "Type the customer's first message to get suggested replies."}
          </p>
        )}
        {turns.map((turn) => (
          <TurnView key={turn.key} turn={turn} client={client} />
        ))}
        {shownMode === "assist" && suggestions && (
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

      {shownMode === "assist" && (
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
            {shownMode === "chat" ? "Send" : "Send and suggest"}
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
