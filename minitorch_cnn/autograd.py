"""minitorch_cnn.autograd, as torch.autograd: grad modes, `Function` for ops written by a user,
`grad` and `backward`.

The engine's own autograd is minitorch_cnn/core/autograd.py: its `Function` works on raw arrays
and is what every op of the engine subclasses (`mt.Function` is that one).  This module gives
torch's user-facing names on top of the same graph:

    no_grad, enable_grad, set_grad_enabled, inference_mode   context managers and decorators
    Function        forward(ctx, *args) and backward(ctx, *grad_outputs) on Tensors, as torch's
    grad, backward  torch.autograd.grad / torch.autograd.backward

Departures from torch, each refused by name rather than silently different:
  * inference_mode is no_grad plus `is_inference_mode_enabled()`: tensors made inside are ordinary
    tensors (no `is_inference()`, and later autograd use of them is not refused);
  * no double backward: `create_graph=True` raises, and a Function's backward runs on Tensors
    that record no graph (as with `once_differentiable`).
"""
import functools
import inspect
import sys
import types

import numpy as np

from .backend import get_array_module
from .core import autograd as _core
from .core import hooks as _hooks
from .core.autograd import (Context, accumulate, is_grad_enabled,  # noqa: F401
                            post_order, topological_order)
from .core.hooks import register_post_backward_hook  # noqa: F401
from .core.tensor import Tensor
from .core.versions import VersionCounter  # noqa: F401

_inference_mode = [False]


def _set_grad_enabled(mode):
    _core._grad_enabled[0] = bool(mode)


def is_inference_mode_enabled():
    return _inference_mode[0]


# ---- grad modes ------------------------------------------------------------------------------
class _GradModeDecorator:
    """A context manager that also decorates a function (or generator function): each call runs
    inside a fresh copy of the context, as torch's grad modes do."""

    def clone(self):
        return type(self)()

    def __call__(self, function):
        if inspect.isgeneratorfunction(function):
            @functools.wraps(function)
            def generator_in_mode(*args, **kwargs):
                generator = function(*args, **kwargs)
                request = None
                while True:           # the mode holds while the generator runs, not between yields
                    try:
                        with self.clone():
                            response = generator.send(request)
                    except StopIteration as stop:
                        return stop.value
                    request = yield response
            return generator_in_mode

        @functools.wraps(function)
        def in_mode(*args, **kwargs):
            with self.clone():
                return function(*args, **kwargs)
        return in_mode


class _NoParamGradMode(_GradModeDecorator):
    """`@no_grad` without parentheses decorates too."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamGradMode):
    """Context manager and decorator: ops inside record no graph (inference, optimizer steps)."""

    def __init__(self):
        self.prev = False

    def __enter__(self):
        self.prev = is_grad_enabled()
        _set_grad_enabled(False)

    def __exit__(self, exc_type, exc_value, traceback):
        _set_grad_enabled(self.prev)


class enable_grad(_NoParamGradMode):
    """Context manager and decorator: ops inside record the graph, even inside no_grad."""

    def __enter__(self):
        self.prev = is_grad_enabled()
        _set_grad_enabled(True)

    def __exit__(self, exc_type, exc_value, traceback):
        _set_grad_enabled(self.prev)


class set_grad_enabled(_GradModeDecorator):
    """set_grad_enabled(mode): sets the mode at once (a function call), and restores the previous
    mode at the end of a `with` block; as a decorator, only the decorated calls run in `mode`."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'mode' (position 1) must be bool, "
                            f"not {type(mode).__name__}")
        self.prev = is_grad_enabled()
        self.mode = mode
        _set_grad_enabled(mode)

    def __call__(self, function):
        _set_grad_enabled(self.prev)      # decorating must not change the mode of the caller
        return super().__call__(function)

    def __enter__(self):
        _set_grad_enabled(self.mode)

    def __exit__(self, exc_type, exc_value, traceback):
        _set_grad_enabled(self.prev)

    def clone(self):
        return type(self)(self.mode)

    def __repr__(self):
        return f"{type(self).__module__}.set_grad_enabled(mode={self.mode})"

    __str__ = __repr__


