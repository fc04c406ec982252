"""The API under concurrent clients on localhost: requests/s, p50/p99 latency, time to first token.

Starts the real server (uvicorn, one process, ``api.main:app_from_env``) on the shipped demo partner with
its default generator (SmolLM2-135M-Instruct on CPU), builds the demo first if needed, then drives it with
httpx async clients:

- ``classify`` and ``search``: one stage each, many requests at a time (the high-rate paths);
- ``chat``: streamed turns through the whole chain (``POST /v1/chat``, ``stream: true``), concurrent;
  the time to the first ``token`` event is the time to first token a user sees.

Each path runs first one request at a time (the latency of a request on an idle server), then under load.
One untimed turn comes first (the partner's assistant is built lazily). The default generator decodes up
to ``max_batch_size`` chats together, newcomers joining at the next decode step, so beyond that many
concurrent chats queue: their time to first token includes the wait. Prints a table and writes
``benchmarks/results/api.json``.

    .venv/bin/python benchmarks/api_benchmark.py [--chats 50] [--chat-rate 0.25] [--requests 400]
"""

import argparse
import asyncio
import itertools
import json
import math
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.onboarding import register_partner_file  # noqa: E402
from naa.builder import build_partner  # noqa: E402
from naa.config.partner import load_partner_config  # noqa: E402
from naa.config.settings import NAASettings  # noqa: E402
from naa.workspace import Workspace  # noqa: E402

DEMO = ROOT / "naa" / "demo" / "partner.yaml"
QUESTIONS = [
    "How long does a refund take to reach my card?",
    "Can I return an item I bought on sale?",
    "How much does express shipping cost?",
    "My parcel is late, what can I do?",
    "How do I check the balance of a gift card?",
    "Can I change the delivery address after ordering?",
    "How do Waypoints rewards work?",
    "Can I pick up my order in a store?",
]


def _q(i: int) -> str:
    return QUESTIONS[i % len(QUESTIONS)]


@dataclass
class Scenario:
    name: str
    concurrency: int
    requests: int
    arrivals_per_s: float = math.inf  # inf: every request at once; else Poisson arrivals at this rate
    latencies_s: list[float] = field(default_factory=list)
    first_token_s: list[float] = field(default_factory=list)
    errors: int = 0
    wall_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        def pct(values: list[float], q: float) -> float | None:
            if not values:
                return None
            ordered = sorted(values)
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

        return {
            "scenario": self.name,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "arrivals_per_s": None if math.isinf(self.arrivals_per_s) else self.arrivals_per_s,
            "errors": self.errors,
            "requests_per_s": round(len(self.latencies_s) / self.wall_s, 2) if self.wall_s else None,
            "p50_ms": pct(self.latencies_s, 0.50),
            "p99_ms": pct(self.latencies_s, 0.99),
            "ttft_p50_ms": pct(self.first_token_s, 0.50),
            "ttft_p99_ms": pct(self.first_token_s, 0.99),
            "mean_ms": round(statistics.fmean(self.latencies_s) * 1000, 1) if self.latencies_s else None,
        }


async def _post(client: httpx.AsyncClient, scenario: Scenario, path: str, body: dict[str, Any]) -> None:
    started = time.perf_counter()
    response = await client.post(path, json=body)
    if response.status_code != 200:
        scenario.errors += 1
        return
    scenario.latencies_s.append(time.perf_counter() - started)


async def _stream_chat(client: httpx.AsyncClient, scenario: Scenario, question: str) -> None:
    started = time.perf_counter()
    first: float | None = None
    event = None
    async with client.stream("POST", "/v1/chat", json={"message": question, "stream": True}) as response:
        if response.status_code != 200:
            scenario.errors += 1
            return
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
                if event == "token" and first is None:
                    first = time.perf_counter() - started
                if event == "error":
                    scenario.errors += 1
    scenario.latencies_s.append(time.perf_counter() - started)
    if first is not None:
        scenario.first_token_s.append(first)


async def _run(scenario: Scenario, make_call: Callable[[int], Awaitable[None]]) -> None:
    """Run ``scenario.requests`` calls with at most ``scenario.concurrency`` in flight, each starting at its
    arrival time (Poisson arrivals, seeded, as vLLM's serving benchmark draws them)."""
    gate = asyncio.Semaphore(scenario.concurrency)
    gaps = random.Random(0)
    arrivals = list(
        itertools.accumulate(
            0.0 if math.isinf(scenario.arrivals_per_s) else gaps.expovariate(scenario.arrivals_per_s)
            for _ in range(scenario.requests)
        )
    )

    async def one(i: int) -> None:
        await asyncio.sleep(arrivals[i])
        async with gate:
            await make_call(i)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(scenario.requests)))
    scenario.wall_s = time.perf_counter() - started


