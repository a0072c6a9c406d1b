"""The training CLI:  python -m minitorch_cnn.train --model lenet5

Trains one of the classic CNNs on MNIST-style data with Adam or SGD and a StepLR
schedule; shows a progress bar, evaluates after each epoch, and writes to --out:

    checkpoint.npz   model, optimizer, scheduler, RNG state and epoch (no pickle)
    metrics.json     one record per epoch (losses, accuracies as fractions, timing)
    curves.png, filters.png   with --plot (needs matplotlib)

--resume continues a run so that it ends with the same weights as an uninterrupted
one; Ctrl-C saves a checkpoint at the end of the current batch and exits.

    mpiexec -n 2 python -m minitorch_cnn.train --model lenet5 --distributed

trains one model on 2 ranks (DistributedDataParallel, each rank on its DistributedSampler shard,
--batch-size per rank); rank 0 alone prints and writes.  See run_distributed.
"""
import argparse
import json
import math
import os
import signal
import sys
import time

import numpy as np

from . import backend, optim
from .autograd import no_grad
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .models import MODELS, get_model
from .nn import functional as F
from .ops.loss import check_deferred_targets
from .random import get_rng_state, manual_seed, set_rng_state
from .serialization import atomic_write
from .tensor import Tensor


class UsageError(Exception):
    """A bad argument or input: reported as one line, no traceback."""


class _ArgumentParser(argparse.ArgumentParser):
    """argparse's own errors (a non-number, an unknown option) as one `error:` line too."""

    def error(self, message):
        raise UsageError(f"{message} (see --help)")


# The options a run is configured by, with their defaults.  An option left out on the command
# line is None after parsing, so --resume can tell "not given" (take the checkpoint's value)
# from "given" (must equal the checkpoint's value).
DEFAULTS = {"model": "lenet5", "dataset": "auto", "data_dir": None, "epochs": 3, "batch_size": 64,
            "lr": None, "optimizer": "adam", "momentum": 0.9, "weight_decay": 0.0, "step_size": 5,
            "gamma": 0.5, "device": "cpu", "seed": 0, "limit_train": None, "limit_test": None, "out": None}
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.01}
# What a resumed run may change: how long it runs and where it runs.
CHANGEABLE_ON_RESUME = ("epochs", "device", "out")


def parse_args(argv=None):
    p = _ArgumentParser(prog="python -m minitorch_cnn.train",
                        description="Train a classic CNN on MNIST-style digits with minitorch_cnn.")
    p.add_argument("--model", help=f"one of {', '.join(MODELS)} (default: lenet5)")
    p.add_argument("--dataset",
                   help="auto (MNIST if its files are present or downloadable, else the bundled digits), "
                        "mnist, fashion-mnist, bundled-digits, or torchvision:<Name> (default: auto)")
    p.add_argument("--data-dir", help="folder with (or for) the dataset files (default: ./data)")
    p.add_argument("--epochs", type=int, help="total epochs; with --resume, may raise the total (default: 3)")
    p.add_argument("--batch-size", type=int, help="(default: 64)")
    p.add_argument("--lr", type=float, help="learning rate (default: 0.001 for adam, 0.01 for sgd)")
    p.add_argument("--optimizer", choices=("adam", "sgd"), help="(default: adam)")
    p.add_argument("--momentum", type=float, help="SGD momentum (default: 0.9)")
    p.add_argument("--weight-decay", type=float, help="L2 penalty (default: 0)")
    p.add_argument("--step-size", type=int, help="StepLR: epochs between lr decays (default: 5)")
    p.add_argument("--gamma", type=float, help="StepLR: lr decay factor (default: 0.5)")
    p.add_argument("--device", choices=("cpu", "cuda"), help="(default: cpu)")
    p.add_argument("--seed", type=int, help="(default: 0)")
    p.add_argument("--limit-train", type=int, metavar="N", help="train on the first N samples (default: all)")
    p.add_argument("--limit-test", type=int, metavar="N", help="test on the first N samples (default: all)")
    p.add_argument("--out", help="output folder (default: runs/<model>, or runs/<model>-2, -3, ... when "
                                 "that one already holds a checkpoint; with --resume: the checkpoint's folder)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the checkpoint an explicit --out already holds")
    p.add_argument("--resume", metavar="CHECKPOINT",
                   help="continue the run saved in a checkpoint.npz, configured as it was")
    p.add_argument("--plot", action="store_true", help="write curves.png and filters.png (needs matplotlib)")
    p.add_argument("--distributed", action="store_true",
                   help="train one model on every rank's shard of the data, under mpiexec -n N "
                        "(needs pip install \".[distributed]\"); --batch-size is per rank")
    args = p.parse_args(argv)
    if not args.distributed:
        args.group = None
        return _finish_args(args)
    args.group = _join_group()
    args.group.agree(lambda: _finish_args(args))
    args.out = args.group.broadcast_text(args.out)    # rank 0's choice of folder, for every rank
    return args