class inference_mode(_GradModeDecorator):
    """inference_mode(mode=True): here the same as no_grad (mode=False: grad enabled), plus
    `is_inference_mode_enabled()`.  torch also marks the tensors made inside as inference tensors
    and later refuses them in autograd; this engine does not track that (see the module doc)."""

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)

    def __init__(self, mode=True):
        self.mode = mode

    def __enter__(self):
        self.prev = (is_grad_enabled(), _inference_mode[0])
        _set_grad_enabled(not self.mode)
        _inference_mode[0] = bool(self.mode)

    def __exit__(self, exc_type, exc_value, traceback):
        _set_grad_enabled(self.prev[0])
        _inference_mode[0] = self.prev[1]

    def clone(self):
        return type(self)(self.mode)


# ---- Function: a user's op on Tensors, as torch.autograd.Function -----------------------------
class FunctionCtx(Context):
    """The `ctx` a user's forward and backward share; as in torch, it is the graph node itself.

    save_for_backward(*tensors)  tensors (or None) for backward, read back as ctx.saved_tensors
    needs_input_grad             one bool per forward argument
    mark_non_differentiable(*outputs), set_materialize_grads(value), and any attribute a user
    sets (ctx.k = k).
    """

    def __init__(self, function, args):
        tensors = [a if isinstance(a, Tensor) else None for a in args]
        super().__init__(function, tensors, tuple(t is not None and t.requires_grad for t in tensors))
        self.materialize_grads = True
        self.non_differentiable = ()
        self.output_shapes = ()

    def save_for_backward(self, *tensors):
        for index, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument "
                                f"{index} is of type {type(t).__name__}")
        self.saved = tensors
        # core/versions.py checks these before this node's backward runs: an in-place write to a
        # saved tensor afterwards is refused, as torch refuses it
        self.saved_versions = tuple((t._version_counter, t._version, t.shape, t.dtype)
                                    for t in tensors if t is not None)

    @property
    def saved_tensors(self):
        _hooks.check_not_freed(self)
        return tuple(self.saved)

    def mark_non_differentiable(self, *outputs):
        self.non_differentiable = outputs

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors):
        raise NotImplementedError("ctx.mark_dirty: in-place custom Functions are not supported by "
                                  "minitorch_cnn; return a new tensor from forward (this needs real "
                                  "PyTorch)")


class _GradientsByOutput(dict):
    """output index -> gradient array: what reaches the node of a Function with several outputs.

    The core sums the gradients that reach a node (`a + b`) and casts and checks them as arrays
    (`.astype`, `.shape`); this carries one array per output through those steps."""

    def __init__(self, entries, shape):
        super().__init__(entries)
        self.shape = shape

    def __add__(self, other):
        total = _GradientsByOutput(self, self.shape)
        for index, grad in other.items():
            total[index] = grad if index not in total else total[index] + grad
        return total

    def astype(self, dtype, copy=True):
        return self


class _Node(_core.Function):
    """The core Function (array interface) that runs a user Function's backward with Tensors."""

    @staticmethod
    def forward(ctx, *arrays, **params):
        raise RuntimeError("a user Function's node runs no forward: call the Function's .apply")

    @classmethod
    def backward(cls, ctx, grad_out):
        if ctx.output_shapes:        # several outputs: grad_out holds one array per output
            grads = [grad_out.get(i) for i in range(len(ctx.output_shapes))]
        else:
            grads = [grad_out]
        grads = [_as_grad_tensor(ctx, i, g) for i, g in enumerate(grads)]
        with no_grad():
            returned = cls.user.backward(ctx, *grads)
        return _check_returned(cls.__name__, ctx, returned)


class _OutputOf(_core.Function):
    """One output of a several-output Function: passes its gradient to the shared node, labelled."""

    @staticmethod
    def backward(ctx, grad_out):
        return (_GradientsByOutput({ctx.output_index: grad_out}, ctx.inputs[0].shape),)