async def drive(base_url: str, key: str, args: argparse.Namespace) -> list[Scenario]:
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=max(args.chats, args.concurrency) + 4)
    timeout = httpx.Timeout(args.timeout)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=timeout
    ) as client:
        warm = await client.post("/v1/chat", json={"message": QUESTIONS[0]})  # builds and warms the assistant
        warm.raise_for_status()
        calls: dict[str, Callable[[httpx.AsyncClient, Scenario, int], Awaitable[None]]] = {
            "classify": lambda c, s, i: _post(c, s, "/v1/intents/classify", {"texts": [_q(i)]}),
            "search": lambda c, s, i: _post(c, s, "/v1/search", {"query": _q(i)}),
            "chat (stream)": lambda c, s, i: _stream_chat(c, s, _q(i)),
        }
        # Each path once alone (the latency of one request on an idle server), then under load.
        plan = [
            Scenario("classify", 1, args.serial_requests),
            Scenario("search", 1, args.serial_requests),
            Scenario("chat (stream)", 1, args.serial_chats),
            Scenario("classify", args.concurrency, args.requests),
            Scenario("search", args.concurrency, args.requests),
            Scenario("chat (stream)", args.chats, args.chats, args.chat_rate),
        ]
        for scenario in plan:
            call = calls[scenario.name]
            await _run(scenario, lambda i, call=call, scenario=scenario: call(client, scenario, i))
    return plan


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    app, host = "api.main:app_from_env", "127.0.0.1"
    command = [sys.executable, "-m", "uvicorn", "--factory", app, "--host", host, "--port", str(port)]
    command += ["--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the API did not answer /healthz within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--chats", type=int, default=50, help="Concurrent streamed chat turns (the issue's 50)."
    )
    parser.add_argument("--chat-tokens", type=int, default=64, help="max_new_tokens of the demo generator.")
    parser.add_argument(
        "--chat-rate",
        type=float,
        default=math.inf,
        help="Chats arriving per second (Poisson) in the concurrent chat scenario; default: all at once.",
    )
    parser.add_argument(
        "--max-batch-size", type=int, default=None, help="generation.max_batch_size; default: the demo's."
    )
    parser.add_argument("--requests", type=int, default=400, help="Requests per classify/search scenario.")
    parser.add_argument("--concurrency", type=int, default=32, help="In flight at once for classify/search.")
    parser.add_argument(
        "--serial-requests", type=int, default=50, help="classify/search requests, one at a time."
    )
    parser.add_argument("--serial-chats", type=int, default=5, help="Streamed chat turns, one at a time.")
    parser.add_argument("--timeout", type=float, default=900.0, help="Per-request timeout, seconds.")
    parser.add_argument(
        "--data-dir", type=Path, default=ROOT / ".naa", help="NAA data dir (demo built there)."
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "api.json")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    demo = load_partner_config(DEMO)
    build_partner(demo, Workspace(args.data_dir), missing_only=True)
    # The demo file, with the reply budget of this run: a copy in the data dir, registered by path.
    config_path = args.data_dir / "benchmark-partner.yaml"
    raw = demo.model_dump(mode="json")
    raw["generation"]["max_new_tokens"] = args.chat_tokens
    if args.max_batch_size is not None:
        raw["generation"]["max_batch_size"] = args.max_batch_size
    config_path.write_text(json.dumps(raw))
    database = args.data_dir / "api-benchmark.db"
    database.unlink(missing_ok=True)
    env = {**os.environ, "NAA_DATA_DIR": str(args.data_dir), "NAA_DATABASE_URL": f"sqlite:///{database}"}
    key = register_partner_file(
        NAASettings(data_dir=args.data_dir, database_url=env["NAA_DATABASE_URL"]), config_path, "benchmark"
    )
    assert key is not None  # the database was just deleted: the partner and its key are new

    load_before = os.getloadavg()
    port = _free_port()
    server = _start_server(env, port)
    try:
        scenarios = asyncio.run(drive(f"http://127.0.0.1:{port}", key, args))
    finally:
        server.terminate()
        server.wait(timeout=30)

    rows = [s.summary() for s in scenarios]
    columns = ["scenario", "concurrency", "arrivals_per_s", "requests", "errors", "requests_per_s", "p50_ms",
               "p99_ms", "ttft_p50_ms", "ttft_p99_ms"]  # fmt: skip
    print("  ".join(f"{c:>14}" for c in columns))
    for row in rows:
        print("  ".join(f"{row[c]!s:>14}" for c in columns))
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            # Other processes share these cores: the 1-minute load average before and after the run.
            "load_average_1m": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        },
        "server": "uvicorn, 1 process, api.main:app_from_env; SQLite database; demo partner",
        "generator": {
            "model": demo.generation.model,
            "max_new_tokens": args.chat_tokens,
            "max_batch_size": raw["generation"]["max_batch_size"],
        },
        "scenarios": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
