"""Issue 22's scenarios: the training CLI, mt.load and mt.save tried as a user and as an adversary
would, each outcome classified.

    python tools/fault_scenarios.py [--repo PATH] [--only WORD] [--json OUT] [-v]

--repo is the checkout whose minitorch_cnn runs (default: this one), so the same scenarios run on an
older commit: `git archive <commit> | tar -x -C /tmp/before` then `--repo /tmp/before`.

Every scenario is a tiny run (128 bundled digits, 2 batches an epoch) or a small read or write in
a fresh folder, and ends in one of:

    ok          the exit status and the message the scenario expects; the last checkpoint intact
    traceback   a Python traceback on stderr
    unclear     no traceback, but a wrong exit status, or a message that does not name what is
                wrong (the field, the file, what the user passed), or misleads; leftovers
    unbounded   refused in the end, but only after memory grew past 200 MB on a small hostile file
    lost        the run's results are gone or silently wrong: a checkpoint that no longer loads,
                metrics.json behind the checkpoint, a run that overwrote another, tampered values
                trained with and exit 0, a signal that ended the run without saving

The disk scenarios mount a small tmpfs and need root; without it they are reported as skipped.
"""
import argparse
import contextlib
import copy
import hashlib
import io
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--model", "lenet5", "--dataset", "bundled-digits", "--limit-train", "128", "--limit-test", "50",
        "--batch-size", "64", "--seed", "1"]
TRACEBACK = "Traceback (most recent call last)"
RSS_LIMIT_MB = 200


class Outcome:
    def __init__(self, kind, detail=""):
        self.kind, self.detail = kind, detail


