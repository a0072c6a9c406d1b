"""Adagrad (Duchi et al., 2011), written as torch computes it."""
from ..backend import get_array_module
from ..tensor import Tensor
from .optimizer import Optimizer, count_step, refuse_tensor_hyperparameters, refuse_unbuilt, step_counter


class Adagrad(Optimizer):
    """g ← −g if maximize;  g ← g + λθ;  s ← s + g²  (s starts at initial_accumulator_value);
    θ ← θ − lr / (1 + (t − 1)·lr_decay) · g / (√s + ε).
    State: 'step' (0-d float32, CPU) and 'sum' s, made for every parameter at construction (as torch)."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        refuse_tensor_hyperparameters("Adagrad", lr=lr)
        if not 0.0 <= lr:
            raise ValueError(f"Adagrad: Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Adagrad: Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Adagrad: Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Adagrad: Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Adagrad: Invalid epsilon value: {eps}")
        refuse_unbuilt("Adagrad", foreach=(foreach, (None, False)), differentiable=(differentiable, (False,)),
                       fused=(fused, (None, False)))
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        xp = get_array_module(p.array)
        self.state[p].update(step=step_counter(), sum=Tensor(xp.full_like(p.array, group["initial_accumulator_value"])))

    def _update(self, p, grad, group):
        if not self.state[p]:          # a parameter of a group added after construction
            self._init_state(p, group)
        state = self.state[p]
        step = count_step(state)
        weight_decay = group["weight_decay"]
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * p.array
        decayed_lr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state_sum = state["sum"].array
        state_sum += grad * grad
        std = get_array_module(p.array).sqrt(state_sum)
        std += group["eps"]
        p.array -= decayed_lr * (grad / std)
