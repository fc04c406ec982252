/**
 * How the console reads a reply's markdown: which syntax it parses, which links it keeps, how [n] citation
 * markers are found, and what it holds back while a reply streams. ReplyText renders the result.
 */

import type { Options } from "react-markdown";
import remarkBreaks from "remark-breaks";

import type { CitationPublic } from "./api/types";
import { replyParts } from "./conversation";

/** The part of a markdown syntax tree (mdast) the citation pass reads. */
interface MdNode {
  type: string;
  value?: string;
  children?: MdNode[];
  data?: object;
}

/**
 * Parse no HTML at all: `<img src=x onerror=...>` or `<script>` in a reply stays text (React escapes it)
 * instead of being dropped, and `[1]: https://...` is not a link definition that would turn the [1]
 * citation markers into links to that URL. Autolinks (`<https://...>`) are a construct of their own and stay.
 */
function remarkTextOnly(this: { data(): object }) {
  // The processor's data as remark-parse reads it (its type augmentation is not in scope here).
  const data = this.data() as { micromarkExtensions?: object[] };
  // micromark's documented way to switch constructs off (micromark README, "Extensions", `disable.null`).
  (data.micromarkExtensions ??= []).push({ disable: { null: ["htmlFlow", "htmlText", "definition"] } });
}

/**
 * Each [n] marker naming a citation becomes an `<a>` element carrying `dataCite: n`, which ReplyText
 * renders as the link to the cited document; a marker naming none stays text. Markers are found by
 * replyParts wherever the reply has text (a list item, bold...), except in a link's text (no link in a
 * link) and in code, which is literal.
 */
function remarkCitations(citations: readonly CitationPublic[]) {
  const mark = (node: MdNode): void => {
    if (!node.children || node.type === "link" || node.type === "linkReference") return;
    node.children = node.children.flatMap((child) => {
      if (child.type !== "text") {
        mark(child);
        return [child];
      }
      return replyParts(child.value ?? "", citations).map((part) =>
        part.kind === "text" || !part.citation
          ? { type: "text", value: part.kind === "text" ? part.text : `[${part.number}]` }
          : {
              // Not a text node: to-hast builds the element from `data` (mdast-util-to-hast, "unknown" nodes).
              type: "citation",
              data: {
                hName: "a",
                hProperties: { dataCite: part.number },
                hChildren: [{ type: "text", value: `[${part.number}]` }],
              },
            },
      );
    });
  };
  return (tree: MdNode) => mark(tree);
}

/**
 * The remark plugins of a reply: no HTML, a newline is a line break (as the plain-text console showed
 * it; markdown would join the lines), and the [n] markers of these citations.
 */
export function replyPlugins(citations: readonly CitationPublic[]): NonNullable<Options["remarkPlugins"]> {
  return [remarkTextOnly, remarkBreaks, [remarkCitations, citations]];
}

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);

/** The URL when it is absolute http(s) or mailto, else null (the link shows as text). Replaces react-markdown's. */
export function safeUrl(url: string): string | null {
  try {
    const parsed = new URL(url);
    return SAFE_PROTOCOLS.has(parsed.protocol) ? parsed.href : null;
  } catch {
    return null; // relative or malformed: it would point into the console itself
  }
}

/**
 * A streaming reply without its last line while that line is only the start of a block (`-`, `1.`, `#`,
 * `>`, `=`, or a number that may become `1.`): shown, it would turn the paragraph above into a heading
 * for a token ("Text\n-" is a setext heading) or show a stray "1" until the item's text arrives.
 * Unclosed `**` or backticks show as typed until they close, as the plain-text console showed them.
 */
export function withoutPartialBlockStart(text: string): string {
  return text.replace(/(^|\n)[ \t]*(?:[-*+=#>]+|\d{1,9}[.)]?)[ \t]*$/, "$1");
}
