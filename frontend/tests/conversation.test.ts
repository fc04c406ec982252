import { describe, expect, it } from "vitest";

import type { ChatPublic, CitationPublic, MessagePublic } from "../src/api/types";
import {
  draftAfterUnfinishedReply,
  feedbackBody,
  finishTurn,
  handedOffError,
  handedOffIn,
  isSendKey,
  newTurn,
  openingMode,
  replyParts,
  turnFromStored,
  unfinishedReplyError,
  withoutCitationMarkers,
} from "../src/conversation";

const refunds: CitationPublic = { number: 1, doc_id: "refunds", title: "Refunds", url: "", source: "refunds.md" };

describe("replyParts", () => {
  it("splits a reply at its [n] markers and matches each to its citation", () => {
    expect(replyParts("Refunds take 5 days [1], or 2 [3].", [refunds])).toEqual([
      { kind: "text", text: "Refunds take 5 days " },
      { kind: "cite", number: 1, citation: refunds },
      { kind: "text", text: ", or 2 " },
      { kind: "cite", number: 3, citation: undefined },
      { kind: "text", text: "." },
    ]);
  });

  it("cites each number of a marker naming several passages, when every number names one", () => {
    const shipping: CitationPublic = { ...refunds, number: 2, doc_id: "shipping", source: "shipping.md" };
    expect(replyParts("Both [1, 2].", [refunds, shipping])).toEqual([
      { kind: "text", text: "Both " },
      { kind: "cite", number: 1, citation: refunds },
      { kind: "cite", number: 2, citation: shipping },
      { kind: "text", text: "." },
    ]);
    expect(replyParts("In [2020, 2021] and [1,3].", [refunds])).toEqual([
      { kind: "text", text: "In " },
      { kind: "text", text: "[2020, 2021]" },
      { kind: "text", text: " and " },
      { kind: "text", text: "[1,3]" },
      { kind: "text", text: "." },
    ]);
  });

  it("leaves a reply without markers whole, and an empty one empty", () => {
    expect(replyParts("Hello!", [])).toEqual([{ kind: "text", text: "Hello!" }]);
    expect(replyParts("", [])).toEqual([]);
  });
});

describe("turnFromStored", () => {
  const stored: MessagePublic = {
    id: "m1",
    role: "assistant",
    content: "Refunds take 5 days [1].",
    intent: "refund_status",
    intent_confidence: 0.9,
    citations: [refunds],
    passages: [],
    handoff: true,
    action: null,
    latency_ms: {},
    created_at: "2026-11-27T09:00:00Z",
  };

  it("keeps an assistant message's id for feedback, its intent, citations and handoff", () => {
    expect(turnFromStored(stored)).toMatchObject({
      key: "m1",
      messageId: "m1",
      intent: { label: "refund_status", confidence: 0.9 },
      citations: [refunds],
      handoff: true,
    });
  });

  it("keeps what the assistant did, as a live reply shows it (a no_answer tag)", () => {
    expect(turnFromStored({ ...stored, handoff: false, action: "no_answer" }).action).toBe("no_answer");
    expect(turnFromStored(stored).action).toBeUndefined(); // stored before the API kept it
  });

  it("gives customer messages no feedback id", () => {
    expect(turnFromStored({ ...stored, role: "customer" }).messageId).toBeUndefined();
  });
});

describe("finishTurn", () => {
  const done: ChatPublic = {
    conversation_id: "c1",
    message_id: "m1",
    intent: { label: "refund_status", confidence: 0.9, out_of_scope: false, top: [] },
    reply: "Refunds take 5 days [1]. To get",
    citations: [refunds],
    passages: [],
    handoff: false,
    action: "answer",
    timings_ms: { total: 900 },
    finish_reason: "length",
  };

  it("takes the done event's reply, and marks one cut at the token limit", () => {
    const turn = finishTurn({ ...newTurn("assistant", "Refunds take"), streaming: true }, done);
    expect(turn).toMatchObject({ content: done.reply, messageId: "m1", cutAtLimit: true, streaming: false });
    expect(finishTurn(turn, { ...done, finish_reason: "stop" }).cutAtLimit).toBe(false);
  });
});

describe("withoutCitationMarkers", () => {
  it("drops [n] markers and the space before them, for a reply the customer reads", () => {
    expect(withoutCitationMarkers("Refunds take 5 days [1], or 2 for PayPal [2][3].\nSee [4] above.")).toBe(
      "Refunds take 5 days, or 2 for PayPal.\nSee above.",
    );
    expect(withoutCitationMarkers("Order [A1] ships today.")).toBe("Order [A1] ships today.");
    expect(withoutCitationMarkers("Both apply [1, 2] here [3,4].")).toBe("Both apply here.");
  });
});

