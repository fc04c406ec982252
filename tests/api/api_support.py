"""Data and helpers of the API tests: two small partners, their keys, an SSE parser, racing requests.

The partners, a telecom and a bank with their own intents and help centers, were written for these tests
(original text). Small on purpose: the intent model trains in seconds, and the two knowledge bases share no
topic, so a search that leaks across partners would show it.
"""

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi.testclient import TestClient

INTENTS = {
    "acme": {
        "greeting": ["hi", "hello", "hey there", "good morning", "hello, anyone there?", "hiya"],
        "complaint": [
            "this is outrageous, I want to complain",
            "your service is terrible",
            "I am very unhappy with you",
            "I want to file a complaint",
            "worst support ever",
            "I'm furious about my bill",
        ],
        "roaming": [
            "how much is roaming in Spain",
            "does my plan work abroad",
            "roaming charges in France",
            "can I use data when travelling",
            "turn on international roaming",
            "what does roaming cost",
        ],
        "bill": [
            "why is my bill so high",
            "when is my bill due",
            "explain my invoice",
            "pay my phone bill",
            "my monthly bill went up",
            "where do I see my bill",
        ],
    },
    "globex": {
        "greeting": ["hi", "hello", "hey", "good evening", "hello bank", "hi there"],
        "card_lost": [
            "I lost my card",
            "my card was stolen",
            "block my debit card",
            "I can't find my card",
            "freeze my card please",
            "someone took my wallet with my card",
        ],
        "transfer": [
            "how long does a transfer take",
            "send money abroad",
            "my transfer has not arrived",
            "transfer fees",
            "how do I wire money",
            "international transfer time",
        ],
    },
}

ARTICLES = {
    "acme": {
        "roaming.md": "---\ntitle: Roaming abroad\nurl: https://help.acme.example/roaming\n---\n"
        "# Roaming abroad\n\n"
        "Roaming in the EU costs nothing extra on every Acme plan. Outside the EU, roaming data costs "
        "2 euros per megabyte. Turn roaming on in the Acme app under Settings, then Travel.\n",
        "bills.md": "---\ntitle: Your monthly bill\n---\n# Your monthly bill\n\nAcme bills are due on the "
        "fifth of each month. Your invoice lists calls, data and roaming charges. Pay by direct debit or "
        "card in the Acme app.\n",
    },
    "globex": {
        "cards.md": "---\ntitle: Lost or stolen cards\n---\n# Lost or stolen cards\n\nFreeze a lost Globex "
        "card at once in the Globex app. A replacement card arrives within 3 working days.\n",
        "transfers.md": "---\ntitle: Transfers\n---\n# Transfers\n\nGlobex transfers in the country arrive "
        "the same day. International wire transfers take up to 4 working days and cost 15 dollars.\n",
    },
}


def write_partner(root: Path, partner_id: str, name: str, model_dir: Path, like: str | None = None) -> Path:
    """Write a partner's intents, help center and YAML file under ``root``; return the YAML file.

    ``like`` names the partner (acme, globex) whose intents and articles a new partner gets."""
    data = like or partner_id
    folder = root / partner_id
    (folder / "kb").mkdir(parents=True)
    (folder / "intents.yaml").write_text(yaml.safe_dump(INTENTS[data]))
    for file_name, article in ARTICLES[data].items():
        (folder / "kb" / file_name).write_text(article)
    config = {
        "id": partner_id,
        "name": name,
        # Absolute paths: the config is stored as text in the database, with no folder to resolve against.
        "intent": {"examples": str(folder / "intents.yaml"), "threshold": 0.2},
        "knowledge_base": {"name": "help", "sources": [str(folder / "kb")]},
        "retrieval": {"top_k": 2, "min_score": 0.2},
        # The tiny random-weight model writes noise; a short budget keeps each turn fast.
        "generation": {"backend": "transformers", "model": str(model_dir), "max_new_tokens": 8},
        # Only intents its examples define: naa refuses a handoff intent they lack (globex has no complaint).
        "handoff": {
            "always": [i for i in ["complaint"] if i in INTENTS[data]],
            "smalltalk": {"greeting": f"Hello from {name}!"},
        },
    }
    path = folder / "partner.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@dataclass(frozen=True)
class Keys:
    acme: str
    globex: str

    def headers(self, partner: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, partner)}"}


def finished_job(client: TestClient, keys: Keys, job_id: str, timeout_s: float = 90) -> dict[str, Any]:
    """Poll acme's job until it ends; its last state."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}", headers=keys.headers("acme")).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s} s")


SSEvent = tuple[str | None, str]


def parse_sse(lines: Iterable[str]) -> list[SSEvent]:
    """(event name, data) pairs of a Server-Sent Events body; comments (pings) skipped."""
    events: list[SSEvent] = []
    name: str | None = None
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                events.append((name, "\n".join(data)))
            name, data = None, []
        elif line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").removeprefix(" "))
    if data:
        events.append((name, "\n".join(data)))
    return events


def send_together(requests: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Each request from its own thread, all released by one barrier: two clients racing for one name.
    The responses in order."""
    start = threading.Barrier(len(requests))

    def send(request: Callable[[], httpx.Response]) -> httpx.Response:
        start.wait()
        return request()

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))
