"""What core/autograd.py calls around the chain rule, at its marked points: the checks that
turn a malformed graph into a clear error, and the hooks that run after a backward
(DistributedDataParallel averages the gradients there).
"""
_post_backward_hooks = {}


def register_post_backward_hook(hook):
    """hook() runs after every backward() that finished without error; returns a handle
    with .remove()."""
    key = object()
    _post_backward_hooks[key] = hook
    return _HookHandle(_post_backward_hooks, key)


class _HookHandle:
    def __init__(self, table, key):
        self.table, self.key = table, key

    def remove(self):
        self.table.pop(self.key, None)


def after_backward():
    for hook in list(_post_backward_hooks.values()):    # a hook may remove itself
        hook()


def check_same_device(function, tensors):
    devices = {t.device for t in tensors if t is not None}
    if len(devices) > 1:
        raise RuntimeError(f"{function.__name__}: expected all tensors to be on the same device, "
                           f"but found at least two devices, {' and '.join(sorted(devices))}")


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
