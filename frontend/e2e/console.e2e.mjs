// End-to-end check of the built console against a running NAA API (which serves frontend/dist at `/`).
//
//   NAA_E2E_URL=http://127.0.0.1:8000 NAA_E2E_KEY=naa_... npm run test:e2e
//
// Opens the console in Debian's chromium (playwright-core, no browser download), saves the API key,
// sends a customer message, waits for the streamed reply and its intent badge; then, in a new
// conversation in agent-assist mode, sends a customer message, waits for suggested replies, edits one,
// sends it as the agent, and checks through the API that both turns were stored. Saves a screenshot to
// frontend/e2e-screenshot.png. Skips (exit 0) with a message when the two variables are unset.
// tests/e2e/test_console.py runs it in `make test` against a `naa serve` it starts.
// NAA_E2E_MESSAGE overrides the chat message; NAA_E2E_CHROMIUM the browser path; NAA_E2E_TIMEOUT_MS the wait.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const url = process.env.NAA_E2E_URL;
const key = process.env.NAA_E2E_KEY;
if (!url || !key) {
  console.log(
    "SKIPPED console e2e: set NAA_E2E_URL (e.g. http://127.0.0.1:8000, where `naa serve` runs) " +
      "and NAA_E2E_KEY (the API key it prints) to run it.",
  );
  process.exit(0);
}

const message = process.env.NAA_E2E_MESSAGE ?? "How long does a refund take?";
const assistMessage = "My tent pole snapped on the first trip. Can I return the tent?";
const agentAddition = "Is there anything else I can help you with?";
const timeout = Number(process.env.NAA_E2E_TIMEOUT_MS ?? 180_000);
const screenshot = join(dirname(fileURLToPath(import.meta.url)), "..", "e2e-screenshot.png");
const profile = mkdtempSync(join(tmpdir(), "naa-e2e-chromium-"));

// A fresh profile per run; playwright takes it as the persistent context's directory.
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.NAA_E2E_CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

let failed = false;
const page = context.pages()[0] ?? (await context.newPage());
try {
  const consoleErrors = [];
  page.on("pageerror", (err) => consoleErrors.push(String(err)));

  await page.goto(url, { waitUntil: "domcontentloaded" });
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Save key" }).click();
  await page.getByRole("status").filter({ hasText: "Key saved" }).waitFor();

  await page.getByLabel("Customer message").fill(message);
  await page.getByRole("button", { name: "Send", exact: true }).click();

  const reply = page.getByRole("article", { name: "Assistant reply" }).last();
  // The intent event comes first, then tokens stream in; aria-busy turns false at `done` (or on an error).
  await reply.getByLabel(/^Intent /).waitFor({ timeout });
  await page.waitForFunction(
    () => {
      const replies = document.querySelectorAll('article[aria-label="Assistant reply"]');
      const last = replies[replies.length - 1];
      return last && last.getAttribute("aria-busy") === "false";
    },
    undefined,
    { timeout },
  );
  const apiError = await reply.getByRole("alert").allTextContents();
  if (apiError.length > 0) throw new Error(`the reply ended with an API error: ${apiError.join(" ")}`);

  const intent = await reply.getByLabel(/^Intent /).getAttribute("aria-label");
  const text = (await reply.locator(".turn-body").innerText()).trim();
  if (!text) throw new Error("the assistant's reply is empty");
  // The reply was stored: feedback controls appear only for a stored message id.
  await reply.getByRole("button", { name: "Thumbs up" }).waitFor();
  // The new conversation shows up in the list, selected (the list reloads once the turn is stored).
  await page
    .getByRole("navigation", { name: "Past conversations" })
    .locator('button[aria-current="true"]')
    .waitFor({ timeout: 30_000 });

  const assisted = await checkAgentAssist();
  if (consoleErrors.length > 0) throw new Error(`page errors: ${consoleErrors.join("; ")}`);

  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`PASSED console e2e: ${intent}; reply: ${JSON.stringify(text.slice(0, 160))}`);
  console.log(
    `PASSED agent assist: conversation ${assisted.id}, ${assisted.suggestions} suggestion(s); ` +
      `agent sent: ${JSON.stringify(assisted.agentReply.slice(0, 160))}`,
  );
  console.log(`screenshot: ${screenshot}`);
} catch (err) {
  failed = true;
  await page.screenshot({ path: screenshot, fullPage: true }).catch(() => undefined);
  console.error(`FAILED console e2e: ${err instanceof Error ? err.message : err}`);
  console.error(`screenshot of the failure: ${screenshot}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

/** Agent assist in a new conversation; returns what was stored once the API shows both turns. */
async function checkAgentAssist() {
  await page.getByRole("button", { name: "+ New conversation" }).click();
  await page.getByRole("radio", { name: "Agent assist" }).check();
  await page.getByLabel("Customer message").fill(assistMessage);
  await page.getByRole("button", { name: "Send and suggest" }).click();
  await page.getByRole("article", { name: "Customer turn" }).filter({ hasText: assistMessage }).waitFor();

  const suggested = page.getByRole("region", { name: "Suggested replies" });
  await suggested.waitFor({ timeout });
  const suggestions = await suggested.getByRole("button", { name: /^Use suggestion / }).count();
  if (suggestions === 0) throw new Error("agent assist showed no suggested reply");
  await suggested.getByRole("button", { name: "Use suggestion 1" }).click();
  const agentBox = page.getByLabel("Agent reply");
  const picked = (await agentBox.inputValue()).trim();
  if (!picked) throw new Error("'Use suggestion 1' left the agent's reply box empty");
  const agentReply = `${picked} ${agentAddition}`;
  await agentBox.fill(agentReply);
  await page.getByRole("button", { name: "Send as agent" }).click();
  await page.getByRole("article", { name: "Agent turn" }).filter({ hasText: agentAddition }).waitFor();

  // The stored conversation is the one selected in the list; the API holds both turns, in order.
  const selected = page.getByRole("navigation", { name: "Past conversations" }).locator('button[aria-current="true"]');
  await selected.waitFor({ timeout: 30_000 });
  const id = (await selected.getAttribute("aria-label")).replace(/^Open conversation /, "");
  const response = await page.request.get(new URL(`/v1/conversations/${id}`, url).href, {
    headers: { Authorization: `Bearer ${key}` },
  });
  if (!response.ok()) throw new Error(`GET /v1/conversations/${id}: ${response.status()} ${await response.text()}`);
  const stored = await response.json();
  const turns = stored.messages.map((m) => [m.role, m.content]);
  const expected = [
    ["customer", assistMessage],
    ["agent", agentReply],
  ];
  if (stored.channel !== "console" || JSON.stringify(turns) !== JSON.stringify(expected)) {
    throw new Error(
      `conversation ${id} was stored as ${JSON.stringify({ channel: stored.channel, turns })}, ` +
        `expected channel console and ${JSON.stringify(expected)}`,
    );
  }
  return { id, suggestions, agentReply };
}
