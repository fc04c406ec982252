/**
 * A typed client for the NAA API: one method per route the console uses, errors as ApiError.
 *
 * Every call sends `Authorization: Bearer <key>`. The API answers errors with `{code, message}`;
 * anything else (a proxy's HTML page, a dropped connection) is turned into the same shape so the UI
 * shows one kind of error.
 */

import { readSseEvents } from "./sse";
import {
  FINISHED_JOB_STATUSES,
  type ChatCreate,
  type ChatPublic,
  type ClassifyPublic,
  type ConversationCreate,
  type ConversationFilter,
  type ConversationPublic,
  type ConversationsPublic,
  type DocumentsPublic,
  type ErrorBody,
  type FeedbackCreate,
  type FeedbackPublic,
  type IntentPublic,
  type JobPublic,
  type MessagePublic,
  type ModelsPublic,
  type PassagesEventData,
  type SearchPublic,
  type SuggestCreate,
  type SuggestPublic,
  type TokenEventData,
  type TurnCreate,
  type UploadPublic,
} from "./types";

export class ApiError extends Error {
  /** HTTP status; 0 when no response came back, 200 for an `error` event inside a stream. */
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

export interface ChatStreamHandlers {
  /** The API accepted the message (HTTP 200): the reply starts streaming. A refused one never gets here. */
  onAccepted?: () => void;
  onIntent?: (intent: IntentPublic) => void;
  onPassages?: (data: PassagesEventData) => void;
  onToken?: (token: TokenEventData) => void;
}

export interface ApiClientOptions {
  /** Origin the API is on; "" means the page's own origin (the console is served by the API). */
  baseUrl?: string;
  apiKey: string;
  /**
   * Hears every 401 of any call: the key was revoked (or replaced by `naa serve --new-key`) while the
   * console was open, so the key field can say so instead of still saying the key works.
   */
  onUnauthorized?: (err: ApiError) => void;
}

function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== "object" || value === null) return false;
  const body = value as Record<string, unknown>;
  return typeof body.code === "string" && typeof body.message === "string";
}

const GATEWAY_STATUSES = [502, 503, 504];

/**
 * The text of an error body that is not the API's JSON, when it is worth showing: one short line of plain
 * text. An HTML page (a proxy's, a framework's debug page) or a stack trace is never shown to an agent.
 */
export function plainErrorText(text: string, reason = ""): string {
  const line = text.trim();
  if (!line || line.length > 160 || /[\r\n<>{}]/.test(line) || /^Traceback\b/.test(line)) return "";
  return line.toLowerCase() === reason.toLowerCase() ? "" : line;
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  try {
    const body: unknown = JSON.parse(text);
    if (isErrorBody(body)) return new ApiError(response.status, body.code, body.message);
  } catch {
    // not JSON: fall through
  }
  const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  const said = plainErrorText(text, response.statusText);
  const what = said ? `${status}: ${said}` : status;
  // The API always answers JSON; a bare 502-504 comes from a proxy in front of it (Vite's, a load balancer).
  let message: string;
  if (GATEWAY_STATUSES.includes(response.status)) {
    message = `The NAA API did not answer (${what}, from the proxy in front of it). Check that naa serve is running, then try again.`;
  } else if (response.status >= 500) {
    message = `The server failed (${what}). Try again; if it keeps failing, its log says why.`;
  } else {
    message = `The server refused the request (${what}) without saying why. Reload the console and try again.`;
  }
  return new ApiError(response.status, `http_${response.status}`, message);
}

function isAbortError(err: unknown): boolean {
  return err instanceof DOMException && err.name === "AbortError";
}

function networkError(err: unknown, what: string): ApiError {
  const why = err instanceof Error ? err.message : String(err);
  return new ApiError(0, "network_error", `${what} (${why}). Check that naa serve is running, then try again.`);
}

function parseJson<T>(data: string, event: string): T {
  try {
    return JSON.parse(data) as T;
  } catch {
    throw new ApiError(
      200,
      "bad_event",
      `The server sent a reply the console cannot read (a '${event}' event that is not JSON).`,
    );
  }
}

/** ": <message>" of an error event in another shape (OpenAI's `{error: {message}}`), or " it did not describe". */
function describedError(body: unknown): string {
  const inner = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined;
  const message = typeof inner === "object" && inner !== null ? (inner as { message?: unknown }).message : inner;
  const said = typeof message === "string" ? plainErrorText(message) : "";
  return said ? `: ${said}` : " it did not describe";
}

/** The chat stream's events passed to the handlers; resolves with the `done` event's reply. */
async function readChatEvents(body: ReadableStream<Uint8Array>, handlers: ChatStreamHandlers): Promise<ChatPublic> {
  for await (const { event, data } of readSseEvents(body)) {
    switch (event) {
      case "intent":
        handlers.onIntent?.(parseJson<IntentPublic>(data, event));
        break;
      case "passages":
        handlers.onPassages?.(parseJson<PassagesEventData>(data, event));
        break;
      case "token":
        handlers.onToken?.(parseJson<TokenEventData>(data, event));
        break;
      case "done":
        return parseJson<ChatPublic>(data, event);
      case "error": {
        const err = parseJson<unknown>(data, event);
        if (isErrorBody(err)) throw new ApiError(200, err.code, err.message);
        throw new ApiError(200, "stream_error", `The server ended the reply with an error${describedError(err)}.`);
      }
      default:
        break; // events this console does not know yet
    }
  }
  throw new ApiError(200, "stream_ended", "The reply stopped before it was finished (the server may have restarted).");
}

export class ApiClient {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly onUnauthorized?: (err: ApiError) => void;