def _as_grad_tensor(ctx, index, grad):
    if grad is not None:
        return Tensor(grad)
    if not ctx.materialize_grads or ctx.output_shapes[index] is None:
        return None     # (a non-Tensor output's gradient is None even when materialising)
    shape, dtype, xp = ctx.output_shapes[index]
    return Tensor(xp.zeros(shape, dtype=dtype))


def _check_returned(name, ctx, returned):
    """torch's rules for what backward returns: one gradient per forward argument (extra Nones
    dropped), None for a non-Tensor argument, each shaped like its input."""
    returned = returned if isinstance(returned, tuple) else (returned,)
    expected = len(ctx.inputs)
    if len(returned) > expected and all(g is None for g in returned[expected:]):
        returned = returned[:expected]
    if len(returned) != expected:
        raise RuntimeError(f"function {name}Backward returned an incorrect number of gradients "
                           f"(expected {expected}, got {len(returned)})")
    arrays = []
    for index, (t, g) in enumerate(zip(ctx.inputs, returned)):
        if g is not None and t is None:
            raise RuntimeError(f"function {name}Backward returned a gradient different than None "
                               f"at position {index + 1}, but the corresponding forward input was "
                               f"not a Variable")
        if g is not None and not isinstance(g, Tensor):
            raise TypeError(f"function {name}Backward returned a {type(g).__name__} at position "
                            f"{index + 1}: gradients must be Tensors or None")
        if g is not None and g.shape != t.shape:
            if not _expands_to(t.shape, g.shape):
                raise RuntimeError(f"Function {name}Backward returned an invalid gradient at index "
                                   f"{index} - got {list(g.shape)} but expected shape compatible with "
                                   f"{list(t.shape)}")
            g = Tensor(_sum_to(g.array, t.shape))
        arrays.append(None if g is None else g.array)
    return tuple(arrays)


def _expands_to(shape, target):
    """Whether `shape` broadcasts to `target` (torch then sums the gradient back to `shape`)."""
    if len(shape) > len(target):
        return False
    return all(s in (1, t) for s, t in zip(shape[::-1], target[::-1]))


def _sum_to(array, shape):
    """array (shape a broadcast of `shape`) summed over the broadcast axes: shape `shape`."""
    lead = array.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and array.shape[lead + i] != 1)
    return array.sum(axis=axes, keepdims=True).reshape(shape) if axes else array.reshape(shape)


class Function:
    """torch.autograd.Function: subclass it with two static methods on Tensors,

        forward(ctx, *args, **kwargs) -> Tensor or tuple   (runs with the graph off)
        backward(ctx, *grad_outputs) -> one gradient per forward argument (None: none)

    and call `MyFunction.apply(*args)`.  The call is recorded as one node of the engine's graph
    (its `grad_fn` is named after the class); the engine's backward calls `backward` there."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__}: autograd Functions are not instantiated; "
                           f"call {type(self).__name__}.apply(...)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args, **kwargs):
        separate_setup = cls.setup_context is not Function.setup_context
        args = _bind(cls.forward, args, kwargs, with_ctx=not separate_setup)
        ctx = FunctionCtx(_node_class(cls), args)
        with no_grad():
            if separate_setup:
                outputs = cls.forward(*args)
                cls.setup_context(ctx, tuple(args), outputs)
            else:
                outputs = cls.forward(ctx, *args)
        if not (is_grad_enabled() and any(ctx.needs_input_grad)):
            return outputs
        if isinstance(outputs, tuple):
            return _record_several(ctx, outputs)
        return _record_one(ctx, outputs)


def _bind(forward, args, kwargs, with_ctx):
    """Keyword arguments become positional ones, in forward's order (defaults filled in), so
    backward returns one gradient per forward parameter, as torch counts them."""
    if not kwargs:
        return list(args)
    signature = inspect.signature(forward)
    bound = signature.bind(None, *args, **kwargs) if with_ctx else signature.bind(*args, **kwargs)
    bound.apply_defaults()
    values = list(bound.args)
    return values[1:] if with_ctx else values


def _node_class(user, base=None, attribute="_minitorch_node"):
    """One core-Function class per user Function (and one for selecting each of its outputs),
    named after it: grad_fn shows `MyFnBackward`, as torch's."""
    node = user.__dict__.get(attribute)
    if node is None:
        node = type(user.__name__, (base or _Node,), {"user": user, "__module__": user.__module__})
        setattr(user, attribute, node)
    return node


