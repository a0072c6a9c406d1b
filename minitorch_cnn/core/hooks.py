"""What core/autograd.py calls around the chain rule, at its marked points: the checks that
turn a malformed graph into a clear error, the tensor hooks (torch's `Tensor.register_hook`),
and the hooks that run after a backward (DistributedDataParallel averages the gradients there).

Tensor hooks, as torch runs them: a hook sees a tensor's whole gradient of one backward (the
sum over every op that used it), once, and what it returns replaces that gradient.  A non-leaf
tensor's hooks live on its node and run before the node's backward (`before_node_backward`); a
leaf's gradients are held back as they arrive (`check_gradients`) and its hooks run on their
sum at the end of the backward, before the sum is added to `.grad` (`after_backward`).  A
retained non-leaf (`retain_grad()`) with hooks gets the hooked gradient in `.grad`, as in torch:
its node adds it there (`defer_retain`) rather than autograd as each piece arrives.

This module comes before core/tensor.py and core/autograd.py in the core's import order, so it
works on arrays: a hook here maps a gradient array to an array (minitorch_cnn/tensor.py wraps
the user's hook, on Tensors, into one), and adding to `.grad` goes through the `accumulate`
given with the hook (core/autograd.py's).
"""
from collections import OrderedDict

_post_backward_hooks = {}
_held_leaf_grads = OrderedDict()      # id(leaf) -> (leaf, summed gradient array) in this backward
_deferred_retains = []                # retained non-leaves whose node adds their .grad (see below)
_accumulate = [None]                  # accumulate(tensor, grad_array), given by register_tensor_hook


def register_post_backward_hook(hook):
    """hook() runs after every backward() that finished without error; returns a handle
    with .remove()."""
    key = object()
    _post_backward_hooks[key] = hook
    return _HookHandle(_post_backward_hooks, key)


class _HookHandle:
    """torch's RemovableHandle: .remove() (also on leaving a `with` block)."""

    def __init__(self, table, key):
        self.table, self.key = table, key

    def remove(self):
        self.table.pop(self.key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def register_tensor_hook(tensor, array_hook, accumulate, prepend=False):
    """array_hook(grad_array) -> grad_array, on `tensor`'s gradient (see the module doc), after
    the hooks already there (before them with prepend); accumulate(tensor, grad_array) adds a
    gradient to a .grad."""
    _accumulate[0] = accumulate
    owner = tensor if tensor._node is None else tensor._node
    table = owner.__dict__.setdefault("_grad_hooks", OrderedDict())
    key = object()
    table[key] = array_hook
    if prepend:
        table.move_to_end(key, last=False)
    return _HookHandle(table, key)


def run_tensor_hooks(owner, grad):
    """grad (an array) through owner's hooks, in the order they were registered."""
    for array_hook in list(getattr(owner, "_grad_hooks", {}).values()):
        grad = array_hook(grad)
    return grad


def before_node_backward(node, grad_out):
    """The node's gradient, after its output tensor's hooks (and the check that it was not freed)."""
    check_not_freed(node)
    if getattr(node, "_grad_hooks", None):
        grad_out = run_tensor_hooks(node, grad_out)
        retained = node.__dict__.pop("_retained_output", None)
        if retained is not None:
            _accumulate[0](retained, grad_out)
            retained._retains_grad = True
    return grad_out


def defer_retain(tensor):
    """tensor retains its grad and its node has hooks: the node adds the hooked gradient to
    .grad (before_node_backward), so autograd must not add the pieces as they arrive."""
    if tensor._retains_grad and tensor._node is not None and getattr(tensor._node, "_grad_hooks", None):
        tensor._retains_grad = False
        tensor._node._retained_output = tensor
        _deferred_retains.append(tensor)


def discard_held_gradients():
    """At the end of every backward (one that raised too): nothing it held back may reach a later
    backward, and every retained tensor retains its grad again."""
    _held_leaf_grads.clear()
    while _deferred_retains:
        tensor = _deferred_retains.pop()
        tensor._retains_grad = True
        if tensor._node is not None:
            tensor._node.__dict__.pop("_retained_output", None)


def after_backward():
    while _held_leaf_grads:
        _, (leaf, grad) = _held_leaf_grads.popitem(last=False)
        _accumulate[0](leaf, run_tensor_hooks(leaf, grad))
    for hook in list(_post_backward_hooks.values()):    # a hook may remove itself
        hook()


def check_same_device(function, tensors):
    devices = {t.device for t in tensors if t is not None}
    if len(devices) > 1:
        raise RuntimeError(f"{function.__name__}: expected all tensors to be on the same device, "
                           f"but found at least two devices, {' and '.join(sorted(map(str, devices)))}")


def check_not_freed(node):
    if node.saved is None:
        raise RuntimeError("Trying to backward through the graph a second time: the saved "
                           "arrays were freed; call backward(retain_graph=True) the first time")


def check_gradients(node, input_grads):
    """One gradient per input, each shaped like its input."""
    name = node.function.__name__
    if len(input_grads) != len(node.inputs):
        raise RuntimeError(f"{name}.backward returned {len(input_grads)} gradients for "
                           f"{len(node.inputs)} inputs")
    for t, g in zip(node.inputs, input_grads):
        if t is not None and g is not None and g.shape != t.shape:
            raise RuntimeError(f"{name}.backward: gradient shape {g.shape} does not match "
                               f"input shape {t.shape}")
    for t, parent in zip(node.inputs, node.input_nodes):
        if t is not None and parent is not None and parent is t._node:
            defer_retain(t)
    return tuple(_hold_if_hooked(t, needed, g) for t, needed, g
                 in zip(node.inputs, node.needs_input_grad, input_grads))


def _hold_if_hooked(tensor, needed, grad):
    """A hooked leaf's gradient waits for the end of the backward (None: autograd skips it)."""
    if grad is None or not needed or tensor._node is not None or not getattr(tensor, "_grad_hooks", None):
        return grad
    grad = grad.astype(tensor.dtype, copy=False)
    held = _held_leaf_grads.get(id(tensor))
    _held_leaf_grads[id(tensor)] = (tensor, grad if held is None else held[1] + grad)
    return None
