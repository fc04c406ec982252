import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";

import type { ApiClient } from "../api/client";
import { FINISHED_JOB_STATUSES, type DocumentPublic, type JobPublic, type PassagePublic } from "../api/types";
import { percent, type ShownError } from "../conversation";
import { isAbort, shownError } from "../errors";
import { ErrorNotice } from "./ErrorNotice";

export function KnowledgeBasePanel({ client }: { client: ApiClient | null }) {
  const [documents, setDocuments] = useState<DocumentPublic[] | null>(null);
  const [job, setJob] = useState<JobPublic | null>(null);
  const [error, setError] = useState<ShownError | null>(null);
  const [uploading, setUploading] = useState(false);
  // Files chosen in the file field: Upload with none did nothing at all.
  const [chosen, setChosen] = useState(0);
  const [query, setQuery] = useState("");
  const [hits, setHits] = useState<PassagePublic[] | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const polling = useRef<AbortController | null>(null);

  const load = useCallback(async () => {
    if (!client) return;
    try {
      setDocuments((await client.listDocuments()).documents);
    } catch (err) {
      setError(shownError(err));
    }
  }, [client]);

  // A new key: what the old one was refused is no longer news.
  useEffect(() => {
    setError(null);
    void load();
    return () => polling.current?.abort();
  }, [load]);

  const refresh = () => {
    setError(null);
    void load();
  };

  const upload = async (e: FormEvent) => {
    e.preventDefault();
    const files = Array.from(fileInput.current?.files ?? []);
    if (!client || files.length === 0) return;
    setError(null);
    setJob(null);
    setUploading(true);
    polling.current?.abort();
    const controller = new AbortController();
    polling.current = controller;
    try {
      const started = await client.uploadDocuments(files);
      setJob(started.job);
      if (fileInput.current) fileInput.current.value = "";
      setChosen(0);
      await load();
      const finished = await client.waitForJob(started.job.id, setJob, 1000, controller.signal);
      if (finished.status === "failed") setError({ code: "job_failed", message: finished.error ?? "indexing failed" });
      await load();
    } catch (err) {
      if (!isAbort(err)) setError(shownError(err));
    } finally {
      setUploading(false);
    }
  };

  /** A queued job stops at once; a running one shows `cancelling` until it stops, then `cancelled`. */
  const cancel = async () => {
    if (!client || !job) return;
    setError(null);
    try {
      setJob(await client.cancelJob(job.id));
    } catch (err) {
      setError(shownError(err));
    }
  };

  const remove = async (doc: DocumentPublic) => {
    if (!client) return;
    const name = doc.title || doc.doc_id;
    if (!window.confirm(`Delete "${name}" from the knowledge base? Its passages will no longer be retrieved.`)) return;
    const docId = doc.doc_id;
    setError(null);
    try {
      await client.deleteDocument(docId);
      setDocuments((docs) => docs?.filter((d) => d.doc_id !== docId) ?? null);
    } catch (err) {
      setError(shownError(err));
    }
  };

  const search = async (e: FormEvent) => {
    e.preventDefault();
    if (!client || !query.trim()) return;
    setError(null);
    try {
      setHits((await client.search(query.trim(), 5)).passages);
    } catch (err) {
      setError(shownError(err));
    }
  };

  return (
    <aside className="panel kb" aria-label="Knowledge base">
      <header className="panel-head">
        <h2>Knowledge base</h2>
        <button type="button" className="secondary small" onClick={refresh} disabled={!client}>
          Refresh
        </button>
      </header>

      <form className="upload" onSubmit={upload}>
        <label htmlFor="kb-files">Documents to upload</label>
        <input
          id="kb-files"
          ref={fileInput}
          type="file"
          multiple
          accept=".md,.markdown,.txt,.html,.htm,.pdf,.json,.csv"
          disabled={!client || uploading}
          onChange={(e) => setChosen(e.target.files?.length ?? 0)}
          aria-describedby="kb-files-hint"
        />
        <span id="kb-files-hint" className="muted small-print">
          Markdown, text, HTML, PDF, or a JSON/CSV FAQ; up to 20 MiB per upload.
        </span>
        <button type="submit" disabled={!client || uploading || chosen === 0}>
          {uploading ? "Indexing…" : "Upload"}
        </button>
      </form>

      {job && (
        <div className={`job job-${job.status}`}>
          <label htmlFor="kb-job-progress">
            Indexing job {job.status} {percent(job.progress)}
          </label>
          <progress id="kb-job-progress" max={1} value={job.progress} />
          {job.message && <span className="muted">{job.message}</span>}
          {!FINISHED_JOB_STATUSES.includes(job.status) && (
            <button
              type="button"
              className="secondary small"
              disabled={job.status === "cancelling"}
              onClick={() => void cancel()}
            >
              Cancel indexing
            </button>
          )}
        </div>
      )}

      <ErrorNotice error={error} onDismiss={() => setError(null)} />

      {!client && <p className="muted">Save an API key to see documents.</p>}
      {documents && documents.length === 0 && <p className="muted">No documents.</p>}
      {documents && documents.length > 0 && (
        <div className="docs-scroll">
          <table className="docs" aria-label="Documents">
            <thead>
              <tr>
                <th scope="col">Document</th>
                <th scope="col">Status</th>
                <th scope="col">Chunks</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {documents.map((d) => (
                <tr key={d.doc_id}>
                  <td title={d.error ?? d.source}>
                    {d.url ? (
                      <a href={d.url} target="_blank" rel="noreferrer">
                        {d.title || d.doc_id}
                      </a>
                    ) : (
                      d.title || d.doc_id
                    )}
                  </td>
                  <td>
                    <span className={`status status-${d.status}`}>{d.status}</span>
                  </td>
                  <td className="num">{d.chunk_count}</td>
                  <td>
                    <button
                      type="button"
                      className="link danger"
                      aria-label={`Delete ${d.doc_id}`}
                      onClick={() => void remove(d)}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <form className="search" onSubmit={search}>
        <label htmlFor="kb-search">Search the knowledge base</label>
        <div className="row">
          <input id="kb-search" type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
          <button type="submit" disabled={!client || !query.trim()}>
            Search
          </button>
        </div>
      </form>
      {hits && (
        <ol className="hits" aria-label="Search results">
          {hits.length === 0 && <li className="muted">Nothing above the relevance threshold.</li>}
          {hits.map((p) => (
            <li key={p.chunk_id}>
              <strong>{p.title || p.doc_id}</strong> <span className="score">{p.score.toFixed(2)}</span>
              <p>{p.text}</p>
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}
