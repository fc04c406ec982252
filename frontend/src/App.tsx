import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { ApiClient, ApiError } from "./api/client";
import { useApiKey } from "./apiKey";
import { ApiKeyForm, type KeyCheck } from "./components/ApiKeyForm";
import { ChatPane, type Mode } from "./components/ChatPane";
import { ConversationList } from "./components/ConversationList";
import { ErrorNotice } from "./components/ErrorNotice";
import { KnowledgeBasePanel } from "./components/KnowledgeBasePanel";
import { openingMode, turnFromStored, type ShownError, type Turn } from "./conversation";
import { shownError } from "./errors";
import { conversationInUrl, showConversationInUrl } from "./location";

/** The conversation in the pane; a new `key` mounts a new pane, which stops the old one's stream. */
interface Opened {
  key: number;
  id: string | null;
  turns: Turn[];
  /** The API's flag: the conversation was handed to a human agent. */
  handoff: boolean;
}

export function App() {
  const [apiKey, setApiKey] = useApiKey();
  const [keyCheck, setKeyCheck] = useState<KeyCheck>({ state: "checking" });
  // Each "Save key" checks the key again, the same key too (the API may be back, or the key revoked).
  const [checks, setChecks] = useState(0);
  const currentKey = useRef(apiKey);
  useEffect(() => {
    currentKey.current = apiKey;
  }, [apiKey]);
  // The console is served by the API itself (or behind Vite's /v1 proxy): same origin.
  const client = useMemo(
    () =>
      apiKey
        ? new ApiClient({
            apiKey,
            // Any call refused with a 401 (the key was revoked since it was checked): the key field says so.
            onUnauthorized: (err) => {
              if (currentKey.current === apiKey) setKeyCheck({ state: "refused", error: shownError(err) });
            },
          })
        : null,
    [apiKey],
  );
  const [mode, setMode] = useState<Mode>("chat");
  const [opened, setOpened] = useState<Opened>({ key: 0, id: null, turns: [], handoff: false });
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [listVersion, setListVersion] = useState(0);
  const [openError, setOpenError] = useState<ShownError | null>(null);
  // Counts open/new clicks: a conversation that loads after a later click is not shown.
  const latestOpen = useRef(0);

  useEffect(() => {
    if (!client) return;
    let current = true;
    setKeyCheck({ state: "checking" });
    client.checkKey().then(
      (partner) => current && setKeyCheck({ state: "accepted", partner }),
      (err: unknown) => current && setKeyCheck({ state: "refused", error: shownError(err) }),
    );
    return () => {
      current = false;
    };
  }, [client, checks]);

  const saveKey = useCallback(
    (key: string) => {
      setApiKey(key);
      setChecks((n) => n + 1);
    },
    [setApiKey],
  );

  const startNew = useCallback(() => {
    latestOpen.current += 1;
    setOpened((o) => ({ key: o.key + 1, id: null, turns: [], handoff: false }));
    setSelectedId(null);
    setOpenError(null);
    showConversationInUrl(null);
  }, []);

  const open = useCallback(
    async (id: string) => {
      if (!client) return;
      const request = ++latestOpen.current;
      setOpenError(null);
      try {
        const conversation = await client.getConversation(id);
        if (request !== latestOpen.current) return;
        setOpened((o) => ({
          key: o.key + 1,
          id: conversation.id,
          turns: conversation.messages.map(turnFromStored),
          handoff: conversation.handoff,
        }));
        setSelectedId(conversation.id);
        setMode((current) => openingMode(conversation, current));
        showConversationInUrl(conversation.id);
      } catch (err) {
        if (request !== latestOpen.current) return;
        setOpenError(shownError(err));
        // A conversation that is gone (or another partner's) is not tried again at the next reload.
        if (err instanceof ApiError && err.status === 404) showConversationInUrl(null);
      }
    },
    [client],
  );

  // A reload (or a shared link) opens the conversation the address names, once the first key is there.
  const restored = useRef(false);
  useEffect(() => {
    if (!client || restored.current) return;
    restored.current = true;
    const id = conversationInUrl(window.location.href);
    if (id) void open(id);
  }, [client, open]);

  const changed = useCallback((id: string) => {
    setSelectedId(id);
    setListVersion((v) => v + 1);
    showConversationInUrl(id);
  }, []);

  const focusComposer = () => document.getElementById("customer-message")?.focus();

  return (
    <div className="app">
      <a
        className="skip-link"
        href="#customer-message"
        onClick={(e) => {
          e.preventDefault();
          focusComposer();
        }}
      >
        Skip to the message box
      </a>
      <header className="topbar">
        <h1>
          NAA <span>agent console</span>
        </h1>
        <ApiKeyForm apiKey={apiKey} check={keyCheck} onSave={saveKey} />
      </header>
      {!client && (
        <p className="notice" role="status">
          Paste an API key to start: <code>naa serve</code> prints the demo partner's key when it starts.
        </p>
      )}
      {client && keyCheck.state === "refused" && keyCheck.error.code === "unauthorized" && (
        <p className="notice notice-error" role="alert">
          The API refuses this key: {keyCheck.error.message}. Paste a working key in the API key field at the top and
          press Save key.
        </p>
      )}
      <main className="layout">
        <ConversationList
          client={client}
          selectedId={selectedId}
          version={listVersion}
          onOpen={(id) => void open(id)}
          onNew={startNew}
        />
        <div className="center">
          <ErrorNotice error={openError} onDismiss={() => setOpenError(null)} />
          {client ? (
            <ChatPane
              key={opened.key}
              client={client}
              mode={mode}
              onModeChange={setMode}
              opened={opened}
              onConversationChanged={changed}
            />
          ) : (
            <section className="panel chat" aria-label="Conversation">
              <p className="empty">The conversation pane opens once an API key is saved.</p>
            </section>
          )}
        </div>
        <KnowledgeBasePanel client={client} />
      </main>
    </div>
  );
}
