import { describe, expect, it } from "vitest";

import { ApiClient, ApiError } from "../src/api/client";
import type { ConversationPublic, MessagePublic, TurnCreate } from "../src/api/types";
import { storeAssistTurn } from "../src/assist";
import { CONSOLE_CHANNEL } from "../src/conversation";
import { sendJson, serverPerTest, type TestServer } from "./server";

const conversation: ConversationPublic = {
  id: "c1",
  channel: CONSOLE_CHANNEL,
  created_at: "2026-11-27T09:00:00Z",
  messages: [],
  handoff: false,
};

function stored(turn: TurnCreate, id: string): MessagePublic {
  return {
    id,
    role: turn.role,
    content: turn.content.trim().replace(/\d{4} \d{4} \d{4} \d{4}/, "[card number removed]"),
    intent: null,
    intent_confidence: null,
    citations: [],
    passages: [],
    handoff: false,
    action: null,
    latency_ms: {},
    created_at: "2026-11-27T09:00:01Z",
  };
}

const servers = serverPerTest();

/** A stand-in for the API's conversation routes: starts c1, stores turns, or refuses the next turn. */
async function conversationsServer(refuseTurns = false): Promise<TestServer> {
  let count = 0;
  return servers.start((req, res) => {
    if (req.url === "/v1/conversations") return sendJson(res, 201, conversation);
    if (refuseTurns) {
      return sendJson(res, 422, { code: "invalid_input", message: "the customer message has 600 characters" });
    }
    count += 1;
    sendJson(res, 201, stored(JSON.parse(req.body.toString()) as TurnCreate, `m${count}`));
  });
}

function client(): ApiClient {
  return new ApiClient({ baseUrl: servers.current().url, apiKey: "naa_test_key" });
}

describe("storeAssistTurn", () => {
  it("starts a conversation for the first turn and shows the turn as stored", async () => {
    const server = await conversationsServer();
    const started: string[] = [];
    const first = await storeAssistTurn(client(), null, "customer", " card 4111 1111 1111 1111 ", (id) =>
      started.push(id),
    );
    expect(started).toEqual(["c1"]);
    expect(first.conversationId).toBe("c1");
    expect(first.turn).toMatchObject({ key: "m1", role: "customer", content: "card [card number removed]" });
    expect(server.requests.map((r) => [`${r.method} ${r.url}`, JSON.parse(r.body.toString())])).toEqual([
      ["POST /v1/conversations", { channel: "console" }],
      ["POST /v1/conversations/c1/messages", { role: "customer", content: " card 4111 1111 1111 1111 " }],
    ]);
  });

  it("adds later turns to the conversation it is given without starting another", async () => {
    const server = await conversationsServer();
    const started: string[] = [];
    const reply = await storeAssistTurn(client(), "c1", "agent", "Let me check.", (id) => started.push(id));
    expect(reply).toMatchObject({ conversationId: "c1", turn: { role: "agent", content: "Let me check." } });
    expect(started).toEqual([]);
    expect(server.requests.map((r) => r.url)).toEqual(["/v1/conversations/c1/messages"]);
  });

  it("rejects with the API's error, after reporting the started conversation so a retry reuses it", async () => {
    await conversationsServer(true);
    const started: string[] = [];
    const err = await storeAssistTurn(client(), null, "customer", "a".repeat(600), (id) => started.push(id)).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 422, code: "invalid_input" });
    expect(started).toEqual(["c1"]);
  });
});
