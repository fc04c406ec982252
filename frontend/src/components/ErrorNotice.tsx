import type { ShownError } from "../conversation";

/** An API error as the user sees it: the machine-readable code and the message that says what to do. */
export function ErrorNotice({ error, onDismiss }: { error: ShownError | null; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <span className="error-code">{error.code}</span>
      <span className="error-message">{error.message}</span>
      {error.code === "unauthorized" && <span className="error-hint">Check the API key at the top.</span>}
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss} aria-label="Dismiss error">
          ×
        </button>
      )}
    </div>
  );
}
