import { describe, expect, it } from "vitest";

import { ApiClient, ApiError } from "../src/api/client";
import type { ChatPublic, IntentPublic, JobPublic, PassagePublic } from "../src/api/types";
import { sendJson, serverPerTest } from "./server";

const KEY = "naa_test_key";

const intent: IntentPublic = {
  label: "refund_status",
  confidence: 0.91,
  out_of_scope: false,
  top: [{ label: "refund_status", confidence: 0.91 }],
};

const passage: PassagePublic = {
  doc_id: "refunds",
  chunk_id: "refunds#0",
  text: "Refunds reach your card within 5 business days.",
  score: 0.71,
  title: "Refunds",
  source: "refunds.md",
  url: "https://help.example/refunds",
  section: "",
};

const done: ChatPublic = {
  conversation_id: "c1",
  message_id: "m1",
  intent,
  reply: "Refunds take 5 business days [1].",
  citations: [{ number: 1, doc_id: "refunds", title: "Refunds", url: "", source: "refunds.md" }],
  passages: [passage],
  handoff: false,
  action: "answer",
  timings_ms: { intent: 5, retrieval: 3, generation: 100, total: 108 },
  finish_reason: "stop",
};

function job(status: JobPublic["status"], progress: number): JobPublic {
  return {
    id: "j1",
    kind: "kb_index",
    status,
    progress,
    message: `${Math.round(progress * 100)}%`,
    result: null,
    error: null,
    created_at: "2026-11-27T09:00:00Z",
    started_at: null,
    finished_at: null,
  };
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\r\ndata: ${JSON.stringify(data)}\r\n\r\n`;
}

const servers = serverPerTest();

function client(): ApiClient {
  return new ApiClient({ baseUrl: `${servers.current().url}/`, apiKey: KEY });
}

describe("ApiClient requests", () => {
  it("sends the API key as a bearer token and the body as JSON", async () => {
    const server = await servers.start((_req, res) => sendJson(res, 200, { intent, suggestions: [] }));
    const reply = await client().suggest({ messages: [{ role: "customer", content: "hi" }], n: 3 });
    expect(reply.intent.label).toBe("refund_status");
    const [req] = server.requests;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/v1/suggest");
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req.body.toString())).toEqual({ messages: [{ role: "customer", content: "hi" }], n: 3 });
  });

  it("sends stream false for a whole reply", async () => {
    const server = await servers.start((_req, res) => sendJson(res, 200, done));
    expect(await client().chat({ message: "refund?", conversation_id: "c1" })).toEqual(done);
    expect(JSON.parse(server.requests[0].body.toString())).toEqual({
      message: "refund?",
      conversation_id: "c1",
      stream: false,
    });
  });

  it("puts list paging in the query and escapes ids in paths", async () => {
    const server = await servers.start((req, res) => {
      if (req.method === "DELETE") {
        res.writeHead(204);
        res.end();
      } else sendJson(res, 200, { conversations: [], id: "x", messages: [] });
    });
    await client().listConversations(20, 40);
    await client().getConversation("a/b c");
    await client().deleteDocument("faq/shipping policy.md");
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      "GET /v1/conversations?limit=20&offset=40",
      "GET /v1/conversations/a%2Fb%20c",
      "DELETE /v1/kb/documents/faq%2Fshipping%20policy.md",
    ]);
  });

  it("puts the list's channel and handoff filters in the query, and leaves out those unset", async () => {
    const server = await servers.start((_req, res) => sendJson(res, 200, { conversations: [] }));
    await client().listConversations(50, 0, { handoff: true });
    await client().listConversations(50, 50, { handoff: false, channel: "web chat" });
    await client().listConversations(50, 0, {});
    expect(server.requests.map((r) => r.url)).toEqual([
      "/v1/conversations?limit=50&offset=0&handoff=true",
      "/v1/conversations?limit=50&offset=50&channel=web+chat&handoff=false",
      "/v1/conversations?limit=50&offset=0",
    ]);
  });

  it("starts a conversation and adds turns to it, escaping the id in the path", async () => {
    const server = await servers.start((req, res) => sendJson(res, 201, JSON.parse(req.body.toString())));
    await client().createConversation({ channel: "console" });
    await client().addMessage("a/b c", { role: "agent", content: "Let me check." });
    await client().suggest({ conversation_id: "a/b c", n: 2 });
    expect(server.requests.map((r) => [`${r.method} ${r.url}`, JSON.parse(r.body.toString())])).toEqual([
      ["POST /v1/conversations", { channel: "console" }],
      ["POST /v1/conversations/a%2Fb%20c/messages", { role: "agent", content: "Let me check." }],
      ["POST /v1/suggest", { conversation_id: "a/b c", n: 2 }],
    ]);
  });

  it("uploads files as multipart field 'files' with their names", async () => {
    const server = await servers.start((_req, res) => sendJson(res, 202, { job: job("queued", 0), documents: [] }));
    const files = [
      new File(["# Returns\nWithin 30 days."], "returns.md", { type: "text/markdown" }),
      new File(["Q,A\n"], "faq.csv", { type: "text/csv" }),
    ];
    const upload = await client().uploadDocuments(files);
    expect(upload.job.status).toBe("queued");
    const [req] = server.requests;
    expect(req.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    const body = req.body.toString();
    expect(body).toContain('name="files"; filename="returns.md"');
    expect(body).toContain('name="files"; filename="faq.csv"');
    expect(body).toContain("Within 30 days.");
  });

  it("cancels a job and checks a key with one cheap call", async () => {
    const server = await servers.start((req, res) =>
      req.url === "/v1/models"
        ? sendJson(res, 200, { object: "list", data: [{ id: "naa", object: "model", created: 0, owned_by: "acme" }] })
        : sendJson(res, 200, job("cancelling", 0.4)),
    );
    expect((await client().cancelJob("j/1")).status).toBe("cancelling");
    expect(await client().checkKey()).toBe("acme");
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      "POST /v1/jobs/j%2F1/cancel",
      "GET /v1/models",
    ]);
    expect(server.requests[1].headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("polls a job until it finishes, reporting each state", async () => {
    const states = [job("queued", 0), job("running", 0.5), job("succeeded", 1)];
    const server = await servers.start((_req, res) => sendJson(res, 200, states.shift()));
    const seen: number[] = [];
    const finished = await client().waitForJob("j1", (j) => seen.push(j.progress), 5);
    expect(finished.status).toBe("succeeded");
    expect(seen).toEqual([0, 0.5, 1]);
    expect(server.requests.every((r) => r.url === "/v1/jobs/j1")).toBe(true);
  });
});

describe("ApiClient errors", () => {
  it("turns a {code, message} body into an ApiError with the status", async () => {
    await servers.start((_req, res) =>
      sendJson(res, 401, { code: "unauthorized", message: "send an API key in the header" }),
    );
    const err = await client()
      .listDocuments()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 401, code: "unauthorized", message: "send an API key in the header" });
  });

  it("describes an error that is not JSON by its status, says what to do, and never shows the page", async () => {
    await servers.start((_req, res) => {
      res.writeHead(502, { "Content-Type": "text/html" });
      res.end("<h1>Bad Gateway</h1>");
    });
    const err = await client()
      .listDocuments()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502, code: "http_502" });
    expect((err as ApiError).message).toBe(
      "The NAA API did not answer (HTTP 502 Bad Gateway, from the proxy in front of it). " +
        "Check that naa serve is running, then try again.",
    );
  });

  it("never shows an HTML error page or a stack trace, and shows one short line of plain text", async () => {
    const bodies = [
      "<html><body><h1>Internal Server Error</h1><pre>Traceback (most recent call last):</pre></body></html>",
      'Traceback (most recent call last):\n  File "app.py", line 3, in <module>\nKeyError: x',
      "Internal Server Error",
      "database is locked",
    ];
    let next = 0;
    await servers.start((_req, res) => {
      res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(bodies[next++]);
    });
    const messages: string[] = [];
    for (let i = 0; i < bodies.length; i++) {
      const err = await client()
        .listDocuments()
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 500, code: "http_500" });
      messages.push((err as ApiError).message);
    }
    const failed =
      "The server failed (HTTP 500 Internal Server Error). Try again; if it keeps failing, its log says why.";
    expect(messages).toEqual([
      failed,
      failed,
      failed, // the text only repeats the status
      "The server failed (HTTP 500 Internal Server Error: database is locked). Try again; if it keeps failing, its log says why.",
    ]);
  });

  it("tells the onUnauthorized hook about every 401, and about nothing else", async () => {
    let status = 401;
    await servers.start((_req, res) => sendJson(res, status, { code: "unauthorized", message: "API key is revoked" }));
    const heard: ApiError[] = [];
    const api = new ApiClient({ baseUrl: servers.current().url, apiKey: KEY, onUnauthorized: (e) => heard.push(e) });
    const err = await api.listConversations().catch((e: unknown) => e);
    expect(heard).toEqual([err]);
    expect(heard[0]).toMatchObject({ status: 401, code: "unauthorized", message: "API key is revoked" });
    status = 403;
    await api.listConversations().catch(() => undefined);
    expect(heard).toHaveLength(1);
  });

  it("reports an unreachable server as network_error", async () => {
    const server = await servers.start((_req, res) => sendJson(res, 200, {}));
    const url = server.url;
    await server.close();
    const err = await new ApiClient({ baseUrl: url, apiKey: KEY }).listConversations().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 0, code: "network_error" });
  });
});

describe("ApiClient.chatStream", () => {
  it("streams intent, passages and each token as they arrive, then resolves with done", async () => {
    let releaseRest: () => void = () => undefined;
    const firstTokenSeen = new Promise<void>((resolve) => (releaseRest = resolve));
    const server = await servers.start(async (_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      res.write(": ping\r\n\r\n");
      res.write(sse("intent", intent));
      res.write(sse("passages", { passages: [passage] }));
      res.write(sse("token", { text: "Refunds" }));
      // The server holds the rest back until the client has shown the first token: proof of streaming.
      await firstTokenSeen;
      const rest = sse("token", { text: " take 5 business days [1]." }) + sse("done", done);
      res.write(rest.slice(0, 17));
      res.end(rest.slice(17));
    });
    const log: string[] = [];
    const reply = await client().chatStream(
      { message: "How long does a refund take?" },
      {
        onIntent: (i) => log.push(`intent ${i.label}`),
        onPassages: (p) => log.push(`passages ${p.passages.length}`),
        onToken: (t) => {
          log.push(`token ${t.text}`);
          releaseRest();
        },
      },
    );
    expect(log).toEqual(["intent refund_status", "passages 1", "token Refunds", "token  take 5 business days [1]."]);
    expect(reply).toEqual(done);
    const [req] = server.requests;
    expect(req.headers.accept).toBe("text/event-stream");
    expect(JSON.parse(req.body.toString())).toEqual({ message: "How long does a refund take?", stream: true });
  });

  it("rejects with the code and message of an error event", async () => {
    await servers.start((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.write(sse("intent", intent));
      res.end(sse("error", { code: "generation_failed", message: "the generator stopped" }));
    });
    const tokens: string[] = [];
    const err = await client()
      .chatStream({ message: "hi" }, { onToken: (t) => tokens.push(t.text) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: "generation_failed", message: "the generator stopped" });
    expect(tokens).toEqual([]);
  });

  it("rejects with the API's error before the stream starts, as for any route, and never calls it accepted", async () => {
    await servers.start((_req, res) =>
      sendJson(res, 422, { code: "invalid_request", message: "body.message: String should have at least 1 character" }),
    );
    let accepted = false;
    const err = await client()
      .chatStream({ message: "" }, { onAccepted: () => (accepted = true) })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 422, code: "invalid_request" });
    expect(accepted).toBe(false);
  });

  it("calls a message accepted once the reply starts, before its first event", async () => {
    await servers.start((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.end(sse("intent", intent) + sse("done", done));
    });
    const log: string[] = [];
    await client().chatStream(
      { message: "hi" },
      { onAccepted: () => log.push("accepted"), onIntent: () => log.push("intent") },
    );
    expect(log).toEqual(["accepted", "intent"]);
  });

  it("reports a connection dropped mid-reply as network_error", async () => {
    await servers.start((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.write(sse("token", { text: "Refu" }));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const tokens: string[] = [];
    const err = await client()
      .chatStream({ message: "hi" }, { onToken: (t) => tokens.push(t.text) })
      .catch((e: unknown) => e);
    expect(tokens).toEqual(["Refu"]);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 0, code: "network_error" });
    expect((err as ApiError).message).toContain("dropped before the reply was finished");
  });

  it("rejects when the stream ends without a done event, saying so in words", async () => {
    await servers.start((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.end(sse("token", { text: "Refu" }));
    });
    const err = await client()
      .chatStream({ message: "hi" })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: "stream_ended",
      message: "The reply stopped before it was finished (the server may have restarted).",
    });
  });

  it("shows an error event of another shape by its message, never as raw JSON", async () => {
    const events = [{ error: { message: "model overloaded", type: "server_error" } }, { detail: [1, 2] }];
    let next = 0;
    await servers.start((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.end(sse("error", events[next++]));
    });
    const messages = [];
    for (let i = 0; i < events.length; i++) {
      const err = await client()
        .chatStream({ message: "hi" })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "stream_error" });
      messages.push((err as ApiError).message);
    }
    expect(messages).toEqual([
      "The server ended the reply with an error: model overloaded.",
      "The server ended the reply with an error it did not describe.",
    ]);
  });

  it("stops reading when aborted", async () => {
    await servers.start((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.write(sse("token", { text: "never ending" }));
    });
    const controller = new AbortController();
    const err = await client()
      .chatStream({ message: "hi" }, { onToken: () => controller.abort() }, controller.signal)
      .catch((e: unknown) => e);
    expect((err as Error).name).toBe("AbortError");
  });
});
