"""The training CLI stopped by a signal, or writing to a stream nobody reads: it saves, exits with a
status that says what happened, prints one clear line and never a traceback.

Most runs are subprocesses (`python -c _PAUSING args`: the CLI with a pause at a chosen point).  At
the pause the run tells the test through a pipe and waits for a byte on another, so every signal
lands at a known point: the test sends it while the run is blocked there, then lets the run go on
(or, for an abort, leaves it blocked: the signal must end it).  Nothing races a timer.
"""
import io
import os
import re
import select
import signal
import subprocess
import sys

import pytest

from minitorch_cnn import train
from minitorch_cnn.checkpoint import read_checkpoint
from minitorch_cnn.serialization import atomic_write

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and streams")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# 128 samples, batches of 64: 2 batches per epoch
TINY = ["--model", "lenet5", "--dataset", "bundled-digits", "--limit-train", "128", "--limit-test", "50",
        "--batch-size", "64", "--seed", "1"]
TIMEOUT_S = 60

# The CLI, pausing where TEST_PAUSE_AT says: "train:N" after the N-th training batch's progress update,
# "eval:N" after the N-th evaluation batch's, "save:N" inside the N-th checkpoint write (after a first
# torn part of the file), "start:1" before the data is read.  A pause writes one byte to the
# TEST_READY_FD pipe and reads one from TEST_GO_FD.
_PAUSING = r"""
import os, sys
import numpy as np
from minitorch_cnn import train
from minitorch_cnn.train import runner

READY, GO = int(os.environ["TEST_READY_FD"]), int(os.environ["TEST_GO_FD"])
PAUSE_AT = set(os.environ["TEST_PAUSE_AT"].split(","))
counts = {}

def due(kind):
    counts[kind] = counts.get(kind, 0) + 1
    return f"{kind}:{counts[kind]}" in PAUSE_AT

def pause():
    os.write(READY, b"p")
    os.read(GO, 1)

original_update = train.Progress.update
def update(self, done, loss=None):
    original_update(self, done, loss)
    if due("eval" if loss is None else "train"):
        pause()
train.Progress.update = update

original_savez = np.savez
def savez(file, *args, **kwds):
    if due("save"):
        file.write(b"PK torn")
        file.flush()
        pause()
    return original_savez(file, *args, **kwds)
np.savez = savez

original_prepare = runner.prepare_data
def prepare_data(args):
    if due("start"):
        pause()
    return original_prepare(args)
runner.prepare_data = prepare_data

sys.exit(train.main(sys.argv[1:]))
"""


def _env():
    return dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))


class PausingRun:
    """A subprocess run of the CLI that pauses at `pause_at` (see _PAUSING)."""

    def __init__(self, args, pause_at, cwd, **popen):
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()
        env = dict(_env(), TEST_READY_FD=str(ready_w), TEST_GO_FD=str(go_r), TEST_PAUSE_AT=pause_at)
        popen.setdefault("stdout", subprocess.PIPE)
        popen.setdefault("stderr", subprocess.PIPE)
        self.proc = subprocess.Popen([sys.executable, "-c", _PAUSING, *args], cwd=str(cwd), env=env,
                                     pass_fds=(ready_w, go_r), **popen)
        os.close(ready_w)
        os.close(go_r)
        self.ready, self.go = ready_r, go_w

    def wait_for_pause(self):
        readable, _, _ = select.select([self.ready], [], [], TIMEOUT_S)
        assert readable and os.read(self.ready, 1) == b"p", "the run ended (or hung) before its pause:\n" + \
            self.finish()[2]

    def go_on(self):
        os.write(self.go, b"g")

    def finish(self):
        """-> (exit status, stdout, stderr) as text ('' for a stream the test does not read)."""
        try:
            out = self.proc.stdout.read() if self.proc.stdout and not self.proc.stdout.closed else b""
            err = self.proc.stderr.read() if self.proc.stderr and not self.proc.stderr.closed else b""
            status = self.proc.wait(timeout=TIMEOUT_S)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            for fd in (self.ready, self.go):
                try:
                    os.close(fd)
                except OSError:
                    pass
        return status, out.decode(), err.decode()


def run_cli(args, cwd, **popen):
    done = subprocess.run([sys.executable, "-m", "minitorch_cnn.train", *args], cwd=str(cwd), env=_env(),
                          timeout=TIMEOUT_S, **popen)
    return done.returncode, (done.stdout or b"").decode(), (done.stderr or b"").decode()


def assert_no_traceback(text):
    assert "Traceback" not in text and "Exception ignored" not in text, text


def meta_of(path):
    return read_checkpoint(str(path))[2]       # loads the whole file: weights, optimizer state, meta


