import { describe, expect, it } from "vitest";

import { ApiClient, ApiError } from "../src/api/client";
import type { ChatPublic, ConversationPublic } from "../src/api/types";
import { streamAssistantTurn } from "../src/chat";
import { isHandedOff } from "../src/errors";
import { sendJson, serverPerTest, type TestServer } from "./server";

const started: ConversationPublic = {
  id: "c1",
  channel: "console",
  created_at: "2026-11-27T09:00:00Z",
  messages: [],
  handoff: false,
};

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

/** A stand-in for the API: starts c1, answers a chat turn as a stream, or refuses it as handed off. */
async function chatServer(refuseAsHandedOff = false): Promise<TestServer> {
  return servers.start((req, res) => {
    if (req.url === "/v1/conversations") return sendJson(res, 201, started);
    if (refuseAsHandedOff) return sendJson(res, 409, handedOff);
    res.writeHead(200, { "Content-Type": "text/event-stream" });
    res.end(`event: done\ndata: ${JSON.stringify(done)}\n\n`);
  });
}

function client(): ApiClient {
  return new ApiClient({ baseUrl: servers.current().url, apiKey: "naa_test_key" });
}

const body = (server: TestServer) => server.requests.map((r) => [r.url, JSON.parse(r.body.toString())]);

describe("streamAssistantTurn", () => {
  it("starts a new conversation under the console's channel, then asks the assistant in it", async () => {
    const server = await chatServer();
    const created: string[] = [];
    const reply = await streamAssistantTurn(
      client(),
      null,
      "I want to speak to a human",
      {},
      new AbortController().signal,
      (id) => created.push(id),
    );
    expect(reply).toEqual(done);
    expect(created).toEqual(["c1"]);
    expect(body(server)).toEqual([
      ["/v1/conversations", { channel: "console" }],
      ["/v1/chat", { message: "I want to speak to a human", conversation_id: "c1", stream: true }],
    ]);
  });

  it("asks in the conversation it is given without starting another", async () => {
    const server = await chatServer();
    const created: string[] = [];
    await streamAssistantTurn(client(), "c1", "And to PayPal?", {}, new AbortController().signal, (id) =>
      created.push(id),
    );
    expect(created).toEqual([]);
    expect(body(server)).toEqual([["/v1/chat", { message: "And to PayPal?", conversation_id: "c1", stream: true }]]);
  });

  it("rejects a turn in a handed-off conversation with the 409 handed_off, never calling it accepted", async () => {
    await chatServer(true);
    let accepted = false;
    const err = await streamAssistantTurn(
      client(),
      "c1",
      "Hello?",
      { onAccepted: () => (accepted = true) },
      new AbortController().signal,
      () => undefined,
    ).catch((e: unknown) => e);
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
