import { memo, type ReactNode } from "react";
import Markdown, { type Components } from "react-markdown";

import type { CitationPublic } from "../api/types";
import { replyPlugins, safeUrl, withoutPartialBlockStart } from "../markdown";

/** A link the reply wrote: opened in a new tab, or shown as text when its URL is not http(s) or mailto. */
function ExternalLink({ href, children }: { href: string | undefined; children: ReactNode }) {
  if (!href) return <span>{children}</span>;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  );
}

/**
 * A cited document's URL when it is http(s) or mailto: it comes from the document's front matter or FAQ
 * row, which anyone with the partner's key can upload, so a `javascript:` URL must not become a link.
 */
function citationUrl(citation: CitationPublic): string | null {
  return citation.url ? safeUrl(citation.url) : null;
}

/** A [n] marker naming a citation: a link to the cited document, or to its entry in the source list. */
function CitationLink({ citation, anchor }: { citation: CitationPublic; anchor: string }) {
  const url = citationUrl(citation);
  return (
    <a
      className="cite"
      href={url ?? `#${anchor}-cite-${citation.number}`}
      title={citation.title || citation.source}
      target={url ? "_blank" : undefined}
      rel="noreferrer"
    >
      [{citation.number}]
    </a>
  );
}

/**
 * The elements a reply's markdown may produce beyond the plain ones (p, lists, em, strong, code, pre,
 * blockquote, hr, br): links checked by safeUrl, [n] markers, images as links (no remote image loads
 * from a reply), and headings as h4-h6 so a reply's "# Title" stays under the panel's own headings.
 */
function replyComponents(citations: readonly CitationPublic[], anchor: string): Components {
  return {
    a: ({ node, href, children }) => {
      // Set by markdown.ts for a [n] marker naming one of these citations; a markdown link cannot set it.
      const cited = node?.properties?.dataCite;
      const citation = citations.find((c) => c.number === cited);
      if (citation) return <CitationLink citation={citation} anchor={anchor} />;
      return <ExternalLink href={href}>{children}</ExternalLink>;
    },
    img: ({ src, alt }) => <ExternalLink href={typeof src === "string" ? src : undefined}>{alt || src}</ExternalLink>,
    h1: ({ children }) => <h4 className="reply-heading">{children}</h4>,
    h2: ({ children }) => <h5 className="reply-heading">{children}</h5>,
    h3: ({ children }) => <h6 className="reply-heading">{children}</h6>,
    h4: ({ children }) => <h6 className="reply-heading">{children}</h6>,
    h5: ({ children }) => <h6 className="reply-heading">{children}</h6>,
    h6: ({ children }) => <h6 className="reply-heading">{children}</h6>,
  };
}

/**
 * A reply rendered from its markdown, with its [n] markers turned into links to the cited documents. No
 * HTML is ever parsed (markdown.ts); while `streaming`, a last line that only starts a block is held back.
 * Memoized: each streamed token re-renders the transcript, and only the reply that changed is parsed again.
 */
export const ReplyText = memo(function ReplyText({
  text,
  citations,
  anchor,
  streaming = false,
}: {
  text: string;
  citations: CitationPublic[];
  anchor: string;
  streaming?: boolean;
}) {
  return (
    <div className="reply-text">
      <Markdown
        remarkPlugins={replyPlugins(citations)}
        urlTransform={safeUrl}
        components={replyComponents(citations, anchor)}
      >
        {streaming ? withoutPartialBlockStart(text) : text}
      </Markdown>
    </div>
  );
});

export function SourceList({ citations, anchor }: { citations: CitationPublic[]; anchor: string }) {
  if (citations.length === 0) return null;
  return (
    <ol className="sources" aria-label="Cited sources">
      {citations.map((c) => {
        const url = citationUrl(c);
        return (
          <li key={c.number} id={`${anchor}-cite-${c.number}`}>
            <span className="cite-number">[{c.number}]</span>{" "}
            {url ? (
              <a href={url} target="_blank" rel="noreferrer">
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
        );
      })}
    </ol>
  );
}
