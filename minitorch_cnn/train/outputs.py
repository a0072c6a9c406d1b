"""What a run writes beside its checkpoint: metrics.json (the history) and, with --plot, the plots.

They never lag the checkpoint.  The checkpoint carries the history, so they are written from it
right after each checkpoint (write_outputs), and --resume writes them again from the checkpoint's
history before training (heal): a run killed between its checkpoint and metrics.json, or whose
metrics.json or plots could not be written, comes back whole.  A failure to write them (a full
disk, a folder made read-only) is one `error:` line saying that the checkpoint is safe and how to
get them back, exit status 2, never a traceback.
"""
import json
import os
import sys

from ..random import get_rng_state, set_rng_state
from ..serialization import atomic_write
from .errors import UsageError
from .plots import write_plots

METRICS = "metrics.json"
OUTPUT_FAILED_STATUS = 2


def _write_metrics(args, history):
    text = json.dumps(history, indent=2).encode()
    atomic_write(os.path.join(args.out, METRICS), lambda f: f.write(text))


def _write(state):
    """metrics.json, then (--plot) the plots, from state.history; _Failed (naming what) on an OSError."""
    args = state.args
    try:
        _write_metrics(args, state.history)
    except OSError as exc:
        raise _Failed(os.path.join(args.out, METRICS), exc) from None
    if args.plot and state.history:
        try:
            state.plot_paths = write_plots(args, state.history, state.batch_losses, state.module, state.test_set,
                                           state.data_name)
        except OSError as exc:
            raise _Failed(f"the plots (--plot) in {args.out}", exc) from None


class _Failed(Exception):
    def __init__(self, what, exc):
        super().__init__(what)
        self.what, self.reason = what, exc.strerror or str(exc) or type(exc).__name__


def write_outputs(state):
    """After a checkpoint was written: metrics.json and (--plot) the plots; -> None, or exit status 2
    after one error line saying the checkpoint is safe."""
    try:
        _write(state)
    except _Failed as failed:
        path = state.checkpoint_path
        done = state.history[-1]["epoch"] if state.history else 0
        print(f"error: could not write {failed.what} ({failed.reason}); the checkpoint {path} is safe "
              f"({done} of {state.args.epochs} epochs saved): once it can be written (a full disk: make room), "
              f"--resume {path} writes {'them' if failed.what.startswith('the plots') else 'it'} again from the "
              f"checkpoint and goes on", file=sys.stderr)
        return OUTPUT_FAILED_STATUS
    return None


def heal(state):
    """On --resume, before training: metrics.json (and with --plot the plots) from the checkpoint's
    history, so that they never lag it (a kill between the checkpoint and them, a disk that was full).
    Says so when metrics.json was behind.  UsageError when they cannot be written."""
    group = state.group
    if group is not None and group.rank != 0:       # rank 0 alone writes
        return
    args, history = state.args, state.history
    path = os.path.join(args.out, METRICS)
    if not history and not os.path.exists(path):    # nothing trained yet (a Ctrl-C in epoch 1)
        return
    stale = _behind(path, history)
    rng = get_rng_state()       # the plots run the model in eval mode; the resumed run's randomness stays as saved
    try:
        _write(state)
    except _Failed as failed:
        raise UsageError(f"could not write {failed.what} ({failed.reason}) from the checkpoint {args.resume}, "
                         f"which is safe and unchanged: once it can be written (a full disk: make room), "
                         f"--resume it again") from None
    finally:
        set_rng_state(rng)
    if stale:
        print(f"note: {path} {stale}; written again from the checkpoint's history "
              f"({len(history)} epoch{'s' * (len(history) != 1)})", file=sys.stderr)


def _behind(path, history):
    """How metrics.json at `path` differs from the checkpoint's history ('was missing', ...), or None."""
    try:
        with open(path, encoding="utf-8") as f:
            written = json.load(f)
    except FileNotFoundError:
        return "was missing"
    except (OSError, ValueError):
        return "was unreadable"
    if written == history:
        return None
    if isinstance(written, list) and len(written) < len(history):
        return f"was behind the checkpoint ({len(written)} of its {len(history)} epochs)"
    return "did not match the checkpoint"
