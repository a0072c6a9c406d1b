"""Reverse-mode automatic differentiation: Function, the recorded graph, no_grad.

An op is a subclass of `Function` with two static methods on raw arrays:

    forward(ctx, *arrays, **params) -> array      # saves what backward needs on ctx
    backward(ctx, grad_out) -> tuple of arrays     # one gradient per input (None: none)

`Function.apply(*tensors, **params)` unwraps the tensors, runs `forward`, and,
when a gradient is wanted, keeps its `ctx` on the output as the graph node.
`backward()` later walks the nodes in reverse topological order and calls each
`backward` once, with the sum of all the gradients that reached its output.
"""
import contextlib

import numpy as np

from .backend import get_array_module
from .tensor import Tensor   # tensor.py imports this module at its bottom, once Tensor exists

_grad_enabled = [True]


def is_grad_enabled():
    return _grad_enabled[0]


@contextlib.contextmanager
def _grad_mode(enabled):
    previous = _grad_enabled[0]
    _grad_enabled[0] = enabled
    try:
        yield
    finally:
        _grad_enabled[0] = previous


def no_grad():
    """Context manager: ops inside it record no graph (inference, optimizer steps)."""
    return _grad_mode(False)


def enable_grad():
    return _grad_mode(True)


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


class Context:
    """One recorded call, as in PyTorch where `ctx` is the graph node itself.

    function, inputs     the op and its input tensors (None for non-tensor inputs)
    input_nodes          each input's node when the call was recorded: an in-place op may later
                         give the same Tensor object a new node, and the gradient must still
                         reach the value this op read
    needs_input_grad     one bool per input: backward may skip gradients nobody asked
                         for (the data fed to the first layer needs none)
    saved                the arrays forward kept for backward (None once backward freed them)
    saved_versions       (counter, version) of each tensor whose memory is among `saved`:
                         backward refuses to run if one was changed in place since
    """

    def __init__(self, function, inputs, needs_input_grad):
        self.function, self.inputs, self.needs_input_grad = function, inputs, needs_input_grad
        self.input_nodes = tuple(None if t is None else t._node for t in inputs)
        self.saved = ()
        self.saved_versions = ()

    def save_for_backward(self, *arrays):
        self.saved = arrays


