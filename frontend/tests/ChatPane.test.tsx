import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { ApiClient } from "../src/api/client";
import { ChatPane, type Mode } from "../src/components/ChatPane";
import { newTurn, type Turn } from "../src/conversation";

// Rendering calls no route: the client is only used once something is sent.
const client = new ApiClient({ baseUrl: "http://127.0.0.1:9", apiKey: "naa_test_key" });

function render(mode: Mode, turns: Turn[], handoff?: boolean): string {
  return renderToStaticMarkup(
    <ChatPane
      client={client}
      mode={mode}
      onModeChange={() => undefined}
      opened={{ id: "c1", turns, handoff }}
      onConversationChanged={() => undefined}
    />,
  );
}

const asked: Turn[] = [
  newTurn("customer", "How long does a refund take?"),
  { ...newTurn("assistant", "Refunds take 5 business days."), messageId: "m1" },
];

const handedOff: Turn[] = [
  newTurn("customer", "I want to talk to a person"),
  { ...newTurn("assistant", "I'll connect you with our team."), handoff: true, messageId: "m1" },
];

/** The radio input of a mode, as rendered. */
function radio(html: string, label: string): string {
  const found = html.match(new RegExp(`<label[^>]*><input[^>]*>\\s*${label}</label>`));
  if (!found) throw new Error(`no '${label}' radio in ${html}`);
  return found[0];
}

describe("ChatPane handoff", () => {
  it("offers to answer as the agent once the assistant handed the conversation off", () => {
    const html = render("chat", handedOff);
    expect(html).toContain("passed this conversation to a human agent");
    expect(html).toContain(">Answer as the agent</button>");
  });

  it("shows a conversation handed off by the last reply in agent assist: no sending to the assistant", () => {
    const html = render("chat", handedOff);
    expect(radio(html, "Agent assist")).toContain("checked");
    expect(radio(html, "Assistant answers")).toContain("disabled");
    expect(radio(html, "Assistant answers")).not.toContain("checked");
    expect(html).toContain('id="agent-reply"');
    expect(html).toContain(">Send and suggest</button>");
    expect(html).not.toMatch(/>Send<\/button>/);
  });

  it("follows the API's handoff flag for a conversation opened from the list, whatever its turns show", () => {
    // e.g. the list said so, or a 409 handed_off marked it
    const html = render("chat", asked, true);
    expect(html).toContain("Handoff:");
    expect(radio(html, "Assistant answers")).toContain("disabled");
    expect(html).toContain(">Send and suggest</button>");
  });

  it("lets the assistant answer a conversation that is not handed off, in the mode chosen", () => {
    const chat = render("chat", asked, false);
    expect(chat).not.toContain("Handoff:");
    expect(radio(chat, "Assistant answers")).toContain("checked");
    expect(radio(chat, "Assistant answers")).not.toContain("disabled");
    expect(chat).toMatch(/>Send<\/button>/);
    expect(chat).not.toContain('id="agent-reply"');
    expect(radio(render("assist", asked), "Agent assist")).toContain("checked");
    expect(render("chat", handedOff.slice(0, 1))).not.toContain("Handoff:");
  });
});
