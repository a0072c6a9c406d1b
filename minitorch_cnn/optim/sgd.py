"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
import numpy as np

from ..autograd import no_grad
from ..backend import get_array_module
from .optimizer import Optimizer


class SGD(Optimizer):
    """d = g + λθ;  b ← μb + (1 − τ)d  (b = d at the first step);
    θ ← θ − lr · (d + μb if nesterov else b)   — PyTorch's update, step for step."""

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: lr, momentum and weight_decay must be >= 0, got lr={lr}, "
                             f"momentum={momentum}, weight_decay={weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def step(self):
        with no_grad(), np.errstate(over="ignore", invalid="ignore"):   # inf/NaN silently, as torch
            for group, p, grad in self._params_with_grad():
                lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
                if wd:
                    grad = grad + wd * p.data
                if momentum:
                    state = self.state.setdefault(p, {})
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        # an array copy (grad + λθ is a NumPy scalar for a 0-d parameter; `buf *=` below
                        # must update the state in place)
                        buf = state["momentum_buffer"] = get_array_module(p.data).array(grad)
                    else:
                        buf *= momentum
                        buf += (1 - group["dampening"]) * grad
                    grad = grad + momentum * buf if group["nesterov"] else buf
                p.data -= lr * grad    # in place: the array other views share is updated
