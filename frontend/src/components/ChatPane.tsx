import {
  useEffect,
  useRef,
  useState,
  type Dispatch,
  type FormEvent,
  type KeyboardEvent,
  type SetStateAction,
} from "react";

import type { ApiClient } from "../api/client";
import type { SuggestPublic, TurnRole } from "../api/types";
import { storeAssistTurn, type StoredTurn } from "../assist";
import { finishTurn, newTurn, type ShownError, type Turn } from "../conversation";
import { isAbort, shownError } from "../errors";
import { ErrorNotice } from "./ErrorNotice";
import { SuggestionList } from "./SuggestionList";
import { TurnView } from "./TurnView";

export type Mode = "chat" | "assist";

interface Props {
  client: ApiClient;
  mode: Mode;
  onModeChange: (mode: Mode) => void;
  turns: Turn[];
  setTurns: Dispatch<SetStateAction<Turn[]>>;
  conversationId: string | null;
  onConversationStarted: (id: string) => void;
}

function submitOnEnter(e: KeyboardEvent<HTMLTextAreaElement>) {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    e.currentTarget.form?.requestSubmit();
  }
}

export function ChatPane({
  client,
  mode,
  onModeChange,
  turns,
  setTurns,
  conversationId,
  onConversationStarted,
}: Props) {
  const [draft, setDraft] = useState("");
  const [agentDraft, setAgentDraft] = useState("");
  const [busy, setBusy] = useState(false);
  const [suggestions, setSuggestions] = useState<SuggestPublic | null>(null);
  const [error, setError] = useState<ShownError | null>(null);
  const abort = useRef<AbortController | null>(null);
  const bottom = useRef<HTMLDivElement>(null);

  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: "end" });
  }, [turns, suggestions]);
  useEffect(() => {
    return () => abort.current?.abort();
  }, []);
  useEffect(() => {
    setSuggestions(null);
    setError(null);
  }, [conversationId, mode]);

  const update = (key: string, change: (t: Turn) => Turn) =>
    setTurns((all) => all.map((t) => (t.key === key ? change(t) : t)));

  const askAssistant = async (message: string) => {
    const reply = { ...newTurn("assistant", ""), streaming: true };
    setTurns((all) => [...all, newTurn("customer", message), reply]);
    const controller = new AbortController();
    abort.current = controller;
    try {
      const done = await client.chatStream(
        { message, conversation_id: conversationId },
        {
          onIntent: (intent) => update(reply.key, (t) => ({ ...t, intent })),
          onPassages: ({ passages }) => update(reply.key, (t) => ({ ...t, passages })),
          onToken: ({ text }) => update(reply.key, (t) => ({ ...t, content: t.content + text })),
        },
        controller.signal,
      );
      update(reply.key, (t) => finishTurn(t, done));
      if (done.conversation_id !== conversationId) onConversationStarted(done.conversation_id);
    } catch (err) {
      const stopped = isAbort(err);
      update(reply.key, (t) => ({
        ...t,
        streaming: false,
        error: stopped ? { code: "stopped", message: "You stopped this reply; it was not stored." } : shownError(err),
      }));
    }
  };

  const askSuggestions = async (id: string) => {
    const controller = new AbortController();
    abort.current = controller;
    try {
      setSuggestions(await client.suggest({ conversation_id: id, n: 3 }, controller.signal));
    } catch (err) {
      if (!isAbort(err)) setError(shownError(err));
    }
  };

  /** Store an assist turn and show it; on failure show the error and keep the draft to send again. */
  const storeTurn = async (role: TurnRole, text: string): Promise<StoredTurn | null> => {
    try {
      const stored = await storeAssistTurn(client, conversationId, role, text, onConversationStarted);
      setTurns((all) => [...all, stored.turn]);
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
    setError(null);
    setSuggestions(null);
    setBusy(true);
    try {
      if (mode === "chat") {
        setDraft("");
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
        </div>
      )}
      {mode === "assist" && (
        <p className="hint">
          Agent assist: type as the customer, then pick or edit a suggested reply and send it as the agent. Each turn is
          stored in this conversation, so it shows in the conversation list and the export.
        </p>
      )}

      <div className="transcript" aria-live="polite">
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
          <SuggestionList result={suggestions} onUse={(reply) => setAgentDraft(reply)} />
        )}
        <div ref={bottom} />
      </div>

      <ErrorNotice error={error} onDismiss={() => setError(null)} />

      {mode === "assist" && (
        <form className="composer agent" onSubmit={sendAgent}>
          <label htmlFor="agent-reply">Agent reply</label>
          <textarea
            id="agent-reply"
            rows={3}
            value={agentDraft}
            placeholder="Pick a suggestion or write the reply"
            onChange={(e) => setAgentDraft(e.target.value)}
            onKeyDown={submitOnEnter}
          />
          <div className="row">
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
          rows={2}
          value={draft}
          placeholder="e.g. How long does a refund take?"
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={submitOnEnter}
        />
        <div className="row">
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
