"""Continuing a saved run: its weights, optimizer, scheduler, history and random state, and, after
a Ctrl-C in mid-epoch, the batches of that epoch still to train."""
from ..checkpoint import CheckpointError, read_checkpoint
from ..random import set_rng_state
from .errors import UsageError
from .outputs import heal
from .schema import check_fit, check_meta


def restore(state):
    """Continue the run saved in --resume's checkpoint: weights, optimizer and scheduler state,
    history, the RNG and, after a Ctrl-C, the position inside the interrupted epoch."""
    args = state.args
    path = args.resume
    try:        # read again (the file may have changed since options.py read it), checked whole, then loaded
        model_state, optimizer_state, meta = read_checkpoint(path)
    except CheckpointError as exc:
        raise UsageError(f"--resume: {exc}") from None
    check_meta(meta, path)
    check_fit(model_state, optimizer_state, meta, path, state.module, state.optimizer, len(state.train_loader),
              1 if state.group is None else state.group.size)
    if meta["model"] != args.model:
        raise UsageError(f"--resume: checkpoint {path} holds the model {meta['model']!r} (meta.model), "
                         f"not {args.model!r}")
    try:
        state.module.load_state_dict(model_state)
        state.optimizer.load_state_dict({"state": optimizer_state, "param_groups": meta["optimizer"]["param_groups"]})
    except (KeyError, ValueError, RuntimeError) as exc:    # what check_fit lets through is loaded: not expected
        raise UsageError(f"--resume: checkpoint {path} does not fit the model or its optimizer: {exc}") from None
    state.scheduler.load_state_dict(meta["scheduler"])
    # the optimizer stepped before the checkpoint: torch's scheduler-before-optimizer warning would be
    # a false alarm when the resumed epoch has no batch left (a Ctrl-C after its last one)
    state.optimizer._opt_called = True
    state.history, state.start_epoch = meta["history"], meta["epoch"] + 1
    if meta.get("partial"):      # saved by Ctrl-C in the middle of an epoch
        state.position = dict(meta["partial"], rng_after=meta["rng_state"])
        if state.group is not None and state.group.rank != 0:   # rank 0 carries every rank's sums so far
            state.position.update(loss_sum=0.0, correct=0, seen=0)
        set_rng_state(meta["epoch_rng_state"])
    else:
        set_rng_state(meta["rng_state"])
    print(f"resumed from {args.resume}: epoch {meta['epoch']} done"
          + (f", {state.position['batches']} batches into epoch {state.start_epoch}"
             if state.position["batches"] else "") + _engine_change(meta["args"].get("core"), args.core))
    heal(state)     # metrics.json (and --plot's plots) from the checkpoint's history: they never lag it


def _engine_change(saved_core, core):
    """What the resume line adds when the run goes on on another engine than the checkpoint's."""
    if saved_core is None or saved_core == core:
        return ""
    engine = {False: "the fast paths", True: "the core engine"}
    return (f"; it was trained on {engine[saved_core]} and goes on on {engine[core]} (the same numbers "
            f"but for rounding: not bit for bit the uninterrupted run)")


def remaining_batches(loader, position):
    """An iterator over the batches of this epoch still to train: the loader draws the epoch's order
    (on a resume in mid-epoch, from the interrupted epoch's random state), the `position["batches"]`
    done are skipped, not trained again, and the random state is then set back to where the
    interrupted run had it."""
    batches = iter(loader)
    for _ in range(position["batches"]):
        next(batches)
    if "rng_after" in position:
        set_rng_state(position.pop("rng_after"))
    return batches
