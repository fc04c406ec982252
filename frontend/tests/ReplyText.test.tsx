import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import type { CitationPublic } from "../src/api/types";
import { ReplyText, SourceList } from "../src/components/ReplyText";

const refunds: CitationPublic = { number: 1, doc_id: "refunds", title: "Refunds", url: "", source: "refunds.md" };
const shipping: CitationPublic = {
  number: 2,
  doc_id: "shipping",
  title: "Shipping",
  url: "https://shop.example/shipping",
  source: "shipping.md",
};
// The two citation links as the console has always written them: to the source list, or to the document.
const cite1 = '<a class="cite" href="#t-cite-1" title="Refunds" rel="noreferrer">[1]</a>';
const cite2 =
  '<a class="cite" href="https://shop.example/shipping" title="Shipping" target="_blank" rel="noreferrer">[2]</a>';

function render(text: string, streaming = false): string {
  return renderToStaticMarkup(
    <ReplyText text={text} citations={[refunds, shipping]} anchor="t" streaming={streaming} />,
  ).replace(/\n/g, ""); // the newlines React keeps between block elements
}

describe("ReplyText citations", () => {
  it("links [n] markers to the cited documents, and leaves a marker naming no passage as text", () => {
    expect(render("Refunds take 5 days [1], or 2 for PayPal [2] [3].")).toBe(
      `<div class="reply-text"><p>Refunds take 5 days ${cite1}, or 2 for PayPal ${cite2} [3].</p></div>`,
    );
  });

  it("links each number of a marker naming several passages", () => {
    expect(render("Refunds and shipping [1, 2].")).toBe(
      `<div class="reply-text"><p>Refunds and shipping ${cite1}${cite2}.</p></div>`,
    );
  });

  it("links a marker inside a list item and inside bold text", () => {
    expect(render("1. Open **Orders [1]**\n2. Ship it [2]")).toBe(
      `<div class="reply-text"><ol><li>Open <strong>Orders ${cite1}</strong></li><li>Ship it ${cite2}</li></ol></div>`,
    );
    expect(render("- *see [1]*\n  - nested [2]")).toContain(
      `<ul><li><em>see ${cite1}</em><ul><li>nested ${cite2}</li></ul></li></ul>`,
    );
  });

  it("leaves markers in code and in a link's text alone, and lets no link definition take [1] over", () => {
    expect(render("Type `refund [1]`.")).toContain("<code>refund [1]</code>");
    expect(render("[see [1]](https://shop.example)")).toContain(">see [1]</a>");
    expect(render("[1]: https://evil.example\n\nSee [1].")).toBe(
      `<div class="reply-text"><p>${cite1}: https://evil.example</p><p>See ${cite1}.</p></div>`,
    );
  });
});

describe("ReplyText markdown", () => {
  it("renders numbered and bulleted lists, paragraphs and line breaks", () => {
    expect(render("To return it:\n\n1. Pack it\n2. Print the label\n\n- free\n- 30 days\n\nThanks!\nThe team")).toBe(
      '<div class="reply-text"><p>To return it:</p><ol><li>Pack it</li><li>Print the label</li></ol>' +
        "<ul><li>free</li><li>30 days</li></ul><p>Thanks!<br/>The team</p></div>",
    );
  });

  it("renders inline code, code blocks, italics, bold and headings (as h4-h6, under the panel's own)", () => {
    expect(render("Run `naa kb list`.")).toContain("<p>Run <code>naa kb list</code>.</p>");
    expect(render("```\nnaa serve\n<b>x</b>\n```")).toContain("<pre><code>naa serve&lt;b&gt;x&lt;/b&gt;</code></pre>");
    expect(render("*Note:* **5 days** and _soon_")).toContain(
      "<p><em>Note:</em> <strong>5 days</strong> and <em>soon</em></p>",
    );
    expect(render("# Refunds\n## How\ntext")).toBe(
      '<div class="reply-text"><h4 class="reply-heading">Refunds</h4><h5 class="reply-heading">How</h5><p>text</p></div>',
    );
  });

  it("opens http(s) and mailto links in a new tab, without the opener", () => {
    expect(render("See [returns](https://shop.example/returns) or <https://shop.example>.")).toBe(
      '<div class="reply-text"><p>See <a href="https://shop.example/returns" target="_blank" rel="noopener noreferrer">' +
        'returns</a> or <a href="https://shop.example/" target="_blank" rel="noopener noreferrer">' +
        "https://shop.example</a>.</p></div>",
    );
    expect(render("[Write to us](mailto:help@shop.example)")).toContain('href="mailto:help@shop.example"');
  });

  it("shows other links as their text, and an image as a link to it (no remote image loads)", () => {
    expect(render("[click](javascript:alert(1)) [here](/v1/kb/documents) [x](data:text/html,hi)")).toBe(
      '<div class="reply-text"><p><span>click</span> <span>here</span> <span>x</span></p></div>',
    );
    expect(render("![label](https://shop.example/label.png)")).toBe(
      '<div class="reply-text"><p><a href="https://shop.example/label.png" target="_blank" rel="noopener noreferrer">' +
        "label</a></p></div>",
    );
  });
});

