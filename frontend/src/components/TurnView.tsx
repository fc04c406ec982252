import type { ApiClient } from "../api/client";
import { describeTimings, type Turn } from "../conversation";
import { ErrorNotice } from "./ErrorNotice";
import { FeedbackControls } from "./FeedbackControls";
import { IntentBadge } from "./IntentBadge";
import { ReplyText, SourceList } from "./ReplyText";

const SPEAKER = { customer: "Customer", agent: "Agent", assistant: "Assistant" } as const;

export function TurnView({ turn, client }: { turn: Turn; client: ApiClient }) {
  const anchor = `turn-${turn.key}`;
  const isReply = turn.role === "assistant";
  const timings = isReply ? describeTimings(turn.timings) : null;
  return (
    <article
      className={`turn turn-${turn.role}`}
      aria-label={isReply ? "Assistant reply" : `${SPEAKER[turn.role]} turn`}
      aria-busy={turn.streaming ? true : false}
    >
      <header className="turn-head">
        <span className="speaker">{SPEAKER[turn.role]}</span>
        {isReply && turn.intent && <IntentBadge intent={turn.intent} />}
        {isReply && turn.handoff && <span className="tag tag-handoff">handoff</span>}
        {isReply && turn.cutAtLimit && (
          <span className="tag" title="The reply stopped at the token limit (generation.max_new_tokens)">
            cut at token limit
          </span>
        )}
        {turn.action && turn.action !== "answer" && turn.action !== "handoff" && (
          <span className="tag">{turn.action.replace("_", " ")}</span>
        )}
        {turn.streaming && (
          <span className="typing" aria-label="Streaming">
            ●●●
          </span>
        )}
        {timings && (
          <span className="timing" title={timings.stages}>
            {timings.total}
          </span>
        )}
      </header>
      <div className="turn-body">
        {isReply ? (
          <ReplyText text={turn.content} citations={turn.citations} anchor={anchor} streaming={turn.streaming} />
        ) : (
          turn.content
        )}
      </div>
      {isReply && <SourceList citations={turn.citations} anchor={anchor} />}
      {isReply && turn.passages.length > 0 && (
        <details className="passages">
          <summary>Retrieved passages ({turn.passages.length})</summary>
          <ol>
            {turn.passages.map((p) => (
              <li key={p.chunk_id}>
                <div className="passage-head">
                  {p.url ? (
                    <a href={p.url} target="_blank" rel="noreferrer">
                      {p.title || p.doc_id}
                    </a>
                  ) : (
                    <strong>{p.title || p.doc_id}</strong>
                  )}
                  {p.section && <span className="muted"> · {p.section}</span>}
                  <span className="score">score {p.score.toFixed(2)}</span>
                </div>
                <p>{p.text}</p>
              </li>
            ))}
          </ol>
        </details>
      )}
      <ErrorNotice error={turn.error ?? null} />
      {isReply && turn.messageId && !turn.streaming && (
        <FeedbackControls client={client} messageId={turn.messageId} reply={turn.content} />
      )}
    </article>
  );
}
