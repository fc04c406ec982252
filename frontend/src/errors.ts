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
