import { describe, expect, it } from "vitest";

import { safeUrl, withoutPartialBlockStart } from "../src/markdown";

describe("safeUrl", () => {
  it("keeps absolute http(s) and mailto URLs", () => {
    expect(safeUrl("https://shop.example/returns?x=1")).toBe("https://shop.example/returns?x=1");
    expect(safeUrl("http://shop.example")).toBe("http://shop.example/");
    expect(safeUrl("mailto:help@shop.example")).toBe("mailto:help@shop.example");
  });

  it("drops script, data and relative URLs, however they are spelled", () => {
    for (const url of [
      "javascript:alert(1)",
      "JaVaScRiPt:alert(1)",
      " javascript:alert(1)",
      "java\tscript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "vbscript:msgbox(1)",
      "/v1/kb/documents",
      "#turn-1-cite-1",
      "",
    ]) {
      expect(safeUrl(url), url).toBeNull();
    }
  });
});

describe("withoutPartialBlockStart", () => {
  it("holds back a last line that only starts a list item, heading, quote or setext underline", () => {
    expect(withoutPartialBlockStart("Refunds take 5 days.\n-")).toBe("Refunds take 5 days.\n");
    expect(withoutPartialBlockStart("Steps:\n1.")).toBe("Steps:\n");
    expect(withoutPartialBlockStart("Steps:\n1. Open Orders\n2")).toBe("Steps:\n1. Open Orders\n");
    expect(withoutPartialBlockStart("Steps:\n  * ")).toBe("Steps:\n");
    expect(withoutPartialBlockStart("Intro\n\n##")).toBe("Intro\n\n");
    expect(withoutPartialBlockStart("Title\n==")).toBe("Title\n");
    expect(withoutPartialBlockStart("-")).toBe("");
  });

  it("leaves a last line with text in it, and unclosed inline markup, as typed", () => {
    for (const text of ["Steps:\n1. Open", "- a\n- b", "Refunds take **5", "Call 555 1234", "Run `naa", "Done.\n"]) {
      expect(withoutPartialBlockStart(text)).toBe(text);
    }
  });
});