def _own_output(output, ctx):
    """The Tensor to attach the node to: never an input or an existing graph tensor itself (a
    forward that returns its input returns a new tensor here, as in torch)."""
    if output.requires_grad or output._node is not None or any(output is t for t in ctx.inputs):
        return output.detach()
    return output


def _differentiable(output, ctx):
    return (isinstance(output, Tensor) and output.dtype.kind in "fc"
            and not any(output is t for t in ctx.non_differentiable))


def _record_one(ctx, output):
    if not _differentiable(output, ctx):     # (a non-Tensor output is returned as it is, as torch)
        return output
    output = _own_output(output, ctx)
    output.requires_grad, output._node = True, ctx
    return output


def _record_several(ctx, outputs):
    """A Function with several outputs: one node runs the user's backward; each differentiable
    output gets a small node that hands its gradient to it, labelled with its index."""
    joint = Tensor(np.zeros(0, dtype=np.float32))
    joint.requires_grad, joint._node = True, ctx
    ctx.output_shapes = tuple((o.shape, o.dtype, get_array_module(o.array)) if isinstance(o, Tensor)
                              else None for o in outputs)
    recorded = []
    for index, output in enumerate(outputs):
        if not _differentiable(output, ctx):
            recorded.append(output)
            continue
        output = _own_output(output, ctx)
        select = Context(_node_class(ctx.function.user, _OutputOf, "_minitorch_output"), [joint], (True,))
        select.output_index = index
        output.requires_grad, output._node = True, select
        recorded.append(output)
    return tuple(recorded)


# ---- grad and backward -----------------------------------------------------------------------
def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of sum(outputs * grad_outputs) with respect to each input, as a tuple
    (a dict when inputs is one); no tensor's .grad changes.  Runs the engine's backward with
    every .grad it would write set aside and restored."""
    if create_graph:
        raise NotImplementedError("autograd.grad(create_graph=True): minitorch_cnn has no double "
                                  "backward (backward runs on arrays and records no graph); this "
                                  "needs real PyTorch")
    if is_grads_batched:
        raise NotImplementedError("autograd.grad(is_grads_batched=True) is not supported by "
                                  "minitorch_cnn; loop over the grad_outputs instead")
    names = list(inputs) if isinstance(inputs, dict) else None
    inputs = _as_tuple(list(inputs.values()) if names is not None else inputs, "inputs")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    for index, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors does not require grad "
                               f"(input {index})")
    pairs = _output_pairs(outputs, grad_outputs)
    grads = _grads_set_aside(pairs, inputs, retain_graph)
    result = []
    for index, (t, g) in enumerate(zip(inputs, grads)):
        if g is None and materialize_grads:
            g = Tensor(get_array_module(t.array).zeros_like(t.array))
        elif g is None and not allow_unused:
            raise RuntimeError(f"The differentiated Tensor at index {index} appears to not have been "
                               f"used in the graph. Set allow_unused=True if this is the desired behavior.")
        result.append(g)
    return dict(zip(names, result)) if names is not None else tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    """Accumulate the gradients of sum(tensors * grad_tensors) into the leaves' .grad (only into
    `inputs`' .grad when given), as torch.autograd.backward."""
    if create_graph:
        raise NotImplementedError("autograd.backward(create_graph=True): minitorch_cnn has no double "
                                  "backward; this needs real PyTorch")
    if grad_variables is not None:
        if grad_tensors is not None:
            raise RuntimeError("'grad_tensors' and 'grad_variables' (deprecated) arguments both "
                               "passed to backward(). Please only use 'grad_tensors'.")
        grad_tensors = grad_variables
    if inputs is not None:
        inputs = _as_tuple(inputs, "inputs")
        found = grad(tensors, inputs, grad_tensors, retain_graph, allow_unused=True)
        for t, g in zip(inputs, found):
            if g is not None:
                accumulate(t, g.array)
        return
    pairs = _output_pairs(tensors, grad_tensors)
    for index, (output, seed) in enumerate(pairs):
        keep = retain_graph if index == len(pairs) - 1 else True   # the graph may be shared
        output.backward(seed, retain_graph=bool(keep))


