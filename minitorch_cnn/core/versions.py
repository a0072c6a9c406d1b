"""Version counters: how autograd notices that an array it saved was changed in place.

Not needed to understand backpropagation (core/autograd.py calls these at two marked
points); needed so that `y += 1` after `z = y * w` fails loudly instead of giving a wrong
gradient, as torch's `_version` does.
"""
from ..backend import get_array_module


class VersionCounter:
    """How many times a tensor's memory has been changed in place (torch's `_version`).

    A view (reshape, transpose, indexing with slices) and `detach()` share their base's
    counter, since a write through one is a write to the other.  `is_view` marks a counter
    that an op's view shares: an in-place op recorded on such a tensor would leave the
    base's graph stale, so it is refused.
    """
    __slots__ = ("value", "is_view")

    def __init__(self):
        self.value, self.is_view = 0, False


def aliases(a, b):
    """True when arrays a and b may share memory (a view of the other, or the same)."""
    if a is b:
        return True
    if getattr(a, "base", None) is None and getattr(b, "base", None) is None:
        return False      # two arrays that own their memory: distinct (the common case, no check)
    return bool(get_array_module(a).may_share_memory(a, b))


def after_forward(ctx, out, tensors):
    """An op's output that views an input shares its counter; remember the versions of the
    tensors whose memory the op saved for its backward."""
    candidates = tensors
    if getattr(out.array, "base", None) is None:
        # a fresh array (the op computed new values), or an input returned as it is
        candidates = [t for t in tensors if t is not None and t.array is out.array]
    for t in candidates:
        if t is not None and aliases(out.array, t.array):
            out._version_counter = t._version_counter
            t._version_counter.is_view = True
            break
    ctx.saved_versions = _versions_of_saved(ctx.saved, tensors + [out]) if out._node is ctx else ()


def _versions_of_saved(saved, tensors):
    versions = {}
    for array in saved or ():
        if not hasattr(array, "shape"):
            continue
        for t in tensors:
            if t is not None and id(t._version_counter) not in versions and aliases(array, t.array):
                # shape and dtype, not the tensor: the output is among `tensors`, and holding it
                # here would make a reference cycle that keeps every activation alive until gc runs
                versions[id(t._version_counter)] = (t._version_counter, t._version_counter.value,
                                                    t.shape, t.dtype)
    return tuple(versions.values())


def check_saved(node):
    """Refuse to run a node's backward when an array it saved has been written since."""
    for counter, version, shape, dtype in node.saved_versions:
        if counter.value != version:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"in-place operation: the {dtype} tensor of shape {shape} that "
                f"{node.function.__name__} saved is at version {counter.value}; expected version "
                f"{version} instead.  Compute out of place (y = y + 1, not y += 1) before backward()")
