"""Each step's numbers (its loss, its count of correct predictions, its batch size), read from
the device in batches and accounted for in order.

On the GPU, reading a step's loss on the host (loss.item()) waits for the step to finish: one
stall per step, while the GPU could already run the next one.  So there each step's loss and
count of correct predictions stay on the device, and are read together, in one transfer, when
the progress line is redrawn, at most _READ_EVERY steps apart, on Ctrl-C and at the end of the
epoch.  A non-finite loss is then found up to that many steps late (the steps after it were
taken, with NaN); the run stops as before, naming the batch, and saves nothing from it.  On the
CPU reading is free: each loss is read before its backward, as always.
"""
import math

import numpy as np

from .. import backend
from ..ops.loss import check_deferred_targets
from .errors import Stop

_READ_EVERY = 32


def _read_is_free(array):
    """Whether reading `array` on the host is free (NumPy) instead of a wait for the GPU."""
    return backend.device_of(array) == "cpu"


def _epoch_start():
    """The position of an epoch before its first batch (a StepReader updates it batch by batch)."""
    return {"batches": 0, "loss_sum": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}


class StepReader:
    """Accounts for the steps of one epoch in `position` (batches, loss sum, correct, seen), in the
    progress line and in `batch_losses` ((fraction of the epoch done, loss) per batch, for the
    curves), from the numbers kept on the device until a read.  With counts_correct=False (an
    autoencoder: y is its target image, see task.py) every step counts 0 correct."""

    def __init__(self, position, progress, batches_per_epoch, batch_losses=None, counts_correct=True):
        self.position, self.progress, self.batches_per_epoch = position, progress, batches_per_epoch
        self.batch_losses, self.counts_correct = batch_losses, counts_correct
        self.pending = []      # (loss, correct, batch size) of the steps not read yet, on the device

    def add(self, loss, logits, y):
        """Keep a step's numbers, unread."""
        correct = (logits.argmax(axis=1) == y).array.sum() if self.counts_correct \
            else backend.get_array_module(loss.array).zeros_like(loss.array)
        self.pending.append((loss.array, correct, y.shape[0]))

    def drop_last(self):
        """Forget the last step added (one that is not taken)."""
        self.pending.pop()

    def read_if_free(self):
        """Read now where that is free (the CPU): before the backward, so a non-finite loss takes no step."""
        if self.pending and _read_is_free(self.pending[-1][0]):
            self.read()

    def read_if_due(self, stopping=False):
        """Read when the progress line is due, _READ_EVERY steps are pending, or the epoch is `stopping`."""
        if self.pending and (len(self.pending) >= _READ_EVERY or stopping
                             or self.progress.due(self.position["batches"] + len(self.pending))):
            self.read()

    def read(self):
        """Account for the pending steps in order, from one host read of all their numbers; raises
        Stop at a non-finite loss, naming its batch."""
        if not self.pending:
            return
        check_deferred_targets()   # a target outside the classes, found on the GPU: its ValueError
        xp = backend.get_array_module(self.pending[0][0])
        numbers = backend.to_numpy(xp.stack([xp.stack([loss.astype(np.float64), correct.astype(np.float64)])
                                             for loss, correct, _ in self.pending]))
        sizes = [size for _, _, size in self.pending]
        self.pending.clear()
        position = self.position
        for (value, correct), size in zip(numbers.tolist(), sizes):
            if not math.isfinite(value):
                raise Stop(f"the loss became {value} at batch {position['batches'] + 1}")
            position["batches"] += 1
            position["loss_sum"] += value * size
            position["correct"] += int(correct)
            position["seen"] += size
            if self.batch_losses is not None:
                self.batch_losses.append((position["batches"] / self.batches_per_epoch, value))
        self.progress.update(position["batches"], position["loss_sum"] / position["seen"])
