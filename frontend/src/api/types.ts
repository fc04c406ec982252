/**
 * The NAA API's request and response bodies, mirrored by hand from api/schemas/*.py.
 * Keep field names and optionality identical to the pydantic models they name.
 */

/** Every error body: api/errors.py ErrorBody. */
export interface ErrorBody {
  code: string;
  message: string;
}

// api/schemas/assistant.py
export interface IntentScorePublic {
  label: string;
  confidence: number;
}

export interface IntentPublic {
  label: string;
  confidence: number;
  out_of_scope: boolean;
  top: IntentScorePublic[];
}

export interface PassagePublic {
  doc_id: string;
  chunk_id: string;
  text: string;
  score: number;
  title: string;
  source: string;
  url: string;
  section: string;
}

export interface CitationPublic {
  number: number;
  doc_id: string;
  title: string;
  url: string;
  source: string;
}

export type ReplyAction = "answer" | "smalltalk" | "clarify" | "handoff" | "no_answer";

// api/schemas/chat.py
export interface ChatCreate {
  message: string;
  conversation_id?: string | null;
  channel?: string | null;
  stream?: boolean;
}

export interface ChatPublic {
  conversation_id: string;
  message_id: string;
  intent: IntentPublic;
  reply: string;
  citations: CitationPublic[];
  passages: PassagePublic[];
  handoff: boolean;
  action: ReplyAction;
  timings_ms: Record<string, number>;
  /** "length": the reply stopped at the token limit and may end mid-sentence. */
  finish_reason: "stop" | "length";
}

export interface PassagesEventData {
  passages: PassagePublic[];
}

export interface TokenEventData {
  text: string;
}

// api/schemas/suggest.py
/** Either `messages` or `conversation_id` (a stored conversation whose last turn is the customer's). */
export interface SuggestCreate {
  messages?: TurnCreate[] | null;
  conversation_id?: string | null;
  n?: number;
}

export interface SuggestionPublic {
  reply: string;
  citations: CitationPublic[];
  action: ReplyAction;
  handoff: boolean;
}

export interface SuggestPublic {
  intent: IntentPublic;
  suggestions: SuggestionPublic[];
}

// api/schemas/feedback.py
export type Rating = "up" | "down";

export interface FeedbackCreate {
  message_id: string;
  rating: Rating;
  comment?: string | null;
  corrected_reply?: string | null;
}

export interface FeedbackPublic {
  id: string;
  message_id: string;
  rating: Rating;
  comment: string | null;
  corrected_reply: string | null;
  created_at: string;
}

// api/schemas/conversations.py
export interface ConversationCreate {
  channel?: string;
}

/** The roles a person's turn may have; assistant turns come only from /v1/chat. */
export type TurnRole = "customer" | "agent";

export interface TurnCreate {
  role: TurnRole;
  content: string;
}

export type StoredRole = "customer" | "agent" | "assistant";

export interface MessagePublic {
  id: string;
  role: StoredRole;
  content: string;
  intent: string | null;
  intent_confidence: number | null;
  /** Stored as CitationPublic dumps. */
  citations: CitationPublic[];
  /** Stored as PassagePublic dumps. */
  passages: PassagePublic[];
  handoff: boolean;
  /** What an assistant turn did; null for people's turns and turns stored before the API kept it. */
  action: ReplyAction | null;
  latency_ms: Record<string, number>;
  created_at: string;
}

export interface ConversationSummary {
  id: string;
  channel: string;
  created_at: string;
  /** The first customer turn's first 120 characters; "" when there is none yet. */
  preview: string;
  /** An assistant turn handed it to a human agent: /v1/chat is a 409 `handed_off` there; people answer it. */
  handoff: boolean;
}

/** The query of GET /v1/conversations: `channel` and `handoff` keep only the conversations that match. */
export interface ConversationFilter {
  channel?: string;
  handoff?: boolean;
}

export interface ConversationsPublic {
  conversations: ConversationSummary[];
}

export interface ConversationPublic {
  id: string;
  channel: string;
  created_at: string;
  messages: MessagePublic[];
  /** An assistant turn handed it to a human agent (computed from the messages). */
  handoff: boolean;
}

// api/schemas/jobs.py
export type JobKind = "kb_index" | "intent_train" | "rl_train" | "eval";
export type JobStatus = "queued" | "running" | "cancelling" | "succeeded" | "failed" | "cancelled";

export interface JobPublic {
  id: string;
  kind: JobKind;
  status: JobStatus;
  progress: number;
  message: string;
  result: Record<string, unknown> | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export const FINISHED_JOB_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "cancelled"];

// api/schemas/kb.py
export type DocumentStatus = "pending" | "indexed" | "failed";

export interface DocumentPublic {
  doc_id: string;
  title: string;
  source: string;
  url: string;
  status: DocumentStatus;
  chunk_count: number;
  error: string | null;
  updated_at: string | null;
}

export interface DocumentsPublic {
  documents: DocumentPublic[];
}

export interface UploadPublic {
  job: JobPublic;
  documents: DocumentPublic[];
}

// api/schemas/retrieval.py
export interface SearchCreate {
  query: string;
  top_k?: number | null;
}

export interface SearchPublic {
  passages: PassagePublic[];
}

export interface ClassifyCreate {
  texts: string[];
}

export interface ClassifyPublic {
  predictions: IntentPublic[];
}

// api/schemas/completions.py (the console calls /v1/models to check a key)
export interface ModelPublic {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

export interface ModelsPublic {
  object: "list";
  data: ModelPublic[];
}
