"""How the CLI says a run stopped: the last good checkpoint (a readable, finite one) and what to
change, in the words of what the user passed."""
import sys

from .schema import last_good


def _stopped(what, checkpoint_path, args, optimizer=None):
    """Say why training stopped, which checkpoint is the last good one (only a readable, finite one:
    schema.last_good) and what to try; exit status 1.  `optimizer`: the run's, whose learning rate
    says whether the schedule grew it (--gamma > 1)."""
    good, why = last_good(checkpoint_path)
    last = good if good is not None else f"none ({why})"
    lr = optimizer.param_groups[0]["lr"] if optimizer is not None and optimizer.param_groups else None
    print(f"error: {what}; training stopped. The last good checkpoint: {last}; {_advice(args, lr)}.",
          file=sys.stderr)
    return 1


def _advice(args, lr=None):
    """What to change after a run diverged, in the words of what the user passed: --gamma when the
    schedule grew the learning rate to `lr`, else --lr; a resumed run keeps its checkpoint's values."""
    given, resumed = getattr(args, "given", set()), getattr(args, "resume", None) is not None
    gamma, every = getattr(args, "gamma", None), getattr(args, "step_size", None)
    if lr is not None and gamma is not None and gamma > 1 and lr > args.lr:
        grew = (f"multiplies the learning rate by {gamma:g} every {every} epoch{'s' * (every != 1)} "
                f"(it grew from {args.lr:g} to {lr:g})")
        if "gamma" in given or not resumed:
            return f"--gamma {gamma:g} {grew}: try a --gamma of at most 1"
        return (f"the checkpoint's gamma {gamma:g} {grew}; a resumed run keeps it: start a new run with a "
                f"--gamma of at most 1")
    if resumed:
        return (f"a resumed run keeps its checkpoint's learning rate ({args.lr:g}): start a new run with a "
                f"smaller --lr")
    return f"try a smaller --lr (now {args.lr})"
