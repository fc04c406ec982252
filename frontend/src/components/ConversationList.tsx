import { useCallback, useEffect, useState } from "react";

import type { ApiClient } from "../api/client";
import type { ConversationSummary } from "../api/types";
import type { ShownError } from "../conversation";
import { shownError } from "../errors";
import { ErrorNotice } from "./ErrorNotice";

/** Conversations per request; "Load older" asks for the next page. */
const PAGE_SIZE = 50;

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
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ShownError | null>(null);

  /** The first page (offset 0) replaces the list; a later one is added below it. */
  const load = useCallback(
    async (offset: number) => {
      if (!client) return;
      setError(null);
      setLoading(true);
      try {
        const page = (await client.listConversations(PAGE_SIZE, offset)).conversations;
        setItems((shown) => {
          if (offset === 0 || !shown) return page;
          // A conversation started since the last page shifts the offsets by one: skip what is shown.
          const known = new Set(shown.map((c) => c.id));
          return [...shown, ...page.filter((c) => !known.has(c.id))];
        });
        setHasMore(page.length === PAGE_SIZE);
      } catch (err) {
        setError(shownError(err));
      } finally {
        setLoading(false);
      }
    },
    [client],
  );

  useEffect(() => {
    void load(0);
  }, [load, version]);

  return (
    <nav className="panel conversations" aria-label="Past conversations">
      <header className="panel-head">
        <h2>Conversations</h2>
        <button type="button" className="secondary small" onClick={() => void load(0)} disabled={!client}>
          Refresh
        </button>
      </header>
      <button type="button" className="new-conv" onClick={onNew}>
        + New conversation
      </button>
      <ErrorNotice error={error} />
      {!client && <p className="muted">Save an API key to see conversations.</p>}
      {items && items.length === 0 && <p className="muted">No conversations yet.</p>}
      {items && items.length > 0 && (
        <ul className="conv-list">
          {items.map((c) => (
            <li key={c.id}>
              <button
                type="button"
                className={c.id === selectedId ? "conv selected" : "conv"}
                aria-current={c.id === selectedId ? "true" : undefined}
                data-id={c.id}
                title={c.preview || undefined}
                onClick={() => onOpen(c.id)}
              >
                <span className={c.preview ? "conv-preview" : "conv-preview muted"}>
                  {c.preview || "No customer message yet"}
                </span>{" "}
                <span className="conv-meta">
                  {when(c.created_at)} · {c.channel} · #{c.id.slice(0, 8)}
                </span>
              </button>
            </li>
          ))}
          {hasMore && (
            <li>
              <button
                type="button"
                className="secondary small load-more"
                disabled={loading}
                onClick={() => void load(items.length)}
              >
                {loading ? "Loading…" : "Load older conversations"}
              </button>
            </li>
          )}
        </ul>
      )}
    </nav>
  );
}