class Lab:
    """One scenario's folder and the checkout under test."""

    def __init__(self, repo, root):
        self.repo, self.root = repo, root
        self.env = dict(os.environ, PYTHONPATH=repo, PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
        self.env.pop("MINITORCH_CNN_FAST", None)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def cli(self, *args, timeout=120, **kw):
        """-> (exit status, stdout, stderr) of `python -m minitorch_cnn.train args`."""
        proc = subprocess.run([sys.executable, "-m", "minitorch_cnn.train", *args], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=timeout, **kw)
        return proc.returncode, proc.stdout, proc.stderr

    def python(self, code, timeout=120):
        proc = subprocess.run([sys.executable, "-c", code], cwd=self.root, env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        return proc.returncode, proc.stdout, proc.stderr

    def popen(self, args, **kw):
        return subprocess.Popen([sys.executable, "-m", "minitorch_cnn.train", *args], cwd=self.root, env=self.env,
                                **kw)


# ---- a finished run to break -------------------------------------------------------------------

_BASE = {}


def base_run(lab, epochs=1):
    """A finished tiny run's folder (trained once per harness run, copied into each scenario)."""
    key = (lab.repo, epochs)
    if key not in _BASE:
        folder = tempfile.mkdtemp(prefix="fault-base-")
        base = Lab(lab.repo, folder)
        status, _, err = base.cli(*TINY, "--epochs", str(epochs), "--out", "run")
        if status != 0:
            raise SystemExit(f"the base run failed ({status}):\n{err}")
        _BASE[key] = os.path.join(folder, "run")
    shutil.copytree(_BASE[key], lab.path("run"))
    return lab.path("run", "checkpoint.npz")


def members(path):
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def write_members(path, content):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in content.items():
            z.writestr(name, data)


def npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def read_meta(path):
    return json.loads(str(np.load(io.BytesIO(members(path)["meta.npy"]), allow_pickle=False)))


def rewrite_meta(path, change):
    content = members(path)
    meta = json.loads(str(np.load(io.BytesIO(content["meta.npy"]), allow_pickle=False)))
    change(meta)
    content["meta.npy"] = npy(np.array(json.dumps(meta)))
    write_members(path, content)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def loads(lab, checkpoint):
    """Whether the checkpoint still reads (with the checkout under test)."""
    status, _, _ = lab.python(f"from minitorch_cnn.checkpoint import read_checkpoint; read_checkpoint({checkpoint!r})")
    return status == 0


def one_error_line(err):
    lines = [line for line in err.splitlines() if line.strip()]
    return lines and lines[-1].startswith("error:") and sum(line.startswith("error:") for line in lines) == 1


def judge(status, err, expect_status, mention=(), forbid=(), lost=None):
    """The usual verdict: traceback first, then a lost run, then status and message."""
    if TRACEBACK in err:
        return Outcome("traceback", err.strip().splitlines()[-1][:160])
    if lost:
        return Outcome("lost", lost)
    statuses = expect_status if isinstance(expect_status, tuple) else (expect_status,)
    if status not in statuses:
        return Outcome("unclear", f"exit {status}, expected {statuses}: {err.strip()[-160:]}")
    if expect_status != 0 and not one_error_line(err):
        return Outcome("unclear", f"not one error line: {err.strip()[-160:]}")
    last = err.strip().splitlines()[-1] if err.strip() else ""
    for word in mention:
        if not re.search(word, last, re.I):
            return Outcome("unclear", f"message does not name {word!r}: {last[:200]}")
    for word in forbid:
        if re.search(word, err, re.I):
            return Outcome("unclear", f"message says {word!r}: {last[:200]}")
    return Outcome("ok")


# ---- scenarios -----------------------------------------------------------------------------------

SCENARIOS = []


def scenario(name, group):
    def register(fn):
        SCENARIOS.append((group, name, fn))
        return fn
    return register


def resume_refused(lab, checkpoint, mention, forbid=(), extra=()):
    """--resume of a damaged checkpoint: exit 2, one line naming the field, the file untouched."""
    before = digest(checkpoint) if os.path.isfile(checkpoint) else None
    status, _, err = lab.cli("--resume", checkpoint, "--epochs", "2", *extra)
    changed = before is not None and os.path.isfile(checkpoint) and digest(checkpoint) != before
    lost = None
    if status == 0:
        lost = "resumed and trained on the damaged checkpoint, exit 0"
    elif changed and not loads(lab, checkpoint):
        lost = "the checkpoint was overwritten by one that does not load"
    return judge(status, err, 2, mention=mention, forbid=forbid, lost=lost)


# Tampered meta fields, one at a time: (name, path into the meta, bad value, words the message names).
BAD_META = [
    ("args.lr string", ("args", "lr"), "0.001", ["lr"]),
    ("args.lr negative", ("args", "lr"), -1, ["lr"]),
    ("args.lr NaN", ("args", "lr"), float("nan"), ["lr"]),
    ("args.lr zero", ("args", "lr"), 0, ["lr"]),
    ("args.batch_size fractional", ("args", "batch_size"), 64.5, ["batch_size"]),
    ("args.batch_size zero", ("args", "batch_size"), 0, ["batch_size"]),
    ("args.batch_size bool", ("args", "batch_size"), True, ["batch_size"]),
    ("args.momentum negative", ("args", "momentum"), -1, ["momentum"]),
    ("args.weight_decay string", ("args", "weight_decay"), "x", ["weight_decay"]),
    ("args.gamma string", ("args", "gamma"), "x", ["gamma"]),
    ("args.gamma zero", ("args", "gamma"), 0, ["gamma"]),
    ("args.step_size zero", ("args", "step_size"), 0, ["step_size"]),
    ("args.step_size fractional", ("args", "step_size"), 1.5, ["step_size"]),
    ("args.seed negative", ("args", "seed"), -1, ["seed"]),
    ("args.epochs string", ("args", "epochs"), "3", ["epochs"]),
    ("args.optimizer unknown", ("args", "optimizer"), "rmsprop", ["optimizer"]),
    ("args.optimizer number", ("args", "optimizer"), 5, ["optimizer"]),
    ("args.limit_train zero", ("args", "limit_train"), 0, ["limit_train"]),
    ("args.dataset number", ("args", "dataset"), 7, ["dataset"]),
    ("args.core string", ("args", "core"), "yes", ["core"]),
    ("args missing", ("args",), None, ["args"]),
    ("model unknown", ("model",), "vgg", ["model"]),
    ("model number", ("model",), 5, ["model"]),
    ("epoch negative", ("epoch",), -1, ["epoch"]),
    ("epoch string", ("epoch",), "1", ["epoch"]),
    ("epoch fractional", ("epoch",), 1.5, ["epoch"]),
    ("history entry without metrics", ("history",), [{"epoch": 1}], ["history"]),
    ("history string", ("history",), "x", ["history"]),
    ("history entry number", ("history",), [5], ["history"]),
    ("history shorter than epoch", ("history",), [], ["history"]),
    ("scheduler empty", ("scheduler",), {}, ["scheduler"]),
    ("scheduler step_size zero", ("scheduler", "step_size"), 0, ["step_size"]),
    ("scheduler gamma string", ("scheduler", "gamma"), "x", ["gamma"]),
    ("scheduler last_epoch string", ("scheduler", "last_epoch"), "a", ["last_epoch"]),
    ("scheduler base_lrs empty", ("scheduler", "base_lrs"), [], ["base_lrs"]),
    ("optimizer empty", ("optimizer",), {}, ["optimizer"]),
    ("optimizer param_groups number", ("optimizer", "param_groups"), 5, ["param_groups"]),
    ("optimizer param_groups empty", ("optimizer", "param_groups"), [], ["param_groups"]),
    ("optimizer class other", ("optimizer", "class"), "SGD", ["optimizer|SGD|Adam"]),
    ("param group lr negative", ("optimizer", "param_groups", 0, "lr"), -1, ["lr"]),
    ("param group lr string", ("optimizer", "param_groups", 0, "lr"), "x", ["lr"]),
    ("param group betas wrong", ("optimizer", "param_groups", 0, "betas"), [0.9], ["betas"]),
    ("param group params wrong", ("optimizer", "param_groups", 0, "params"), [0, 1], ["params"]),
    ("rng_state empty", ("rng_state",), {}, ["rng_state"]),
    ("format other", ("format",), "other/2", ["format"]),
]

# Tampered mid-epoch positions: a checkpoint saved by Ctrl-C after one batch, then one field changed.
BAD_PARTIAL = [
    ("partial.batches huge", "batches", 10 ** 6, ["batches"]),
    ("partial.batches negative", "batches", -3, ["batches"]),
    ("partial.seen zero", "seen", 0, ["seen"]),
    ("partial.seen beyond batches", "seen", 10 ** 6, ["seen"]),
    ("partial.loss_sum NaN", "loss_sum", float("nan"), ["loss_sum"]),
    ("partial.correct beyond seen", "correct", 10 ** 6, ["correct"]),
    ("partial string", None, "x", ["partial"]),
]


def _set(meta, where, value):
    target = meta
    for key in where[:-1]:
        target = target[key]
    if value is None:
        del target[where[-1]]
    else:
        target[where[-1]] = value


for _name, _where, _value, _words in BAD_META:
    def _meta_case(lab, where=_where, value=_value, words=_words):
        checkpoint = base_run(lab)
        rewrite_meta(checkpoint, lambda meta: _set(meta, where, value))
        return resume_refused(lab, checkpoint, words, forbid=[r"must be a positive number, got"] if
                              where[-1] == "lr" and where[0] == "args" else ())
    scenario(f"meta {_name}", "tampered checkpoint")(_meta_case)


_PARTIAL = {}


def partial_run(lab):
    """A run stopped by SIGINT after its first training batch (a checkpoint with a mid-epoch position)."""
    if lab.repo not in _PARTIAL:
        folder = tempfile.mkdtemp(prefix="fault-partial-")
        base = Lab(lab.repo, folder)
        code = ("import os, signal, sys\n"
                "from minitorch_cnn import train\n"
                "original = train.Progress.update\n"
                "def update(self, done, loss=None):\n"
                "    original(self, done, loss)\n"
                "    if loss is not None and done == 1: os.kill(os.getpid(), signal.SIGINT)\n"
                "train.Progress.update = update\n"
                f"sys.exit(train.main({TINY + ['--epochs', '2', '--out', 'run']!r}))\n")
        status, _, err = base.python(code)
        if status != 130:
            raise SystemExit(f"the partial base run did not stop by Ctrl-C ({status}):\n{err}")
        _PARTIAL[lab.repo] = os.path.join(folder, "run")
    shutil.copytree(_PARTIAL[lab.repo], lab.path("run"))
    return lab.path("run", "checkpoint.npz")


for _name, _field, _value, _words in BAD_PARTIAL:
    def _partial_case(lab, field=_field, value=_value, words=_words):
        checkpoint = partial_run(lab)

        def change(meta):
            if field is None:
                meta["partial"] = value
            else:
                meta["partial"][field] = value
        rewrite_meta(checkpoint, change)
        return resume_refused(lab, checkpoint, words)
    scenario(f"meta {_name}", "tampered checkpoint")(_partial_case)


def _array_case(change, words):
    def run(lab):
        checkpoint = base_run(lab)
        content = members(checkpoint)
        change(content)
        write_members(checkpoint, content)
        return resume_refused(lab, checkpoint, words)
    return run


def _first_weight(content):
    return next(k for k in content if k.startswith("model/") and k.endswith("weight.npy"))


scenario("array optimizer/x/exp_avg", "tampered checkpoint")(_array_case(
    lambda c: c.__setitem__("optimizer/x/exp_avg.npy", npy(np.zeros(3, np.float32))), ["optimizer/x"]))
scenario("array optimizer state of a 99th parameter", "tampered checkpoint")(_array_case(
    lambda c: c.__setitem__("optimizer/99/exp_avg.npy", npy(np.zeros(3, np.float32))), ["99"]))
scenario("array structured-dtype weight", "tampered checkpoint")(_array_case(
    lambda c: c.__setitem__(_first_weight(c), npy(np.zeros(3, dtype=[("a", "<f4")]))), ["weight"]))
scenario("array weight of the wrong shape", "tampered checkpoint")(_array_case(
    lambda c: c.__setitem__(_first_weight(c), npy(np.zeros((2, 2), np.float32))), ["weight"]))
scenario("array weight as int64", "tampered checkpoint")(_array_case(
    lambda c: c.__setitem__(_first_weight(c), npy(np.zeros(np.load(io.BytesIO(c[_first_weight(c)])).shape,
                                                              np.int64))), ["weight"]))
scenario("array weight missing", "tampered checkpoint")(_array_case(
    lambda c: c.pop(_first_weight(c)), ["weight"]))
scenario("array unknown model key", "tampered checkpoint")(_array_case(
    lambda c: c.__setitem__("model/extra.weight.npy", npy(np.zeros(3, np.float32))), ["extra"]))
scenario("array exp_avg of the wrong shape", "tampered checkpoint")(_array_case(
    lambda c: c.__setitem__("optimizer/0/exp_avg.npy", npy(np.zeros(3, np.float32))), ["exp_avg"]))
scenario("array step missing", "tampered checkpoint")(_array_case(
    lambda c: c.pop("optimizer/0/step.npy"), ["step"]))


def _nan_weight(content):
    name = _first_weight(content)
    array = np.load(io.BytesIO(content[name])).copy()
    array.flat[0] = np.nan
    content[name] = npy(array)


@scenario("a NaN weight is never called good", "misleading message")
def _nan_weight_case(lab):
    checkpoint = base_run(lab)
    content = members(checkpoint)
    _nan_weight(content)
    write_members(checkpoint, content)
    status, _, err = lab.cli("--resume", checkpoint, "--epochs", "2")
    bad = re.search(r"last good checkpoint: " + re.escape(checkpoint), err)
    return judge(status, err, (1, 2), mention=["finite|nan"], lost="called the NaN checkpoint good" if bad else None)


@scenario("header claiming 10**12 elements", "tampered checkpoint")
def _huge_header(lab):
    checkpoint = base_run(lab)
    content = members(checkpoint)
    name = _first_weight(content)
    raw = content[name]
    header_len = int.from_bytes(raw[8:10], "little")
    header = raw[10:10 + header_len].decode("latin1")
    header = re.sub(r"'shape': \([^)]*\)", "'shape': (1000000, 1000000)", header)
    header = header.rstrip().ljust(header_len - 1) + "\n"
    content[name] = raw[:10] + header.encode("latin1") + raw[10 + header_len:]
    write_members(checkpoint, content)
    return resume_refused(lab, checkpoint, ["weight|size|shape|element"])


@scenario("a plain .npy as the checkpoint", "tampered checkpoint")
def _plain_npy(lab):
    path = lab.path("weights.npy")
    np.save(path, np.zeros(3))
    return resume_refused(lab, path, [r"\.npy|npy|not .*checkpoint|archive"])


@scenario("meta JSON nested 100,000 deep", "tampered checkpoint")
def _deep_json(lab):
    checkpoint = base_run(lab)
    content = members(checkpoint)
    content["meta.npy"] = npy(np.array("[" * 100000 + "]" * 100000))
    write_members(checkpoint, content)
    return resume_refused(lab, checkpoint, ["nest|deep|meta"])


@scenario("a flipped zip magic byte", "misleading message")
def _flipped_magic(lab):
    checkpoint = base_run(lab)
    with open(checkpoint, "r+b") as f:
        f.write(b"Q")
    return resume_refused(lab, checkpoint, ["zip|archive|damaged|not"], forbid=["pickle"])


@scenario("a symlink to a text file", "misleading message")
def _symlink_text(lab):
    with open(lab.path("notes.txt"), "w") as f:
        f.write("not a checkpoint\n")
    os.symlink("notes.txt", lab.path("checkpoint.npz"))
    return resume_refused(lab, lab.path("checkpoint.npz"), ["text|not"], forbid=["pickle"])


@scenario("--resume of a folder", "misleading message")
def _resume_folder(lab):
    os.mkdir(lab.path("somefolder"))
    return resume_refused(lab, lab.path("somefolder"), ["folder|directory"], forbid=["does not exist"])


@scenario("--resume of /dev/zero", "misleading message")
def _resume_dev_zero(lab):
    return resume_refused(lab, "/dev/zero", ["device|not a regular"], forbid=["does not exist"])


@scenario("--resume of a missing file", "tampered checkpoint")
def _resume_missing(lab):
    return resume_refused(lab, lab.path("nope.npz"), ["does not exist|no such"])


@scenario("meta.args.lr = -1 is named as the checkpoint's", "misleading message")
def _lr_named(lab):
    checkpoint = base_run(lab)
    rewrite_meta(checkpoint, lambda meta: _set(meta, ("args", "lr"), -1))
    return resume_refused(lab, checkpoint, ["lr"], forbid=[r"--lr must be"])


@scenario("--gamma 1e308 blames --gamma, not --lr", "misleading message")
def _gamma_huge(lab):
    status, _, err = lab.cli(*TINY, "--epochs", "3", "--step-size", "1", "--gamma", "1e308", "--out", "run")
    return judge(status, err, (1, 2), mention=["gamma"], forbid=[r"try a smaller --lr"])


# ---- signals ---------------------------------------------------------------------------------------

def _signal_when_progress_read(lab, signum, expect):
    """Start a run, read stderr until its first training progress line, then send `signum`."""
    proc = lab.popen([*TINY, "--limit-train", "640", "--epochs", "1", "--out", "run"], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)
    seen = b""
    try:
        while True:
            chunk = os.read(proc.stderr.fileno(), 1)
            if not chunk:
                break
            seen += chunk
            if re.search(rb"epoch 1/1 [1-9][0-9]*/[0-9]+ batches", seen):
                proc.send_signal(signum)
                break
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = (seen + err).decode(errors="replace")
    checkpoint = lab.path("run", "checkpoint.npz")
    saved = os.path.exists(checkpoint) and loads(lab, checkpoint)
    if proc.returncode == 0:      # finished before the signal landed: nothing was tested, but nothing lost
        return Outcome("ok", "finished first")
    return _signal_verdict(proc.returncode, err, expect, saved)


def _signal_verdict(status, err, expect, saved):
    if TRACEBACK in err:
        return Outcome("traceback", err.strip().splitlines()[-1][:160])
    if not saved:
        return Outcome("lost", f"exit {status} and no checkpoint saved")
    if status != expect:
        return Outcome("unclear", f"exit {status}, expected {expect}")
    return Outcome("ok")


def _blocked_writing_a_pipe(pid):
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return "pipe" in f.read()
    except OSError:
        return False


def _signal_while_stderr_stalls(lab, signum, expect):
    """stderr is a pipe filled to the brim before the run starts: its first progress line blocks in
    write(2), and the signal lands there (a stalled reader of the progress)."""
    import fcntl
    read_end, write_end = os.pipe()
    size = fcntl.fcntl(write_end, 1032)         # F_GETPIPE_SZ
    os.set_blocking(write_end, False)
    filled = 0
    with contextlib.suppress(BlockingIOError):
        while filled < size:
            filled += os.write(write_end, b"." * 4096)
    os.set_blocking(write_end, True)
    proc = lab.popen([*TINY, "--limit-train", "640", "--epochs", "1", "--out", "run"], stdout=subprocess.PIPE,
                     stderr=write_end)
    os.close(write_end)
    try:
        deadline = time.time() + 60
        while not _blocked_writing_a_pipe(proc.pid) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        proc.send_signal(signum)
        chunks = []
        while True:
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        proc.communicate(timeout=120)
    finally:
        os.close(read_end)
        if proc.poll() is None:
            proc.kill()
    err = b"".join(chunks).decode(errors="replace")
    checkpoint = lab.path("run", "checkpoint.npz")
    return _signal_verdict(proc.returncode, err, expect, os.path.exists(checkpoint) and loads(lab, checkpoint))


for _try in range(12):
    scenario(f"Ctrl-C the instant a progress line is read #{_try + 1}", "signals")(
        lambda lab: _signal_when_progress_read(lab, signal.SIGINT, 130))
for _try in range(3):
    scenario(f"Ctrl-C while the progress reader stalls #{_try + 1}", "signals")(
        lambda lab: _signal_while_stderr_stalls(lab, signal.SIGINT, 130))
scenario("SIGTERM while the progress reader stalls", "signals")(
    lambda lab: _signal_while_stderr_stalls(lab, signal.SIGTERM, 143))
scenario("SIGTERM mid-epoch saves", "signals")(lambda lab: _signal_when_progress_read(lab, signal.SIGTERM, 143))
scenario("SIGHUP mid-epoch saves", "signals")(lambda lab: _signal_when_progress_read(lab, signal.SIGHUP, 129))


# A checkpoint write killed (SIGKILL) halfway, through the checkout's own atomic_write: its temporary
# file is left behind, named as that checkout names them.
_KILLED_WRITE = r"""
import os, signal, sys
from minitorch_cnn.serialization import atomic_write
def write(f):
    f.write(b"PK torn")
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)
atomic_write(sys.argv[1], write)
"""


@scenario("a temporary file left by a writer killed mid-write is removed", "signals")
def _stale_tmp(lab):
    base_run(lab)
    subprocess.run([sys.executable, "-c", _KILLED_WRITE, lab.path("run", "checkpoint.npz")], cwd=lab.root,
                   env=lab.env, capture_output=True)
    stale = [name for name in os.listdir(lab.path("run")) if name.startswith(".tmp")]
    if not stale:
        raise SystemExit("the killed write left no temporary file")
    status, _, err = lab.cli("--resume", lab.path("run", "checkpoint.npz"), "--epochs", "2")
    left = [name for name in stale if os.path.exists(lab.path("run", name))]
    if TRACEBACK in err:
        return judge(status, err, 0)
    return Outcome("unclear", f"left {left}") if left else judge(status, err, 0)


# ---- concurrent runs -------------------------------------------------------------------------------

@scenario("two runs started together with the default folder", "concurrency")
def _two_default(lab):
    first = lab.popen([*TINY, "--limit-train", "640", "--epochs", "1", "--seed", "1"], stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, text=True)
    second = lab.popen([*TINY, "--limit-train", "640", "--epochs", "1", "--seed", "2"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    out1, err1 = first.communicate(timeout=180)
    out2, err2 = second.communicate(timeout=180)
    folders = [re.search(r"output: (\S+)", out).group(1) if re.search(r"output: (\S+)", out) else None
               for out in (out1, out2)]
    if TRACEBACK in err1 + err2:
        return judge(1, err1 + err2, 0)
    if folders[0] == folders[1]:
        return Outcome("lost", f"both wrote {folders[0]}")
    return judge(max(first.returncode, second.returncode), err1 + err2, 0)


def _while_running(lab, second_args, mention):
    """Start a run that pauses (a slow --limit-train), then try `second_args` while it holds its folder."""
    first = lab.popen([*TINY, "--limit-train", "5000", "--epochs", "50", "--out", "run"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not os.path.exists(lab.path("run")) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        args = [a.replace("{run}", lab.path("run")) for a in second_args]
        status, _, err = lab.cli(*args)
        if first.poll() is not None:
            raise SystemExit("the live run ended before the second one was tried: make it longer")
    finally:
        first.kill()
        first.wait()
    lost = "the second run wrote into the live run's folder" if status == 0 else None
    return judge(status, err, 2, mention=mention, lost=lost)


scenario("a second run into a live run's --out", "concurrency")(
    lambda lab: _while_running(lab, [*TINY, "--epochs", "1", "--out", "{run}", "--overwrite"], ["pid|running|in use"]))
scenario("--resume of a live run", "concurrency")(
    lambda lab: _while_running(lab, ["--resume", "{run}/checkpoint.npz", "--epochs", "3"], ["pid|running|in use"]))


# ---- streams ---------------------------------------------------------------------------------------

def _shell(lab, line):
    proc = subprocess.run(["bash", "-c", line], cwd=lab.root, env=lab.env, capture_output=True, text=True,
                          timeout=180)
    return proc.returncode, proc.stdout, proc.stderr


def _stream_case(redirect, expect):
    def run(lab):
        command = (f"{sys.executable} -m minitorch_cnn.train {' '.join(TINY)} --epochs 1 --out run {redirect}; "
                   f"echo \"status=${{PIPESTATUS[0]}}\" >&3")
        proc = subprocess.run(["bash", "-c", f"exec 3>{lab.path('status.txt')}; {command}"], cwd=lab.root,
                              env=lab.env, capture_output=True, text=True, timeout=180)
        with open(lab.path("status.txt")) as f:
            status = int(f.read().split("=")[1])
        err = proc.stderr
        saved = os.path.exists(lab.path("run", "checkpoint.npz"))
        if TRACEBACK in err:
            return judge(status, err, expect)
        if not saved:
            return Outcome("lost", f"exit {status} and no checkpoint")
        return Outcome("ok") if status in expect else Outcome("unclear", f"exit {status}, expected {expect}")
    return run


scenario("stdout into | head -n 1", "streams")(_stream_case("| head -n 1", (0, 141)))
scenario("stdout into /dev/full", "streams")(_stream_case("> /dev/full", (0, 3)))
scenario("stderr closed (2>&-)", "streams")(_stream_case("2>&-", (0, 3)))
scenario("stdout closed (>&-)", "streams")(_stream_case(">&-", (0, 3)))


# ---- disks -----------------------------------------------------------------------------------------

@contextlib.contextmanager
def tmpfs(lab, size_kb):
    mount = lab.path("disk")
    os.mkdir(mount)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", mount],
                      capture_output=True).returncode != 0:
        raise Skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", mount], capture_output=True)


class Skip(Exception):
    pass


# The CLI with a hook after the checkpoint is written: fill the disk, or SIGKILL the run there.
_AFTER_CHECKPOINT = r"""
import os, signal, sys
from minitorch_cnn.train import checkpointing
ACTION, FILLER = sys.argv[1], sys.argv[2]
original = checkpointing.save_checkpoint
def save_checkpoint(*a, **k):
    result = original(*a, **k)
    if ACTION == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    with open(FILLER, "wb", buffering=0) as f:      # take every byte left
        try:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
        except OSError:
            pass
    return result
checkpointing.save_checkpoint = save_checkpoint
from minitorch_cnn import train
sys.exit(train.main(sys.argv[3:]))
"""


@scenario("a disk too small for the first checkpoint", "disks")
def _disk_tiny(lab):
    with tmpfs(lab, 64) as disk:
        status, _, err = lab.cli(*TINY, "--epochs", "1", "--out", os.path.join(disk, "run"))
        return judge(status, err, (1, 2), mention=["space|write"])


def _disk_after_checkpoint(extra):
    def run(lab):
        with tmpfs(lab, 8192) as disk:
            out = os.path.join(disk, "run")
            proc = subprocess.run([sys.executable, "-c", _AFTER_CHECKPOINT, "fill", os.path.join(disk, "filler"),
                                   *TINY, "--epochs", "1", "--out", out, *extra], cwd=lab.root, env=lab.env,
                                  capture_output=True, text=True, timeout=180)
            checkpoint = os.path.join(out, "checkpoint.npz")
            lost = None if os.path.exists(checkpoint) and loads(lab, checkpoint) else "no loadable checkpoint"
            return judge(proc.returncode, proc.stderr, 2, mention=["checkpoint"], lost=lost)
    return run


scenario("room for the checkpoint but not metrics.json", "disks")(_disk_after_checkpoint([]))
scenario("room for the checkpoint but not the --plot PNGs", "disks")(_disk_after_checkpoint(["--plot"]))


@scenario("a kill between the checkpoint and metrics.json, then --resume", "disks")
def _kill_between(lab):
    out = lab.path("run")
    subprocess.run([sys.executable, "-c", _AFTER_CHECKPOINT, "kill", lab.path("filler"), *TINY, "--epochs", "1",
                    "--out", out], cwd=lab.root, env=lab.env, capture_output=True, text=True, timeout=180)
    status, _, err = lab.cli("--resume", os.path.join(out, "checkpoint.npz"))
    if TRACEBACK in err:
        return judge(status, err, 0)
    meta = read_meta(os.path.join(out, "checkpoint.npz"))
    try:
        with open(os.path.join(out, "metrics.json")) as f:
            metrics = json.load(f)
    except (OSError, ValueError):
        metrics = []
    if len(metrics) != len(meta["history"]):
        return Outcome("lost", f"metrics.json has {len(metrics)} epochs, the checkpoint {len(meta['history'])}")
    return Outcome("ok")


# ---- damaged install, moved data -------------------------------------------------------------------

def _damaged_install(damage):
    def run(lab):
        copy_root = lab.path("site")
        shutil.copytree(os.path.join(lab.repo, "minitorch_cnn"), os.path.join(copy_root, "minitorch_cnn"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        damage(os.path.join(copy_root, "minitorch_cnn", "data", "mnist_5k.npz"))
        inner = Lab(copy_root, lab.root)
        status, _, err = inner.cli(*TINY, "--epochs", "1", "--out", "run")
        return judge(status, err, 2, mention=["mnist_5k|bundled"])
    return run


def _truncate(path):
    with open(path, "r+b") as f:
        f.truncate(1000)


scenario("bundled digits missing", "damaged install")(_damaged_install(os.remove))
scenario("bundled digits truncated", "damaged install")(_damaged_install(_truncate))


def _fashion(lab, name):
    source = "/usr/share/datasets/fashion-mnist"
    if not os.path.isdir(source):
        raise Skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    shutil.copytree(source, lab.path(name))


FASHION = ["--model", "lenet5", "--dataset", "fashion-mnist", "--limit-train", "128", "--limit-test", "50",
           "--batch-size", "64", "--seed", "1"]


@scenario("--resume after the data folder moved", "moved data")
def _moved_plain(lab):
    _fashion(lab, "data")
    status, _, err = lab.cli(*FASHION, "--data-dir", "data", "--epochs", "1", "--out", "run")
    if status:
        return judge(status, err, 0)
    shutil.move(lab.path("data"), lab.path("data2"))
    status, _, err = lab.cli("--resume", "run/checkpoint.npz", "--epochs", "2")
    return judge(status, err, 2, mention=["--data-dir", "moved|pass|give|point|where"])


@scenario("--resume --data-dir NEW with the same data", "moved data")
def _moved_new_dir(lab):
    _fashion(lab, "data")
    status, _, err = lab.cli(*FASHION, "--data-dir", "data", "--epochs", "1", "--out", "run")
    if status:
        return judge(status, err, 0)
    shutil.move(lab.path("data"), lab.path("data2"))
    status, _, err = lab.cli("--resume", "run/checkpoint.npz", "--epochs", "2", "--data-dir", "data2")
    return judge(status, err, 0)


@scenario("--resume --data-dir NEW with other data", "moved data")
def _moved_other(lab):
    _fashion(lab, "data")
    status, _, err = lab.cli(*FASHION, "--data-dir", "data", "--epochs", "1", "--out", "run")
    if status:
        return judge(status, err, 0)
    os.mkdir(lab.path("other"))
    for name in os.listdir(lab.path("data")):
        shutil.copy(lab.path("data", name), lab.path("other", name))
    with open(lab.path("other", "t10k-labels-idx1-ubyte.gz"), "r+b") as f:
        f.seek(200)
        f.write(b"\x00\x01\x02")
    status, _, err = lab.cli("--resume", "run/checkpoint.npz", "--epochs", "2", "--data-dir", "other")
    lost = "resumed on other data, exit 0" if status == 0 else None
    return judge(status, err, 2, mention=["t10k-labels"], lost=lost)


# ---- mt.load and mt.save, and the data reader ------------------------------------------------------

def _library_case(setup, code, mention, kinds=("SerializationError", "CheckpointError", "ValueError",
                                                 "RuntimeError")):
    """Run `setup` (which writes the hostile file), then in a fresh process `code` (which raises or
    prints 'accepted'); ok when it raises a documented error naming `mention` with bounded memory."""
    wrapper = ("import resource, sys, traceback\n"
               "try:\n" + "".join(f"    {line}\n" for line in code.strip().splitlines()) +
               "    print('accepted')\n"
               "except BaseException as exc:\n"
               "    print('raised', type(exc).__name__, str(exc)[:300].replace(chr(10), ' '))\n"
               "print('rss_mb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)\n")

    def run(lab):
        if setup:
            status, out, err = lab.python(setup)
            if status:
                raise SystemExit(f"setup failed: {err}")
        status, out, err = lab.python(wrapper)
        raised = re.search(r"raised (\w+) (.*)", out)
        rss = re.search(r"rss_mb (\d+)", out)
        if status != 0 or not raised:
            return Outcome("unclear", f"exit {status}: {(out + err).strip()[-200:]}")
        name, message = raised.groups()
        if name not in kinds:
            return Outcome("traceback", f"{name}: {message[:150]}")
        if rss and int(rss.group(1)) > RSS_LIMIT_MB:
            return Outcome("unbounded", f"peak RSS {rss.group(1)} MB")
        if not re.search(mention, message, re.I):
            return Outcome("unclear", f"{name}: {message[:150]}")
        return Outcome("ok")
    return run


_SAVED = "import minitorch_cnn as mt, numpy as np, zipfile, io, json\n"
# an mt.save file whose array member a0.npy is replaced by `raw` (bytes built by the code before)
_REPLACE_A0 = ("mt.save(mt.zeros(3, dtype=mt.float64), 'f.npz')\n"
               "c = {n: zipfile.ZipFile('f.npz').read(n) for n in zipfile.ZipFile('f.npz').namelist()}\n"
               "c['a0.npy'] = raw\n"
               "z = zipfile.ZipFile('f.npz', 'w', zipfile.ZIP_DEFLATED); [z.writestr(n, d) for n, d in c.items()]; "
               "z.close()\n")

scenario("mt.load of a 10**12-element header", "mt.load and mt.save")(_library_case(
    _SAVED + "raw = io.BytesIO(); np.save(raw, np.zeros(3)); raw = raw.getvalue()\n"
    "raw = raw.replace(b\"'shape': (3,)\", b\"'shape': (1000000000000,)\")\n" + _REPLACE_A0,
    _SAVED + "mt.load('f.npz')", "size|element|shape|header|large|a0"))
scenario("mt.load of a member running 400 MB past its header", "mt.load and mt.save")(_library_case(
    _SAVED + "raw = io.BytesIO(); np.save(raw, np.zeros(3)); raw = raw.getvalue()[:-24] + bytes(400 * 2 ** 20)\n"
    + _REPLACE_A0, _SAVED + "mt.load('f.npz')", "a0|size|inflat|larger|bytes"))
scenario("mt.load of a structure with a missing key", "mt.load and mt.save")(_library_case(
    _SAVED + "mt.save({'a': mt.tensor([1.0])}, 'f.npz')\n"
    "c = {n: zipfile.ZipFile('f.npz').read(n) for n in zipfile.ZipFile('f.npz').namelist()}\n"
    "names = [n for n in c if n != 'a0.npy']\n"
    "z = zipfile.ZipFile('g.npz', 'w'); [z.writestr(n, c[n]) for n in names]; z.close()\n",
    _SAVED + "mt.load('g.npz')", "a0|missing|member|structure|key"))
scenario("mt.load of JSON nested 100,000 deep", "mt.load and mt.save")(_library_case(
    _SAVED + "raw = io.BytesIO(); np.save(raw, np.array('[' * 100000 + ']' * 100000)); raw = raw.getvalue()\n"
    "z = zipfile.ZipFile('f.npz', 'w'); z.writestr('structure.npy', raw); z.close()\n",
    _SAVED + "mt.load('f.npz')", "nest|deep|structure"))
scenario("mt.save of a list that holds itself", "mt.load and mt.save")(_library_case(
    None, _SAVED + "a = [mt.tensor([1.0])]; a.append(a)\nmt.save(a, 'f.npz')", "itself|cycle|recurs"))
scenario("mt.load of a pickle", "mt.load and mt.save")(_library_case(
    "import pickle\nopen('f.pt', 'wb').write(pickle.dumps({'a': 1}))\n", _SAVED + "mt.load('f.pt')", "pickle"))


def _gzip_bomb(lab):
    import gzip
    os.mkdir(lab.path("data"))
    header = (0x00000803).to_bytes(4, "big") + (60000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    with gzip.open(lab.path("data", "train-images-idx3-ubyte.gz"), "wb", compresslevel=9) as f:
        f.write(header)
        block = bytes(2 ** 20)
        for _ in range(2048):             # 2 GiB of zeros after a header that promises 47 MB
            f.write(block)
    for name in ("train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(os.path.join("/usr/share/datasets/fashion-mnist", name), lab.path("data", name))
    code = ("import resource, subprocess, sys\n"
            "p = subprocess.run([sys.executable, '-m', 'minitorch_cnn.train', '--dataset', 'fashion-mnist', "
            "'--data-dir', 'data', '--epochs', '1', '--limit-train', '128', '--limit-test', '50', '--out', 'run'], "
            "capture_output=True, text=True)\n"
            "sys.stderr.write(p.stderr)\n"
            "print('rss_mb', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
            "sys.exit(p.returncode)")
    status, out, err = lab.python(code, timeout=300)
    verdict = judge(status, err, 2, mention=["train-images"])
    rss = int(re.search(r"rss_mb (\d+)", out).group(1))
    if verdict.kind == "ok" and rss > RSS_LIMIT_MB:
        return Outcome("unbounded", f"refused after {rss} MB RSS")
    return verdict


if os.path.isdir("/usr/share/datasets/fashion-mnist"):
    scenario("a gzip bomb in the data folder", "mt.load and mt.save")(_gzip_bomb)


# ---- driver ----------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=HERE)
    parser.add_argument("--only", default=None, help="run the scenarios whose name or group holds this word")
    parser.add_argument("--json", default=None)
    parser.add_argument("-v", action="store_true", help="print every scenario's detail")
    args = parser.parse_args(argv)
    repo = os.path.abspath(args.repo)
    results, counts = [], {}
    for group, name, fn in SCENARIOS:
        if args.only and args.only.lower() not in (group + " " + name).lower():
            continue
        root = tempfile.mkdtemp(prefix="fault-")
        lab = Lab(repo, root)
        started = time.time()
        try:
            outcome = fn(lab)
        except Skip as skip:
            outcome = Outcome("skipped", str(skip))
        except subprocess.TimeoutExpired as exc:
            outcome = Outcome("unclear", f"hung: {exc}")
        finally:
            shutil.rmtree(root, ignore_errors=True)
        counts[outcome.kind] = counts.get(outcome.kind, 0) + 1
        results.append({"group": group, "scenario": name, "outcome": outcome.kind, "detail": outcome.detail,
                        "seconds": round(time.time() - started, 1)})
        if args.v or outcome.kind not in ("ok", "skipped"):
            print(f"{outcome.kind:10s} {group}: {name}  {outcome.detail}", flush=True)
    total = len(results)
    print(f"\n{total} scenarios on {repo}: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in
          ("ok", "traceback", "unclear", "unbounded", "lost", "skipped")))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"repo": repo, "counts": counts, "results": results}, f, indent=1)
    for path in _BASE.values():
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    for path in _PARTIAL.values():
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
