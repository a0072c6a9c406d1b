"""Optimizer: parameter groups, per-parameter state, and a PyTorch-shaped state_dict."""
import numpy as np

from .. import backend


class Optimizer:
    """Holds `param_groups` (dicts of params + hyper-parameters) and `state` (per parameter)."""

    def __init__(self, params, defaults):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = defaults
        self.param_groups = []
        for group in groups:
            group = {**defaults, **group, "params": list(group["params"])}
            self.param_groups.append(group)
        self.state = {}   # Parameter -> dict of arrays / counters

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    def _params_with_grad(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p._version_counter.value += 1   # the step writes p in place (torch counts it too)
                    yield group, p, p.grad.data

    def state_dict(self):
        """{'state': {index: {name: array or number}}, 'param_groups': [{..., 'params': [index]}]}."""
        index, groups = {}, []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (backend.to_numpy(v).copy() if hasattr(v, "shape") else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(g["params"]) != len(own["params"]) for g, own in zip(groups, self.param_groups)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved parameter groups do "
                             "not match this optimizer's")
        params = {}
        for saved, own in zip(groups, self.param_groups):
            for i, p in zip(saved["params"], own["params"]):
                params[i] = p
            # a state that went through JSON (a checkpoint's meta) has lists where tuples were (betas)
            own.update({k: tuple(v) if isinstance(v, list) else v for k, v in saved.items() if k != "params"})
        self.state = {}
        for i, entries in state_dict["state"].items():
            p = params[int(i)]
            xp = backend.get_array_module(p.data)
            # counters (step) are integers; every other entry is an array shaped like the parameter,
            # also for a 0-d parameter (whose arrays a checkpoint returns as Python floats)
            for name, value in entries.items():
                if not isinstance(value, (int, np.integer)) and np.shape(value) != p.shape:
                    raise ValueError(f"{type(self).__name__}.load_state_dict: state {name!r} of parameter {i} "
                                     f"has shape {np.shape(value)}, expected {p.shape}")
            self.state[p] = {k: (v if isinstance(v, (int, np.integer))
                                 else xp.asarray(np.asarray(v), dtype=p.dtype).copy()) for k, v in entries.items()}
