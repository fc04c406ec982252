import type { CitationPublic } from "../api/types";
import { replyParts } from "../conversation";

/** Text with its **bold** spans in bold; every other character shows as typed (no HTML is ever parsed). */
function Emphasis({ text }: { text: string }) {
  return (
    <>{text.split(/\*\*([^*\n]+)\*\*/).map((piece, i) => (i % 2 === 1 ? <strong key={i}>{piece}</strong> : piece))}</>
  );
}

/** A reply with its [n] markers turned into links to the cited documents and its **bold** in bold. */
export function ReplyText({ text, citations, anchor }: { text: string; citations: CitationPublic[]; anchor: string }) {
  return (
    <>
      {replyParts(text, citations).map((part, i) => {
        if (part.kind === "text")
          return (
            <span key={i}>
              <Emphasis text={part.text} />
            </span>
          );
        const c = part.citation;
        if (!c) return <span key={i}>[{part.number}]</span>;
        const href = c.url || `#${anchor}-cite-${c.number}`;
        return (
          <a
            key={i}
            className="cite"
            href={href}
            title={c.title || c.source}
            target={c.url ? "_blank" : undefined}
            rel="noreferrer"
          >
            [{c.number}]
          </a>
        );
      })}
    </>
  );
}

export function SourceList({ citations, anchor }: { citations: CitationPublic[]; anchor: string }) {
  if (citations.length === 0) return null;
  return (
    <ol className="sources" aria-label="Cited sources">
      {citations.map((c) => (
        <li key={c.number} id={`${anchor}-cite-${c.number}`}>
          <span className="cite-number">[{c.number}]</span>{" "}
          {c.url ? (
            <a href={c.url} target="_blank" rel="noreferrer">
              {c.title || c.doc_id}
            </a>
          ) : (
            <span>{c.title || c.doc_id}</span>
          )}
          <span className="muted" title={c.source}>
            {" "}
            · {c.doc_id}
          </span>
        </li>
      ))}
    </ol>
  );
}
