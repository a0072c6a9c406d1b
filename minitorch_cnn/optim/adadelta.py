"""Adadelta (Zeiler, 2012), written as torch computes it."""
from ..backend import get_array_module
from .optimizer import (Optimizer, count_step, refuse_tensor_hyperparameters, refuse_unbuilt, step_counter,
                        zeros_like)


class Adadelta(Optimizer):
    """g ← −g if maximize;  g ← g + λθ;  v ← ρv + (1 − ρ)g²;
    Δ ← √(u + ε) / √(v + ε) · g;  u ← ρu + (1 − ρ)Δ²;  θ ← θ − lr·Δ.
    State: 'step' (0-d float32, CPU), 'square_avg' v, 'acc_delta' u."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        refuse_tensor_hyperparameters("Adadelta", lr=lr)
        if not 0.0 <= lr:
            raise ValueError(f"Adadelta: Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Adadelta: Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Adadelta: Invalid weight_decay value: {weight_decay}")
        refuse_unbuilt("Adadelta", foreach=(foreach, (None, False)), capturable=(capturable, (False,)),
                       differentiable=(differentiable, (False,)))
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def _update(self, p, grad, group):
        rho, eps, weight_decay = group["rho"], group["eps"], group["weight_decay"]
        state = self.state[p]
        if not state:
            state.update(step=step_counter(), square_avg=zeros_like(p), acc_delta=zeros_like(p))
        count_step(state)
        square_avg, acc_delta = state["square_avg"].array, state["acc_delta"].array
        xp = get_array_module(p.array)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * p.array
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad           # torch's addcmul order: (value·g)·g
        std = xp.sqrt(square_avg + eps)
        delta = xp.sqrt(acc_delta + eps)
        delta /= std
        delta *= grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        p.array -= group["lr"] * delta
