import type { SuggestPublic } from "../api/types";
import { IntentBadge } from "./IntentBadge";
import { ReplyText, SourceList } from "./ReplyText";

/** The /v1/suggest candidates; "Use" copies one into the agent's reply box for editing. */
export function SuggestionList({ result, onUse }: { result: SuggestPublic; onUse: (reply: string) => void }) {
  return (
    <section className="suggestions" aria-label="Suggested replies">
      <header className="suggestions-head">
        <h3>Suggested replies</h3>
        <IntentBadge intent={result.intent} />
      </header>
      {result.suggestions.length === 0 && <p className="muted">No suggestion for this turn.</p>}
      <ol>
        {result.suggestions.map((s, i) => (
          <li key={i} className="suggestion">
            <div className="suggestion-text">
              <ReplyText text={s.reply} citations={s.citations} anchor={`suggestion-${i}`} />
              {s.handoff && <span className="tag tag-handoff">handoff</span>}
            </div>
            <SourceList citations={s.citations} anchor={`suggestion-${i}`} />
            <button type="button" onClick={() => onUse(s.reply)} aria-label={`Use suggestion ${i + 1}`}>
              Use
            </button>
          </li>
        ))}
      </ol>
    </section>
  );
}
