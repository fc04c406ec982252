import { useState, type FormEvent } from "react";

import type { ShownError } from "../conversation";

/** What the API said about the saved key (App asks it with one cheap authenticated call). */
export type KeyCheck =
  { state: "checking" } | { state: "accepted"; partner: string } | { state: "refused"; error: ShownError };

function describe(check: KeyCheck): { text: string; title?: string; refused?: boolean } {
  switch (check.state) {
    case "checking":
      return { text: "Key saved, checking…" };
    case "accepted":
      return { text: "Key saved and works", title: check.partner ? `partner ${check.partner}` : undefined };
    case "refused":
      return {
        text:
          check.error.code === "network_error"
            ? "Key saved; cannot reach the API to check it"
            : `Key saved but refused (${check.error.code})`,
        title: check.error.message,
        refused: true,
      };
  }
}

export function ApiKeyForm({
  apiKey,
  check,
  onSave,
}: {
  apiKey: string;
  check: KeyCheck;
  onSave: (key: string) => void;
}) {
  const [draft, setDraft] = useState(apiKey);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSave(draft);
  };
  const state = !apiKey ? { text: "No key" } : draft.trim() !== apiKey ? { text: "Unsaved change" } : describe(check);
  return (
    <form className="api-key" onSubmit={submit}>
      <label htmlFor="api-key">API key</label>
      <input
        id="api-key"
        type="password"
        autoComplete="off"
        spellCheck={false}
        placeholder="naa_… (printed by naa serve)"
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
      />
      <button type="submit">Save key</button>
      <span className={state.refused ? "key-state refused" : "key-state"} role="status" title={state.title}>
        {state.text}
      </span>
    </form>
  );
}
