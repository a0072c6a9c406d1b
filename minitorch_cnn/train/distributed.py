"""The run under --distributed (mpiexec -n N python -m minitorch_cnn.train ... --distributed):
the same steps as runner.py, with the ranks agreeing at each one (see group.py)."""
import time

from ..random import get_rng_state
from .checkpointing import save_interrupted
from .data import prepare_data
from .epoch import _announce, finish_epoch, train_epoch
from .errors import Stop
from .stopped import _stopped
from .interrupt import CtrlC
from .progress import Progress
from .reads import _epoch_start
from .resume import restore
from .runner import report, start_run


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
                    epoch_losses, group, task=state.task)
    except Stop as stopped:
        stop = str(stopped)
    seconds = state.position["seconds"] + time.perf_counter() - started
    loss_sum, correct, seen = group.sum([state.position[k] for k in ("loss_sum", "correct", "seen")])
    state.position.update(loss_sum=loss_sum, correct=int(correct), seen=int(seen), seconds=seconds)
    if stop == "interrupted":       # every rank stopped at the same batch (group._agree_on_step)
        _agree_on_signal(group, ctrl_c)
    if group.rank != 0:
        status = None if stop is None else 130 if stop == "interrupted" else 1
        if stop is None:
            state.scheduler.step()
            state.position = _epoch_start()
    elif stop == "interrupted":
        status = save_interrupted(state, epoch, epoch_rng_state)
        status = ctrl_c.status if status == 130 else status     # 128 + the signal, as a single process
    elif stop is not None:
        status = _stopped(f"{stop} of epoch {epoch}", state.checkpoint_path, args, state.optimizer)
    else:
        status = finish_epoch(state, epoch, seconds, epoch_losses)
    status = group.broadcast_int(-1 if status is None else status)
    return None if status == -1 else status


def _agree_on_signal(group, ctrl_c):
    """The signal that stopped the ranks, on every rank's ctrl_c (the largest number when they got
    different ones; SIGTERM from a scheduler usually reaches them all, a Ctrl-C or SIGHUP perhaps one),
    so that the exit status is 128 + it; rank 0 says which, once, even when it did not get it itself."""
    signum = group.max_code(ctrl_c.signum or 0)
    if signum and ctrl_c.signum != signum:
        ctrl_c.signum, ctrl_c.requested = signum, True
    if group.rank == 0:
        _announce(ctrl_c)
