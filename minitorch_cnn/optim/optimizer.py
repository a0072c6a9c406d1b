"""Optimizer: parameter groups, per-parameter state and a state_dict, laid out as torch.optim's.

    param_groups   a list of dicts: {"params": [Parameter, ...], "lr": ..., the other hyper-parameters}
    state          a dict from parameter to its entries, each a Tensor: e.g. Adam's
                   {"step": 0-d float32 on the CPU, "exp_avg": like the parameter, "exp_avg_sq": ...}
    state_dict()   {"state": {index: entries}, "param_groups": [{..., "params": [index, ...]}]}:
                   the live entries (the Tensors themselves, not copies), as torch's

An update is written on the raw arrays (`p.array`, `state[...].array`), in place, with torch's
operations in torch's order: the state Tensors share that memory and see every step.
"""
import numbers
import warnings
from collections import defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from .. import backend
from ..autograd import enable_grad, no_grad
from ..tensor import Tensor


class Optimizer:
    """The base of every optimizer: `params` is an iterable of Tensors, of (name, Tensor) pairs or
    of dicts (parameter groups, each {"params": ..., any hyper-parameter to override}); `defaults`
    holds the hyper-parameters a group does not set.  A subclass updates one parameter in
    `_update(p, grad, group)`, or defines `step(closure=None)` itself."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or "
                            f"dicts, but got {_typename(params)}")
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if not param_groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self):
        # an lr scheduler wraps this instance's step (to warn when it runs first); a copy keeps
        # its own class's step, as torch's pickled optimizers do
        return {k: v for k, v in self.__dict__.items() if k not in ("step", "_opt_called")}

    def __repr__(self):
        groups = [f"Parameter Group {i}\n" + "".join(f"    {key}: {group[key]}\n" for key in sorted(group)
                                                    if key != "params")
                  for i, group in enumerate(self.param_groups)]
        return f"{type(self).__name__} (\n" + "\n".join(groups) + ")"

    def add_param_group(self, param_group):
        """Add a group ({"params": Tensors, hyper-parameter overrides}); the defaults fill the rest.
        A parameter may be in one group only (ValueError, as torch)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params, names = _params_and_names(param_group["params"])
        param_group["params"] = params
        if names:
            param_group["param_names"] = names
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        for group in self.param_groups:
            if ("param_names" in group) != bool(names):
                raise ValueError("all optimizer param groups should be with/without names. cannot add param "
                                 f"group {'with' if names else 'without'} names to the optimizer")
        taken = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Every parameter's .grad to None (default), or its values to zero in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.array[...] = 0
                    p.grad._version_counter.value += 1

    def step(self, closure=None):
        """One update of every parameter that has a gradient.  `closure` (optional) re-evaluates
        the loss, with gradients enabled, before the update; step returns its value (else None)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        # inf and NaN go through silently, as in torch
        with no_grad(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p._version_counter.value += 1   # written in place (torch counts it too)
                        self._update(p, p.grad.array, group)
        return loss

    def _update(self, p, grad, group):
        raise NotImplementedError(f"{type(self).__name__} must define step() (or _update())")

    # ---- state ----------------------------------------------------------------------------------
    def state_dict(self):
        """{'state': {index: {name: Tensor}}, 'param_groups': [{hyper-parameters, 'params': [index]}]}:
        indices number the parameters in group order; the entries are the optimizer's own Tensors."""
        index, start, groups = {}, 0, []
        for group in self.param_groups:
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            start += len(group["params"])
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": [index[id(p)] for p in group["params"]]})
        state = {(index[id(p)] if isinstance(p, Tensor) else p): entries for p, entries in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Take the hyper-parameters and state of `state_dict` (as state_dict() returns it) for this
        optimizer's parameters, matched by position.  A Tensor entry is cast to its parameter's
        dtype and device (and kept, not copied, when it already fits, as torch); NumPy arrays and
        numbers (a checkpoint's) become Tensors; an entry of the wrong shape is refused."""
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        params = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in self.param_groups)))
        state = defaultdict(dict)
        for key, entries in state_dict["state"].items():
            key = int(key) if isinstance(key, str) and key.isdigit() else key   # JSON made it a str
            if key in params:
                state[params[key]] = {name: self._cast_entry(params[key], key, name, value)
                                      for name, value in entries.items()}
            else:
                state[key] = entries
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group:
                saved.setdefault("param_names", group["param_names"])
            for name, default in self.defaults.items():
                saved.setdefault(name, default)        # saved before this hyper-parameter existed
                if isinstance(default, tuple) and isinstance(saved[name], list):
                    saved[name] = tuple(saved[name])   # JSON turned betas into a list
        self.state, self.param_groups = state, saved_groups

    def _cast_entry(self, p, index, name, value):
        if name == "step":   # the step counter stays on the CPU, float32 (numbers from old states too)
            return value if isinstance(value, Tensor) else Tensor(np.asarray(float(value), dtype=np.float32))
        if not isinstance(value, (Tensor, numbers.Number)) and not hasattr(value, "shape"):
            return value
        array = value.array if isinstance(value, Tensor) else np.asarray(value) if np.isscalar(value) else value
        if tuple(array.shape) != p.shape:
            raise ValueError(f"{type(self).__name__}.load_state_dict: state {name!r} of parameter {index} has "
                             f"shape {tuple(array.shape)}, expected {p.shape}")
        tensor = value if isinstance(value, Tensor) else Tensor(array)
        return tensor.to(device=p.device, dtype=p.dtype if p.dtype.kind == "f" else None)