def _as_tuple(value, what):
    values = (value,) if isinstance(value, Tensor) else tuple(value)
    for v in values:
        if not isinstance(v, Tensor):
            raise TypeError(f"autograd: {what} must be Tensors, got {type(v).__name__}")
    return values


def _output_pairs(outputs, grad_outputs):
    """[(output, seed or None)], checked as torch checks them."""
    outputs = _as_tuple(outputs, "outputs")
    if grad_outputs is None:
        seeds = (None,) * len(outputs)
    else:
        seeds = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    if len(seeds) != len(outputs):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs: got "
                           f"{len(seeds)} grad_outputs for {len(outputs)} outputs")
    for index, output in enumerate(outputs):
        if not output.requires_grad:
            raise RuntimeError(f"element {index} of tensors does not require grad and does not "
                               f"have a grad_fn")
    return list(zip(outputs, seeds))


def _grads_set_aside(pairs, inputs, retain_graph):
    """Run backward for each (output, seed) and read each input's gradient, leaving every .grad
    as it was (except a retained tensor's, as torch).  A leaf input's gradient is read from its
    .grad (after its hooks, as torch); a non-leaf's is caught as it reaches the tensor, before
    its own hooks run (as torch captures it)."""
    touched = {}     # id -> tensor: everything this backward could write a .grad to
    for output, _ in pairs:
        touched.setdefault(id(output), output)
        if output._node is not None:
            for node in topological_order(output):
                for t in node.inputs:
                    if t is not None:
                        touched.setdefault(id(t), t)
    for t in inputs:
        touched.setdefault(id(t), t)
    saved = [(t, t.grad) for t in touched.values()]
    caught, handles = {}, []
    for index, t in enumerate(inputs):
        if t._node is not None:
            handles.append(_hooks.register_tensor_hook(t, _catcher(caught, index), accumulate, prepend=True))
    try:
        for t, _ in saved:
            t.grad = None
        for index, (output, seed) in enumerate(pairs):
            keep = retain_graph if index == len(pairs) - 1 else True
            output.backward(seed, retain_graph=bool(keep))
        return [t.grad if t._node is None else caught.get(index) for index, t in enumerate(inputs)]
    finally:
        for handle in handles:
            handle.remove()
        for t, old_grad in saved:
            # as in torch, a tensor that retains its grad (a non-leaf after retain_grad()) has
            # this gradient added to its .grad; every other .grad is left as it was
            found, t.grad = t.grad, old_grad
            if t.retains_grad and found is not None:
                accumulate(t, found.array)


def _catcher(caught, index):
    """A hook that keeps (sums) the gradient reaching a tensor and passes it on unchanged."""
    def catch(grad):
        caught[index] = Tensor(grad.copy()) if index not in caught else caught[index] + Tensor(grad)
        return grad
    return catch


def once_differentiable(backward):
    """torch's decorator for a backward that cannot itself be differentiated: every backward here
    is (the engine has no double backward), so it changes nothing."""
    return backward


def _submodule(name, **names):
    """minitorch_cnn.autograd.<name>, as torch.autograd.<name> (importable too)."""
    module = types.ModuleType(f"{__name__}.{name}")
    module.__dict__.update(names)
    sys.modules[module.__name__] = module
    return module


grad_mode = _submodule("grad_mode", no_grad=no_grad, enable_grad=enable_grad, set_grad_enabled=set_grad_enabled,
                       inference_mode=inference_mode)
function = _submodule("function", Function=Function, FunctionCtx=FunctionCtx,
                      once_differentiable=once_differentiable)
