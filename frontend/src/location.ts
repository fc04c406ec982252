/**
 * The open conversation in the page's address (`?conversation=<id>`), so a reload, or a link an agent
 * shares with a colleague who has the key, opens it again instead of an empty pane. A query parameter,
 * not the fragment: citation links to the source list move the fragment.
 */

const PARAM = "conversation";

/** The conversation id the address names, or null. */
export function conversationInUrl(href: string): string | null {
  const id = new URL(href).searchParams.get(PARAM);
  return id?.trim() ? id.trim() : null;
}

/** The same address naming `id` (null: naming none), fragment kept. */
export function urlWithConversation(href: string, id: string | null): string {
  const url = new URL(href);
  if (id) url.searchParams.set(PARAM, id);
  else url.searchParams.delete(PARAM);
  return url.href;
}

/** Name `id` in the address bar without a new history entry (Back still leaves the console). */
export function showConversationInUrl(id: string | null): void {
  const next = urlWithConversation(window.location.href, id);
  if (next !== window.location.href) window.history.replaceState(window.history.state, "", next);
}
