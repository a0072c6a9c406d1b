"""The switch between the fast paths and the core, modelled on torch.backends.cudnn.

    import minitorch_cnn as mt
    mt.backends.fast.enabled = False           # every op runs its core Function from now on
    with mt.backends.fast.flags(enabled=False):
        loss = model(x)                        # ... or only inside this block

The environment variable MINITORCH_CNN_FAST=0 sets the default to off (the CLI's --core
does the same for one run).  A fast Function registers itself with `@replaces(CoreFunction)`;
the API layer asks `choose(CoreFunction)` which one to run, at each call, so the switch may
change between two forwards.  Both have the same class name, so grad_fn, mt.to_dot and error
messages read the same in either mode.
"""
import contextlib
import os

_OFF = ("0", "false", "no", "off")


def _default():
    value = os.environ.get("MINITORCH_CNN_FAST", "1").strip().lower()
    if value not in _OFF + ("1", "true", "yes", "on", ""):
        raise ValueError(f"MINITORCH_CNN_FAST must be 0 or 1, got {value!r}")
    return value not in _OFF


enabled = _default()
_replacements = {}     # core Function -> the fast Function that replaces it


def replaces(core_function):
    """Class decorator: the decorated fast Function runs instead of `core_function` while
    `enabled` is True.  It must keep the core Function's name and its apply() arguments."""
    def register(fast_function):
        if fast_function.__name__ != core_function.__name__:
            raise TypeError(f"the fast {fast_function.__name__} must keep the name of the core "
                            f"Function it replaces, {core_function.__name__}")
        _replacements[core_function] = fast_function
        return fast_function
    return register


def choose(core_function, *inputs, plain=True):
    """The Function to run for `core_function` now: its fast replacement while enabled.

    With the switch off, the core Function, unless one of `inputs` (the tensors the API passes
    for this check) is one the core does not define: a dtype other than float32 and float64, or
    no elements.  Those keep the fast Function, which carries torch's rules for float16
    (accumulated in float32), integer inputs and empty batches, so switching the fast paths off
    never changes an answer from torch's to something else.  plain=False says the same of a
    call for a reason the API knows (a bias that broadcasts, an empty output, ...).
    """
    replacement = _replacements.get(core_function, core_function)
    if enabled or not plain or not all(_core_defines(t) for t in inputs):
        return replacement
    return core_function


def _core_defines(tensor):
    if tensor is None or not hasattr(tensor, "dtype"):
        return True
    return tensor.dtype.name in ("float32", "float64") and tensor.array.size > 0


def replacements():
    """{core Function: fast Function}, for the tests and the docs' list of departures."""
    return dict(_replacements)


def set_flags(_enabled=None):
    """Set `enabled` (None leaves it); returns the previous value, as torch's set_flags."""
    global enabled
    previous = enabled
    if _enabled is not None:
        enabled = bool(_enabled)
    return previous


@contextlib.contextmanager
def flags(enabled=None):  # noqa: A002  (torch.backends.cudnn.flags's name)
    """Context manager: the fast paths on or off inside the block, restored after it."""
    previous = set_flags(enabled)
    try:
        yield
    finally:
        set_flags(previous)
