"""What a run is configured by: the command line, its defaults and checks, the checkpoint a
--resume continues (its saved options fill in what the command line leaves out), and the
output folder."""
import argparse
import math
import os

from .. import backend
from ..backends import fast
from ..checkpoint import CheckpointError, read_checkpoint
from ..models import MODELS
from . import fingerprint
from .defaults import CHANGEABLE_ON_RESUME, DEFAULT_LR, DEFAULTS  # noqa: F401  (options.DEFAULTS, as before)
from .errors import UsageError, _in_flags
from .group import _join_group
from .lock import FolderBusy, busy_message, lock_free_run_folder, lock_run_folder
from .schema import check_meta


class _ArgumentParser(argparse.ArgumentParser):
    """argparse's own errors (a non-number, an unknown option) as one `error:` line too."""

    def error(self, message):
        raise UsageError(f"{message} (see --help)")


def parse_args(argv=None):
    p = _ArgumentParser(prog="python -m minitorch_cnn.train",
                        description="Train a CNN (a classic one, a ResNet, or an autoencoder) on MNIST-style "
                                    "digits with minitorch_cnn.")
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
    p.add_argument("--core", action=argparse.BooleanOptionalAction,
                   help="train on the core engine alone: every op runs its plain core Function, no fast path "
                        "(slower; the same numbers but for rounding); MINITORCH_CNN_FAST=0 in the environment "
                        "says --core (default: the fast paths; with --resume: the checkpoint's engine)")
    p.add_argument("--seed", type=int, help="(default: 0)")
    p.add_argument("--limit-train", type=int, metavar="N", help="train on the first N samples (default: all)")
    p.add_argument("--limit-test", type=int, metavar="N", help="test on the first N samples (default: all)")
    p.add_argument("--out", help="output folder (default: runs/<model>, or runs/<model>-2, -3, ... when "
                                 "that one already holds a checkpoint or a running run holds it; with --resume: the "
                                 "checkpoint's folder); a folder another run is writing is refused")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the checkpoint an explicit --out already holds")
    p.add_argument("--resume", metavar="CHECKPOINT",
                   help="continue the run saved in a checkpoint.npz, configured as it was")
    p.add_argument("--loss", choices=("mse", "bce"),
                   help="the autoencoder's reconstruction loss: mse (against the input as the model sees it) or "
                        "bce (binary cross-entropy with logits, against the pixels in [0, 1]) (default: mse)")
    p.add_argument("--plot", action="store_true", help="write curves.png, filters.png and feature_maps.png, and "
                                                       "for the autoencoder reconstructions.png (needs matplotlib)")
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
    if args.core is None and not fast.enabled:      # MINITORCH_CNN_FAST=0 says --core
        args.core = True
    args.given = {name for name in DEFAULTS if getattr(args, name) is not None}
    if args.resume is not None:
        _configure_from_checkpoint(args)
    for name, value in DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.lr is None:
        args.lr = DEFAULT_LR[args.optimizer]
    _validate(args)
    writer = args.group is None or args.group.rank == 0     # under --distributed only rank 0 writes and locks
    if args.out is None:
        base = os.path.join("runs", args.model)
        args.out = _locked(lock_free_run_folder, base, "--out") if writer else _free_run_folder(base)
        return args
    lock = _locked(lock_run_folder, args.out, "--out" if "out" in args.given else "--resume: run folder") \
        if writer else None
    if (os.path.exists(os.path.join(args.out, "checkpoint.npz")) and not args.overwrite
            and (args.resume is None or os.path.abspath(args.out) != os.path.dirname(os.path.abspath(args.resume)))):
        if lock is not None:
            lock.release()
        raise UsageError(f"--out {args.out} already holds a checkpoint: continue that run with "
                         f"--resume {os.path.join(args.out, 'checkpoint.npz')}, or pass --overwrite to replace it")
    return args


def _locked(take, folder, flag):
    """take(folder) (see lock.py): the folder chosen and locked for this run; one error line when
    another run holds it (naming its PID) or the folder cannot be made."""
    try:
        return take(folder)
    except FolderBusy as busy:
        raise UsageError(busy_message(busy, flag)) from None
    except OSError as exc:
        where = exc.filename or folder
        raise UsageError(f"--out {where}: cannot create the folder ({exc.strerror})") from None


def _free_run_folder(base):
    """runs/<model>, or the first of runs/<model>-2, -3, ... that holds no checkpoint yet."""
    folder, n = base, 1
    while os.path.exists(os.path.join(folder, "checkpoint.npz")):
        n += 1
        folder = f"{base}-{n}"
    return folder


def _configure_from_checkpoint(args):
    """Take every option the command line left out from the checkpoint's saved configuration;
    refuse one given with another value (only --epochs, --device, --out and --core may change)."""
    if not os.path.lexists(args.resume):
        raise UsageError(f"--resume: checkpoint {args.resume} does not exist")
    try:            # read_checkpoint says what a folder, a device or any other non-checkpoint is
        _, _, meta = read_checkpoint(args.resume)
    except CheckpointError as exc:
        raise UsageError(f"--resume: {exc}") from None
    check_meta(meta, args.resume)     # every field, type and range (schema.py), before any is used
    saved = dict(meta["args"], model=meta["model"])
    for name in DEFAULTS:
        if name in CHANGEABLE_ON_RESUME or name not in args.given:
            continue
        if name == "data_dir" and fingerprint.follows_data(meta, args.resume):   # checked by the data's identity
            continue
        if getattr(args, name) != saved.get(name):
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"--resume: {flag} {getattr(args, name)} differs from the checkpoint's "
                             f"{flag} {saved.get(name)}; leave {flag} out to continue the run as it was")
    for name in DEFAULTS:
        if name not in args.given and name not in ("epochs", "device", "out") and name in saved:
            setattr(args, name, saved[name])
    fingerprint.check_data_dir(args, meta)     # the checkpoint's data folder gone: say so, suggest --data-dir NEW
    if args.epochs is None and isinstance(saved.get("epochs"), int):
        args.epochs = saved["epochs"]
    if args.out is None:
        args.out = os.path.dirname(os.path.abspath(args.resume))


def _validate(args):
    if args.model.lower() not in MODELS:
        raise UsageError(f"unknown model {args.model!r}: choose one of {', '.join(MODELS)}")
    args.model = args.model.lower()
    if args.loss is not None and args.model != "autoencoder":
        raise UsageError(f"--loss {args.loss}: only --model autoencoder has a reconstruction loss to choose "
                         f"(--model {args.model} trains with cross-entropy)")
    if args.model == "autoencoder" and args.loss is None:
        args.loss = "mse"           # the model's default, saved by name so a resume compares like with like
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
