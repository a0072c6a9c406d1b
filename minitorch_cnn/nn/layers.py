"""The layers: thin Modules that hold parameters and call the functional ops.

Each layer checks its input against its own configuration first, so an error
names the layer the way it prints: `Conv2d(3→16): expected input (N, 3, H, W), got ...`.
"""
import math
import numbers

import numpy as np

from . import functional as F
from ..ops.pairs import pair
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


def _empty(*shape):
    return np.empty(shape, dtype=np.float32)


def _count(layer, what, value, allow_bool=False):
    """A size argument as an int >= 0; a float, str or None raises a TypeError, as torch does when it
    allocates the weight.  torch lets a bool through as the weight's second dimension only
    (in_features, in_channels), so allow_bool is for those."""
    if not isinstance(value, numbers.Integral) or (isinstance(value, bool) and not allow_bool):
        raise TypeError(f"{layer}: {what} must be an int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{layer}: {what} must be non-negative, got {value}")
    return int(value)


def _require_input(layer, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{layer}: expected a Tensor input, got {type(x).__name__}")


def _named_error(layer, exc):
    """exc's message with the layer's name in front, as the builtin TypeError, ValueError or
    RuntimeError it is (not type(exc): NumPy's subclasses take other constructor arguments)."""
    for kind in (TypeError, ValueError, RuntimeError):
        if isinstance(exc, kind):
            return kind(f"{layer}: {exc}")
    return exc


class _WeightedLayer(Module):
    """A layer with `weight` (out, ...) and an optional `bias` (out,), initialised as PyTorch
    does: W by kaiming_uniform_(a=√5), i.e. U(±1/√fan_in), and b ~ U(±1/√fan_in).
    With fan_in = 0 (no inputs) the weight is empty and the bias 0, as in torch."""

    def _create_parameters(self, weight_shape, bias):
        self.weight = Parameter(_empty(*weight_shape))
        if bias:
            self.bias = Parameter(_empty(weight_shape[0]))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)