def temporaries(folder):
    return [name for name in os.listdir(folder) if name.startswith(".tmp-")]


# ---- signals --------------------------------------------------------------------------------------
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_stop_signal_saves_the_partial_epoch_and_exits_128_plus_its_number(tmp_path, signum):
    run = PausingRun(TINY + ["--epochs", "2", "--out", "run"], "train:1", tmp_path)
    run.wait_for_pause()                # batch 1 of epoch 1 is being trained
    run.proc.send_signal(signum)
    run.go_on()
    status, out, err = run.finish()
    assert status == 128 + signum, out + err
    assert_no_traceback(err)
    said = [line for line in err.splitlines() if signum.name in line]
    assert len(said) == 1 and said[0].startswith("interrupted by ") and "saving a checkpoint" in said[0], err
    checkpoint = tmp_path / "run" / "checkpoint.npz"
    assert "saved run/checkpoint.npz (1/2 batches into epoch 1); continue with --resume run/checkpoint.npz" \
        in out
    meta = meta_of(checkpoint)
    assert meta["epoch"] == 0 and meta["partial"]["batches"] == 1
    assert temporaries(tmp_path / "run") == []
    if signum == signal.SIGTERM:        # the saved run continues to its end
        assert train.main(["--resume", str(checkpoint)]) == 0
        assert meta_of(checkpoint)["epoch"] == 2


def test_a_second_signal_during_the_save_aborts_and_leaves_the_last_checkpoint(tmp_path):
    # epoch 1 is saved (write 1); SIGTERM during epoch 2's first batch; the second SIGTERM arrives while
    # the partial checkpoint is half written (write 2)
    run = PausingRun(TINY + ["--epochs", "2", "--out", "run"], "train:3,save:2", tmp_path)
    run.wait_for_pause()
    before = (tmp_path / "run" / "checkpoint.npz").read_bytes()
    run.proc.send_signal(signal.SIGTERM)
    run.go_on()
    run.wait_for_pause()                # inside the second checkpoint write, its temporary file torn
    assert len(temporaries(tmp_path / "run")) == 1
    run.proc.send_signal(signal.SIGTERM)   # not let go on: the signal itself must end the run
    status, out, err = run.finish()
    assert status == 128 + signal.SIGTERM, out + err
    assert_no_traceback(err)
    assert err.count("interrupted by SIGTERM") == 1
    aborted = [line for line in err.splitlines() if "aborted" in line]
    assert aborted == ["aborted by a second SIGTERM: nothing was saved, the last checkpoint (if any) is left "
                       "as it was"], err
    assert (tmp_path / "run" / "checkpoint.npz").read_bytes() == before
    meta = meta_of(tmp_path / "run" / "checkpoint.npz")
    assert meta["epoch"] == 1 and not meta.get("partial")
    assert temporaries(tmp_path / "run") == []


def test_a_signal_during_the_evaluation_stops_after_that_epoch_is_saved(tmp_path):
    run = PausingRun(TINY + ["--epochs", "2", "--out", "run"], "eval:1", tmp_path)
    run.wait_for_pause()                # evaluating epoch 1
    run.proc.send_signal(signal.SIGHUP)
    run.go_on()
    status, out, err = run.finish()
    assert status == 128 + signal.SIGHUP, out + err
    assert_no_traceback(err)
    assert [line for line in err.splitlines() if "SIGHUP" in line] == \
        ["interrupted by SIGHUP (the terminal closed): epoch 1 is saved, stopping here"]
    assert "saved run/checkpoint.npz (1 of 2 epochs done); continue with --resume run/checkpoint.npz" in out
    assert "epoch 2/2" not in out + err
    meta = meta_of(tmp_path / "run" / "checkpoint.npz")
    assert meta["epoch"] == 1 and not meta.get("partial")


def test_a_signal_before_training_stops_at_once_saving_nothing(tmp_path):
    run = PausingRun(TINY + ["--epochs", "1", "--out", "run"], "start:1", tmp_path)
    run.wait_for_pause()
    run.proc.send_signal(signal.SIGTERM)   # not let go on
    status, out, err = run.finish()
    assert status == 128 + signal.SIGTERM, out + err
    assert_no_traceback(err)
    assert err.strip() == "stopped by SIGTERM before training began; nothing was saved"
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


class _ReentrancyCatcher(io.StringIO):
    """A stderr that fails, as Python's BufferedWriter does, when a write starts inside another one;
    its first progress line sends the process SIGINT from inside the write (raise_signal runs the
    handler before it returns)."""

    def __init__(self):
        super().__init__()
        self.inside = self.fired = False

    def write(self, text):
        if self.inside:
            raise RuntimeError("reentrant call inside the stderr stream")
        self.inside = True
        try:
            if not self.fired and "batches" in text:
                self.fired = True
                signal.raise_signal(signal.SIGINT)
            return super().write(text)
        finally:
            self.inside = False

    def isatty(self):
        return False