  constructor({ baseUrl = "", apiKey, onUnauthorized }: ApiClientOptions) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.apiKey = apiKey;
    this.onUnauthorized = onUnauthorized;
  }

  private async send(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${this.apiKey}`);
    if (!headers.has("Accept")) headers.set("Accept", "application/json");
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, { ...init, headers });
    } catch (err) {
      if (isAbortError(err)) throw err;
      throw networkError(err, "Cannot reach the NAA API");
    }
    if (!response.ok) {
      const err = await errorOf(response);
      if (response.status === 401) this.onUnauthorized?.(err);
      throw err;
    }
    return response;
  }

  private async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await this.send(path, init);
    return (await response.json()) as T;
  }

  private post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return this.json<T>(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal,
    });
  }

  /** One turn, answered as a whole. */
  chat(body: Omit<ChatCreate, "stream">): Promise<ChatPublic> {
    return this.post<ChatPublic>("/v1/chat", { ...body, stream: false });
  }

  /**
   * One turn, streamed: handlers see the intent, the passages and each token as they arrive;
   * resolves with the `done` event's stored reply. An `error` event rejects with its code and message.
   */
  async chatStream(
    body: Omit<ChatCreate, "stream">,
    handlers: ChatStreamHandlers = {},
    signal?: AbortSignal,
  ): Promise<ChatPublic> {
    const response = await this.send("/v1/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ ...body, stream: true }),
      signal,
    });
    if (!response.body) throw new ApiError(response.status, "bad_stream", "the reply has no body to stream");
    handlers.onAccepted?.();
    try {
      return await readChatEvents(response.body, handlers);
    } catch (err) {
      if (err instanceof ApiError || isAbortError(err)) throw err;
      // reader.read() rejects (a TypeError in browsers) when the connection drops mid-reply.
      throw networkError(err, "The connection to the NAA API dropped before the reply was finished");
    }
  }

  suggest(body: SuggestCreate, signal?: AbortSignal): Promise<SuggestPublic> {
    return this.post<SuggestPublic>("/v1/suggest", body, signal);
  }

  sendFeedback(body: FeedbackCreate): Promise<FeedbackPublic> {
    return this.post<FeedbackPublic>("/v1/feedback", body);
  }

  /** Newest first; `filter` keeps only one channel's, or only those handed off (or not). */
  listConversations(limit = 50, offset = 0, filter: ConversationFilter = {}): Promise<ConversationsPublic> {
    const query = new URLSearchParams({ limit: String(limit), offset: String(offset) });
    if (filter.channel !== undefined) query.set("channel", filter.channel);
    if (filter.handoff !== undefined) query.set("handoff", String(filter.handoff));
    return this.json<ConversationsPublic>(`/v1/conversations?${query}`);
  }

  getConversation(id: string): Promise<ConversationPublic> {
    return this.json<ConversationPublic>(`/v1/conversations/${encodeURIComponent(id)}`);
  }

  /** An empty stored conversation under `body.channel` ("api" when unset), for the turns that follow. */
  createConversation(body: ConversationCreate = {}, signal?: AbortSignal): Promise<ConversationPublic> {
    return this.post<ConversationPublic>("/v1/conversations", body, signal);
  }

  /** Store a customer's or agent's turn; resolves with it as stored (stripped, card numbers masked). */
  addMessage(conversationId: string, turn: TurnCreate): Promise<MessagePublic> {
    return this.post<MessagePublic>(`/v1/conversations/${encodeURIComponent(conversationId)}/messages`, turn);
  }

  search(query: string, topK?: number): Promise<SearchPublic> {
    return this.post<SearchPublic>("/v1/search", topK === undefined ? { query } : { query, top_k: topK });
  }

  classify(texts: string[]): Promise<ClassifyPublic> {
    return this.post<ClassifyPublic>("/v1/intents/classify", { texts });
  }

  listDocuments(): Promise<DocumentsPublic> {
    return this.json<DocumentsPublic>("/v1/kb/documents");
  }

  /** Upload files as multipart field `files`; indexing runs as the returned job. */
  uploadDocuments(files: readonly File[]): Promise<UploadPublic> {
    const form = new FormData();
    for (const file of files) form.append("files", file, file.name);
    return this.json<UploadPublic>("/v1/kb/documents", { method: "POST", body: form });
  }

  async deleteDocument(docId: string): Promise<void> {
    await this.send(`/v1/kb/documents/${encodeURIComponent(docId)}`, { method: "DELETE" });
  }

  /** A queued job is cancelled at once; a running one is `cancelling` until it stops. A finished one is a 409. */
  cancelJob(id: string): Promise<JobPublic> {
    return this.post<JobPublic>(`/v1/jobs/${encodeURIComponent(id)}/cancel`, {});
  }

  /** The cheapest authenticated call: resolves with the key's partner id, rejects with a 401 for a bad key. */
  async checkKey(): Promise<string> {
    const models = await this.json<ModelsPublic>("/v1/models");
    return models.data[0]?.owned_by ?? "";
  }

  getJob(id: string): Promise<JobPublic> {
    return this.json<JobPublic>(`/v1/jobs/${encodeURIComponent(id)}`);
  }

  /** Poll a job until it finishes, reporting each state seen; resolves with the finished job. */
  async waitForJob(
    id: string,
    onProgress: (job: JobPublic) => void = () => undefined,
    intervalMs = 1000,
    signal?: AbortSignal,
  ): Promise<JobPublic> {
    for (;;) {
      const job = await this.getJob(id);
      onProgress(job);
      if (FINISHED_JOB_STATUSES.includes(job.status)) return job;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, intervalMs);
        signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(new DOMException("job polling aborted", "AbortError"));
        });
      });
    }
  }
}
