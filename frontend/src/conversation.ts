/** The console's model of a conversation turn, and the pure helpers the components share. */

import type {
  ChatCreate,
  ChatPublic,
  CitationPublic,
  ConversationPublic,
  FeedbackCreate,
  MessagePublic,
  PassagePublic,
  Rating,
  ReplyAction,
  StoredRole,
} from "./api/types";

/** The channel the console stores the conversations it starts under (assistant answers and agent assist). */
export const CONSOLE_CHANNEL = "console";

/**
 * The body of an assistant turn (`POST /v1/chat`): in the open conversation, or starting one under the
 * console's channel. The API stores the new conversation with the turn, so a refused first message leaves
 * nothing behind.
 */
export function assistantTurn(conversationId: string | null, message: string): ChatCreate {
  return conversationId === null ? { message, channel: CONSOLE_CHANNEL } : { message, conversation_id: conversationId };
}

/** "chat": the assistant answers the customer; "assist": a human agent answers, with suggested replies. */
export type Mode = "chat" | "assist";

export interface ShownIntent {
  label: string;
  confidence: number;
  out_of_scope?: boolean;
}

export interface ShownError {
  code: string;
  message: string;
}

export interface Turn {
  /** Local key for React; stored messages reuse their id. */
  key: string;
  role: StoredRole;
  content: string;
  /** The stored assistant message id; feedback is sent by it. */
  messageId?: string;
  intent?: ShownIntent;
  citations: CitationPublic[];
  passages: PassagePublic[];
  handoff: boolean;
  action?: ReplyAction;
  /** Milliseconds per stage (intent, retrieval, generation, total). */
  timings?: Record<string, number>;
  /** The reply stopped at the token limit (known for replies answered in this session). */
  cutAtLimit?: boolean;
  streaming?: boolean;
  error?: ShownError;
}

let counter = 0;
export function localKey(): string {
  counter += 1;
  return `local-${Date.now()}-${counter}`;
}

export function newTurn(role: StoredRole, content: string): Turn {
  return { key: localKey(), role, content, citations: [], passages: [], handoff: false };
}

/** A stored message as the console shows it. */
export function turnFromStored(message: MessagePublic): Turn {
  const intent =
    message.role !== "agent" && message.intent !== null
      ? { label: message.intent, confidence: message.intent_confidence ?? 0 }
      : undefined;
  return {
    key: message.id,
    role: message.role,
    content: message.content,
    messageId: message.role === "assistant" ? message.id : undefined,
    intent,
    citations: message.citations ?? [],
    passages: message.passages ?? [],
    handoff: message.handoff,
    action: message.action ?? undefined,
    timings: message.role === "assistant" ? message.latency_ms : undefined,
  };
}

/** The `done` event's reply applied to the streaming turn. */
export function finishTurn(turn: Turn, reply: ChatPublic): Turn {
  return {
    ...turn,
    content: reply.reply,
    messageId: reply.message_id,
    intent: reply.intent,
    citations: reply.citations,
    passages: reply.passages,
    handoff: reply.handoff,
    action: reply.action,
    timings: reply.timings_ms,
    cutAtLimit: reply.finish_reason === "length",
    streaming: false,
  };
}

export type ReplyPart = { kind: "text"; text: string } | { kind: "cite"; number: number; citation?: CitationPublic };

/**
 * Split a reply at its [n] markers, each matched to its citation when there is one. A marker naming
 * several passages, [1, 2] (the API cites each), becomes one part per number when every number names a
 * citation, and stays text otherwise: "[2020, 2021]" in a reply is not a citation.
 */
export function replyParts(text: string, citations: readonly CitationPublic[]): ReplyPart[] {
  const parts: ReplyPart[] = [];
  const marker = /\[(\d+(?:\s*,\s*\d+)*)\]/g;
  let last = 0;
  for (let m = marker.exec(text); m !== null; m = marker.exec(text)) {
    if (m.index > last) parts.push({ kind: "text", text: text.slice(last, m.index) });
    const cited = m[1].split(",").map((n) => {
      const number = Number(n.trim());
      return { kind: "cite" as const, number, citation: citations.find((c) => c.number === number) };
    });
    if (cited.length === 1 || cited.every((part) => part.citation)) parts.push(...cited);
    else parts.push({ kind: "text", text: m[0] });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ kind: "text", text: text.slice(last) });
  return parts;
}

export function percent(confidence: number): string {
  return `${Math.round(confidence * 100)}%`;
}

