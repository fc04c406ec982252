import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { ApiClient } from "../src/api/client";
import { ChatPane, type Mode } from "../src/components/ChatPane";
import { newTurn, type Turn } from "../src/conversation";

// Rendering calls no route: the client is only used once something is sent.
const client = new ApiClient({ baseUrl: "http://127.0.0.1:9", apiKey: "naa_test_key" });

function render(mode: Mode, turns: Turn[]): string {
  return renderToStaticMarkup(
    <ChatPane
      client={client}
      mode={mode}
      onModeChange={() => undefined}
      opened={{ id: "c1", turns }}
      onConversationStarted={() => undefined}
    />,
  );
}

const handedOff: Turn[] = [
  newTurn("customer", "I want to talk to a person"),
  { ...newTurn("assistant", "I'll connect you with our team."), handoff: true, messageId: "m1" },
];

describe("ChatPane handoff", () => {
  it("offers to answer as the agent once the assistant handed the conversation off", () => {
    const html = render("chat", handedOff);
    expect(html).toContain("passed this conversation to a human agent");
    expect(html).toContain(">Answer as the agent</button>");
  });

  it("offers nothing more in agent-assist mode, nor before a handoff", () => {
    expect(render("assist", handedOff)).not.toContain("Answer as the agent");
    expect(render("chat", handedOff.slice(0, 1))).not.toContain("Handoff:");
  });
});
