import { useCallback, useState } from "react";

const STORAGE_KEY = "naa.apiKey";

function read(): string {
  try {
    return window.localStorage.getItem(STORAGE_KEY) ?? "";
  } catch {
    return ""; // storage disabled: the key lives for this page only
  }
}

/** The API key, kept in localStorage so a reload keeps it. */
export function useApiKey(): [string, (key: string) => void] {
  const [key, setKey] = useState(read);
  const save = useCallback((next: string) => {
    const trimmed = next.trim();
    try {
      if (trimmed) window.localStorage.setItem(STORAGE_KEY, trimmed);
      else window.localStorage.removeItem(STORAGE_KEY);
    } catch {
      // ignored: see read()
    }
    setKey(trimmed);
  }, []);
  return [key, save];
}