def test_a_signal_that_lands_while_stderr_is_written_still_saves(tmp_path, monkeypatch):
    """The handler writes nothing (it once printed, and crashed with 'reentrant call inside
    BufferedWriter' when the signal came during a progress line)."""
    stderr = _ReentrancyCatcher()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert train.main(TINY + ["--epochs", "1", "--out", str(tmp_path / "run")]) == 130
    assert stderr.fired and "interrupted by Ctrl-C (SIGINT)" in stderr.getvalue()
    assert meta_of(tmp_path / "run" / "checkpoint.npz")["partial"]["batches"] == 1


# ---- streams nobody reads -------------------------------------------------------------------------
def test_a_reader_that_closes_stdout_does_not_stop_the_run(tmp_path):
    """`train | head -n 1`: the run trains on, saves, and exits 141 (as a writer to a closed pipe does)."""
    run = PausingRun(TINY + ["--epochs", "1", "--out", "run"], "train:1", tmp_path)
    first = run.proc.stdout.readline()
    assert first.startswith(b"data: ")        # each line is written as it is printed (line-buffered)
    run.wait_for_pause()
    run.proc.stdout.close()                 # the reader goes away; the epoch's line has not been printed yet
    run.go_on()
    status, _, err = run.finish()
    assert status == 141, err
    assert_no_traceback(err)
    assert [line for line in err.splitlines() if "stdout" in line] == \
        ["warning: cannot write to stdout (Broken pipe): training goes on and saves its checkpoints, but "
         "prints nothing more there"]
    assert meta_of(tmp_path / "run" / "checkpoint.npz")["epoch"] == 1
    assert os.path.exists(tmp_path / "run" / "metrics.json")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_stdout_on_a_full_device_does_not_stop_the_run(tmp_path):
    with open("/dev/full", "wb") as full:
        status, _, err = run_cli(TINY + ["--epochs", "1", "--out", "run"], tmp_path, stdout=full,
                                 stderr=subprocess.PIPE)
    assert status == 3, err
    assert_no_traceback(err)
    assert "warning: cannot write to stdout (No space left on device)" in err
    assert meta_of(tmp_path / "run" / "checkpoint.npz")["epoch"] == 1


def test_a_closed_stderr_does_not_stop_the_run(tmp_path):
    """`train 2>&-`: the progress has nowhere to go; the run trains, saves, prints its results, exits 3."""
    status, out, _ = run_cli(TINY + ["--epochs", "1", "--out", "run"], tmp_path, stdout=subprocess.PIPE,
                             preexec_fn=lambda: os.close(2))
    assert status == 3, out
    assert "final test accuracy" in out and "Traceback" not in out
    assert meta_of(tmp_path / "run" / "checkpoint.npz")["epoch"] == 1


def test_output_that_all_arrives_exits_0(tmp_path):
    status, out, err = run_cli(TINY + ["--epochs", "1", "--out", "run"], tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert status == 0 and "final test accuracy" in out and "warning" not in err, out + err


# ---- temporary files of killed writers ------------------------------------------------------------
def test_a_temporary_file_carries_its_writers_pid(tmp_path):
    seen = []
    atomic_write(tmp_path / "x.npz", lambda f: seen.extend(temporaries(tmp_path)))
    assert len(seen) == 1 and re.fullmatch(rf"\.tmp-{os.getpid()}-[a-z0-9_]+\.npz", seen[0]), seen
    assert temporaries(tmp_path) == []


def test_a_run_removes_the_temporary_files_of_dead_writers_only(tmp_path, capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()                                     # its PID names no process now
    alive = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    folder = tmp_path / "run"
    folder.mkdir()
    names = {"dead": f".tmp-{dead.pid}-k2j4x8ab.npz", "alive": f".tmp-{alive.pid}-q9w8e7rt.npz",
             "mine": f".tmp-{os.getpid()}-z1x2c3vb.json", "old": ".tmp-abcd1234.npz", "other": ".tmp-notes.txt"}
    for name in names.values():
        (folder / name).write_bytes(b"PK torn")
    try:
        assert train.main(TINY + ["--epochs", "1", "--out", str(folder)]) == 0
    finally:
        alive.communicate(b"", timeout=TIMEOUT_S)
    left = set(temporaries(folder))
    assert left == set(names.values()) - {names["dead"]}
    note = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: removed")]
    assert note == [f"note: removed 1 temporary file left in {folder} by a writer that was killed: {names['dead']}"]
