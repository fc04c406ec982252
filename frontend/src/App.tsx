import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { ApiClient } from "./api/client";
import { useApiKey } from "./apiKey";
import { ASSIST_CHANNEL } from "./assist";
import { ApiKeyForm, type KeyCheck } from "./components/ApiKeyForm";
import { ChatPane, type Mode } from "./components/ChatPane";
import { ConversationList } from "./components/ConversationList";
import { ErrorNotice } from "./components/ErrorNotice";
import { KnowledgeBasePanel } from "./components/KnowledgeBasePanel";
import { turnFromStored, type ShownError, type Turn } from "./conversation";
import { shownError } from "./errors";

/** The conversation in the pane; a new `key` mounts a new pane, which stops the old one's stream. */
interface Opened {
  key: number;
  id: string | null;
  turns: Turn[];
}

export function App() {
  const [apiKey, setApiKey] = useApiKey();
  // The console is served by the API itself (or behind Vite's /v1 proxy): same origin.
  const client = useMemo(() => (apiKey ? new ApiClient({ apiKey }) : null), [apiKey]);
  const [keyCheck, setKeyCheck] = useState<KeyCheck>({ state: "checking" });
  const [mode, setMode] = useState<Mode>("chat");
  const [opened, setOpened] = useState<Opened>({ key: 0, id: null, turns: [] });
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
  }, [client]);

  const startNew = useCallback(() => {
    latestOpen.current += 1;
    setOpened((o) => ({ key: o.key + 1, id: null, turns: [] }));
    setSelectedId(null);
    setOpenError(null);
  }, []);

  const open = useCallback(
    async (id: string) => {
      if (!client) return;
      const request = ++latestOpen.current;
      setOpenError(null);
      try {
        const conversation = await client.getConversation(id);
        if (request !== latestOpen.current) return;
        setOpened((o) => ({ key: o.key + 1, id: conversation.id, turns: conversation.messages.map(turnFromStored) }));
        setSelectedId(conversation.id);
        setMode(conversation.channel === ASSIST_CHANNEL ? "assist" : "chat");
      } catch (err) {
        if (request === latestOpen.current) setOpenError(shownError(err));
      }
    },
    [client],
  );

  const started = useCallback((id: string) => {
    setSelectedId(id);
    setListVersion((v) => v + 1);
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
        <ApiKeyForm apiKey={apiKey} check={keyCheck} onSave={setApiKey} />
      </header>
      {!client && (
        <p className="notice" role="status">
          Paste an API key to start: <code>naa serve</code> prints the demo partner's key when it starts.
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
              onConversationStarted={started}
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
