/** Agent-assist turns, stored through the API like any conversation: the first turn starts one. */

import type { ApiClient } from "./api/client";
import type { TurnRole } from "./api/types";
import { CONSOLE_CHANNEL, turnFromStored, type Turn } from "./conversation";

export interface StoredTurn {
  conversationId: string;
  /** The turn as stored: stripped, card numbers masked. */
  turn: Turn;
}

/**
 * Store one customer or agent turn, starting the conversation first when there is none yet.
 * `onStarted` hears a new conversation's id as soon as it exists, so a turn that then fails is sent
 * again into the same conversation instead of a second one. Rejects with the API's error.
 */
export async function storeAssistTurn(
  client: ApiClient,
  conversationId: string | null,
  role: TurnRole,
  content: string,
  onStarted: (id: string) => void,
): Promise<StoredTurn> {
  let id = conversationId;
  if (id === null) {
    id = (await client.createConversation({ channel: CONSOLE_CHANNEL })).id;
    onStarted(id);
  }
  const stored = await client.addMessage(id, { role, content });
  return { conversationId: id, turn: turnFromStored(stored) };
}
