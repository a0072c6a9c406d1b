"""Writing a run's checkpoint: after each epoch, and in mid-epoch after a Ctrl-C (with the
position inside the epoch and the random state that drew its order).  Nothing non-finite is
ever written."""
import numpy as np

from .. import backend
from ..checkpoint import save_checkpoint
from ..random import get_rng_state
from .errors import Stop, UsageError
from .stopped import _stopped
from .options import DEFAULTS


def _first_non_finite(model, optimizer):
    """The name of the first parameter, buffer, learning rate or optimizer state array holding NaN or
    inf, or None."""
    for name, value in model.state_dict().items():
        if value.dtype.kind == "f" and not np.isfinite(backend.to_numpy(value.array)).all():
            return f"the model's {name}"
    for group in optimizer.param_groups:     # the schedule's lr (a --gamma > 1 grows it to inf)
        if not np.isfinite(group["lr"]):
            return f"the learning rate ({group['lr']})"
    for index, entries in optimizer.state_dict()["state"].items():
        for name, value in entries.items():
            if not np.isfinite(backend.to_numpy(getattr(value, "array", np.asarray(value)))).all():   # Tensors
                return f"the optimizer's {name} of parameter {index}"
    return None


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
    if getattr(args, "data_fingerprint", None) is not None:    # what data this is (fingerprint.py)
        meta["data_fingerprint"] = args.data_fingerprint
    if partial is not None:
        meta.update(partial={k: v for k, v in partial.items() if k != "rng_after"}, epoch_rng_state=epoch_rng_state)
    try:
        save_checkpoint(state.checkpoint_path, state.module, state.optimizer, meta)
    except OSError as exc:      # a full disk, a folder made read-only
        raise UsageError(f"could not write {state.checkpoint_path} ({exc.strerror or exc}); the previous "
                         f"checkpoint, if any, is unchanged") from None


def save_interrupted(state, epoch, epoch_rng_state):
    """After a Ctrl-C in epoch `epoch`: save the position inside it; exit status 130 (1 if it cannot be saved)."""
    try:
        save(state, epoch - 1, partial=state.position, epoch_rng_state=epoch_rng_state)
    except Stop as broken:
        return _stopped(f"{broken} in epoch {epoch}", state.checkpoint_path, state.args, state.optimizer)
    print(f"saved {state.checkpoint_path} ({state.position['batches']}/{len(state.train_loader)} batches into "
          f"epoch {epoch}); continue with --resume {state.checkpoint_path}")
    return 130
