/** Assistant turns (`POST /v1/chat`) in a conversation the console starts under its own channel. */

import type { ApiClient, ChatStreamHandlers } from "./api/client";
import type { ChatPublic } from "./api/types";
import { CONSOLE_CHANNEL } from "./conversation";

/**
 * Stream the assistant's reply to `message`, starting the conversation first when there is none yet:
 * `/v1/chat` would start it under channel "api", so the console starts it under CONSOLE_CHANNEL and chats in
 * it. `onCreated` hears the new id before the reply is asked for, so a message refused or stopped is sent
 * again into the same conversation instead of a second one. Rejects with the API's error (a 409 `handed_off`
 * once the conversation was handed to a human agent).
 */
export async function streamAssistantTurn(
  client: ApiClient,
  conversationId: string | null,
  message: string,
  handlers: ChatStreamHandlers,
  signal: AbortSignal,
  onCreated: (id: string) => void,
): Promise<ChatPublic> {
  let id = conversationId;
  if (id === null) {
    id = (await client.createConversation({ channel: CONSOLE_CHANNEL }, signal)).id;
    onCreated(id);
  }
  return client.chatStream({ message, conversation_id: id }, handlers, signal);
}