describe("feedbackBody", () => {
  const reply = "Refunds take 5 days [1].";

  it("sends the corrected reply only when the agent changed it", () => {
    expect(feedbackBody("m1", "down", " Wrong article ", ` ${reply}\n`, reply)).toEqual({
      message_id: "m1",
      rating: "down",
      comment: "Wrong article",
      corrected_reply: null,
    });
    expect(feedbackBody("m1", "down", "", "Refunds take 2 days [1].", reply)).toMatchObject({
      comment: null,
      corrected_reply: "Refunds take 2 days [1].",
    });
    expect(feedbackBody("m1", "up", "", "", reply)).toMatchObject({ comment: null, corrected_reply: null });
  });
});

describe("isSendKey", () => {
  const key = { key: "Enter", shiftKey: false, isComposing: false, keyCode: 13 };

  it("sends on Enter, not on Shift+Enter or another key", () => {
    expect(isSendKey(key)).toBe(true);
    expect(isSendKey({ ...key, shiftKey: true })).toBe(false);
    expect(isSendKey({ ...key, key: "a", keyCode: 65 })).toBe(false);
  });

  it("does not send the Enter that ends an input method's composition", () => {
    expect(isSendKey({ ...key, isComposing: true })).toBe(false);
    expect(isSendKey({ ...key, keyCode: 229 })).toBe(false);
  });
});

describe("a reply that did not finish", () => {
  it("says the turn was not stored and the message is back in its box, after the error's own sentence", () => {
    expect(unfinishedReplyError({ code: "generation_failed", message: "the generator failed: out of memory" })).toEqual(
      {
        code: "generation_failed",
        message:
          "the generator failed: out of memory. Nothing was stored: the message is back in its box to send again.",
      },
    );
    expect(unfinishedReplyError({ code: "stream_ended", message: "The reply stopped early." }).message).toBe(
      "The reply stopped early. Nothing was stored: the message is back in its box to send again.",
    );
  });

  it("says so for a reply the agent stopped", () => {
    expect(unfinishedReplyError(null)).toEqual({
      code: "stopped",
      message: "You stopped this reply. Nothing was stored: the message is back in its box to send again.",
    });
  });

  it("puts the message back in an empty box, and keeps what the agent typed since", () => {
    expect(draftAfterUnfinishedReply("", "Where is my parcel?")).toBe("Where is my parcel?");
    expect(draftAfterUnfinishedReply("  \n", "Where is my parcel?")).toBe("Where is my parcel?");
    expect(draftAfterUnfinishedReply("And my refund?", "Where is my parcel?")).toBe("And my refund?");
  });
});

describe("handoff", () => {
  const stored = (role: MessagePublic["role"], handoff = false): MessagePublic => ({
    id: `m-${role}`,
    role,
    content: "…",
    intent: null,
    intent_confidence: null,
    citations: [],
    passages: [],
    handoff,
    action: null,
    latency_ms: {},
    created_at: "2026-11-27T09:00:00Z",
  });

  it("counts a conversation handed off once an assistant turn handed it off, not a person's turn", () => {
    expect(
      handedOffIn([newTurn("customer", "a human please"), { ...newTurn("assistant", "Sure."), handoff: true }]),
    ).toBe(true);
    expect(handedOffIn([newTurn("customer", "hi"), newTurn("assistant", "Hello!")])).toBe(false);
    expect(handedOffIn([{ ...newTurn("agent", "I'm here."), handoff: true }])).toBe(false);
  });

  it("opens a conversation the assistant answered in chat mode, one with people's turns only in agent assist", () => {
    // Both are stored under the console's channel: the turns tell them apart.
    expect(openingMode({ messages: [stored("customer"), stored("assistant")] }, "assist")).toBe("chat");
    expect(openingMode({ messages: [stored("customer"), stored("assistant", true)] }, "assist")).toBe("chat");
    expect(openingMode({ messages: [stored("customer"), stored("agent")] }, "chat")).toBe("assist");
    expect(openingMode({ messages: [stored("customer")] }, "chat")).toBe("assist");
    expect(openingMode({ messages: [] }, "chat")).toBe("chat");
    expect(openingMode({ messages: [] }, "assist")).toBe("assist");
  });

  it("tells an agent refused as handed off what happened and what to do, not the API's integrator text", () => {
    const shown = handedOffError();
    expect(shown.code).toBe("handed_off");
    expect(shown.message).toContain("handed to a human agent meanwhile");
    expect(shown.message).toContain("the message is still in its box");
    expect(shown.message).toContain("Answer as the agent");
    expect(shown.message).not.toContain("POST /v1");
  });
});
