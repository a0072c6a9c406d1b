"""Module and Parameter: the PyTorch-shaped container for layers and their state.

Assigning a Parameter or a Module to an attribute registers it, so a model's
parameters, buffers and state_dict keys come from its attribute names, exactly
as in PyTorch: `features.0.conv.weight` is `model.features[0].conv.weight`.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from .. import backend
from ..tensor import Tensor

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Parameter(Tensor):
    """A Tensor that is a module's learnable weight (requires_grad by default)."""

    def __init__(self, data, requires_grad=True):
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model: override `forward`."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    # ---- registration -----------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 f"before assigning {name!r}")
        # PyTorch's rules: a Parameter or Module registers; a name already registered keeps its
        # table and its place in it (so the state_dict order does not change), and None keeps
        # it registered (bias=None); anything else is refused for that name.
        def refuse(kind, expected):
            raise TypeError(f"cannot assign {type(value).__name__} as {kind} {name!r} of "
                            f"{type(self).__name__} ({expected} or None expected)")
        if isinstance(value, Parameter):
            table = self._parameters
        elif name in self._parameters:
            table = self._parameters if value is None else refuse("parameter", "Parameter")
        elif isinstance(value, Module):
            table = self._modules
        elif name in self._modules:
            table = self._modules if value is None else refuse("module", "Module")
        elif name in self._buffers:
            table = self._buffers if value is None or isinstance(value, Tensor) else refuse("buffer", "Tensor")
        else:
            object.__setattr__(self, name, value)
            return
        for other in (self._parameters, self._buffers, self._modules):
            if other is not table:
                other.pop(name, None)
        table[name] = value
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        for table in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def register_buffer(self, name, array):
        """State that is saved and moved with the module but not trained (running_mean...)."""
        self._buffers[name] = None if array is None else (array if isinstance(array, Tensor) else Tensor(array))

    def register_parameter(self, name, param):
        self._parameters[name] = param

    def add_module(self, name, module):
        """Register `module` (or None) as the child `name`, checked as torch checks it."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.add_module: {type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}.add_module: module name should be a string, "
                            f"got {type(name).__name__}")
        if "." in name:
            raise KeyError(f"{type(self).__name__}.add_module: module name can't contain \".\", got: {name}")
        if name == "":
            raise KeyError(f"{type(self).__name__}.add_module: module name can't be empty string \"\"")
        if name not in self._modules and hasattr(self, name):
            raise KeyError(f"{type(self).__name__}.add_module: attribute '{name}' already exists")
        self._modules[name] = module

    # ---- running ----------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        for hook in self._forward_hooks.values():
            replaced = hook(self, args, out)
            out = out if replaced is None else replaced
        return out

    def register_forward_hook(self, hook):
        """hook(module, inputs, output) runs after every forward; returns a handle with .remove()."""
        key = object()
        self._forward_hooks[key] = hook
        return _HookHandle(self._forward_hooks, key)

    # ---- traversal --------------------------------------------------------
    def apply(self, fn):
        """fn(module) on every submodule, children before parents, then on self (torch's order,
        e.g. for custom initialisation); returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def named_modules(self, prefix="", memo=None):
        """Every module once (a module used twice, e.g. tied weights, under its first name)."""
        memo = set() if memo is None else memo
        if self in memo:
            return
        memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        return ((n, m) for n, m in self._modules.items() if m is not None)

    def children(self):
        return (m for _, m in self.named_children())

    def _named(self, table):
        seen = set()     # a shared Parameter is listed once, so an optimizer steps it once
        for prefix, module in self.named_modules():
            for name, value in getattr(module, table).items():
                if value is not None and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{prefix}.{name}" if prefix else name), value

    def _state_entries(self, prefix=""):
        """(key, tensor) for state_dict: every parameter and buffer under every name it has
        (PyTorch's state_dict lists a shared module under each of its names)."""
        for table in (self._parameters, self._buffers):
            for name, value in table.items():
                if value is not None:
                    yield prefix + name, value
        for name, child in self._modules.items():
            if child is not None:
                yield from child._state_entries(f"{prefix}{name}.")

    def named_parameters(self):
        return self._named("_parameters")

    def parameters(self):
        return (p for _, p in self.named_parameters())

    def named_buffers(self):
        return self._named("_buffers")

    def buffers(self):
        return (b for _, b in self.named_buffers())

    # ---- modes and gradients ---------------------------------------------
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data[...] = 0

    # ---- state ------------------------------------------------------------
    def state_dict(self):
        """name -> NumPy array copy, in PyTorch's key order (a module's parameters,
        then its buffers, then its children's)."""
        return OrderedDict((key, backend.to_numpy(value.data).copy()) for key, value in self._state_entries())

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays (anything np.asarray takes, CPU torch tensors too) into the existing
        parameters and buffers, keeping their dtype and device."""
        own = OrderedDict(self._state_entries())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            if hasattr(value, "detach") and hasattr(value, "cpu"):   # a torch tensor
                value = value.detach().cpu().numpy()
            value = np.asarray(backend.to_numpy(value.data if isinstance(value, Tensor) else value))
            if value.shape != target.shape:
                raise ValueError(f"{type(self).__name__}.load_state_dict: {key} has shape "
                                 f"{value.shape} in the checkpoint, expected {target.shape}")
            xp = backend.get_array_module(target.data)
            target.data[...] = xp.asarray(value.astype(target.dtype, copy=False))
        return IncompatibleKeys(missing, unexpected)

    # ---- device and dtype -------------------------------------------------
    def _apply(self, convert):
        """Replace every parameter's (and gradient's) array in place: same Parameter objects,
        so an optimizer built before .to() still holds them."""
        for module in self.modules():
            for table in (module._parameters, module._buffers):
                for t in table.values():
                    if t is not None:
                        t.data = convert(t.data)
                        if t.grad is not None:
                            t.grad.data = convert(t.grad.data)
        return self

    def to(self, device=None, dtype=None):
        """Module.to('cuda' | 'cpu') and/or to(float64); floating arrays only change dtype."""
        if dtype is None and device is not None and not isinstance(device, str):
            device, dtype = None, device
        dtype = None if dtype is None else np.dtype(getattr(dtype, "name", dtype))

        def convert(a):
            if device is not None:
                a = backend.to_device(a, device)
            if dtype is not None and a.dtype.kind == "f":
                a = a.astype(dtype, copy=False)
            return a
        return self._apply(convert)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def double(self):
        return self.to(dtype=np.float64)

    def float(self):
        return self.to(dtype=np.float32)

    # ---- printing ---------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}({extra}" if extra else f"{type(self).__name__}("
        return head + "\n" + "\n".join(lines) + "\n)"


class _HookHandle:
    def __init__(self, table, key):
        self.table, self.key = table, key

    def remove(self):
        self.table.pop(self.key, None)
