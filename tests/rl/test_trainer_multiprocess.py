"""`naa rl train` in 2 CPU processes through the real `accelerate launch` (torchrun, gloo), then resumed.

The run uses the shipped DDP file, a real reward plugin from an entry point (as a partner package ships it)
and a seed whose data order leaves one process without a kept group at each step: rank 1 at step 1,
rank 0 at step 2, the case where a process must still join the others' gradient all-reduce.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from plugin_dists import install_dist

import naa.rl
from naa.rl.run_state import DataOrder
from naa.rl.tasks import RefusalTask, load_tasks

DDP_CONFIG = Path(naa.rl.__file__).parent / "accelerate_configs" / "multi_gpu.yaml"
PROCESSES = 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _plugin_site(root: Path) -> Path:
    """A folder that makes tests/rl/reward_plugin.py an installed ``naa.plugins`` entry point."""
    site = root / "site"
    install_dist(site, "naa_launch_test_rewards", {"tests": "naa_launch_test_rewards:plugin"})
    shutil.copy(Path(__file__).with_name("reward_plugin.py"), site / "naa_launch_test_rewards.py")
    return site


def _seed_with_one_idle_process_per_step(refuse: list[bool]) -> int:
    # Positions 0-3 are (step 1: rank 0, rank 1), (step 2: rank 0, rank 1); only refusals are rewarded.
    for seed in range(100):
        if [refuse[i] for i in DataOrder(len(refuse), seed).draw(4)] == [True, False, False, True]:
            return seed
    raise AssertionError("no seed in 0..99 gives that order")


def _launch(run_file: Path, site: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("accelerate")),
        "launch",
        "--config_file",
        str(DDP_CONFIG),
        "--num_processes",
        str(PROCESSES),
        "--mixed_precision",
        "no",  # bfloat16 autocast on CPU is slow and the check is about processes, not precision
        "--main_process_port",
        str(_free_port()),
        "-m",
        "naa.cli",
        "rl",
        "train",
        "--config",
        str(run_file),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "NAA_DATA_DIR": str(tmp / "data"),
        "CUDA_VISIBLE_DEVICES": "",  # CPU processes and gloo, also on a machine with GPUs
        "OMP_NUM_THREADS": "1",
    }
    # Its own session, so a hang kills torchrun's workers too, not only the launcher.
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            raise AssertionError(f"accelerate launch did not finish in 240 s:\n{out[-4000:]}") from None
    return subprocess.CompletedProcess(command, proc.returncode, out)


def _checksum(trainable: dict[str, torch.Tensor]) -> list[float]:
    weights = [w.double() for w in trainable.values()]
    return [sum(w.sum().item() for w in weights), sum(w.square().sum().item() for w in weights)]


def test_two_processes_train_log_once_checkpoint_once_and_resume(
    tmp_path: Path, tiny_lm_dir: Path, short_tasks_file: Path
) -> None:
    tasks = load_tasks(short_tasks_file, split="train")
    seed = _seed_with_one_idle_process_per_step([isinstance(t, RefusalTask) and t.answer for t in tasks])
    run_file = tmp_path / "rl.yaml"
    fields = (
        f"model: {tiny_lm_dir}\ntasks: {short_tasks_file}\noutput_dir: run\nvariant: filtered\n"
        "reward: vowel_share_on_refusals\ngroup_size: 3\nbatch_prompts: 1\nmax_draw_rounds: 1\n"
        "max_new_tokens: 8\nmicro_batch_size: 4\nlora_rank: 4\nlr: 0.001\ncheckpoint_every: 1\n"
        f"seed: {seed}\n"
    )
    run_file.write_text(fields + "steps: 2\n")
    site, run = _plugin_site(tmp_path), tmp_path / "run"

    result = _launch(run_file, site, tmp_path)
    assert result.returncode == 0, result.stdout[-4000:]
    assert result.stdout.count("trained 2 steps") == 1  # only the main process reports
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2]
    for record in records:
        # summed over both processes: each drew 1 prompt, one kept its group, the other's was dropped
        assert record["prompts_drawn"] == 2 and record["groups"] == 1
        assert record["filtered_fraction"] == 0.5 and isinstance(record["loss"], float)
    assert records[1]["kl"] > 0  # the policy moved at step 1, in both processes (see the checksums)
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step-000001", "step-000002"]
    assert (run / "final" / "model.safetensors").is_file()
    assert json.loads((run / "model_version.json").read_text())["steps"] == 2
    last = run / "checkpoints" / "step-000002"
    state = json.loads((last / "state.json").read_text())
    # every process's weights, summed, equal the weights the main process saved
    saved = _checksum(torch.load(last / "trainable.pt", weights_only=True))
    assert len(state["replica_checksums"]) == PROCESSES
    for checksum in state["replica_checksums"]:
        assert checksum == state["replica_checksums"][0] == pytest.approx(saved, rel=1e-12)

    # Resume to step 3: each process continues its own data order from the checkpoint.
    run_file.write_text(fields + "steps: 3\n")
    result = _launch(run_file, site, tmp_path)
    assert result.returncode == 0, result.stdout[-4000:]
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [
        1,
        2,
        3,
    ]
    orders = [DataOrder(len(tasks), seed, rank, PROCESSES) for rank in range(PROCESSES)]
    for order in orders:
        order.draw(3)
    state = json.loads((run / "checkpoints" / "step-000003" / "state.json").read_text())
    assert state["data_order"] == [order.state_dict() for order in orders]
