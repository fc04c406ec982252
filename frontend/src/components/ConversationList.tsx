import { useCallback, useEffect, useRef, useState } from "react";

import type { ApiClient } from "../api/client";
import type { ConversationFilter, ConversationSummary } from "../api/types";
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

/** One conversation of the list: its first customer message, a badge once handed off, when, channel, id. */
export function ConversationItem({
  summary: c,
  selected,
  onOpen,
}: {
  summary: ConversationSummary;
  selected: boolean;
  onOpen: (id: string) => void;
}) {
  return (
    <button
      type="button"
      className={selected ? "conv selected" : "conv"}
      aria-current={selected ? "true" : undefined}
      data-id={c.id}
      title={c.preview || undefined}
      onClick={() => onOpen(c.id)}
    >
      <span className={c.preview ? "conv-preview" : "conv-preview muted"}>
        {c.preview || "No customer message yet"}
      </span>{" "}
      <span className="conv-meta">
        {c.handoff && (
          <>
            <span className="tag tag-handoff" title="Handed to a human agent: the assistant no longer answers">
              Handed off
            </span>{" "}
          </>
        )}
        {when(c.created_at)} · {c.channel} · #{c.id.slice(0, 8)}
      </span>
    </button>
  );
}

/** "handed-off": only the conversations handed to a human agent, the ones waiting for people. */
export type ListFilter = "all" | "handed-off";

const QUERY: Record<ListFilter, ConversationFilter> = { all: {}, "handed-off": { handoff: true } };

export function ConversationList({ client, selectedId, version, onOpen, onNew }: Props) {
  const [filter, setFilter] = useState<ListFilter>("all");
  const [items, setItems] = useState<ConversationSummary[] | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ShownError | null>(null);
  // Counts loads: a page that arrives after a later load began (another filter, a refresh) is dropped.
  const latest = useRef(0);

  /** The first page (offset 0) replaces the list; a later one is added below it. */
  const load = useCallback(
    async (offset: number) => {
      if (!client) return;
      const request = ++latest.current;
      setError(null);
      setLoading(true);
      try {
        const page = (await client.listConversations(PAGE_SIZE, offset, QUERY[filter])).conversations;
        if (request !== latest.current) return;
        setItems((shown) => {
          if (offset === 0 || !shown) return page;
          // A conversation started since the last page shifts the offsets by one: skip what is shown.
          const known = new Set(shown.map((c) => c.id));
          return [...shown, ...page.filter((c) => !known.has(c.id))];
        });
        setHasMore(page.length === PAGE_SIZE);
      } catch (err) {
        if (request === latest.current) setError(shownError(err));
      } finally {
        if (request === latest.current) setLoading(false);
      }
    },
    [client, filter],
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
      <div className="conv-filter" role="group" aria-label="Show conversations">
        {(["all", "handed-off"] as const).map((f) => (
          <button
            key={f}
            type="button"
            className={filter === f ? "small" : "small secondary"}
            aria-pressed={filter === f}
            disabled={!client}
            onClick={() => setFilter(f)}
          >
            {f === "all" ? "All" : "Handed off"}
          </button>
        ))}
      </div>
      <ErrorNotice error={error} />
      {!client && <p className="muted">Save an API key to see conversations.</p>}
      {items && items.length === 0 && (
        <p className="muted">{filter === "all" ? "No conversations yet." : "No conversation is handed off."}</p>
      )}
      {items && items.length > 0 && (
        <ul className="conv-list">
          {items.map((c) => (
            <li key={c.id}>
              <ConversationItem summary={c} selected={c.id === selectedId} onOpen={onOpen} />
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
