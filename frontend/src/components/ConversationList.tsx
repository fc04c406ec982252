import { useCallback, useEffect, useState } from "react";

import type { ApiClient } from "../api/client";
import type { ConversationSummary } from "../api/types";
import type { ShownError } from "../conversation";
import { shownError } from "../errors";
import { ErrorNotice } from "./ErrorNotice";

interface Props {
  client: ApiClient | null;
  selectedId: string | null;
  /** Changes whenever the list may have changed (a new conversation was stored). */
  version: number;
  onOpen: (id: string) => void;
  onNew: () => void;
}

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}

export function ConversationList({ client, selectedId, version, onOpen, onNew }: Props) {
  const [items, setItems] = useState<ConversationSummary[] | null>(null);
  const [error, setError] = useState<ShownError | null>(null);

  const load = useCallback(async () => {
    if (!client) return;
    setError(null);
    try {
      setItems((await client.listConversations()).conversations);
    } catch (err) {
      setError(shownError(err));
    }
  }, [client]);

  useEffect(() => {
    void load();
  }, [load, version]);

  return (
    <nav className="panel conversations" aria-label="Past conversations">
      <header className="panel-head">
        <h2>Conversations</h2>
        <button type="button" className="secondary small" onClick={() => void load()} disabled={!client}>
          Refresh
        </button>
      </header>
      <button type="button" className="new-conv" onClick={onNew}>
        + New conversation
      </button>
      <ErrorNotice error={error} />
      {!client && <p className="muted">Save an API key to see conversations.</p>}
      {items && items.length === 0 && <p className="muted">No conversations yet.</p>}
      <ul>
        {items?.map((c) => (
          <li key={c.id}>
            <button
              type="button"
              className={c.id === selectedId ? "conv selected" : "conv"}
              aria-current={c.id === selectedId ? "true" : undefined}
              aria-label={`Open conversation ${c.id}`}
              onClick={() => onOpen(c.id)}
            >
              <span className="conv-when">{when(c.created_at)}</span>
              <span className="conv-meta">
                #{c.id.slice(0, 8)} · {c.channel}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
