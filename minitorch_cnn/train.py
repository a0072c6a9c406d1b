"""The training CLI:  python -m minitorch_cnn.train --model lenet5

Trains one of the classic CNNs on MNIST-style data with Adam or SGD and a StepLR
schedule; shows a progress bar, evaluates after each epoch, and writes to --out:

    checkpoint.npz   model, optimizer, scheduler, RNG state and epoch (no pickle)
    metrics.json     one record per epoch (losses, accuracies as fractions, timing)
    curves.png, filters.png   with --plot (needs matplotlib)

--resume continues a run so that it ends with the same weights as an uninterrupted
one; Ctrl-C saves a checkpoint at the end of the current batch and exits.
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
    args = p.parse_args(argv)
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
    """(mean loss, accuracy) over a loader, in eval mode and without a graph."""
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    progress = Progress(len(loader), label)
    with no_grad():
        for batch, (x, y) in enumerate(loader, 1):
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.argmax(axis=1) == y).data.sum())
            seen += y.shape[0]
            progress.update(batch)
    model.train()
    return total_loss / seen, correct / seen


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


def train_epoch(model, optimizer, loader, progress, position, interrupted, batch_losses=None):
    """Run the remaining batches of one epoch; `position` holds what is done so far
    (batches, loss sum, correct, seen) and is updated after every step.  Each batch's loss is
    appended to `batch_losses` (for the curves) as (fraction of the epoch done, loss)."""
    model.train()
    batches = iter(loader)
    for _ in range(position["batches"]):         # resuming mid-epoch: replay the order, skip the work
        next(batches)
    if "rng_after" in position:
        set_rng_state(position.pop("rng_after"))
    for x, y in batches:
        optimizer.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        value = loss.item()
        if not math.isfinite(value):
            raise Stop(f"the loss became {value} at batch {position['batches'] + 1}")
        loss.backward()
        optimizer.step()
        position["batches"] += 1
        position["loss_sum"] += value * y.shape[0]
        position["correct"] += int((logits.argmax(axis=1) == y).data.sum())
        position["seen"] += y.shape[0]
        if batch_losses is not None:
            batch_losses.append((position["batches"] / len(loader), value))
        progress.update(position["batches"], position["loss_sum"] / position["seen"])
        if interrupted["flag"]:
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


# ---- the run ------------------------------------------------------------------
def build(args, in_channels, num_classes):
    manual_seed(args.seed)
    model = get_model(args.model, num_classes=num_classes, in_channels=in_channels).to(args.device)
    params = list(model.parameters())
    if args.optimizer == "adam":
        optimizer = optim.Adam(params, lr=args.lr, weight_decay=args.weight_decay)
    else:
        optimizer = optim.SGD(params, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=args.step_size, gamma=args.gamma)
    return model, optimizer, scheduler


def run(args):
    from .data import DataLoader
    train_set, test_set, reason = load_data(args)
    for name, dataset in (("training", train_set), ("test", test_set)):
        if len(dataset) == 0:
            raise UsageError(f"--dataset {args.dataset}: the {name} split has no images ({reason})")
    x0, _ = train_set[0]
    in_channels = int(np.shape(x0)[0])
    num_classes = 10    # every MNIST-style dataset the CLI reads has ten classes
    print(f"data: {reason}")
    # what the data is, in a few words, for the plots' titles (--dataset auto decided above)
    data_name = args.dataset if args.dataset != "auto" else "MNIST" if reason.startswith("MNIST from") else "bundled digits"
    print(f"      {len(train_set):,} train / {len(test_set):,} test samples, images {tuple(np.shape(x0))}")

    model, optimizer, scheduler = build(args, in_channels, num_classes)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {args.model} ({n_params:,} parameters) on {args.device}; {args.optimizer} lr {args.lr}, "
          f"batch {args.batch_size}, {args.epochs} epochs, StepLR({args.step_size}, {args.gamma})")
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, device=args.device)
    test_loader = DataLoader(test_set, batch_size=1000, device=args.device)

    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {args.out}: cannot create the folder ({exc.strerror})") from None
    print(f"output: {args.out}")
    checkpoint_path = os.path.join(args.out, "checkpoint.npz")
    history, start_epoch = [], 1
    position = {"batches": 0, "loss_sum": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}
    if args.resume:
        try:
            meta = load_checkpoint(args.resume, model, optimizer)
        except CheckpointError as exc:
            raise UsageError(str(exc)) from None
        if meta.get("model") != args.model:
            raise UsageError(f"--resume: {args.resume} was trained with --model {meta.get('model')}, "
                             f"not {args.model}")
        if set(meta["scheduler"]) != set(scheduler.state_dict()):
            raise UsageError(f"--resume: {args.resume}: the scheduler state has keys {sorted(meta['scheduler'])}, "
                             f"expected {sorted(scheduler.state_dict())}")
        scheduler.load_state_dict(meta["scheduler"])
        history = meta["history"]
        start_epoch = meta["epoch"] + 1
        if meta.get("partial"):      # saved by Ctrl-C in the middle of an epoch
            position = dict(meta["partial"], rng_after=meta["rng_state"])
            set_rng_state(meta["epoch_rng_state"])
        else:
            set_rng_state(meta["rng_state"])
        print(f"resumed from {args.resume}: epoch {meta['epoch']} done"
              + (f", {position['batches']} batches into epoch {start_epoch}" if position["batches"] else ""))

    def save(epoch_done, partial=None, epoch_rng_state=None):
        bad = _first_non_finite(model, optimizer)
        if bad is not None:      # never let a checkpoint hold a broken model
            raise Stop(f"{bad} is no longer finite")
        meta = {"model": args.model, "epoch": epoch_done, "history": history,
                "scheduler": scheduler.state_dict(), "rng_state": get_rng_state(),
                "args": {k: getattr(args, k) for k in DEFAULTS}}
        if partial is not None:
            meta.update(partial={k: v for k, v in partial.items() if k != "rng_after"},
                        epoch_rng_state=epoch_rng_state)
        try:
            save_checkpoint(checkpoint_path, model, optimizer, meta)
        except OSError as exc:      # a full disk, a folder made read-only: the previous file is intact
            raise UsageError(f"could not write {checkpoint_path} ({exc.strerror or exc}); the previous "
                             f"checkpoint, if any, is unchanged") from None

    interrupted = {"flag": False}
    batch_losses = []    # (fractional epoch, loss) of every batch this process trained
    plot_paths = []

    def on_sigint(signum, frame):
        if interrupted["flag"]:          # a second Ctrl-C: stop at once
            raise KeyboardInterrupt
        interrupted["flag"] = True
        print("\ninterrupt: finishing this batch, then saving a checkpoint (Ctrl-C again to abort)",
              file=sys.stderr)

    previous_handler = signal.signal(signal.SIGINT, on_sigint)
    try:
        for epoch in range(start_epoch, args.epochs + 1):
            epoch_rng_state = get_rng_state()   # what draws this epoch's order (kept for Ctrl-C)
            progress = Progress(len(train_loader), f"epoch {epoch}/{args.epochs}")
            started = time.perf_counter()
            try:
                epoch_losses = []
                train_epoch(model, optimizer, train_loader, progress, position, interrupted, epoch_losses)
            except Stop as stop:
                position["seconds"] += time.perf_counter() - started
                if str(stop) == "interrupted":
                    try:
                        save(epoch - 1, partial=position, epoch_rng_state=epoch_rng_state)
                    except Stop as broken:
                        return _stopped(f"{broken} in epoch {epoch}", checkpoint_path, args)
                    print(f"saved {checkpoint_path} ({position['batches']}/{len(train_loader)} batches into "
                          f"epoch {epoch}); continue with --resume {checkpoint_path}")
                    return 130
                return _stopped(f"{stop} of epoch {epoch}", checkpoint_path, args)
            seconds = position["seconds"] + time.perf_counter() - started
            test_loss, test_acc = evaluate(model, test_loader, f"epoch {epoch}/{args.epochs} test")
            if not math.isfinite(test_loss):
                return _stopped(f"the test loss became {test_loss} after epoch {epoch}", checkpoint_path, args)
            record = {"epoch": epoch, "train_loss": position["loss_sum"] / position["seen"],
                      "train_acc": position["correct"] / position["seen"], "test_loss": test_loss,
                      "test_acc": test_acc, "seconds": seconds, "images_per_s": position["seen"] / seconds,
                      "lr": optimizer.param_groups[0]["lr"]}
            history.append(record)
            print(f"epoch {epoch}/{args.epochs}  loss {record['train_loss']:.4f}  train acc "
                  f"{100 * record['train_acc']:.2f}%  test loss {test_loss:.4f}  test acc {100 * test_acc:.2f}%  "
                  f"{seconds:.1f} s  {record['images_per_s']:,.0f} img/s")
            scheduler.step()
            position = {"batches": 0, "loss_sum": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}
            try:
                save(epoch)
            except Stop as broken:
                return _stopped(f"{broken} after epoch {epoch}", checkpoint_path, args)
            atomic_write(os.path.join(args.out, "metrics.json"),
                         lambda f: f.write(json.dumps(history, indent=2).encode()))
            batch_losses.extend((epoch - 1 + fraction, loss) for fraction, loss in epoch_losses)
            if args.plot:     # after every epoch, so a stopped run has its plots too
                plot_paths = write_plots(args, history, batch_losses, model, test_set, data_name)
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    if args.plot and history:
        plot_paths = plot_paths or write_plots(args, history, batch_losses, model, test_set, data_name)
        print(f"plots: {', '.join(plot_paths)}")
    if history:
        print(f"final test accuracy {100 * history[-1]['test_acc']:.2f}%; checkpoint {checkpoint_path}")
    return 0


def _stopped(what, checkpoint_path, args):
    """Say why training stopped and which checkpoint is the last good one; exit status 1."""
    last = checkpoint_path if os.path.exists(checkpoint_path) else "none (nothing finite was saved)"
    print(f"error: {what}; training stopped. The last good checkpoint: {last}; try a smaller --lr "
          f"(now {args.lr}).", file=sys.stderr)
    return 1


def main(argv=None):
    try:
        return run(parse_args(argv))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aborted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
