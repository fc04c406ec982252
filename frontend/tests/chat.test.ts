import { describe, expect, it } from "vitest";

import { ApiClient, ApiError } from "../src/api/client";
import type { ChatPublic } from "../src/api/types";
import { assistantTurn } from "../src/conversation";
import { isHandedOff } from "../src/errors";
import { sendJson, serverPerTest, type TestServer } from "./server";

const done: ChatPublic = {
  conversation_id: "c1",
  message_id: "m2",
  intent: { label: "speak_to_human", confidence: 0.93, out_of_scope: false, top: [] },
  reply: "I'll connect you with a member of our team.",
  citations: [],
  passages: [],
  handoff: true,
  action: "handoff",
  timings_ms: { total: 12 },
  finish_reason: "stop",
};

// The API's own message, written for integrators (api/turns.py chat_history).
const handedOff = {
  code: "handed_off",
  message:
    "conversation 'c1' was handed to a human agent, so the assistant no longer answers in it: add the " +
    "customer's turn with POST /v1/conversations/c1/messages (POST /v1/suggest drafts the agent's reply), " +
    "or start a new conversation",
};

const servers = serverPerTest();

/** A stand-in for the API: answers a chat turn as a stream, or refuses it as handed off. */
async function chatServer(refuseAsHandedOff = false): Promise<TestServer> {
  return servers.start((_req, res) => {
    if (refuseAsHandedOff) return sendJson(res, 409, handedOff);
    res.writeHead(200, { "Content-Type": "text/event-stream" });
    res.end(`event: done\ndata: ${JSON.stringify(done)}\n\n`);
  });
}

function client(): ApiClient {
  return new ApiClient({ baseUrl: servers.current().url, apiKey: "naa_test_key" });
}

const body = (server: TestServer) => server.requests.map((r) => [r.url, JSON.parse(r.body.toString())]);

describe("assistant turns", () => {
  it("start a new conversation under the console's channel in the turn itself", async () => {
    const server = await chatServer();
    const reply = await client().chatStream(assistantTurn(null, "I want to speak to a human"), {});
    expect(reply).toEqual(done);
    expect(body(server)).toEqual([
      ["/v1/chat", { message: "I want to speak to a human", channel: "console", stream: true }],
    ]);
  });

  it("go on in the open conversation", async () => {
    const server = await chatServer();
    await client().chatStream(assistantTurn("c1", "And to PayPal?"), {});
    expect(body(server)).toEqual([["/v1/chat", { message: "And to PayPal?", conversation_id: "c1", stream: true }]]);
  });

  it("in a handed-off conversation reject with the 409 handed_off, never called accepted", async () => {
    await chatServer(true);
    let accepted = false;
    const err = await client()
      .chatStream(assistantTurn("c1", "Hello?"), { onAccepted: () => (accepted = true) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: "handed_off" });
    expect(isHandedOff(err)).toBe(true);
    expect(accepted).toBe(false);
  });

  it("tells a handed-off refusal from other conflicts", () => {
    expect(isHandedOff(new ApiError(409, "conflict", "the partner is not built yet"))).toBe(false);
    expect(isHandedOff(new ApiError(200, "handed_off", "an error event"))).toBe(false);
    expect(isHandedOff(new Error("handed_off"))).toBe(false);
  });
});
