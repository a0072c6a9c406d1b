"""One run of the CLI, step by step: the data, the model and its optimizer, the epochs, the report."""
import os
import re
import sys

from .. import optim
from ..models import get_model
from ..random import manual_seed
from .data import prepare_data
from .epoch import run_epoch
from .errors import UsageError
from .group import _distribute
from .interrupt import CtrlC
from .plots import write_plots
from .reads import _epoch_start
from .resume import restore
from .task import task_for


class RunState:
    """What one run holds: the model, its optimizer and scheduler, the data, and how far it got."""

    def __init__(self, args, model, optimizer, scheduler, train_loader, test_loader, test_set, data_name):
        self.args, self.model, self.optimizer, self.scheduler = args, model, optimizer, scheduler
        # what is saved, restored, evaluated and plotted: the plain module under DistributedDataParallel
        self.module = getattr(model, "module", model)
        self.task = task_for(self.module)   # classification, or an autoencoder's reconstruction (task.py)
        self.group = args.group         # None, or the process group under --distributed
        self.train_loader, self.test_loader, self.test_set = train_loader, test_loader, test_set
        self.data_name = data_name      # what the data is, in a few words, for the plots' titles
        self.checkpoint_path = os.path.join(args.out, "checkpoint.npz")
        self.history, self.start_epoch, self.position = [], 1, _epoch_start()
        self.batch_losses = []          # (fractional epoch, loss) of every batch this process trained
        self.plot_paths = []


def build(args, in_channels, num_classes):
    """The model (seeded by --seed), its optimizer and its StepLR scheduler."""
    manual_seed(args.seed)
    options = {} if args.loss is None else {"loss": args.loss}      # --loss: the autoencoder's only
    model = get_model(args.model, num_classes=num_classes, in_channels=in_channels, **options).to(args.device)
    params = list(model.parameters())
    if args.optimizer == "adam":
        optimizer = optim.Adam(params, lr=args.lr, weight_decay=args.weight_decay)
    else:
        optimizer = optim.SGD(params, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=args.step_size, gamma=args.gamma)
    return model, optimizer, scheduler


def start_run(args, train_set, test_set, data_name, in_channels):
    """Build the model and the loaders and create the output folder, printing both; -> a RunState."""
    from ..data import DataLoader
    num_classes = 10    # every MNIST-style dataset the CLI reads has ten classes
    model, optimizer, scheduler = build(args, in_channels, num_classes)
    n_params = sum(p.numel() for p in model.parameters())
    per_rank = "" if args.group is None else f" per rank x {args.group.size} ranks"
    engine = "; engine: core (fast paths off)" if args.core else ""
    print(f"model: {args.model} ({n_params:,} parameters) on {args.device}; {args.optimizer} lr {args.lr}, "
          f"batch {args.batch_size}{per_rank}, {args.epochs} epochs, StepLR({args.step_size}, {args.gamma}){engine}")
    if args.group is None:
        train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True).to(args.device)
    else:
        model, train_loader = _distribute(args, model, train_set)
    test_loader = DataLoader(test_set, batch_size=1000).to(args.device)
    if args.group is None or args.group.rank == 0:
        try:
            os.makedirs(args.out, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--out {args.out}: cannot create the folder ({exc.strerror})") from None
        remove_stale_temporaries(args.out)
    print(f"output: {args.out}")
    return RunState(args, model, optimizer, scheduler, train_loader, test_loader, test_set, data_name)


def run(args):
    """One run of the CLI, step by step; returns the exit status."""
    train_set, test_set, data_name, in_channels = prepare_data(args)
    state = start_run(args, train_set, test_set, data_name, in_channels)
    if args.resume:
        restore(state)
    with CtrlC() as ctrl_c:     # SIGINT, SIGTERM, SIGHUP: stop at the end of the batch and save
        for epoch in range(state.start_epoch, args.epochs + 1):
            status = run_epoch(state, epoch, ctrl_c)
            if status is not None:
                return status
            if ctrl_c.requested and epoch < args.epochs:     # the signal came while evaluating or saving
                return stop_after_epoch(state, epoch, ctrl_c)
        return report(state)


def stop_after_epoch(state, epoch, ctrl_c):
    """A stop signal came after epoch `epoch`'s last batch, and the epoch is saved: say so; -> 128 + signal."""
    ctrl_c.announce(f"epoch {epoch} is saved, stopping here", abortable=False)
    print(f"saved {state.checkpoint_path} ({epoch} of {state.args.epochs} epochs done); continue with "
          f"--resume {state.checkpoint_path}")
    return ctrl_c.status


# serialization.atomic_write's temporary files: .tmp-<PID of the writer>-<random><suffix>
_TEMPORARY = re.compile(r"\.tmp-(\d+)-[^-]*\Z")


def remove_stale_temporaries(folder):
    """Remove the temporary files that writers killed in mid-write (kill -9, a crash) left in the run
    `folder` (this run holds its lock: see lock.py): only those whose writer's PID names no running
    process, never a live writer's.  POSIX only (elsewhere os.kill(pid, 0) would end the process).
    -> the names removed."""
    if os.name != "posix":
        return []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    removed = []
    for name in names:
        match = _TEMPORARY.match(name)
        if match is None or _is_running(int(match.group(1))):
            continue
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            continue
        removed.append(name)
    if removed:
        by = "a writer that was killed" if len(removed) == 1 else "writers that were killed"
        print(f"note: removed {len(removed)} temporary file{'s' * (len(removed) > 1)} left in {folder} by {by}: "
              f"{', '.join(removed)}", file=sys.stderr)
    return removed


def _is_running(pid):
    """Whether process `pid` exists (one that is not ours to signal counts: it exists)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):     # PermissionError: another user's process
        return True
    return True


def report(state):
    """The closing lines: the plots written and the final accuracy (an autoencoder's: test loss); exit status 0."""
    args, history = state.args, state.history
    if args.plot and history:
        state.plot_paths = state.plot_paths or write_plots(args, history, state.batch_losses, state.module,
                                                           state.test_set, state.data_name)
        print(f"plots: {', '.join(state.plot_paths)}")
    if history:
        print(f"{state.task.final_line(history[-1])}; checkpoint {state.checkpoint_path}")
    return 0