/** "822 ms" for the total, and every stage for a tooltip. */
export function describeTimings(timings: Record<string, number> | undefined): { total: string; stages: string } | null {
  if (!timings || timings.total === undefined) return null;
  const stages = Object.entries(timings)
    .map(([stage, ms]) => `${stage} ${Math.round(ms)} ms`)
    .join(", ");
  return { total: `${Math.round(timings.total)} ms`, stages };
}

/**
 * The longest customer or agent message `naa serve` accepts with its default settings: `max_message_chars`
 * in naa/config/settings.py (NAA_MAX_MESSAGE_CHARS). The API does not publish the limit a server runs with,
 * so the console counts against this default and warns past it; a longer message is still sent, and a
 * server that refuses it answers 422 while the message stays in its box.
 */
export const DEFAULT_MAX_MESSAGE_CHARS = 4000;

/** The longest feedback comment the API takes: FeedbackCreate.comment, api/schemas/feedback.py. */
export const MAX_FEEDBACK_COMMENT_CHARS = 5000;
/** The longest corrected reply the API takes: FeedbackCreate.corrected_reply, api/schemas/feedback.py. */
export const MAX_CORRECTED_REPLY_CHARS = 20000;

/** A suggested reply without its [n] markers: they point at the console's source list, not the customer's. */
export function withoutCitationMarkers(text: string): string {
  return text.replace(/[ \t]*\[\d+(?:\s*,\s*\d+)*\]/g, "");
}

/**
 * The feedback to send: the comment when there is one, and the corrected reply only when the agent
 * changed it (the form starts from the assistant's own reply).
 */
export function feedbackBody(
  messageId: string,
  rating: Rating,
  comment: string,
  correction: string,
  reply: string,
): FeedbackCreate {
  const corrected = correction.trim();
  return {
    message_id: messageId,
    rating,
    comment: comment.trim() || null,
    corrected_reply: corrected && corrected !== reply.trim() ? corrected : null,
  };
}

/** Enter (without Shift) sends, except while an input method is composing (Japanese, Chinese...). */
export function isSendKey(e: { key: string; shiftKey: boolean; isComposing: boolean; keyCode: number }): boolean {
  // keyCode 229: the Enter that ends a composition in browsers that fire it before compositionend (Safari).
  return e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229;
}

/** Text that ends as a sentence, so another can follow it. */
function asSentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

const NOT_STORED = "Nothing was stored: the message is back in its box to send again.";

/**
 * The error under a reply that did not finish: an `error` event, a dropped connection, or Stop (`null`).
 * The API stores a customer turn only with its finished reply, so nothing was stored and the message goes
 * back in its box (see draftAfterUnfinishedReply) instead of having to be typed again.
 */
export function unfinishedReplyError(error: ShownError | null): ShownError {
  if (error === null) return { code: "stopped", message: `You stopped this reply. ${NOT_STORED}` };
  return { code: error.code, message: `${asSentence(error.message)} ${NOT_STORED}` };
}

/** The message box after a reply did not finish: the message again, unless the agent typed something new. */
export function draftAfterUnfinishedReply(draft: string, message: string): string {
  return draft.trim() ? draft : message;
}

/** An assistant turn handed the conversation to a human agent: the assistant no longer answers there. */
export function handedOffIn(turns: readonly Turn[]): boolean {
  return turns.some((t) => t.role === "assistant" && t.handoff);
}

/**
 * The mode a stored conversation opens in: one the assistant answered in, "chat" (the pane still shows a
 * handed-off one in agent assist); one with people's turns only, "assist"; an empty one, the current mode.
 * Not by channel: the console stores both kinds under CONSOLE_CHANNEL.
 */
export function openingMode(conversation: Pick<ConversationPublic, "messages">, current: Mode): Mode {
  const { messages } = conversation;
  if (messages.some((m) => m.role === "assistant")) return "chat";
  return messages.length > 0 ? "assist" : current;
}

/**
 * What an agent reads when the assistant was asked to answer in a conversation that was handed off meanwhile
 * (a 409 `handed_off`: another agent's tab, or an integration, handed it off). The API's own message is
 * written for integrators; this one says what happened and what to do here.
 */
export function handedOffError(): ShownError {
  return {
    code: "handed_off",
    message:
      "This conversation was handed to a human agent meanwhile (in another tab or by another agent), so the " +
      "assistant no longer answers in it. Nothing was sent: the message is still in its box. Answer as the " +
      "agent: send it as the customer's turn (Send and suggest), then write the agent's reply.",
  };
}
