/**
 * A Server-Sent Events parser for responses read with fetch (EventSource cannot POST a JSON body).
 *
 * Follows the WHATWG "event stream interpretation" rules: lines end in CRLF, LF or CR; a blank line
 * dispatches the event; `data:` lines join with "\n"; one space after the colon is dropped; lines
 * starting with ":" are comments (sse-starlette's keep-alive pings); an event with no data is not
 * dispatched, and neither is a last event the stream ends before its blank line.
 */

export interface SseEvent {
  /** The `event:` field; "message" when the event names none. */
  event: string;
  data: string;
  /** The last `id:` seen on the stream so far ("" when none). */
  id: string;
}

export class SseParser {
  private buffer = "";
  private pendingCR = false;
  private eventName = "";
  private data: string[] = [];
  private lastId = "";

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  /** Feed the next piece of decoded text; any complete events are dispatched before it returns. */
  feed(chunk: string): void {
    let text = chunk;
    // A CR that ended the previous chunk may be the first half of a CRLF pair.
    if (this.pendingCR && text.startsWith("\n")) text = text.slice(1);
    this.pendingCR = false;
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i];
      if (ch !== "\n" && ch !== "\r") continue;
      this.processLine(this.buffer.slice(start, i));
      if (ch === "\r") {
        if (i + 1 === this.buffer.length) this.pendingCR = true;
        else if (this.buffer[i + 1] === "\n") i++;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  private processLine(line: string): void {
    if (line === "") {
      this.dispatch();
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.eventName = value;
        break;
      case "data":
        this.data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.lastId = value;
        break;
      default:
        break; // "retry" and unknown fields: nothing for a fetch reader to do
    }
  }

  private dispatch(): void {
    const name = this.eventName;
    const data = this.data;
    this.eventName = "";
    this.data = [];
    if (data.length === 0) return;
    this.onEvent({ event: name || "message", data: data.join("\n"), id: this.lastId });
  }
}

/** The events of a `text/event-stream` body, in order, as they arrive. */
export async function* readSseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const queue: SseEvent[] = [];
  const parser = new SseParser((event) => queue.push(event));
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      while (queue.length > 0) yield queue.shift() as SseEvent;
    }
    parser.feed(decoder.decode());
    while (queue.length > 0) yield queue.shift() as SseEvent;
  } finally {
    // Stops the download when the caller leaves the loop early (an `error` event, an abort).
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
