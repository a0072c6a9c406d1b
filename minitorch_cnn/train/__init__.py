"""The training CLI:  python -m minitorch_cnn.train --model lenet5

Trains one of the classic CNNs, the ResNet or the autoencoder on MNIST-style data with Adam or SGD
and a StepLR schedule; shows a progress bar, evaluates after each epoch, and writes to --out:

    checkpoint.npz   model, optimizer, scheduler, RNG state and epoch (no pickle)
    metrics.json     one record per epoch (losses, accuracies as fractions (the autoencoder's: null), timing)
    curves.png, filters.png, feature_maps.png (+ reconstructions.png for the autoencoder)
                     with --plot (needs matplotlib)

--resume continues a run so that it ends with the same weights as an uninterrupted
one; Ctrl-C saves a checkpoint at the end of the current batch and exits.  --core
trains on the core engine alone (every op's plain core Function; MINITORCH_CNN_FAST=0).

    mpiexec -n 2 python -m minitorch_cnn.train --model lenet5 --distributed

trains one model on 2 ranks (DistributedDataParallel, each rank on its DistributedSampler shard,
--batch-size per rank); rank 0 alone prints and writes.

The loop itself is loop.train_one_epoch, examples/train_digits.py's loop; the rest sits around it,
one concern per file:

    cli.py            main(): options -> run -> exit status; the engine switch, the allocator
    options.py        the options, their defaults and checks, a --resume's saved configuration
    data.py           which dataset, and the --limit-* prefixes
    runner.py         one run, step by step: build, start_run, run, report
    epoch.py          one epoch: train_epoch (the loop with its StepWatch), evaluate, record, save
    loop.py           train_one_epoch and evaluate: the loop in plain sight
    reads.py          the steps' numbers, read from the GPU in batches
    progress.py       the progress line
    checkpointing.py  the checkpoint after an epoch or a Ctrl-C; nothing non-finite is saved
    resume.py         restoring a checkpoint, and the batches of an interrupted epoch still to train
    schema.py         the checkpoint schema: what --resume reads, checked whole before any of it is used
    interrupt.py      Ctrl-C
    group.py          --distributed: the process group, its collectives, the ranks' agreement per step
    distributed.py    run() and run_epoch() under --distributed
    plots.py          --plot's pictures
    task.py           what the model learns: classification, or (the autoencoder) reconstruction
    errors.py         UsageError, Stop, Agreed, and how a stop is said
"""
from .. import optim                      # noqa: F401  (train.optim, train.F: what the tests patch)
from ..nn import functional as F          # noqa: F401, N812
from .checkpointing import save, save_interrupted
from .cli import main
from .data import load_data, prepare_data
from .distributed import run_distributed, run_epoch_distributed
from .epoch import StepWatch, finish_epoch, record_epoch, run_epoch, save_epoch, train_epoch
from .errors import Agreed, Stop, UsageError, _in_flags
from .interrupt import CtrlC
from .loop import evaluate, train_one_epoch
from .options import CHANGEABLE_ON_RESUME, DEFAULT_LR, DEFAULTS, parse_args
from .progress import Progress
from .reads import _READ_EVERY, StepReader, _epoch_start, _read_is_free
from .resume import remaining_batches, restore
from .runner import RunState, build, report, run, start_run

__all__ = ["Agreed", "CHANGEABLE_ON_RESUME", "CtrlC", "DEFAULTS", "DEFAULT_LR", "Progress", "RunState", "Stop",
           "StepReader", "StepWatch", "UsageError", "build", "evaluate", "finish_epoch", "load_data", "main",
           "parse_args", "prepare_data", "record_epoch", "remaining_batches", "report", "restore", "run",
           "run_distributed", "run_epoch", "run_epoch_distributed", "save", "save_epoch", "save_interrupted",
           "start_run", "train_epoch", "train_one_epoch"]
