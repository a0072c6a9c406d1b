"""The fault suite (issue 22): a run stopped at seeded random moments, with its stderr stalled, beside
other runs, and on a full disk; each case asserts the exit status, one clear line, no traceback and
an intact last checkpoint, and, where the run can go on, that --resume ends where an uninterrupted
run ends, bit for bit.

The rest of the suite lives beside it: tests/test_cli_signals_streams.py (each signal at a known point,
broken and closed streams), tests/test_run_lock.py (one writer per folder), tests/test_checkpoint_schema.py
(every checkpoint field tampered with, one at a time), tests/test_hostile_files.py (mt.load, mt.save and
read_checkpoint on hostile files), tests/test_damaged_install.py and tests/test_metrics_data_follow.py.
tools/fault_scenarios.py runs the issue's scenarios end to end and counts the outcomes.
"""
import contextlib
import fcntl
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from minitorch_cnn import train
from minitorch_cnn.checkpoint import read_checkpoint

from test_cli_signals_streams import TIMEOUT_S, TINY, PausingRun, _env, assert_no_traceback, run_cli, temporaries

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals, pipes and mounts")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Where a run of TINY + --epochs 2 can be paused (tests/test_cli_signals_streams.py's _PAUSING): the four
# training batches and the two evaluations (a signal inside a checkpoint write is that file's own test).
MOMENTS = ["train:1", "train:2", "train:3", "train:4", "eval:1", "eval:2"]


def final_state(folder):
    model, optimizer, meta = read_checkpoint(str(folder / "checkpoint.npz"))
    return model, optimizer, meta


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The run every interrupted-and-resumed run must end as."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    status, out, err = run_cli(TINY + ["--epochs", "2", "--out", "run"], folder, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert status == 0, out + err
    return final_state(folder / "run")


@pytest.mark.parametrize("seed", range(5))
def test_a_signal_at_a_seeded_random_moment_saves_and_resumes_bit_exactly(tmp_path, seed, uninterrupted):
    chooser = random.Random(seed)
    signum, moment = chooser.choice(STOP_SIGNALS), chooser.choice(MOMENTS)
    run = PausingRun(TINY + ["--epochs", "2", "--out", "run"], moment, tmp_path)
    run.wait_for_pause()
    run.proc.send_signal(signum)
    run.go_on()
    status, out, err = run.finish()
    assert status == 128 + signum, f"{signum.name} at {moment}: {out + err}"
    assert_no_traceback(err)
    assert len([line for line in err.splitlines() if line.startswith("interrupted by ")]) == 1, err
    assert temporaries(tmp_path / "run") == []
    read_checkpoint(str(tmp_path / "run" / "checkpoint.npz"))          # intact
    # resumed in a subprocess like the other two runs: the same BLAS threads (_env), so the same bits
    status, out, err = run_cli(["--resume", "run/checkpoint.npz"], tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert status == 0, out + err
    model, optimizer, meta = final_state(tmp_path / "run")
    ref_model, ref_optimizer, ref_meta = uninterrupted
    assert model.keys() == ref_model.keys()
    for name in model:
        assert np.array_equal(model[name], ref_model[name]), f"{signum.name} at {moment}: {name} differs"
    for index in ref_optimizer:
        for name, value in ref_optimizer[index].items():
            assert np.array_equal(optimizer[index][name], value), f"{signum.name} at {moment}: optimizer {name}"
    strip = [{k: v for k, v in r.items() if k not in ("seconds", "images_per_s")} for r in meta["history"]]
    assert strip == [{k: v for k, v in r.items() if k not in ("seconds", "images_per_s")}
                     for r in ref_meta["history"]]


def _blocked_writing_a_pipe(pid):
    """Whether process `pid` sleeps inside a pipe write (its kernel wait channel)."""
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return "pipe" in f.read()
    except OSError:
        return False


@pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/wchan"), reason="needs /proc/<pid>/wchan")
def test_ctrl_c_while_the_run_is_blocked_writing_a_progress_line_saves(tmp_path):
    """The reader stalls: stderr is a pipe the test filled to the brim before the run started, so the
    run's first progress line blocks inside write(2); Ctrl-C lands there.  The handler writes nothing,
    so no 'reentrant call' error: the write finishes once the test reads, and the loop saves the partial
    epoch and exits 130."""
    read_end, write_end = os.pipe()
    size = fcntl.fcntl(write_end, 1032)         # F_GETPIPE_SZ
    os.set_blocking(write_end, False)
    filler = 0
    with contextlib.suppress(BlockingIOError):
        while filler < size:
            filler += os.write(write_end, b"." * 4096)
    os.set_blocking(write_end, True)
    proc = subprocess.Popen([sys.executable, "-m", "minitorch_cnn.train", *TINY, "--limit-train", "640",
                             "--epochs", "1", "--out", "run"], cwd=str(tmp_path), env=_env(),
                            stdout=subprocess.PIPE, stderr=write_end)
    os.close(write_end)
    try:
        deadline = time.time() + TIMEOUT_S
        while not _blocked_writing_a_pipe(proc.pid) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None and _blocked_writing_a_pipe(proc.pid), "the run never blocked on stderr"
        proc.send_signal(signal.SIGINT)
        chunks = []
        while True:
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        out = proc.stdout.read().decode()
        status = proc.wait(timeout=TIMEOUT_S)
    finally:
        os.close(read_end)
        if proc.poll() is None:
            proc.kill()
    err = b"".join(chunks).decode(errors="replace").lstrip(".")
    assert status == 130, out + err
    assert_no_traceback(err)
    assert "reentrant" not in err
    assert err.startswith("epoch 1/1 3/10 batches"), err       # the line the run was blocked writing
    meta = read_checkpoint(str(tmp_path / "run" / "checkpoint.npz"))[2]
    assert meta["epoch"] == 0 and meta["partial"]["batches"] >= 3


def test_three_runs_started_together_take_three_folders_and_all_finish(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-m", "minitorch_cnn.train", *TINY, "--epochs", "1",
                               "--seed", str(seed)], cwd=str(tmp_path), env=_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for seed in (1, 2, 3)]
    results = [(p.wait(timeout=TIMEOUT_S * 2), p.stdout.read().decode(), p.stderr.read().decode()) for p in procs]
    folders = set()
    for seed, (status, out, err) in zip((1, 2, 3), results):
        assert status == 0, out + err
        assert_no_traceback(err)
        folder = next(line.split("output: ", 1)[1].strip() for line in out.splitlines() if "output: " in line)
        folders.add(folder)
        assert read_checkpoint(str(tmp_path / folder / "checkpoint.npz"))[2]["args"]["seed"] == seed
    assert folders == {"runs/lenet5", "runs/lenet5-2", "runs/lenet5-3"}