class Function:
    @staticmethod
    def forward(ctx, *arrays, **params):
        raise NotImplementedError(f"{__class__.__name__} subclasses define forward")

    @staticmethod
    def backward(ctx, grad_out):
        raise NotImplementedError(f"{__class__.__name__} subclasses define backward")

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors; record it when any input requires grad."""
        tensors = [x if isinstance(x, Tensor) else None for x in inputs]
        arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
        _check_same_device(cls, tensors)
        needs = tuple(t is not None and t.requires_grad for t in tensors)
        record = _grad_enabled[0] and any(needs)
        ctx = Context(cls, tensors, needs if record else (False,) * len(needs))   # no graph, no gradients
        # NaN and inf propagate silently, as in torch: NumPy would warn on inf - inf, 0/0, log(0).
        with np.errstate(all="ignore"):
            out = Tensor(cls.forward(ctx, *arrays, **params))
        _share_version_if_view(out, tensors)
        if record:
            out.requires_grad = True
            out._node = ctx
            ctx.saved_versions = _versions_of_saved(ctx.saved, tensors + [out])
        return out


def _aliases(a, b):
    """True when arrays a and b may share memory (a view of the other, or the same)."""
    if a is b:
        return True
    if getattr(a, "base", None) is None and getattr(b, "base", None) is None:
        return False      # two arrays that own their memory: distinct (the common case, no check)
    return bool(get_array_module(a).may_share_memory(a, b))


def _share_version_if_view(out, tensors):
    if getattr(out.data, "base", None) is None:
        # a fresh array (the op computed new values), or an input returned as it is
        tensors = [t for t in tensors if t is not None and t.data is out.data]
    for t in tensors:
        if t is not None and _aliases(out.data, t.data):
            out._version_counter = t._version_counter
            t._version_counter.is_view = True
            return


def _versions_of_saved(saved, tensors):
    """(counter, version) for every tensor whose memory the op saved for its backward."""
    versions = {}
    for array in saved or ():
        if not hasattr(array, "shape"):
            continue
        for t in tensors:
            if t is not None and id(t._version_counter) not in versions and _aliases(array, t.data):
                # shape and dtype, not the tensor: the output is among `tensors`, and holding it
                # here would make a reference cycle that keeps every activation alive until gc runs
                versions[id(t._version_counter)] = (t._version_counter, t._version_counter.value,
                                                    t.shape, t.dtype)
    return tuple(versions.values())


def _check_same_device(fn, tensors):
    devices = {t.device for t in tensors if t is not None}
    if len(devices) > 1:
        raise RuntimeError(f"{fn.__name__}: expected all tensors to be on the same device, "
                           f"but found at least two devices, {' and '.join(sorted(devices))}")


def post_order(start, children):
    """`start` and everything reachable through children(item), each after all of its children.

    Iterative depth-first search, so a chain of 10,000 ops needs no recursion; the last of
    children(item) is visited first.
    """
    order, visited = [], set()
    stack = [(start, False)]
    while stack:
        item, expanded = stack.pop()
        if expanded:
            order.append(item)
            continue
        if id(item) in visited:
            continue
        visited.add(id(item))
        stack.append((item, True))
        stack.extend((child, False) for child in children(item) if id(child) not in visited)
    return order


def _topological_order(root):
    """Nodes reachable from `root`, each after every node that consumes it (reversed post-order)."""
    order = post_order(root._node, lambda node: [parent for parent in node.input_nodes if parent is not None])
    order.reverse()
    return order


_post_backward_hooks = {}


def register_post_backward_hook(hook):
    """hook() runs after every backward() that finished without error (DistributedDataParallel
    averages the gradients there); returns a handle with .remove()."""
    key = object()
    _post_backward_hooks[key] = hook
    return _HookHandle(_post_backward_hooks, key)


class _HookHandle:
    def __init__(self, table, key):
        self.table, self.key = table, key

    def remove(self):
        self.table.pop(self.key, None)


def run_backward(root, grad, retain_graph=False):
    """Propagate `grad` (an array shaped like root) to every leaf that requires grad."""
    _propagate(root, grad, retain_graph)
    for hook in list(_post_backward_hooks.values()):    # a hook may remove itself
        hook()


def _propagate(root, grad, retain_graph):
    if root._node is None:  # a leaf: its gradient is the seed itself
        _accumulate(root, grad)
        return
    if root._retains_grad:  # y.retain_grad(); y.backward(g) leaves y.grad = g, as torch
        _accumulate(root, grad)
    grads = {id(root._node): grad}
    for node in _topological_order(root):
        grad_out = grads.pop(id(node), None)
        if grad_out is None:
            continue
        if node.saved is None:
            raise RuntimeError("Trying to backward through the graph a second time: the saved "
                               "arrays were freed; call backward(retain_graph=True) the first time")
        for counter, version, shape, dtype in node.saved_versions:
            if counter.value != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an "
                    f"in-place operation: the {dtype} tensor of shape {shape} that "
                    f"{node.function.__name__} saved is at version {counter.value}; expected version "
                    f"{version} instead.  Compute out of place (y = y + 1, not y += 1) before backward()")
        with np.errstate(all="ignore"):
            input_grads = node.function.backward(node, grad_out)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) != len(node.inputs):
            raise RuntimeError(f"{node.function.__name__}.backward returned {len(input_grads)} "
                               f"gradients for {len(node.inputs)} inputs")
        for t, parent, needed, g in zip(node.inputs, node.input_nodes, node.needs_input_grad, input_grads):
            if t is None or g is None or not needed:
                continue
            if g.shape != t.shape:
                raise RuntimeError(f"{node.function.__name__}.backward: gradient shape "
                                   f"{g.shape} does not match input shape {t.shape}")
            if g.dtype != t.dtype:
                # A gradient has its input's dtype (a float32 leaf mixed with float64 data
                # still gets a float32 .grad), as in torch.
                g = g.astype(t.dtype)
            if parent is None or (t._retains_grad and parent is t._node):
                _accumulate(t, g)
            if parent is not None:
                key = id(parent)
                # Sum the gradients of a tensor used by several ops; a fresh
                # array the first time so an op's own saved arrays are never mutated.
                grads[key] = g if key not in grads else grads[key] + g
        if not retain_graph:
            node.saved = None


def _accumulate(tensor, grad):
    if grad.dtype != tensor.dtype:
        grad = grad.astype(tensor.dtype)
    if tensor.grad is None:
        # A copy: backward passes may hand the same array to several inputs.
        tensor.grad = Tensor(grad.copy(order="K"))   # keep its memory order: no transposing copy
    else:
        tensor.grad.data += grad
