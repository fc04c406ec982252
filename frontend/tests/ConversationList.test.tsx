import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import type { ConversationSummary } from "../src/api/types";
import { ConversationItem, ConversationList } from "../src/components/ConversationList";

const summary: ConversationSummary = {
  id: "7f0c2d9b6a0e4a51",
  channel: "console",
  created_at: "2026-11-27T09:00:00Z",
  preview: "I want to speak to a human",
  handoff: true,
};

const item = (c: ConversationSummary) =>
  renderToStaticMarkup(<ConversationItem summary={c} selected={false} onOpen={() => undefined} />);

describe("ConversationList", () => {
  it("marks a handed-off conversation with a badge read as part of its button", () => {
    const html = item(summary);
    expect(html).toMatch(
      /<button[^>]*data-id="7f0c2d9b6a0e4a51"[^>]*>.*<span class="tag tag-handoff"[^>]*>Handed off<\/span>.*<\/button>/,
    );
    expect(html).toContain("console · #7f0c2d9b");
  });

  it("shows no badge on a conversation that was not handed off", () => {
    expect(item({ ...summary, handoff: false })).not.toContain("Handed off");
  });

  it("offers All and Handed off as a pressed / unpressed pair, All first", () => {
    const html = renderToStaticMarkup(
      <ConversationList client={null} selectedId={null} version={0} onOpen={() => undefined} onNew={() => undefined} />,
    );
    expect(html).toContain('role="group" aria-label="Show conversations"');
    expect(html).toMatch(/aria-pressed="true"[^>]*>All<\/button>/);
    expect(html).toMatch(/aria-pressed="false"[^>]*>Handed off<\/button>/);
  });
});
