"""Module and Parameter: the PyTorch-shaped container for layers and their state.

Assigning a Parameter or a Module to an attribute registers it, so a model's
parameters, buffers and state_dict keys come from its attribute names, exactly
as in PyTorch: `features.0.conv.weight` is `model.features[0].conv.weight`.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from .. import backend
from ..tensor import Tensor, parse_to_args

class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns, as torch's: (missing_keys, unexpected_keys)."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class Parameter(Tensor):
    """A Tensor that is a module's learnable weight (requires_grad by default)."""

    def __init__(self, data=None, requires_grad=True):
        if data is None:            # torch's Parameter(): an empty float32 tensor
            data = np.empty(0, dtype=np.float32)
        super().__init__(data.array if isinstance(data, Tensor) else data, requires_grad=requires_grad)

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
        object.__setattr__(self, "_forward_hooks_with_kwargs", set())
        object.__setattr__(self, "_forward_hooks_always_called", set())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks_with_kwargs", set())
        object.__setattr__(self, "_non_persistent_buffers_set", set())

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

    def register_buffer(self, name, tensor, persistent=True):
        """State that moves with the module but is not trained (running_mean...); in the
        state_dict unless persistent=False.  (A NumPy array is taken too, as a Tensor.)"""
        where = f"{type(self).__name__}.register_buffer"
        if not isinstance(name, str):
            raise TypeError(f"{where}: buffer name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f"{where}: buffer name can't contain \".\"")
        if name == "":
            raise KeyError(f"{where}: buffer name can't be empty string \"\"")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"{where}: attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, (Tensor, np.ndarray)):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            f"(torch Tensor or None required)")
        self._buffers[name] = None if tensor is None else (tensor if isinstance(tensor, Tensor) else Tensor(tensor))
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

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

    def register_module(self, name, module):
        """The same as add_module, as torch's."""
        self.add_module(name, module)

    # ---- running ----------------------------------------------------------
    def forward(self, *input):   # noqa: A002  (torch's name)
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required \"forward\" function")

    def __call__(self, *args, **kwargs):
        """forward, with torch's hooks around it: pre-hooks may replace the inputs, forward hooks
        the output (hooks registered with_kwargs also see and may replace the keyword arguments)."""
        for key, hook in list(self._forward_pre_hooks.items()):
            if key in self._forward_pre_hooks_with_kwargs:
                replaced = hook(self, args, kwargs)
                if replaced is not None:
                    if not (isinstance(replaced, tuple) and len(replaced) == 2):
                        raise RuntimeError(f"forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {replaced}.")
                    args, kwargs = replaced
            else:
                replaced = hook(self, args)
                if replaced is not None:
                    args = replaced if isinstance(replaced, tuple) else (replaced,)
        try:
            out = self.forward(*args, **kwargs)
        except BaseException:
            for key, hook in list(self._forward_hooks.items()):
                if key in self._forward_hooks_always_called:
                    self._run_forward_hook(key, hook, args, kwargs, None)
            raise
        for key, hook in list(self._forward_hooks.items()):
            replaced = self._run_forward_hook(key, hook, args, kwargs, out)
            out = out if replaced is None else replaced
        return out

    def _run_forward_hook(self, key, hook, args, kwargs, out):
        if key in self._forward_hooks_with_kwargs:
            return hook(self, args, kwargs, out)
        return hook(self, args, out)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """hook(module, args, output) -> None or a new output, after every forward
        (hook(module, args, kwargs, output) with_kwargs; always_call: also when forward raised,
        with output None).  Returns a handle with .remove()."""
        handle = _add_hook(self._forward_hooks, hook, prepend,
                           extra=[(self._forward_hooks_with_kwargs, with_kwargs),
                                  (self._forward_hooks_always_called, always_call)])
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        raise NotImplementedError(f"{type(self).__name__}.register_full_backward_hook: module backward "
                                  f"hooks are not supported by minitorch_cnn (this needs real PyTorch); "
                                  f"Tensor.register_hook on the module's output gives the output's gradient")

    def register_full_backward_pre_hook(self, hook, prepend=False):
        raise NotImplementedError(f"{type(self).__name__}.register_full_backward_pre_hook: module backward "
                                  f"hooks are not supported by minitorch_cnn (this needs real PyTorch); "
                                  f"Tensor.register_hook on the module's output gives the output's gradient")

    def register_backward_hook(self, hook):
        raise NotImplementedError(f"{type(self).__name__}.register_backward_hook: module backward hooks "
                                  f"are not supported by minitorch_cnn (this needs real PyTorch)")

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) -> None or new args, before every forward (with_kwargs:
        hook(module, args, kwargs) -> None or (args, kwargs)).  Returns a handle with .remove()."""
        return _add_hook(self._forward_pre_hooks, hook, prepend,
                         extra=[(self._forward_pre_hooks_with_kwargs, with_kwargs)])

    # ---- traversal --------------------------------------------------------
    def apply(self, fn):
        """fn(module) on every submodule, children before parents, then on self (torch's order,
        e.g. for custom initialisation); returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Every module once (a module used twice, e.g. tied weights, under its first name;
        remove_duplicate=False: under each of its names)."""
        memo = set() if memo is None else memo
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def get_submodule(self, target):
        """The module at the dotted path `target` ("" is self), as torch's."""
        module = self
        for item in target.split(".") if target else []:
            if not hasattr(module, item):
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def modules(self, remove_duplicate=True):
        return (m for _, m in self.named_modules(remove_duplicate=remove_duplicate))

    def named_children(self):
        """(name, child) for each direct child, a child registered twice once (as torch)."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        return (m for _, m in self.named_children())

    def _named(self, table, prefix="", recurse=True, remove_duplicate=True):
        seen = set()     # a shared Parameter is listed once, so an optimizer steps it once
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is not None and (id(value) not in seen or not remove_duplicate):
                    seen.add(id(value))
                    yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def _state_entries(self, prefix=""):
        """(key, tensor) for state_dict: every parameter and buffer under every name it has
        (PyTorch's state_dict lists a shared module under each of its names)."""
        for table in (self._parameters, self._buffers):
            for name, value in table.items():
                if value is not None and not (table is self._buffers and name in self._non_persistent()):
                    yield prefix + name, value
        for name, child in self._modules.items():
            if child is not None:
                yield from child._state_entries(f"{prefix}{name}.")

    def _non_persistent(self):
        return self.__dict__.get("_non_persistent_buffers_set", ())

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    # ---- modes and gradients ---------------------------------------------
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad on every parameter (freezing a backbone: requires_grad_(False))."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.array[...] = 0

    # ---- state ------------------------------------------------------------
    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """name -> Tensor, in torch's key order (a module's parameters, then its persistent
        buffers, then its children's).  As in torch, each value shares memory with the
        parameter or buffer (detached unless keep_vars): copy it to keep a snapshot."""
        if args:
            raise TypeError(f"{type(self).__name__}.state_dict: positional arguments are deprecated "
                            f"in torch and not taken here; use destination=, prefix=, keep_vars=")
        destination = OrderedDict() if destination is None else destination
        for key, value in self._state_entries(prefix):
            destination[key] = value if keep_vars else value.detach()
        return destination

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy the values (Tensors, NumPy arrays, CPU torch tensors) into the existing parameters
        and buffers, keeping their dtype and device.  strict: a missing or unexpected key is a
        RuntimeError (as is a size mismatch, always); returns (missing_keys, unexpected_keys)."""
        if assign:
            raise NotImplementedError(f"{type(self).__name__}.load_state_dict: assign=True is not "
                                      f"supported by minitorch_cnn (values are copied in)")
        own = OrderedDict(self._state_entries())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = [] if not strict else (
            ([f"Missing key(s) in state_dict: {_quoted(missing)}. "] if missing else []) +
            ([f"Unexpected key(s) in state_dict: {_quoted(unexpected)}. "] if unexpected else []))
        loads = []
        for key, target in own.items():
            if key in state_dict:
                value = _as_numpy(state_dict[key])
                if value.shape != target.shape:
                    errors.append(f"size mismatch for {key}: copying a param with shape {value.shape} "
                                  f"from checkpoint, the shape in current model is {target.shape}.")
                loads.append((target, value))
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        for target, value in loads:
            xp = backend.get_array_module(target.array)
            target.array[...] = xp.asarray(value.astype(target.dtype, copy=False))
        return IncompatibleKeys(missing, unexpected)

    # ---- device and dtype -------------------------------------------------
    def _apply(self, convert):
        """Replace every parameter's (and gradient's) array in place: same Parameter objects,
        so an optimizer built before .to() still holds them."""
        for module in self.modules():
            for table in (module._parameters, module._buffers):
                for t in table.values():
                    if t is not None:
                        t.array = convert(t.array)
                        if t.grad is not None:
                            t.grad.array = convert(t.grad.array)
        return self

    def to(self, *args, **kwargs):
        """Module.to(device=None, dtype=None, non_blocking=False), .to(dtype), .to(tensor):
        moves every parameter and buffer in place; a dtype changes the floating ones only."""
        device, dtype, _, copy = parse_to_args(f"{type(self).__name__}.to", args, kwargs)
        if copy:
            raise TypeError(f"{type(self).__name__}.to() got an unexpected keyword argument 'copy'")
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got "
                            f"desired dtype={dtype}")

        def convert(a):
            if device is not None:
                a = backend.to_device(a, device)
            if dtype is not None and a.dtype.kind == "f":
                a = a.astype(dtype, copy=False)
            return a
        return self._apply(convert)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device if not isinstance(device, int) else f"cuda:{device}")

    def double(self):
        return self.to(dtype=np.float64)

    def float(self):
        return self.to(dtype=np.float32)

    def half(self):
        return self.to(dtype=np.float16)

    # ---- printing ---------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        """torch's layout: a one-line extra_repr alone stays on the first line; otherwise the
        extra_repr's lines, then one `(name): child` per child, each indented by two spaces."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self._modules.items()]
        if not child_lines and len(extra_lines) <= 1:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(extra_lines + child_lines) + "\n)"


def _add_hook(table, hook, prepend, extra):
    """Register hook in table (first when prepend); extra: (set, flag) pairs, the key joins
    each set whose flag is true.  -> a handle whose remove() undoes all of it."""
    key = object()
    table[key] = hook
    if prepend:
        table.move_to_end(key, last=False)
    for keys, flag in extra:
        if flag:
            keys.add(key)
    return _HookHandle(table, key, [keys for keys, _ in extra])


def _quoted(keys):
    return ", ".join(f'"{k}"' for k in keys)


def _as_numpy(value):
    """A state_dict value as a NumPy array: a Tensor, a torch tensor, an array, a number."""
    if isinstance(value, Tensor):
        return backend.to_numpy(value.array)
    if hasattr(value, "detach") and hasattr(value, "cpu"):   # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(backend.to_numpy(value))


class _HookHandle:
    """torch's RemovableHandle: .remove(), also on leaving a `with` block."""

    def __init__(self, table, key, key_sets=()):
        self.table, self.key, self.key_sets = table, key, key_sets

    def remove(self):
        self.table.pop(self.key, None)
        for keys in self.key_sets:
            keys.discard(self.key)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()