class Linear(_WeightedLayer):
    """y = x Wᵀ + b;  W (out_features, in_features)."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = _count("Linear", "in_features", in_features, allow_bool=True)
        self.out_features = _count("Linear", "out_features", out_features)
        self._create_parameters((self.out_features, self.in_features), bias)

    def forward(self, x):
        name = f"Linear({self.in_features}→{self.out_features})"
        _require_input(name, x)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"{name}: expected input (*, {self.in_features}), got {x.shape}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Conv2d(_WeightedLayer):
    """2-D convolution; W (out, in/groups, kh, kw).  Input (N, C, H, W) or unbatched (C, H, W)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True):
        super().__init__()
        name = f"Conv2d({in_channels}→{out_channels})"
        self.in_channels = _count(name, "in_channels", in_channels, allow_bool=True)
        self.out_channels = _count(name, "out_channels", out_channels)
        if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
            raise TypeError(f"{name}: groups must be an int, got {type(groups).__name__} {groups!r}")
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must be positive and divide both in_channels and out_channels")
        self.groups = int(groups)
        if isinstance(kernel_size, (tuple, list)) and len(kernel_size) != 2:   # it shapes the weight
            raise ValueError(f"{name}: kernel_size must be an int or a pair of ints, got {kernel_size!r}")
        self.kernel_size = pair(kernel_size, f"{name}: kernel_size", 1)
        self.stride = pair(stride, f"{name}: stride", 1)
        self.padding = pair(padding, f"{name}: padding", 0)
        self.dilation = pair(dilation, f"{name}: dilation", 1)
        self._create_parameters((self.out_channels, self.in_channels // self.groups) + self.kernel_size, bias)

    def forward(self, x):
        name = f"Conv2d({self.in_channels}→{self.out_channels})"
        _require_input(name, x)
        if x.ndim not in (3, 4) or x.shape[-3] != self.in_channels:
            raise ValueError(f"{name}: expected input (N, {self.in_channels}, H, W), got {x.shape} "
                             f"(an unbatched input is ({self.in_channels}, H, W))")
        try:
            return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise _named_error(name, exc) from exc

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class _Pool2d(Module):
    """Input (N, C, H, W) or unbatched (C, H, W); the arguments are checked when it runs, as in torch."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride   # PyTorch's default
        self.padding = padding

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def _run(self, fn, x, **extra):
        name = f"{type(self).__name__}(kernel_size={self.kernel_size})"
        _require_input(name, x)
        try:
            return fn(x, self.kernel_size, self.stride, self.padding, **extra)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise _named_error(name, exc) from exc


class MaxPool2d(_Pool2d):
    """Window maximum; stride defaults to kernel_size; padding is −∞."""

    def forward(self, x):
        return self._run(F.max_pool2d, x)


class AvgPool2d(_Pool2d):
    """Window mean; stride defaults to kernel_size."""

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad=True):
        super().__init__(kernel_size, stride, padding)
        self.count_include_pad = count_include_pad

    def forward(self, x):
        return self._run(F.avg_pool2d, x, count_include_pad=self.count_include_pad)


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (out_h, out_w), whatever the input's H × W;
    an int means a square, None keeps that input size."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        name = f"AdaptiveAvgPool2d(output_size={self.output_size})"
        _require_input(name, x)
        try:
            return F.adaptive_avg_pool2d(x, self.output_size)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise _named_error(name, exc) from exc

    def extra_repr(self):
        return f"output_size={self.output_size}"


class _BatchNorm(Module):
    _input_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        num_features = _count(type(self).__name__, "num_features", num_features)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=np.float32))
            self.bias = Parameter(np.zeros(num_features, dtype=np.float32))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
            self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def forward(self, x):
        name = f"{type(self).__name__}({self.num_features})"
        _require_input(name, x)
        if x.ndim not in self._input_dims or x.shape[1] != self.num_features:
            dims = " or ".join(f"{d}-D" for d in self._input_dims)
            raise ValueError(f"{name}: expected a {dims} input with {self.num_features} channels "
                             f"in dim 1, got {x.shape}")
        if self.num_features == 0:   # torch fails here too (an IndexError deep inside)
            raise ValueError(f"{name}: cannot normalise an input with no channels, got {x.shape}")
        momentum = self.momentum
        count = None
        if self.training and self.track_running_stats:
            count = int(self.num_batches_tracked.item()) + 1
            if momentum is None:   # cumulative moving average, as PyTorch
                momentum = 1.0 / count
        use_batch_stats = self.training or not self.track_running_stats
        track = self.training and self.track_running_stats
        try:
            out = F.batch_norm(x, self.running_mean if track or not use_batch_stats else None,
                               self.running_var if track or not use_batch_stats else None,
                               self.weight, self.bias, training=use_batch_stats,
                               momentum=0.0 if momentum is None else momentum, eps=self.eps)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise _named_error(name, exc) from exc
        if count is not None:
            self.num_batches_tracked.data[...] = count
        return out

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L): statistics per channel C."""
    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W): statistics per channel C."""
    _input_dims = (4,)


class Dropout(Module):
    """Zero elements with probability p while training (scaling the rest by 1/(1−p))."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Softmax(Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x):
        return F.log_softmax(x, self.dim)


class Flatten(Module):
    """(N, C, H, W) -> (N, C·H·W) (dims start_dim..end_dim merged)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    def forward(self, x):
        return x


class Sequential(Module):
    """Modules applied in order; children named '0', '1', ... as in PyTorch."""

    def __init__(self, *modules):
        super().__init__()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def __getitem__(self, i):
        if not isinstance(i, slice):
            return list(self._modules.values())[i]
        part = Sequential()       # a slice keeps the children's names, as in PyTorch
        for name, module in list(self._modules.items())[i]:
            part.add_module(name, module)
        return part

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x


class CrossEntropyLoss(Module):
    """Softmax cross-entropy on logits (N, C) and integer targets (N,)."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, logits, target):
        return F.cross_entropy(logits, target, self.reduction)


class MSELoss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, x, target):
        return F.mse_loss(x, target, self.reduction)
