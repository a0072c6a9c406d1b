"""The training loop itself: one epoch of steps, and the evaluation after it.

train_one_epoch is examples/train_digits.py's loop, with one addition: a `watch` that sees
each step.  All the CLI does beyond the loop (reading the GPU's numbers in batches, the
progress line, Ctrl-C, the ranks' agreement under --distributed) is that watch's business
(epoch.StepWatch); resuming in mid-epoch is a matter of which `batches` the loop is given.
"""
import numpy as np

from .. import backend, no_grad
from ..nn import functional as F
from ..ops.loss import check_deferred_targets
from .progress import Progress


def train_one_epoch(model, optimizer, batches, watch, criterion=None):
    """Forward, loss (cross-entropy, or criterion(logits, y): see task.py), backward and step for each (x, y)
    in `batches`.  watch.step_ready(loss, logits, y) sees each loss before its backward (and ends the epoch
    there by raising Stop), watch.step_taken() each finished step, and watch.epoch_done() the end of the epoch."""
    model.train()
    for x, y in batches:
        optimizer.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y) if criterion is None else criterion(logits, y)
        watch.step_ready(loss, logits, y)
        loss.backward()
        optimizer.step()
        watch.step_taken()
    watch.epoch_done()


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
            total_loss = total_loss + F.cross_entropy(logits, y, reduction="sum").array.astype(np.float64)
            correct = correct + (logits.argmax(axis=1) == y).array.sum()
            seen += y.shape[0]
            progress.update(batch)
    model.train()
    check_deferred_targets()
    return float(backend.to_numpy(total_loss)) / seen, int(backend.to_numpy(correct)) / seen
