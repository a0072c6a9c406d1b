"""More activation and loss layers, as torch's: thin Modules over ops/activation_extra.py and
ops/loss_extra.py (the formulas are in core/activation_extra.py and core/loss_extra.py).

inplace=True is accepted and computed out of place, as ReLU's: the same values, but the input is
left unchanged and a new tensor is returned.
"""
import warnings

from ..ops import activation_extra as A
from ..ops import loss_extra as L
from ..ops.checks import expect_tensor
from ..ops.loss import check_reduction
from .module import Module


def _inplace(inplace):
    return "inplace=True" if inplace else ""


class GELU(Module):
    """x · Φ(x), or its tanh approximation (approximate='tanh'); see F.gelu."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):  # noqa: A002  (torch's parameter name, here and below)
        return A.gelu(expect_tensor(input, "GELU"), approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x · σ(x); see F.silu."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return A.silu(expect_tensor(input, "SiLU"), inplace=self.inplace)

    def extra_repr(self):
        return _inplace(self.inplace)


class ELU(Module):
    """x where x > 0, else α (eˣ − 1); see F.elu."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):  # noqa: A002
        return A.elu(expect_tensor(input, "ELU"), self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Hardtanh(Module):
    """min(max(x, min_val), max_val); see F.hardtanh.  min_value / max_value are torch's deprecated
    spellings (with its FutureWarning)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        if max_val <= min_val:
            raise AssertionError(f"{type(self).__name__}: max_val ({max_val}) must be greater than "
                                 f"min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):  # noqa: A002
        return A.hardtanh(expect_tensor(input, type(self).__name__), self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6): Hardtanh(0, 6), as torch's; see F.relu6."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace(self.inplace)


class Softplus(Module):
    """log(1 + e^(βx)) / β, linear above the threshold; see F.softplus."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):  # noqa: A002
        return A.softplus(expect_tensor(input, "Softplus"), self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardswish(Module):
    """x · relu6(x + 3) / 6; see F.hardswish."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return A.hardswish(expect_tensor(input, "Hardswish"), self.inplace)


# ---- losses: torch's _Loss turns the legacy size_average / reduce into a reduction --------------

class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = check_reduction(type(self).__name__, reduction, size_average, reduce)
        self.reduction = reduction


def _pair(name, input, target):  # noqa: A002
    expect_tensor(input, name)
    expect_tensor(target, name, "target")
    return input, target


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities, with torch's weight (a buffer); see F.binary_cross_entropy."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):  # noqa: A002
        return L.binary_cross_entropy(*_pair("BCELoss", input, target), weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits (stable for any logit), with torch's weight and pos_weight (buffers);
    see F.binary_cross_entropy_with_logits."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):  # noqa: A002
        return L.binary_cross_entropy_with_logits(*_pair("BCEWithLogitsLoss", input, target), self.weight,
                                                  pos_weight=self.pos_weight, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean (or sum) absolute error; see F.l1_loss."""

    def forward(self, input, target):  # noqa: A002
        return L.l1_loss(*_pair("L1Loss", input, target), reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below beta, linear above; see F.smooth_l1_loss."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):  # noqa: A002
        return L.smooth_l1_loss(*_pair("SmoothL1Loss", input, target), reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic below delta, delta-scaled linear above; see F.huber_loss."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):  # noqa: A002
        return L.huber_loss(*_pair("HuberLoss", input, target), reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of log-probabilities from a target; see F.kl_div."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):  # noqa: A002
        return L.kl_div(*_pair("KLDivLoss", input, target), reduction=self.reduction,
                        log_target=self.log_target)