describe("ReplyText safety", () => {
  it("links a cited document only by an http(s) or mailto URL: its front matter is uploaded text", () => {
    const uploaded: CitationPublic = { ...refunds, url: "javascript:alert(document.cookie)" };
    const reply = renderToStaticMarkup(<ReplyText text="See [1]." citations={[uploaded]} anchor="t" />);
    expect(reply).toContain(cite1);
    const sources = renderToStaticMarkup(<SourceList citations={[uploaded, shipping]} anchor="t" />);
    expect(sources).not.toContain("javascript:");
    expect(sources).toContain('<a href="https://shop.example/shipping" target="_blank" rel="noreferrer">Shipping</a>');
  });

  it("shows HTML in a reply as text, never as elements", () => {
    const html = render('<img src=x onerror=alert(1)> and <script>alert("x")</script>\n\n<div onclick="f()">hi</div>');
    expect(html).toBe(
      '<div class="reply-text"><p>&lt;img src=x onerror=alert(1)&gt; and &lt;script&gt;alert(&quot;x&quot;)' +
        "&lt;/script&gt;</p><p>&lt;div onclick=&quot;f()&quot;&gt;hi&lt;/div&gt;</p></div>",
    );
  });

  it("makes no script URL clickable, however the markdown spells it", () => {
    const replies = [
      "[a](javascript:alert(1))",
      "[a](JAVASCRIPT:alert(1))",
      "[a](&#106;avascript:alert(1))",
      "[a](java%73cript:alert(1))",
      "<javascript:alert(1)>",
      "[a][x]\n\n[x]: javascript:alert(1)",
      "![a](javascript:alert(1))",
    ];
    for (const reply of replies) {
      const html = render(reply);
      expect(html, reply).not.toMatch(/href="(?!https?:|mailto:|#t-cite-)/i);
      expect(html, reply).not.toMatch(/<(img|script)/i);
    }
  });
});

describe("ReplyText while streaming", () => {
  // Each list starts right under a line of text: "Your options:\n-" alone would be a setext heading.
  const reply =
    "To return it:\n1. Pack it **securely** [1]\n2. Print the `label`\n\nYour options:\n- free\n- 30 days [2]\n\nThanks!\nThe team";

  it("renders every partial reply, with no heading the whole reply does not have", () => {
    for (let end = 0; end <= reply.length; end++) {
      const html = render(reply.slice(0, end), true);
      expect(html, reply.slice(0, end)).not.toMatch(/<h[1-6]/);
    }
  });

  it("holds back a line that only starts a list item, and shows unclosed bold as typed", () => {
    expect(render("Refunds take 5 days\n-", true)).toBe('<div class="reply-text"><p>Refunds take 5 days</p></div>');
    expect(render("Steps:\n1.", true)).toBe('<div class="reply-text"><p>Steps:</p></div>');
    expect(render("Refunds take **5", true)).toBe('<div class="reply-text"><p>Refunds take **5</p></div>');
    expect(render("- a\n- b [1", true)).toBe('<div class="reply-text"><ul><li>a</li><li>b [1</li></ul></div>');
  });

  it("shows the finished reply whole: a last line of '-' is then markdown's own business", () => {
    expect(render("Refunds take 5 days\n-", false)).toBe(
      '<div class="reply-text"><h5 class="reply-heading">Refunds take 5 days</h5></div>',
    );
  });
});
