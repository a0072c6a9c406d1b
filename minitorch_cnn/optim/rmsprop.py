"""RMSprop (Hinton's lecture 6e; centered as Graves, 2013), written as torch computes it."""
from ..backend import get_array_module
from .optimizer import (Optimizer, count_step, lerp_, refuse_tensor_hyperparameters, refuse_unbuilt,
                        step_counter, zeros_like)


class RMSprop(Optimizer):
    """g ← −g if maximize;  g ← g + λθ;  v ← αv + (1 − α)g²;
    centered: ḡ ← lerp(ḡ, g, 1 − α), d ← √(v − ḡ²) + ε;  else d ← √v + ε;
    momentum μ > 0: b ← μb + g/d, θ ← θ − lr·b;  else θ ← θ − lr·g/d.
    State: 'step' (0-d float32, CPU), 'square_avg' v, 'momentum_buffer' b (μ > 0), 'grad_avg' ḡ (centered)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        refuse_tensor_hyperparameters("RMSprop", lr=lr)
        if not 0.0 <= lr:
            raise ValueError(f"RMSprop: Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"RMSprop: Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"RMSprop: Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"RMSprop: Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"RMSprop: Invalid alpha value: {alpha}")
        refuse_unbuilt("RMSprop", capturable=(capturable, (False,)), foreach=(foreach, (None, False)),
                       differentiable=(differentiable, (False,)))
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def _update(self, p, grad, group):
        alpha, momentum, weight_decay = group["alpha"], group["momentum"], group["weight_decay"]
        state = self.state[p]
        if not state:
            state.update(step=step_counter(), square_avg=zeros_like(p))
            if momentum > 0:
                state["momentum_buffer"] = zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = zeros_like(p)
        count_step(state)
        xp, square_avg = get_array_module(p.array), state["square_avg"].array
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * p.array
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad         # torch's addcmul order: (value·g)·g
        if group["centered"]:
            grad_avg = state["grad_avg"].array
            lerp_(grad_avg, grad, 1 - alpha)
            denom = xp.sqrt(square_avg - grad_avg * grad_avg)
        else:
            denom = xp.sqrt(square_avg)
        denom += group["eps"]
        if momentum > 0:
            buffer = state["momentum_buffer"].array
            buffer *= momentum
            buffer += grad / denom
            p.array -= group["lr"] * buffer
        else:
            p.array -= group["lr"] * (grad / denom)
