import { useCallback, useMemo, useState } from "react";

import { ApiClient } from "./api/client";
import { useApiKey } from "./apiKey";
import { ApiKeyForm } from "./components/ApiKeyForm";
import { ChatPane, type Mode } from "./components/ChatPane";
import { ConversationList } from "./components/ConversationList";
import { ErrorNotice } from "./components/ErrorNotice";
import { KnowledgeBasePanel } from "./components/KnowledgeBasePanel";
import { turnFromStored, type ShownError, type Turn } from "./conversation";
import { shownError } from "./errors";

export function App() {
  const [apiKey, setApiKey] = useApiKey();
  // The console is served by the API itself (or behind Vite's /v1 proxy): same origin.
  const client = useMemo(() => (apiKey ? new ApiClient({ apiKey }) : null), [apiKey]);
  const [mode, setMode] = useState<Mode>("chat");
  const [turns, setTurns] = useState<Turn[]>([]);
  const [conversationId, setConversationId] = useState<string | null>(null);
  const [listVersion, setListVersion] = useState(0);
  const [openError, setOpenError] = useState<ShownError | null>(null);

  const startNew = useCallback(() => {
    setTurns([]);
    setConversationId(null);
    setOpenError(null);
  }, []);

  const open = useCallback(
    async (id: string) => {
      if (!client) return;
      setOpenError(null);
      try {
        const conversation = await client.getConversation(id);
        setTurns(conversation.messages.map(turnFromStored));
        setConversationId(conversation.id);
        setMode("chat");
      } catch (err) {
        setOpenError(shownError(err));
      }
    },
    [client],
  );

  const started = useCallback((id: string) => {
    setConversationId(id);
    setListVersion((v) => v + 1);
  }, []);

  return (
    <div className="app">
      <header className="topbar">
        <h1>
          NAA <span>agent console</span>
        </h1>
        <ApiKeyForm apiKey={apiKey} onSave={setApiKey} />
      </header>
      {!client && (
        <p className="notice" role="status">
          Paste an API key to start: <code>naa serve</code> prints the demo partner's key when it starts.
        </p>
      )}
      <main className="layout">
        <ConversationList
          client={client}
          selectedId={conversationId}
          version={listVersion}
          onOpen={(id) => void open(id)}
          onNew={startNew}
        />
        <div className="center">
          <ErrorNotice error={openError} onDismiss={() => setOpenError(null)} />
          {client ? (
            <ChatPane
              client={client}
              mode={mode}
              onModeChange={setMode}
              turns={turns}
              setTurns={setTurns}
              conversationId={conversationId}
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