# ---- full disks ----------------------------------------------------------------------------------

@contextlib.contextmanager
def small_disk(path, size_kb):
    """A tmpfs of size_kb mounted at `path` (root only: the test skips, saying so, elsewhere)."""
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}): needs root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_a_disk_too_small_for_the_first_checkpoint_is_one_line(tmp_path):
    with small_disk(tmp_path / "disk", 64) as disk:
        status, out, err = run_cli(TINY + ["--epochs", "1", "--out", str(disk / "run")], tmp_path,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert status == 2, out + err
        assert_no_traceback(err)
        lines = err.strip().splitlines()
        assert lines[-1].startswith("error: could not write ") and "No space left on device" in lines[-1], err
        assert sum(line.startswith("error:") for line in lines) == 1
        assert not (disk / "run").exists() or temporaries(disk / "run") == []
        assert not (disk / "run" / "checkpoint.npz").exists()


# The CLI, filling the disk to its last byte right after each checkpoint is written.
_FILL_AFTER_CHECKPOINT = r"""
import sys
from minitorch_cnn.train import checkpointing
FILLER = sys.argv[1]
original = checkpointing.save_checkpoint
def save_checkpoint(*a, **k):
    result = original(*a, **k)
    with open(FILLER, "ab", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
        except OSError:
            pass
    return result
checkpointing.save_checkpoint = save_checkpoint
from minitorch_cnn import train
sys.exit(train.main(sys.argv[2:]))
"""


def test_a_disk_that_fills_after_the_checkpoint_says_the_checkpoint_is_safe_and_resume_heals(tmp_path):
    with small_disk(tmp_path / "disk", 8192) as disk:
        done = subprocess.run([sys.executable, "-c", _FILL_AFTER_CHECKPOINT, str(disk / "filler"), *TINY,
                               "--epochs", "2", "--out", str(disk / "run")], cwd=str(tmp_path), env=_env(),
                              capture_output=True, text=True, timeout=TIMEOUT_S)
        assert done.returncode == 2, done.stdout + done.stderr
        assert_no_traceback(done.stderr)
        lines = done.stderr.strip().splitlines()
        assert sum(line.startswith("error:") for line in lines) == 1 and lines[-1].startswith("error:"), lines
        assert "metrics.json" in lines[-1] and "checkpoint" in lines[-1] and "safe" in lines[-1], lines[-1]
        checkpoint = disk / "run" / "checkpoint.npz"
        assert read_checkpoint(str(checkpoint))[2]["epoch"] == 1
        (disk / "filler").unlink()
        assert train.main(["--resume", str(checkpoint)]) == 0
        import json
        history = read_checkpoint(str(checkpoint))[2]["history"]
        assert json.loads((disk / "run" / "metrics.json").read_text()) == history
        assert [r["epoch"] for r in history] == [1, 2]
