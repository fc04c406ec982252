import { ApiError } from "./api/client";
import type { ShownError } from "./conversation";

/** Any thrown value as the {code, message} the UI shows. */
export function shownError(err: unknown): ShownError {
  if (err instanceof ApiError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: err.name, message: err.message };
  return { code: "error", message: String(err) };
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === "AbortError";
}

/** The API refused a chat turn because the conversation was handed to a human agent (409 `handed_off`). */
export function isHandedOff(err: unknown): boolean {
  return err instanceof ApiError && err.status === 409 && err.code === "handed_off";
}
