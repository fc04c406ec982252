"""`naa serve` as a process: a stop by SIGTERM (docker stop, systemd) also stops its job worker."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from served import free_port, healthy

START_TIMEOUT_S = 180


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_server_leaves_no_job_worker_behind(tmp_path: Path, stop: signal.Signals) -> None:
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("NAA_")}
    env["NAA_DATA_DIR"] = str(tmp_path)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "naa"), "serve", "--no-demo", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the server and its worker share a process group we can watch
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not healthy(f"http://127.0.0.1:{port}"):
            assert server.poll() is None, f"naa serve exited early with {server.returncode}"
            assert time.monotonic() < deadline, "naa serve did not answer /healthz"
            time.sleep(1)
        server.send_signal(stop)
        assert server.wait(timeout=90) == 0
        deadline = time.monotonic() + 60  # the worker's warm shutdown
        while _group_alive(server.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _group_alive(server.pid), "the job worker outlived naa serve"
    finally:
        if _group_alive(server.pid):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)


def test_a_port_in_use_is_said_before_anything_is_built_or_printed(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = {name: value for name, value in os.environ.items() if not name.startswith("NAA_")}
        result = subprocess.run(
            [str(Path(sys.executable).parent / "naa"), "serve", "--port", str(port)],
            env={**env, "NAA_DATA_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in " ".join(result.stderr.split())
    assert "NAA API" not in result.stdout and "API key" not in result.stdout
    assert not (tmp_path / "partners").exists()  # the demo was not built


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("NAA_ADMIN_KEY", "hunter2", "NAA_ADMIN_KEY: Value error, it has 7 characters; use a random one of"),
        ("NAA_MAX_MESSAGE_CHARS", "lots", "NAA_MAX_MESSAGE_CHARS: Input should be a valid integer"),
    ],
)
def test_a_refused_setting_is_one_line_naming_its_variable_before_anything_starts(
    tmp_path: Path, variable: str, value: str, said: str
) -> None:
    # A short admin key guards partner creation and key minting, which nothing rate-limits; a setting
    # refused was a pydantic traceback.
    env = {name: value for name, value in os.environ.items() if not name.startswith("NAA_")}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "naa"), "serve", "--port", str(free_port())],
        env={**env, "NAA_DATA_DIR": str(tmp_path), variable: value},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {said}") and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "partners").exists()
