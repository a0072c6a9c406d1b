"""Stochastic gradient descent with momentum, dampening, Nesterov, weight decay and maximize."""
from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, refuse_tensor_hyperparameters, refuse_unbuilt


class SGD(Optimizer):
    """g ← −g if maximize;  g ← g + λθ;
    b ← g at the first step, then b ← μb + (1 − τ)g;  g ← g + μb if nesterov else b   (μ ≠ 0);
    θ ← θ − lr·g   — torch's update, operation for operation.  State: 'momentum_buffer' (μ ≠ 0 only)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        refuse_tensor_hyperparameters("SGD", lr=lr, weight_decay=weight_decay)
        if lr < 0.0:
            raise ValueError(f"SGD: Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"SGD: Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"SGD: Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")
        refuse_unbuilt("SGD", foreach=(foreach, (None, False)), differentiable=(differentiable, (False,)),
                       fused=(fused, (None, False)))
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _update(self, p, grad, group):
        momentum, weight_decay = group["momentum"], group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * p.array
        if momentum != 0:
            state = self.state[p]
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = Tensor(get_array_module(p.array).array(grad, copy=True))
            else:
                buffer.array *= momentum
                buffer.array += (1 - group["dampening"]) * grad
            grad = grad + momentum * buffer.array if group["nesterov"] else buffer.array
        p.array -= group["lr"] * grad     # in place: every view of the parameter sees the step