# ---- helpers for the optimizers ---------------------------------------------------------------------
def refuse_unbuilt(optimizer, **arguments):
    """torch's arguments whose feature is not built here (name=(value, accepted values)): accepted at
    those values, refused by name otherwise."""
    for name, (value, accepted) in arguments.items():
        if value not in accepted:
            raise RuntimeError(f"{optimizer}: {name}={value!r} is not supported by minitorch_cnn (only "
                               f"{' or '.join(map(repr, accepted))}); this call needs real PyTorch")


def refuse_tensor_hyperparameters(optimizer, **values):
    """torch lets lr (and a few others) be a Tensor, to change it in place under compilation; here
    they are numbers."""
    for name, value in values.items():
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, Tensor):
                raise RuntimeError(f"{optimizer}: {name} as a Tensor is not supported by minitorch_cnn (pass "
                                   "a float); this call needs real PyTorch")


def zeros_like(p):
    """A state Tensor of zeros shaped, typed and placed like parameter `p`."""
    return Tensor(backend.get_array_module(p.array).zeros_like(p.array))


def step_counter():
    """torch's 'step' entry: a 0-d float32 Tensor on the CPU (counts exactly up to 2**24)."""
    return Tensor(np.zeros((), dtype=np.float32))


def count_step(state):
    """Add one to state['step']; its new value as a Python float (what torch's formulas use)."""
    state["step"].array += 1
    return float(state["step"].array)


def lerp_(target, end, weight):
    """target ← lerp(target, end, weight), in place, as torch computes it:
    target + w·(end − target) for |w| < 0.5, else end − (end − target)·(1 − w)."""
    difference = end - target
    if abs(weight) < 0.5:
        difference *= weight
        target += difference
    else:
        one = target.dtype.type(1)
        difference *= one - target.dtype.type(weight)   # torch's 1 − w, in the tensor's precision
        backend.get_array_module(target).subtract(end, difference, out=target)


def _params_and_names(params):
    """A group's parameters as a list, and their names where (name, Tensor) pairs gave them."""
    if isinstance(params, set):
        raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                        "ordering of tensors in sets will change between runs. Please use a list instead.")
    params = [params] if isinstance(params, Tensor) else list(params)
    names = [p[0] for p in params if isinstance(p, tuple)]
    params = [p[1] if isinstance(p, tuple) else p for p in params]
    if names and len(names) != len(params):
        raise ValueError("all optimizer params should be with/without names. Some param names are missing")
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}")
        if not (p.is_leaf or p._retains_grad):
            raise ValueError("can't optimize a non-leaf Tensor")
    return params, names


def _typename(value):
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
