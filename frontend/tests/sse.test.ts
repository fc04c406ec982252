import { describe, expect, it } from "vitest";

import { readSseEvents, SseParser, type SseEvent } from "../src/api/sse";

function parseAll(chunks: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  for (const chunk of chunks) parser.feed(chunk);
  return events;
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

describe("SseParser", () => {
  it("dispatches named events with their data at each blank line", () => {
    const events = parseAll(['event: token\ndata: {"text": "Hi"}\n\nevent: done\ndata: {}\n\n']);
    expect(events).toEqual([
      { event: "token", data: '{"text": "Hi"}', id: "" },
      { event: "done", data: "{}", id: "" },
    ]);
  });

  it("names an event without an event field 'message'", () => {
    expect(parseAll(["data: hello\n\n"])).toEqual([{ event: "message", data: "hello", id: "" }]);
  });

  it("joins several data lines with a newline", () => {
    expect(parseAll(["data: one\ndata: two\ndata:\n\n"])[0].data).toBe("one\ntwo\n");
  });

  it("drops only one space after the colon", () => {
    expect(parseAll(["data:  two spaces\n\ndata:none\n\n"]).map((e) => e.data)).toEqual([" two spaces", "none"]);
  });

  it("accepts CRLF, CR and LF line ends, mixed", () => {
    const events = parseAll(["event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\revent: c\ndata: 3\n\n"]);
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ["a", "1"],
      ["b", "2"],
      ["c", "3"],
    ]);
  });

  it("reassembles events split anywhere across chunks, a CRLF pair included", () => {
    const text = 'event: token\r\ndata: {"text": "Refunds"}\r\n\r\nevent: token\r\ndata: {"text": " take"}\r\n\r\n';
    const whole = parseAll([text]);
    for (let cut = 1; cut < text.length; cut++) {
      expect(parseAll([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
    }
    expect(parseAll(text.split(""))).toEqual(whole);
  });

  it("ignores comments such as keep-alive pings, and retry and unknown fields", () => {
    const events = parseAll([": ping - 2026-11-27\n\nretry: 3000\nfoo: bar\nevent: intent\ndata: x\n\n"]);
    expect(events).toEqual([{ event: "intent", data: "x", id: "" }]);
  });

  it("does not dispatch an event without data, and resets the event name after each blank line", () => {
    expect(parseAll(["event: lonely\n\ndata: after\n\n"])).toEqual([{ event: "message", data: "after", id: "" }]);
  });

  it("keeps the last event id for later events", () => {
    const events = parseAll(["id: 7\ndata: a\n\ndata: b\n\n"]);
    expect(events.map((e) => e.id)).toEqual(["7", "7"]);
  });

  it("treats a field name with no colon as a field with an empty value", () => {
    expect(parseAll(["data\n\n"])).toEqual([{ event: "message", data: "", id: "" }]);
  });

  it("does not dispatch a last event that the stream ends before its blank line", () => {
    expect(parseAll(["data: complete\n\ndata: cut off"])).toHaveLength(1);
  });
});

describe("readSseEvents", () => {
  it("decodes UTF-8 characters split across byte chunks", async () => {
    const bytes = new TextEncoder().encode('event: token\ndata: {"text": "café ☕"}\n\n');
    const cut = bytes.indexOf(0xe2) + 1; // inside the three bytes of ☕
    const events: SseEvent[] = [];
    for await (const e of readSseEvents(streamOf([bytes.slice(0, cut), bytes.slice(cut)]))) events.push(e);
    expect(events).toEqual([{ event: "token", data: '{"text": "café ☕"}', id: "" }]);
  });

  it("yields events as their chunks arrive, before the stream ends", async () => {
    const encoder = new TextEncoder();
    let push: ((text: string) => void) | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        push = (text) => controller.enqueue(encoder.encode(text));
      },
    });
    const events = readSseEvents(body);
    push?.("data: first\n\n");
    const first = await events.next();
    expect(first.value).toEqual({ event: "message", data: "first", id: "" });
    await events.return(undefined);
  });
});
