"""Reverse-mode automatic differentiation: Function, the recorded graph, backward.

An op is a subclass of `Function` with two static methods on raw arrays:

    forward(ctx, *arrays, **params) -> array      # saves what backward needs on ctx
    backward(ctx, grad_out) -> tuple of arrays     # one gradient per input (None: none)

`Function.apply(*inputs, **params)` unwraps the tensors, runs `forward`, and, when a
gradient is wanted, keeps its `ctx` on the output as the graph node.  `backward(root)`
later visits the nodes in reverse topological order and calls each `backward` once, with
the sum of all the gradients that reached its output (docs/01_graph.md).

The lines marked `# [versions]` and `# [hooks]` call core/versions.py and core/hooks.py:
the in-place checks and the hooks, which the chain rule does not need.
"""
import contextlib

import numpy as np

from . import hooks, versions
from .tensor import Tensor

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


class Context:
    """One recorded call; as in PyTorch, `ctx` is the graph node itself.

    function, inputs     the op and its input tensors (None for non-tensor inputs)
    input_nodes          each input's node when the call was recorded (an in-place op may
                         later give the same Tensor a new node; the gradient must reach the
                         value this op read)
    needs_input_grad     one bool per input: backward may skip gradients nobody asked for
    saved                the arrays forward kept for backward (None once backward freed them)
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
        raise NotImplementedError("Function subclasses define forward")

    @staticmethod
    def backward(ctx, grad_out):
        raise NotImplementedError("Function subclasses define backward")

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors; record it when any input requires grad."""
        tensors = [x if isinstance(x, Tensor) else None for x in inputs]
        arrays = [x.array if isinstance(x, Tensor) else x for x in inputs]
        hooks.check_same_device(cls, tensors)                        # [hooks]
        needs = tuple(t is not None and t.requires_grad for t in tensors)
        record = _grad_enabled[0] and any(needs)
        ctx = Context(cls, tensors, needs if record else (False,) * len(needs))
        # NaN and inf propagate silently, as in torch: NumPy would warn on inf - inf, 0/0, log(0).
        with np.errstate(all="ignore"):
            out = Tensor(cls.forward(ctx, *arrays, **params))
        if record and out.dtype.kind in "fc":      # integer and bool results carry no gradient
            out.requires_grad, out._node = True, ctx
        versions.after_forward(ctx, out, tensors)                    # [versions]
        return out


def post_order(start, children):
    """`start` and everything reachable through children(item), each after all of its children.

    Iterative depth-first search, so a chain of 10,000 ops needs no recursion.
    """
    order, visited = [], set()
    stack = [(start, False)]
    while stack:
        item, expanded = stack.pop()
        if expanded:
            order.append(item)
        elif id(item) not in visited:
            visited.add(id(item))
            stack.append((item, True))
            stack.extend((child, False) for child in children(item) if id(child) not in visited)
    return order


def topological_order(root):
    """Nodes reachable from `root`, each before every node it consumes (reversed post-order)."""
    order = post_order(root._node, lambda node: [p for p in node.input_nodes if p is not None])
    order.reverse()
    return order


def backward(root, grad, retain_graph=False):
    """Propagate `grad` (an array shaped like root) to every leaf that requires grad."""
    if root._node is None or root._retains_grad:   # a leaf: its gradient is the seed itself
        accumulate(root, grad)
    if root._node is not None:
        grads = {id(root._node): grad}
        for node in topological_order(root):
            grad_out = grads.pop(id(node), None)
            if grad_out is not None:
                _backward_one(node, grad_out, grads, retain_graph)
    hooks.after_backward()                                           # [hooks]


def _backward_one(node, grad_out, grads, retain_graph):
    """Run one node's backward and pass each input's gradient on (summed over fan-out)."""
    grad_out = hooks.before_node_backward(node, grad_out)            # [hooks]
    versions.check_saved(node)                                       # [versions]
    with np.errstate(all="ignore"):
        input_grads = node.function.backward(node, grad_out)
    input_grads = input_grads if isinstance(input_grads, tuple) else (input_grads,)
    input_grads = hooks.check_gradients(node, input_grads)           # [hooks]
    for t, parent, needed, g in zip(node.inputs, node.input_nodes, node.needs_input_grad, input_grads):
        if t is None or g is None or not needed:
            continue
        g = g.astype(t.dtype, copy=False)     # a gradient has its input's dtype, as in torch
        if parent is None or (t._retains_grad and parent is t._node):
            accumulate(t, g)
        if parent is not None:
            # a fresh array the first time, so an op's own saved arrays are never mutated
            grads[id(parent)] = g if id(parent) not in grads else grads[id(parent)] + g
    if not retain_graph:
        node.saved = None


def accumulate(tensor, grad):
    """tensor.grad += grad (a copy the first time: a backward may hand one array to two inputs)."""
    grad = grad.astype(tensor.dtype, copy=False)
    if tensor.grad is None:
        tensor.grad = Tensor(grad.copy(order="K"))   # keep its memory order: no transposing copy
    else:
        tensor.grad.array += grad