def _finish_args(args):
    """Fill in the defaults (or the checkpoint's values), check the values and choose args.out."""
    args.given = {name for name in DEFAULTS if getattr(args, name) is not None}
    if args.resume is not None:
        _configure_from_checkpoint(args)
    for name, value in DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.lr is None:
        args.lr = DEFAULT_LR[args.optimizer]
    _validate(args)
    if args.out is None:
        args.out = _free_run_folder(os.path.join("runs", args.model))
    elif (os.path.exists(os.path.join(args.out, "checkpoint.npz")) and not args.overwrite
          and (args.resume is None or os.path.abspath(args.out) != os.path.dirname(os.path.abspath(args.resume)))):
        raise UsageError(f"--out {args.out} already holds a checkpoint: continue that run with "
                         f"--resume {os.path.join(args.out, 'checkpoint.npz')}, or pass --overwrite to replace it")
    return args


def _free_run_folder(base):
    """runs/<model>, or the first of runs/<model>-2, -3, ... that holds no checkpoint yet."""
    folder, n = base, 1
    while os.path.exists(os.path.join(folder, "checkpoint.npz")):
        n += 1
        folder = f"{base}-{n}"
    return folder


def _configure_from_checkpoint(args):
    """Take every option the command line left out from the checkpoint's saved configuration;
    refuse one given with another value (only --epochs, --device and --out may change)."""
    from .checkpoint import read_checkpoint
    if not os.path.isfile(args.resume):
        raise UsageError(f"--resume: checkpoint {args.resume} does not exist")
    try:
        _, _, meta = read_checkpoint(args.resume)
    except CheckpointError as exc:
        raise UsageError(f"--resume: {exc}") from None
    _check_meta(meta, args.resume)
    saved = dict(meta["args"], model=meta["model"])
    for name in DEFAULTS:
        if name in CHANGEABLE_ON_RESUME or name not in args.given:
            continue
        if getattr(args, name) != saved.get(name):
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"--resume: {flag} {getattr(args, name)} differs from the checkpoint's "
                             f"{flag} {saved.get(name)}; leave {flag} out to continue the run as it was")
    for name in DEFAULTS:
        if name not in args.given and name not in ("epochs", "device", "out") and name in saved:
            setattr(args, name, saved[name])
    if args.epochs is None and isinstance(saved.get("epochs"), int):
        args.epochs = saved["epochs"]
    if args.out is None:
        args.out = os.path.dirname(os.path.abspath(args.resume))


# What a checkpoint's meta must hold, by key and type, before --resume touches anything.
META_SCHEMA = {"model": str, "epoch": int, "history": list, "scheduler": dict, "rng_state": dict,
               "args": dict, "optimizer": dict}
PARTIAL_SCHEMA = {"batches": int, "loss_sum": (int, float), "correct": int, "seen": int, "seconds": (int, float)}


def _check_meta(meta, path):
    def refuse(what):
        raise UsageError(f"--resume: {path} is not a checkpoint this CLI wrote ({what})")
    if not isinstance(meta, dict):
        refuse(f"its meta is a JSON {type(meta).__name__}, not an object")
    for key, kind in META_SCHEMA.items():
        if key not in meta:
            refuse(f"meta has no {key!r}")
        if not isinstance(meta[key], kind) or isinstance(meta[key], bool):
            refuse(f"meta {key!r} is a {type(meta[key]).__name__}, expected {kind.__name__}")
    if meta["epoch"] < 0 or not all(isinstance(r, dict) and isinstance(r.get("epoch"), int)
                                    for r in meta["history"]):
        refuse("its epoch or history is malformed")
    if "partial" in meta:
        partial = meta["partial"]
        if not isinstance(partial, dict) or any(not isinstance(partial.get(k), t) for k, t in PARTIAL_SCHEMA.items()) \
                or not isinstance(meta.get("epoch_rng_state"), dict):
            refuse("its mid-epoch position is malformed")
    for key in ("rng_state",) + (("epoch_rng_state",) if "partial" in meta else ()):
        try:
            np.random.default_rng().bit_generator.state = meta[key]
        except (TypeError, ValueError, KeyError) as exc:
            refuse(f"meta {key!r} is not a random generator state: {exc}")


