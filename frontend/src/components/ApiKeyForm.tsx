import { useState, type FormEvent } from "react";

export function ApiKeyForm({ apiKey, onSave }: { apiKey: string; onSave: (key: string) => void }) {
  const [draft, setDraft] = useState(apiKey);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSave(draft);
  };
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
      <span className="key-state" role="status">
        {apiKey ? (draft.trim() === apiKey ? "Key saved" : "Unsaved change") : "No key"}
      </span>
    </form>
  );
}
