"""A benchmark killed with SIGKILL leaves no worker behind, and the next invocation finishes the job with the
same table as an uninterrupted run, without redoing the runs that had finished."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agents.benchmark.store import results_dir
from agents.cli import main
from tests.agents.test_benchmark import TINY_SUITE, write_suite

ROOT = Path(__file__).resolve().parents[2]

# The tiny suite with six runs (four learned, two analytic) of a few seconds each: two workers cannot finish
# them all at once.
KILL_SUITE = (
    TINY_SUITE.replace("seeds: [0, 1]", "seeds: [0, 1, 2, 3]")
    .replace("n_timesteps: 64", "n_timesteps: 128")
    .replace("seeds: [11, 12, 13]", "seeds: [11, 12]")
)
RUNS = 8  # four learned seeds, two analytic policies, two optimum lines
DEADLINE_S = 300  # generous bounds for a loaded machine; nothing here asserts a duration
WORKERS_GONE_S = 10


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` now (from ``/proc/<pid>/task/*/children``)."""
    found: set[int] = set()
    stack = [pid]
    while stack:
        for task in Path(f"/proc/{stack.pop()}/task").glob("*"):
            try:
                children = {int(c) for c in (task / "children").read_text().split()}
            except OSError:  # the task or process ended meanwhile
                continue
            stack += children - found
            found |= children
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for an absent reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def finished(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in results_dir(out).glob("*.json")}


def benchmark(suite: Path, out: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "agents.cli", "benchmark", "--suite", str(suite), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TQDM_DISABLE": "1"}
    return subprocess.Popen(
        [*command, "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, with the benchmark as leader
    )


def test_a_killed_benchmark_leaves_no_worker_and_resumes_to_the_same_table(tmp_path: Path) -> None:
    suite, out = write_suite(tmp_path, KILL_SUITE), tmp_path / "killed"
    proc = benchmark(suite, out)
    workers: set[int] = set()
    deadline = time.monotonic() + DEADLINE_S
    while not finished(out) and proc.poll() is None and time.monotonic() < deadline:
        workers |= descendants(proc.pid)  # the pool starts its workers when runs are submitted
        time.sleep(0.02)
    workers |= descendants(proc.pid)
    done_at_kill = finished(out)
    assert proc.poll() is None, "the benchmark ended before it could be killed"
    assert 0 < len(done_at_kill) < RUNS
    assert len(workers) >= 2  # two pool workers (and multiprocessing's resource tracker)

    os.kill(proc.pid, signal.SIGKILL)  # the leader only: the workers get no signal
    proc.wait()
    gone_by = time.monotonic() + WORKERS_GONE_S
    while any(alive(pid) for pid in workers) and time.monotonic() < gone_by:
        time.sleep(0.1)
    assert not [pid for pid in workers if alive(pid)], "workers outlived the killed benchmark"

    rerun = benchmark(suite, out)
    log = rerun.communicate(timeout=DEADLINE_S)[0].decode()
    assert rerun.returncode == 0, log
    done = finished(out)
    assert len(done) == RUNS
    assert f"{len(done_at_kill)} finished earlier, {RUNS - len(done_at_kill)} to run" in log
    assert {name: done[name] for name in done_at_kill} == done_at_kill  # finished runs were not redone

    reference = tmp_path / "uninterrupted"
    assert main(["benchmark", "--suite", str(suite), "--out", str(reference), "--workers", "1"]) == 0
    assert (out / "results.csv").read_bytes() == (reference / "results.csv").read_bytes()
    assert (out / "episodes.csv").read_bytes() == (reference / "episodes.csv").read_bytes()


def test_a_pool_worker_exits_when_its_parent_changes_and_not_before() -> None:
    def worker(parent: str) -> int:
        code = f"import os, time\nfrom agents.benchmark.jobs import init_pool_worker\ninit_pool_worker({parent})\n"
        code += "time.sleep(3)\nraise SystemExit(7)"  # reached only if the watch did not end the process
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, timeout=DEADLINE_S).returncode

    assert worker("os.getppid()") == 7  # its parent is alive: it runs to the end
    assert worker("os.getppid() + 1_000_000") == 1  # not its parent (as after a re-parenting): it exits at once