def _validate(args):
    if args.model.lower() not in MODELS:
        raise UsageError(f"unknown model {args.model!r}: choose one of {', '.join(MODELS)}")
    args.model = args.model.lower()
    for name in ("epochs", "batch_size", "step_size"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    for name in ("limit_train", "limit_test"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    # torch's optimizers refuse what makes no sense; NaN and inf would train into NaN weights
    if not (args.lr > 0 and math.isfinite(args.lr)):
        raise UsageError(f"--lr must be a positive number, got {args.lr}")
    for name in ("momentum", "weight_decay"):
        value = getattr(args, name)
        if not (value >= 0 and math.isfinite(value)):
            raise UsageError(f"--{name.replace('_', '-')} must be a finite number >= 0, got {value}")
    if not (args.gamma > 0 and math.isfinite(args.gamma)):
        raise UsageError(f"--gamma must be a positive number, got {args.gamma}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        raise UsageError(f"--data-dir {args.data_dir} does not exist or is not a folder")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UsageError('--plot needs matplotlib: pip install ".[plot]" (or pip install matplotlib)') from None
    if args.device == "cuda":
        try:
            backend.require_cuda()
        except RuntimeError as exc:
            raise UsageError(_in_flags(str(exc))) from None


# The library's messages speak Python; on the command line the same advice is a flag.
_FLAG_WORDS = {"use BundledDigits() for an offline MNIST subset": "pass --dataset bundled-digits for the "
                                                                  "offline MNIST subset",
               "download=False, so nothing was downloaded": "nothing was downloaded",
               "use device='cpu'": "use --device cpu",
               "device 'cuda'": "--device cuda"}


def _in_flags(message):
    for python, flag in _FLAG_WORDS.items():
        message = message.replace(python, flag)
    return message


# ---- the process group (--distributed) -------------------------------------------
class Agreed(Exception):
    """Every rank stops with this exit status; what went wrong has been said already."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


class _Group:
    """The CLI's view of the process group: its rank and size and the few collectives the CLI
    needs beyond DistributedDataParallel's gradient all-reduce.  Every call here is collective:
    all ranks make the same calls in the same order, or the ones ahead wait forever."""

    def __init__(self, dist):
        self.dist, self.rank, self.size = dist, dist.get_rank(), dist.get_world_size()
        self.stderr = sys.stderr    # the real one: a rank other than 0 writes here only what it alone saw

    def _reduce(self, values, op):
        numbers = Tensor(np.asarray(values, dtype=np.float64))
        self.dist.all_reduce(numbers, op)
        return numbers.data.tolist()

    def sum(self, values):
        return self._reduce(values, self.dist.ReduceOp.SUM)

    def max_code(self, code):
        """The largest of every rank's `code` (0 = go on)."""
        return int(self._reduce([code], self.dist.ReduceOp.MAX)[0])

    def broadcast_int(self, value):
        number = Tensor(np.asarray([value], dtype=np.float64))
        self.dist.broadcast(number, src=0)
        return int(number.data[0])

    def broadcast_text(self, text):
        """Rank 0's `text` on every rank (the bytes travel as float64: exact, and any backend has it)."""
        raw = text.encode() if self.rank == 0 else b""
        length = self.broadcast_int(len(raw))
        data = Tensor(np.frombuffer(raw, dtype=np.uint8).astype(np.float64) if self.rank == 0 else np.zeros(length))
        self.dist.broadcast(data, src=0)
        return bytes(data.data.astype(np.uint8).tolist()).decode()

    def agree(self, step):
        """step() on every rank; when it raises UsageError on any rank, all stop with status 2 (Agreed),
        the message said once: by rank 0, or else by a rank that saw it."""
        try:
            result, failure = step(), None
        except UsageError as exc:
            result, failure = None, exc
        failed, rank0_failed = self.sum([failure is not None, failure is not None and self.rank == 0])
        if failed:
            if failure is not None and (self.rank == 0 or not rank0_failed):
                print(f"error: {'' if self.rank == 0 else f'rank {self.rank}: '}{failure}", file=self.stderr)
            raise Agreed(2)
        return result

    def abort(self, status):
        """End every rank now (MPI_Abort): for a failure on some ranks only, which would leave the
        others waiting in a collective forever."""
        self.stderr.flush()
        from mpi4py import MPI
        MPI.COMM_WORLD.Abort(status)


def _join_group():
    """init_process_group("mpi") -> a _Group; UsageError when mpi4py is missing.  Ranks other than 0
    print nothing from here on (their stdout and stderr go to os.devnull)."""
    from . import distributed as dist
    try:
        dist.init_process_group(backend="mpi")
    except (ImportError, RuntimeError) as exc:
        if isinstance(exc, ImportError) or "pip install" in str(exc):
            raise UsageError('--distributed needs mpi4py and an MPI library: pip install ".[distributed]"') from None
        raise UsageError(f"--distributed: {exc}") from None
    group = _Group(dist)
    if group.rank != 0:
        sys.stdout = sys.stderr = open(os.devnull, "w")
    return group


def _mpiexec_world_size():
    """How many processes the launching mpiexec started (MPICH's, Open MPI's or Intel MPI's
    environment), without importing mpi4py; 1 when none did."""
    from . import distributed as dist
    if not dist.launched_by_mpiexec():
        return 1
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1


def _warn_if_alone_under_mpiexec(args):
    """mpiexec -n N without --distributed: N independent runs of the whole data, all writing to the
    same folder.  Warned once (rank 0), not refused: it is a legal, if rarely meant, thing to do."""
    size = _mpiexec_world_size()
    if args.distributed or size <= 1 or os.environ.get("PMI_RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "0")) != "0":
        return
    print(f"warning: launched by mpiexec with {size} processes but without --distributed: every rank "
          f"trains alone on all the data and they all write to {args.out}; add --distributed to train one "
          f"model on their shards", file=sys.stderr)


# ---- data -------------------------------------------------------------------
def load_data(args):
    """(train_set, test_set, one line saying which data and why)."""
    from .data import DatasetNotFoundError, Subset, load_dataset, resolve_default_dataset
    root = args.data_dir or "data"
    try:
        if args.dataset == "auto":
            train, test, reason = resolve_default_dataset(root)
        else:
            train = load_dataset(args.dataset, root, train=True)
            test = load_dataset(args.dataset, root, train=False)
            reason = f"{args.dataset} as asked by --dataset"
            folders = sorted({os.path.dirname(str(f)) for f in getattr(train, "files", [])})
            if folders:
                reason += f", from {', '.join(folders)}"
    except (DatasetNotFoundError, ImportError, ValueError) as exc:
        raise UsageError(f"--dataset {args.dataset}: {_in_flags(str(exc))}") from None
    if args.limit_train:
        train = Subset(train, range(min(args.limit_train, len(train))))
    if args.limit_test:
        test = Subset(test, range(min(args.limit_test, len(test))))
    return train, test, reason


# ---- one epoch ----------------------------------------------------------------
def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else \
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """A one-line progress bar on stderr (on a terminal), or a few plain lines otherwise, with the
    time elapsed and the time left at the current rate."""

    def __init__(self, total, label, stream=None):
        self.total, self.label = total, label
        self.stream = sys.stderr if stream is None else stream    # the current stderr, not import time's
        self.tty = self.stream.isatty()
        self.start = self.last = time.perf_counter()
        self.milestone = 0

    def due(self, done):
        """Whether update(done) would write a line now (so its numbers are worth reading)."""
        if self.tty:
            return done >= self.total or time.perf_counter() - self.last >= 0.1
        return 4 * done >= (self.milestone + 1) * self.total

    def update(self, done, loss=None):
        now = time.perf_counter()
        elapsed = now - self.start
        rate = done / max(elapsed, 1e-9)
        timing = f"{_clock(elapsed)} elapsed, {_clock((self.total - done) / max(rate, 1e-9))} left"
        tail = f"{rate:.1f} batch/s  {timing}" + ("" if loss is None else f"  loss {loss:.4f}")
        if self.tty:
            if now - self.last < 0.1 and done < self.total:
                return
            filled = int(30 * done / self.total)
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total} {tail}")
            if done == self.total:
                self.stream.write("\n")
        elif 4 * done >= (self.milestone + 1) * self.total:
            self.milestone = 4 * done // self.total
            self.stream.write(f"{self.label} {done}/{self.total} batches  {tail}\n")
        self.stream.flush()
        self.last = now


def evaluate(model, loader, label="evaluating"):
    """(mean loss, accuracy) over a loader, in eval mode and without a graph.  The sums stay on the
    loader's device and are read once at the end: on the GPU a read per batch would wait for it."""
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    progress = Progress(len(loader), label)
    with no_grad():
        for batch, (x, y) in enumerate(loader, 1):
            logits = model(x)
            # float64 sums of the float32 batch losses: what adding their .item()s would give
            total_loss = total_loss + F.cross_entropy(logits, y, reduction="sum").data.astype(np.float64)
            correct = correct + (logits.argmax(axis=1) == y).data.sum()
            seen += y.shape[0]
            progress.update(batch)
    model.train()
    check_deferred_targets()
    return float(backend.to_numpy(total_loss)) / seen, int(backend.to_numpy(correct)) / seen


def _first_non_finite(model, optimizer):
    """The name of the first parameter, buffer or optimizer state array holding NaN or inf, or None."""
    for name, value in model.state_dict().items():
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            return f"the model's {name}"
    for index, entries in optimizer.state_dict()["state"].items():
        for name, value in entries.items():
            if not np.isfinite(np.asarray(value, dtype=np.float64)).all():
                return f"the optimizer's {name} of parameter {index}"
    return None


class Stop(Exception):
    """Training must stop: a non-finite loss, or Ctrl-C."""


# On the GPU, reading a step's loss on the host (loss.item()) waits for the step to finish: one
# stall per step, while the GPU could already run the next one.  So there each step's loss and
# count of correct predictions stay on the device, and are read together, in one transfer, when
# the progress line is redrawn, at most _READ_EVERY steps apart, on Ctrl-C and at the end of the
# epoch.  A non-finite loss is then found up to that many steps late (the steps after it were
# taken, with NaN); the run stops as before, naming the batch, and saves nothing from it.  On the
# CPU reading is free: each loss is read before its backward, as always.
_READ_EVERY = 32


def _read_is_free(array):
    """Whether reading `array` on the host is free (NumPy) instead of a wait for the GPU."""
    return backend.device_of(array) == "cpu"


def train_epoch(model, optimizer, loader, progress, position, ctrl_c, batch_losses=None, group=None):
    """Run the remaining batches of one epoch; `position` holds what is done so far
    (batches, loss sum, correct, seen) and is updated as the steps' numbers are read (after
    every step on the CPU; see _READ_EVERY for the GPU).  Each batch's loss is appended to
    `batch_losses` (for the curves) as (fraction of the epoch done, loss).
    Raises Stop on a non-finite loss, or after the batch during which ctrl_c.requested was set.
    With a process `group` (--distributed) the ranks agree before each backward whether to go on
    (see _agree_on_step), and a Ctrl-C stops them all before the same batch."""
    model.train()
    batches = iter(loader)
    for _ in range(position["batches"]):         # resuming mid-epoch: replay the order, skip the work
        next(batches)
    if "rng_after" in position:
        set_rng_state(position.pop("rng_after"))
    pending = []       # (loss, correct, batch size) of the steps not read yet, their numbers on the device

    def read_pending():
        """Account for the pending steps in order, from one host read of all their numbers."""
        if not pending:
            return
        check_deferred_targets()   # a target outside the classes, found on the GPU: its ValueError
        xp = backend.get_array_module(pending[0][0])
        numbers = backend.to_numpy(xp.stack([xp.stack([loss.astype(np.float64), correct.astype(np.float64)])
                                             for loss, correct, _ in pending]))
        sizes = [size for _, _, size in pending]
        pending.clear()
        for (value, correct), size in zip(numbers.tolist(), sizes):
            if not math.isfinite(value):
                raise Stop(f"the loss became {value} at batch {position['batches'] + 1}")
            position["batches"] += 1
            position["loss_sum"] += value * size
            position["correct"] += int(correct)
            position["seen"] += size
            if batch_losses is not None:
                batch_losses.append((position["batches"] / len(loader), value))
        progress.update(position["batches"], position["loss_sum"] / position["seen"])

    for x, y in batches:
        optimizer.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        pending.append((loss.data, (logits.argmax(axis=1) == y).data.sum(), y.shape[0]))
        if group is not None:
            _agree_on_step(group, loss.data, ctrl_c, pending, read_pending, position)
        if _read_is_free(loss.data):
            read_pending()         # before the backward: a non-finite loss takes no step
        loss.backward()
        optimizer.step()
        if pending and (len(pending) >= _READ_EVERY or ctrl_c.requested
                        or progress.due(position["batches"] + len(pending))):
            read_pending()
        if ctrl_c.requested and group is None:
            raise Stop("interrupted")
    read_pending()


def _agree_on_step(group, loss, ctrl_c, pending, read_pending, position):
    """Before a backward under --distributed: every rank takes this step or none does.  A rank that
    stopped alone (a NaN loss, a Ctrl-C) would leave the others waiting in the gradients' all-reduce
    forever, so each step costs one more all-reduce of one number: the largest of every rank's
    0 (go on), 1 (Ctrl-C) or 2 (non-finite loss).  On a stop this batch is not counted."""
    finite = math.isfinite(float(backend.to_numpy(loss)))
    code = group.max_code(0 if finite and not ctrl_c.requested else 1 if finite else 2)
    if code == 0:
        return
    if not finite:
        read_pending()          # raises Stop naming this batch
    pending.pop()
    read_pending()
    if code == 2:
        raise Stop(f"the loss became non-finite on another rank at batch {position['batches'] + 1}")
    raise Stop("interrupted")


# ---- plots ---------------------------------------------------------------------
def write_plots(args, history, batch_losses, model, test_set, data_name):
    """curves.png, filters.png and feature_maps.png (of the first test image) in args.out."""
    from . import plots
    title = f"{type(model).__name__} on {data_name} · {args.optimizer} lr {args.lr:g}"
    image, label = (backend.to_numpy(v.data if isinstance(v, Tensor) else v) for v in test_set[0])
    return [plots.write_curves(history, args.out, title, batch_losses or None),
            plots.write_filters(model, args.out),
            plots.write_feature_maps(model, np.asarray(image), args.out, label=int(np.asarray(label)))]


# ---- the run, step by step ------------------------------------------------------
class RunState:
    """What one run holds: the model, its optimizer and scheduler, the data, and how far it got."""

    def __init__(self, args, model, optimizer, scheduler, train_loader, test_loader, test_set, data_name):
        self.args, self.model, self.optimizer, self.scheduler = args, model, optimizer, scheduler
        # what is saved, restored, evaluated and plotted: the plain module under DistributedDataParallel
        self.module = getattr(model, "module", model)
        self.group = args.group         # None, or the process group under --distributed
        self.train_loader, self.test_loader, self.test_set = train_loader, test_loader, test_set
        self.data_name = data_name      # what the data is, in a few words, for the plots' titles
        self.checkpoint_path = os.path.join(args.out, "checkpoint.npz")
        self.history, self.start_epoch, self.position = [], 1, _epoch_start()
        self.batch_losses = []          # (fractional epoch, loss) of every batch this process trained
        self.plot_paths = []


def _epoch_start():
    """The position of an epoch before its first batch (train_epoch updates it batch by batch)."""
    return {"batches": 0, "loss_sum": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}


def prepare_data(args):
    """Load the data, refuse an empty split, print what was chosen; -> (train, test, data_name, in_channels)."""
    train_set, test_set, reason = load_data(args)
    for name, dataset in (("training", train_set), ("test", test_set)):
        if len(dataset) == 0:
            raise UsageError(f"--dataset {args.dataset}: the {name} split has no images ({reason})")
    x0, _ = train_set[0]
    print(f"data: {reason}")
    print(f"      {len(train_set):,} train / {len(test_set):,} test samples, images {tuple(np.shape(x0))}")
    data_name = args.dataset    # in a few words, for the plots' titles
    if args.dataset == "auto":
        data_name = "MNIST" if reason.startswith("MNIST from") else "bundled digits"
    return train_set, test_set, data_name, int(np.shape(x0)[0])


def build(args, in_channels, num_classes):
    """The model (seeded by --seed), its optimizer and its StepLR scheduler."""
    manual_seed(args.seed)
    model = get_model(args.model, num_classes=num_classes, in_channels=in_channels).to(args.device)
    params = list(model.parameters())
    if args.optimizer == "adam":
        optimizer = optim.Adam(params, lr=args.lr, weight_decay=args.weight_decay)
    else:
        optimizer = optim.SGD(params, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=args.step_size, gamma=args.gamma)
    return model, optimizer, scheduler


def start_run(args, train_set, test_set, data_name, in_channels):
    """Build the model and the loaders and create the output folder, printing both; -> a RunState."""
    from .data import DataLoader
    num_classes = 10    # every MNIST-style dataset the CLI reads has ten classes
    model, optimizer, scheduler = build(args, in_channels, num_classes)
    n_params = sum(p.numel() for p in model.parameters())
    per_rank = "" if args.group is None else f" per rank x {args.group.size} ranks"
    print(f"model: {args.model} ({n_params:,} parameters) on {args.device}; {args.optimizer} lr {args.lr}, "
          f"batch {args.batch_size}{per_rank}, {args.epochs} epochs, StepLR({args.step_size}, {args.gamma})")
    if args.group is None:
        train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, device=args.device)
    else:
        model, train_loader = _distribute(args, model, train_set)
    test_loader = DataLoader(test_set, batch_size=1000, device=args.device)
    if args.group is None or args.group.rank == 0:
        try:
            os.makedirs(args.out, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--out {args.out}: cannot create the folder ({exc.strerror})") from None
    print(f"output: {args.out}")
    return RunState(args, model, optimizer, scheduler, train_loader, test_loader, test_set, data_name)


def _distribute(args, model, train_set):
    """(DistributedDataParallel(model), a loader of this rank's shard, reshuffled by set_epoch)."""
    from .data import DataLoader, DistributedSampler
    from .distributed import DistributedDataParallel
    sampler = DistributedSampler(train_set, num_replicas=args.group.size, rank=args.group.rank,
                                 shuffle=True, seed=args.seed)
    return DistributedDataParallel(model), DataLoader(train_set, batch_size=args.batch_size, sampler=sampler,
                                                      device=args.device)


def restore(state):
    """Continue the run saved in --resume's checkpoint: weights, optimizer and scheduler state,
    history, the RNG and, after a Ctrl-C, the position inside the interrupted epoch."""
    args = state.args
    try:
        meta = load_checkpoint(args.resume, state.module, state.optimizer)
    except CheckpointError as exc:
        raise UsageError(str(exc)) from None
    if meta.get("model") != args.model:
        raise UsageError(f"--resume: {args.resume} was trained with --model {meta.get('model')}, "
                         f"not {args.model}")
    expected = state.scheduler.state_dict()
    if set(meta["scheduler"]) != set(expected):
        raise UsageError(f"--resume: {args.resume}: the scheduler state has keys {sorted(meta['scheduler'])}, "
                         f"expected {sorted(expected)}")
    state.scheduler.load_state_dict(meta["scheduler"])
    state.history, state.start_epoch = meta["history"], meta["epoch"] + 1
    if meta.get("partial"):      # saved by Ctrl-C in the middle of an epoch
        state.position = dict(meta["partial"], rng_after=meta["rng_state"])
        if state.group is not None and state.group.rank != 0:   # rank 0 carries every rank's sums so far
            state.position.update(loss_sum=0.0, correct=0, seen=0)
        set_rng_state(meta["epoch_rng_state"])
    else:
        set_rng_state(meta["rng_state"])
    print(f"resumed from {args.resume}: epoch {meta['epoch']} done"
          + (f", {state.position['batches']} batches into epoch {state.start_epoch}"
             if state.position["batches"] else ""))


def save(state, epoch_done, partial=None, epoch_rng_state=None):
    """Write the checkpoint after `epoch_done` epochs (plus, after a Ctrl-C, the `partial` position in
    the next one and the RNG state that drew its order).  Raises Stop rather than save a non-finite
    model, UsageError when the file cannot be written (the previous one is then intact)."""
    bad = _first_non_finite(state.module, state.optimizer)
    if bad is not None:
        raise Stop(f"{bad} is no longer finite")
    args = state.args
    meta = {"model": args.model, "epoch": epoch_done, "history": state.history,
            "scheduler": state.scheduler.state_dict(), "rng_state": get_rng_state(),
            "args": {k: getattr(args, k) for k in DEFAULTS}}
    if partial is not None:
        meta.update(partial={k: v for k, v in partial.items() if k != "rng_after"}, epoch_rng_state=epoch_rng_state)
    try:
        save_checkpoint(state.checkpoint_path, state.module, state.optimizer, meta)
    except OSError as exc:      # a full disk, a folder made read-only
        raise UsageError(f"could not write {state.checkpoint_path} ({exc.strerror or exc}); the previous "
                         f"checkpoint, if any, is unchanged") from None


class CtrlC:
    """SIGINT while training (a context manager): the first Ctrl-C sets `requested`, so that
    train_epoch stops after the current batch; a second one aborts at once."""

    def __init__(self):
        self.requested = False

    def __enter__(self):
        self.previous_handler = signal.signal(signal.SIGINT, self.handle)
        return self

    def __exit__(self, *exc_info):
        signal.signal(signal.SIGINT, self.previous_handler)

    def handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\ninterrupt: finishing this batch, then saving a checkpoint (Ctrl-C again to abort)",
              file=sys.stderr)


def run_epoch(state, epoch, ctrl_c):
    """Train, evaluate, record and save epoch `epoch`; -> None to go on, or the exit status to stop with."""
    args = state.args
    epoch_rng_state = get_rng_state()   # what draws this epoch's order (kept for Ctrl-C)
    progress = Progress(len(state.train_loader), f"epoch {epoch}/{args.epochs}")
    started, epoch_losses = time.perf_counter(), []
    try:
        train_epoch(state.model, state.optimizer, state.train_loader, progress, state.position, ctrl_c, epoch_losses)
    except Stop as stop:
        state.position["seconds"] += time.perf_counter() - started
        if str(stop) == "interrupted":
            return save_interrupted(state, epoch, epoch_rng_state)
        return _stopped(f"{stop} of epoch {epoch}", state.checkpoint_path, args)
    seconds = state.position["seconds"] + time.perf_counter() - started
    return finish_epoch(state, epoch, seconds, epoch_losses)


def finish_epoch(state, epoch, seconds, epoch_losses):
    """Evaluate on the test set, then record and save epoch `epoch`; -> None, or the exit status."""
    args = state.args
    test_loss, test_acc = evaluate(state.module, state.test_loader, f"epoch {epoch}/{args.epochs} test")
    if not math.isfinite(test_loss):
        return _stopped(f"the test loss became {test_loss} after epoch {epoch}", state.checkpoint_path, args)
    record_epoch(state, epoch, seconds, test_loss, test_acc)
    return save_epoch(state, epoch, epoch_losses)


def run_epoch_distributed(state, epoch, ctrl_c):
    """run_epoch under --distributed: every rank trains on its shard, the ranks' loss sums, correct
    counts and images are added up (so images/s counts all ranks), and rank 0 alone evaluates on
    the whole test set (the same numbers as one process: no shard padding counted twice, no
    reduction; the other ranks wait for it), records and saves.  Rank 0's status is every rank's."""
    args, group = state.args, state.group
    state.train_loader.sampler.set_epoch(epoch)
    epoch_rng_state = get_rng_state()
    progress = Progress(len(state.train_loader), f"epoch {epoch}/{args.epochs}")
    started, epoch_losses, stop = time.perf_counter(), [], None
    try:
        train_epoch(state.model, state.optimizer, state.train_loader, progress, state.position, ctrl_c,
                    epoch_losses, group)
    except Stop as stopped:
        stop = str(stopped)
    seconds = state.position["seconds"] + time.perf_counter() - started
    loss_sum, correct, seen = group.sum([state.position[k] for k in ("loss_sum", "correct", "seen")])
    state.position.update(loss_sum=loss_sum, correct=int(correct), seen=int(seen), seconds=seconds)
    if group.rank != 0:
        status = None if stop is None else 130 if stop == "interrupted" else 1
        if stop is None:
            state.scheduler.step()
            state.position = _epoch_start()
    elif stop == "interrupted":
        status = save_interrupted(state, epoch, epoch_rng_state)
    elif stop is not None:
        status = _stopped(f"{stop} of epoch {epoch}", state.checkpoint_path, args)
    else:
        status = finish_epoch(state, epoch, seconds, epoch_losses)
    status = group.broadcast_int(-1 if status is None else status)
    return None if status == -1 else status


def save_interrupted(state, epoch, epoch_rng_state):
    """After a Ctrl-C in epoch `epoch`: save the position inside it; exit status 130 (1 if it cannot be saved)."""
    try:
        save(state, epoch - 1, partial=state.position, epoch_rng_state=epoch_rng_state)
    except Stop as broken:
        return _stopped(f"{broken} in epoch {epoch}", state.checkpoint_path, state.args)
    print(f"saved {state.checkpoint_path} ({state.position['batches']}/{len(state.train_loader)} batches into "
          f"epoch {epoch}); continue with --resume {state.checkpoint_path}")
    return 130


def record_epoch(state, epoch, seconds, test_loss, test_acc):
    """Append the epoch's metrics to the history and print its line."""
    position, args = state.position, state.args
    record = {"epoch": epoch, "train_loss": position["loss_sum"] / position["seen"],
              "train_acc": position["correct"] / position["seen"], "test_loss": test_loss,
              "test_acc": test_acc, "seconds": seconds, "images_per_s": position["seen"] / seconds,
              "lr": state.optimizer.param_groups[0]["lr"]}
    state.history.append(record)
    print(f"epoch {epoch}/{args.epochs}  loss {record['train_loss']:.4f}  train acc "
          f"{100 * record['train_acc']:.2f}%  test loss {test_loss:.4f}  test acc {100 * test_acc:.2f}%  "
          f"{seconds:.1f} s  {record['images_per_s']:,.0f} img/s")


def save_epoch(state, epoch, epoch_losses):
    """Step the scheduler, then write the checkpoint, metrics.json and (--plot) the plots;
    -> None, or exit status 1 when the model is no longer finite."""
    args = state.args
    state.scheduler.step()
    state.position = _epoch_start()
    try:
        save(state, epoch)
    except Stop as broken:
        return _stopped(f"{broken} after epoch {epoch}", state.checkpoint_path, args)
    atomic_write(os.path.join(args.out, "metrics.json"),
                 lambda f: f.write(json.dumps(state.history, indent=2).encode()))
    state.batch_losses.extend((epoch - 1 + fraction, loss) for fraction, loss in epoch_losses)
    if args.plot:     # after every epoch, so a stopped run has its plots too
        state.plot_paths = write_plots(args, state.history, state.batch_losses, state.module, state.test_set,
                                       state.data_name)
    return None


def report(state):
    """The closing lines: the plots written and the final accuracy; exit status 0."""
    args, history = state.args, state.history
    if args.plot and history:
        state.plot_paths = state.plot_paths or write_plots(args, history, state.batch_losses, state.module,
                                                           state.test_set, state.data_name)
        print(f"plots: {', '.join(state.plot_paths)}")
    if history:
        print(f"final test accuracy {100 * history[-1]['test_acc']:.2f}%; checkpoint {state.checkpoint_path}")
    return 0


def run(args):
    """One run of the CLI, step by step; returns the exit status."""
    train_set, test_set, data_name, in_channels = prepare_data(args)
    state = start_run(args, train_set, test_set, data_name, in_channels)
    if args.resume:
        restore(state)
    with CtrlC() as ctrl_c:
        for epoch in range(state.start_epoch, args.epochs + 1):
            status = run_epoch(state, epoch, ctrl_c)
            if status is not None:
                return status
    return report(state)


def run_distributed(args):
    """run() under --distributed (mpiexec -n N ... --distributed).  Rank 0 reads the data first (a
    download happens once), then the others; any rank's usage error stops all (see _Group.agree)."""
    group = args.group
    data = group.agree(lambda: prepare_data(args) if group.rank == 0 else None)
    data = group.agree(lambda: data if group.rank == 0 else prepare_data(args))
    state = group.agree(lambda: start_run(args, *data))
    if args.resume:
        group.agree(lambda: restore(state))     # every rank loads the same checkpoint
    with CtrlC() as ctrl_c:
        for epoch in range(state.start_epoch, args.epochs + 1):
            status = run_epoch_distributed(state, epoch, ctrl_c)
            if status is not None:
                return status
    return report(state) if group.rank == 0 else 0


def _stopped(what, checkpoint_path, args):
    """Say why training stopped and which checkpoint is the last good one; exit status 1."""
    last = checkpoint_path if os.path.exists(checkpoint_path) else "none (nothing finite was saved)"
    print(f"error: {what}; training stopped. The last good checkpoint: {last}; try a smaller --lr "
          f"(now {args.lr}).", file=sys.stderr)
    return 1


def main(argv=None):
    args = None
    try:
        args = parse_args(argv)
        _warn_if_alone_under_mpiexec(args)
        if args.group is None:
            return run(args)
        status = run_distributed(args)
        args.group.dist.destroy_process_group()
        return status
    except Agreed as agreed:
        return agreed.status
    except UsageError as exc:
        return _give_up(args, f"error: {exc}", 2)
    except KeyboardInterrupt:
        return _give_up(args, "aborted", 130)
    except Exception:
        if args is None or args.group is None:
            raise
        import traceback
        return _give_up(args, traceback.format_exc().rstrip(), 1)


def _give_up(args, message, status):
    """Say `message` and return `status`; under --distributed, end every rank (a failure on some ranks
    only would leave the others waiting in a collective forever)."""
    group = None if args is None else args.group
    if group is None:
        print(message, file=sys.stderr)
        return status
    print(("" if group.rank == 0 else f"rank {group.rank}: ") + message + f"; ending all {group.size} ranks",
          file=group.stderr)
    group.abort(status)


if __name__ == "__main__":
    sys.exit(main())
