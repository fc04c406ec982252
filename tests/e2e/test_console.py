"""The web console end to end: `naa serve` as a user starts it (demo partner built in a fresh data dir),
driven in Debian's chromium by frontend/e2e/console.e2e.mjs (assistant chat, agent assist, then a
handoff).

`make test` builds frontend/dist and installs chromium first; run alone, the test says so when either is
missing. Building the demo partner trains its intent model: a few minutes on 2 cores.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from served import free_port, healthy

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "frontend" / "e2e" / "console.e2e.mjs"
CHROMIUM = Path(os.environ.get("NAA_E2E_CHROMIUM", "/usr/bin/chromium"))
# Measured here: the demo build takes 2-5 minutes on 2 shared cores; 20 leaves room for a loaded machine.
START_TIMEOUT_S = 1200
# The script waits up to 180 s per step (CPU generation); chat, then 3 suggested replies.
SCRIPT_TIMEOUT_S = 900
KEY_LINE = re.compile(r"Demo API key \(shown once\): (\S+)")


@dataclass
class ServerOutput:
    """What `naa serve` printed, read line by line on a thread so a full pipe never blocks the server."""

    lines: list[str] = field(default_factory=list)
    key: str | None = None
    key_seen: threading.Event = field(default_factory=threading.Event)

    def read(self, stream: Iterator[str]) -> None:
        for line in stream:
            self.lines.append(line)
            if (found := KEY_LINE.search(line)) and self.key is None:
                self.key = found.group(1)
                self.key_seen.set()

    def tail(self, n: int = 60) -> str:
        return "".join(self.lines[-n:])


@dataclass(frozen=True)
class Served:
    url: str
    key: str
    output: ServerOutput


def _stop(server: subprocess.Popen[str]) -> None:
    """Ctrl-C as a user would (uvicorn exits, then serve stops its job worker); if stuck, kill the group."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def _require_built_console() -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"no chromium at {CHROMIUM}: run `make test`, which installs Debian's chromium "
            "(or point NAA_E2E_CHROMIUM at a chromium binary)"
        )
    for needed in ("frontend/dist/index.html", "frontend/node_modules/playwright-core"):
        if not (REPO / needed).exists():
            pytest.fail(f"{needed} is missing: run `make test`, which builds the console first")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`naa serve` on a free port with the embedded defaults (SQLite, SQLite broker) in a fresh data dir."""
    _require_built_console()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The developer's own NAA_ settings (a PostgreSQL URL, a partners folder) must not leak into the run.
    env = {name: value for name, value in os.environ.items() if not name.startswith("NAA_")}
    env |= {
        "NAA_DATA_DIR": str(tmp_path_factory.mktemp("naa-serve")),
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "200",  # rich would fold the key line at 80 columns on a pipe
    }
    naa = Path(sys.executable).parent / "naa"
    server = subprocess.Popen(
        [str(naa), "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the job worker goes with it if it must be killed
    )
    assert server.stdout is not None
    output = ServerOutput()
    reader = threading.Thread(target=output.read, args=(server.stdout,), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not healthy(url):
            if server.poll() is not None:
                pytest.fail(f"naa serve exited with {server.returncode} before serving:\n{output.tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"naa serve did not answer /healthz within {START_TIMEOUT_S} s:\n{output.tail()}")
            time.sleep(2)
        if not output.key_seen.wait(timeout=10) or output.key is None:
            pytest.fail(f"naa serve printed no demo API key:\n{output.tail()}")
        yield Served(url, output.key, output)
    finally:
        _stop(server)
        reader.join(timeout=10)


def test_console_answers_a_customer_and_stores_an_agent_assist_conversation(served: Served) -> None:
    started = time.monotonic()
    env = os.environ | {
        "NAA_E2E_URL": served.url,
        "NAA_E2E_KEY": served.key,
        "NAA_E2E_CHROMIUM": str(CHROMIUM),
    }
    run = subprocess.run(
        ["node", str(SCRIPT)],
        cwd=REPO / "frontend",
        env=env,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
    )
    took = time.monotonic() - started
    print(f"{run.stdout}{run.stderr}console.e2e.mjs took {took:.0f} s")  # shown by pytest -rP
    assert run.returncode == 0, (
        f"console.e2e.mjs exited {run.returncode} after {took:.0f} s\n"
        f"--- its output ---\n{run.stdout}{run.stderr}\n--- naa serve's output ---\n{served.output.tail()}"
    )
    assert "PASSED console e2e" in run.stdout, run.stdout
