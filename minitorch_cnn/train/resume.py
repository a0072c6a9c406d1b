"""Continuing a saved run: its weights, optimizer, scheduler, history and random state, and, after
a Ctrl-C in mid-epoch, the batches of that epoch still to train."""
from ..checkpoint import CheckpointError, load_checkpoint
from ..random import set_rng_state
from .errors import UsageError


def restore(state):
    """Continue the run saved in --resume's checkpoint: weights, optimizer and scheduler state,
    history, the RNG and, after a Ctrl-C, the position inside the interrupted epoch."""
    args = state.args
    try:
        meta = load_checkpoint(args.resume, state.module, state.optimizer)
    except CheckpointError as exc:
        raise UsageError(str(exc)) from None
    if meta.get("model") != args.model:
        raise UsageError(f"--resume: {args.resume} was trained with --model {meta.get('model')}, "
                         f"not {args.model}")
    expected = state.scheduler.state_dict()
    # torch's bookkeeping keys: absent from checkpoints written before the schedulers followed torch
    bookkeeping = {"_step_count", "_is_initial", "_get_lr_called_within_step"}
    if not set(expected) - bookkeeping <= set(meta["scheduler"]) <= set(expected):
        raise UsageError(f"--resume: {args.resume}: the scheduler state has keys {sorted(meta['scheduler'])}, "
                         f"expected {sorted(expected)}")
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
