"""One epoch of a run: train (the loop of loop.py, with the CLI's watch around its steps),
evaluate, record, save."""
import math
import time

from ..random import get_rng_state
from .checkpointing import save, save_interrupted
from .errors import Stop
from .stopped import _stopped
from .group import _agree_on_step
from .loop import evaluate, train_one_epoch
from .outputs import write_outputs
from .progress import Progress
from .reads import StepReader, _epoch_start
from .resume import remaining_batches
from .task import CLASSIFICATION


class StepWatch:
    """What the CLI does around each step of train_one_epoch: keeps the step's numbers for a
    StepReader (read before the backward where that is free, else when due); under --distributed
    has the ranks agree before the backward whether to take the step; after a step during which
    Ctrl-C was pressed, reads what is pending and stops (raises Stop("interrupted"))."""

    def __init__(self, reader, ctrl_c, group=None):
        self.reader, self.ctrl_c, self.group = reader, ctrl_c, group

    def step_ready(self, loss, logits, y):
        _announce(self.ctrl_c)
        self.reader.add(loss, logits, y)
        if self.group is not None:
            _agree_on_step(self.group, loss.array, self.ctrl_c, self.reader)
        self.reader.read_if_free()

    def step_taken(self):
        _announce(self.ctrl_c)
        self.reader.read_if_due(stopping=self.ctrl_c.requested)
        if self.ctrl_c.requested and self.group is None:     # under a group: stopped by the next agreement
            raise Stop("interrupted")

    def epoch_done(self):
        self.reader.read()


def _announce(ctrl_c):
    """Say which signal stopped the run, once, here in the main loop (never in a signal handler: see
    interrupt.py); a stand-in without announce() (a test's) says nothing."""
    if ctrl_c.requested and hasattr(ctrl_c, "announce"):
        ctrl_c.announce()


def train_epoch(model, optimizer, loader, progress, position, ctrl_c, batch_losses=None, group=None,
                task=CLASSIFICATION):
    """Run the remaining batches of one epoch; `position` holds what is done so far
    (batches, loss sum, correct, seen) and is updated as the steps' numbers are read (after
    every step on the CPU; see reads.py for the GPU).  Each batch's loss is appended to
    `batch_losses` (for the curves) as (fraction of the epoch done, loss).
    Raises Stop on a non-finite loss, or after the batch during which ctrl_c.requested was set.
    With a process `group` (--distributed) the ranks agree before each backward whether to go on
    (see group._agree_on_step), and a Ctrl-C stops them all before the same batch.  `task` (task.py)
    gives the batches their targets and the loss (an autoencoder's: its input, its reconstruction loss)."""
    reader = StepReader(position, progress, len(loader), batch_losses, counts_correct=task.accuracy)
    train_one_epoch(model, optimizer, task.batches(remaining_batches(loader, position), loader),
                    StepWatch(reader, ctrl_c, group), task.criterion)


def run_epoch(state, epoch, ctrl_c):
    """Train, evaluate, record and save epoch `epoch`; -> None to go on, or the exit status to stop with."""
    args = state.args
    epoch_rng_state = get_rng_state()   # what draws this epoch's order (kept for Ctrl-C)
    progress = Progress(len(state.train_loader), f"epoch {epoch}/{args.epochs}")
    started, epoch_losses = time.perf_counter(), []
    try:
        train_epoch(state.model, state.optimizer, state.train_loader, progress, state.position, ctrl_c, epoch_losses,
                    task=state.task)
    except Stop as stop:
        state.position["seconds"] += time.perf_counter() - started
        if str(stop) == "interrupted":
            _announce(ctrl_c)
            status = save_interrupted(state, epoch, epoch_rng_state)
            return ctrl_c.status if status == 130 else status      # 128 + the signal that stopped it
        return _stopped(f"{stop} of epoch {epoch}", state.checkpoint_path, args, state.optimizer)
    seconds = state.position["seconds"] + time.perf_counter() - started
    return finish_epoch(state, epoch, seconds, epoch_losses)


def finish_epoch(state, epoch, seconds, epoch_losses):
    """Evaluate on the test set, then record and save epoch `epoch`; -> None, or the exit status."""
    args = state.args
    test_loss, test_acc = (state.task.evaluate or evaluate)(state.module, state.test_loader,
                                                            f"epoch {epoch}/{args.epochs} test")
    if not math.isfinite(test_loss):
        return _stopped(f"the test loss became {test_loss} after epoch {epoch}", state.checkpoint_path, args,
                        state.optimizer)
    record_epoch(state, epoch, seconds, test_loss, test_acc)
    return save_epoch(state, epoch, epoch_losses)


def record_epoch(state, epoch, seconds, test_loss, test_acc):
    """Append the epoch's metrics to the history and print its line."""
    position, args = state.position, state.args
    record = {"epoch": epoch, "train_loss": position["loss_sum"] / position["seen"],
              "train_acc": state.task.train_acc(position), "test_loss": test_loss,
              "test_acc": test_acc, "seconds": seconds, "images_per_s": position["seen"] / seconds,
              "lr": state.optimizer.param_groups[0]["lr"]}
    state.history.append(record)
    print(state.task.epoch_line(record, args.epochs))     # accuracies, or (autoencoder) none


def save_epoch(state, epoch, epoch_losses):
    """Step the scheduler, then write the checkpoint, metrics.json and (--plot) the plots;
    -> None, or exit status 1 when the model is no longer finite, 2 when metrics.json or the plots
    could not be written (outputs.py)."""
    args = state.args
    state.scheduler.step()
    state.position = _epoch_start()
    try:
        save(state, epoch)
    except Stop as broken:
        return _stopped(f"{broken} after epoch {epoch}", state.checkpoint_path, args, state.optimizer)
    state.batch_losses.extend((epoch - 1 + fraction, loss) for fraction, loss in epoch_losses)
    # metrics.json and (--plot, after every epoch, so a stopped run has its plots too) the plots, from the
    # history the checkpoint now holds; a failure to write them is one line saying the checkpoint is safe
    return write_outputs(state)
