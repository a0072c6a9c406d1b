"""The layers: thin Modules that hold parameters and call the functional ops.

A layer checks its constructor arguments (they shape its parameters) and its input
against what only it states (in_channels, BatchNorm2d's 4-D input, num_features), so
that error names the layer the way it prints: `Conv2d(3→16): expected input (N, 3, H, W),
got ...`.  Every other check is the functional op's, made once on every path (the CUDA
launch wrappers repeat none); the layer puts its name in front of the op's errors:
`Conv2d(1→1): conv2d: input dtype int64 differs from bias dtype float32`.
"""
import math
import numbers
from collections import OrderedDict

import numpy as np

from . import functional as F
from ..ops.pairs import pair
from . import init
from .module import Module, Parameter
from ..ops.checks import expect_tensor
from ..ops.conv import check_padding_string
from ..ops.loss import check_reduction


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


def _named_error(layer, exc):
    """exc's message with the layer's name in front, as the builtin TypeError, ValueError or
    RuntimeError it is (not type(exc): NumPy's subclasses take other constructor arguments)."""
    for kind in (TypeError, ValueError, RuntimeError):
        if isinstance(exc, kind):
            return kind(f"{layer}: {exc}")
    return exc


def _place(module, device, dtype):
    """torch's device= and dtype= constructor arguments: the parameters and buffers built, then
    moved or cast (floating ones only, as torch's factory_kwargs)."""
    if device is not None or dtype is not None:
        module.to(device=device, dtype=dtype)


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

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = _count("Linear", "in_features", in_features, allow_bool=True)
        self.out_features = _count("Linear", "out_features", out_features)
        self._create_parameters((self.out_features, self.in_features), bias)
        _place(self, device, dtype)

    def forward(self, input):  # noqa: A002  (torch's parameter name: forward(input=x) works)
        name = f"Linear({self.in_features}→{self.out_features})"
        x = expect_tensor(input, name)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"{name}: expected input (*, {self.in_features}), got {x.shape}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Conv2d(_WeightedLayer):
    """2-D convolution; W (out, in/groups, kh, kw).  Input (N, C, H, W) or unbatched (C, H, W)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
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
        if isinstance(padding, str):   # "valid" or "same", kept as the string (torch's attribute)
            try:
                check_padding_string(padding, stride, ValueError)
            except ValueError as exc:
                raise _named_error(name, exc) from exc
            self.padding = padding
        else:
            self.padding = pair(padding, f"{name}: padding", 0)
        self.dilation = pair(dilation, f"{name}: dilation", 1)
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be one of 'zeros', 'reflect', 'replicate' or "
                             f"'circular', got {padding_mode!r}")
        self.padding_mode = padding_mode
        self._create_parameters((self.out_channels, self.in_channels // self.groups) + self.kernel_size, bias)
        _place(self, device, dtype)

    def forward(self, input):  # noqa: A002
        name = f"Conv2d({self.in_channels}→{self.out_channels})"
        x = expect_tensor(input, name)
        # The op checks x against the weight too, but its message speaks of the weight; this
        # one names the layer's own in_channels (the message docs/design.md and the tests ask for).
        if x.ndim not in (3, 4) or x.shape[-3] != self.in_channels:
            raise ValueError(f"{name}: expected input (N, {self.in_channels}, H, W), got {x.shape} "
                             f"(an unbatched input is ({self.in_channels}, H, W))")
        try:   # every other argument: F.conv2d checks it
            if self.padding_mode != "zeros":   # as torch: pad by the mode, then convolve unpadded
                x = F.pad(x, self._border(), mode=self.padding_mode)
                return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
            return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise _named_error(name, exc) from exc

    def _border(self):
        """F.pad's (left, right, top, bottom) for padding_mode: the padding on both sides, or for
        "same" d·(k − 1) in all per dim, the odd one on the right/bottom (torch's order)."""
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            (top, bottom), (left, right) = ((t // 2, t - t // 2) for t in totals)
            return (left, right, top, bottom)
        return (self.padding[1], self.padding[1], self.padding[0], self.padding[0])

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"   # padding=same for a string, as torch prints it
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _Pool2d(Module):
    """Input (N, C, H, W) or unbatched (C, H, W) (the 1-D pools: (N, C, L) or (C, L)); the arguments
    are checked when it runs, as in torch."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride   # PyTorch's default
        self.padding = padding

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def _run(self, fn, x, **extra):
        name = f"{type(self).__name__}(kernel_size={self.kernel_size})"
        expect_tensor(x, name)
        try:
            return fn(x, self.kernel_size, self.stride, self.padding, **extra)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise _named_error(name, exc) from exc


class _MaxPool(_Pool2d):
    """torch's _MaxPoolNd: the parameters in torch's order; return_indices=True returns (out, indices)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size, stride, padding)
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def extra_repr(self):
        return f"{super().extra_repr()}, dilation={self.dilation}, ceil_mode={self.ceil_mode}"

    def forward(self, input):  # noqa: A002  (torch's parameter name)
        return self._run(self._pool, input, dilation=self.dilation, ceil_mode=self.ceil_mode,
                         return_indices=self.return_indices)


class MaxPool2d(_MaxPool):
    """Window maximum (F.max_pool2d); stride defaults to kernel_size; padding is −∞."""

    _pool = staticmethod(F.max_pool2d)


class MaxPool1d(_MaxPool):
    """Window maximum over the last axis (F.max_pool1d): input (N, C, L) or unbatched (C, L)."""

    _pool = staticmethod(F.max_pool1d)


class AvgPool2d(_Pool2d):
    """Window mean (F.avg_pool2d); stride defaults to kernel_size.  torch's parameters in torch's
    order (ceil_mode before count_include_pad)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):  # noqa: A002  (torch's parameter name)
        return self._run(F.avg_pool2d, input, ceil_mode=self.ceil_mode, count_include_pad=self.count_include_pad,
                         divisor_override=self.divisor_override)


class AvgPool1d(_Pool2d):
    """Window mean over the last axis (F.avg_pool1d): input (N, C, L) or unbatched (C, L).  As torch,
    kernel_size, stride and padding are kept as 1-tuples."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        as_single = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,)  # noqa: E731
        super().__init__(as_single(kernel_size), as_single(kernel_size if stride is None else stride),
                         as_single(padding))
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):  # noqa: A002  (torch's parameter name)
        return self._run(F.avg_pool1d, input, ceil_mode=self.ceil_mode, count_include_pad=self.count_include_pad)


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (out_h, out_w), whatever the input's H × W;
    an int means a square, None keeps that input size."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):  # noqa: A002  (torch's parameter name)
        name = f"AdaptiveAvgPool2d(output_size={self.output_size})"
        expect_tensor(input, name)
        try:
            return F.adaptive_avg_pool2d(input, self.output_size)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise _named_error(name, exc) from exc

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed output size (out_h, out_w), whatever the input's H × W (F.adaptive_max_pool2d);
    an int means a square, None keeps that input size; return_indices=True returns (out, indices)."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):  # noqa: A002  (torch's parameter name)
        name = f"AdaptiveMaxPool2d(output_size={self.output_size})"
        expect_tensor(input, name)
        try:
            return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise _named_error(name, exc) from exc

    def extra_repr(self):
        return f"output_size={self.output_size}"


def norm_affine(module, shape, affine, bias=True):
    """A norm layer's weight = 1 and bias = 0 of `shape` when affine (bias only with bias=True),
    else None (registered as such, so state_dict and repr say so as torch's do)."""
    if affine:
        module.weight = Parameter(np.ones(shape, dtype=np.float32))
    else:
        module.register_parameter("weight", None)
    if affine and bias:
        module.bias = Parameter(np.zeros(shape, dtype=np.float32))
    else:
        module.register_parameter("bias", None)


class _BatchNorm(Module):
    _input_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        num_features = _count(type(self).__name__, "num_features", num_features)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self._has_bias = bool(bias)   # torch's bias=False: a learnt scale and no shift
        norm_affine(self, (num_features,), affine, bias)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
            self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        _place(self, device, dtype)

    def forward(self, input):  # noqa: A002
        name = f"{type(self).__name__}({self.num_features})"
        x = expect_tensor(input, name)
        if x.ndim not in self._input_dims or x.shape[1] != self.num_features:
            dims = " or ".join(f"{d}-D" for d in self._input_dims)
            raise ValueError(f"{name}: expected a {dims} input with {self.num_features} channels "
                             f"in dim 1, got {x.shape}")
        if self.num_features == 0:   # torch fails here too (an IndexError deep inside)
            raise ValueError(f"{name}: cannot normalise an input with no channels, got {x.shape}")
        momentum = self.momentum
        counting = self.training and self.track_running_stats
        if counting and momentum is None:   # cumulative moving average, as PyTorch (only it reads the count:
            momentum = 1.0 / (int(self.num_batches_tracked.item()) + 1)    # a GPU sync, as in torch)
        use_batch_stats = self.training or not self.track_running_stats
        track = self.training and self.track_running_stats
        try:
            out = F.batch_norm(x, self.running_mean if track or not use_batch_stats else None,
                               self.running_var if track or not use_batch_stats else None,
                               self.weight, self.bias, training=use_batch_stats,
                               momentum=0.0 if momentum is None else momentum, eps=self.eps)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise _named_error(name, exc) from exc
        if counting:   # counted on its device: no host read of it per step
            self.num_batches_tracked.array[...] += 1
        return out

    def extra_repr(self):
        bias = "" if self._has_bias else ", bias=False"
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}{bias}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L): statistics per channel C."""
    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W): statistics per channel C."""
    _input_dims = (4,)


class Dropout(Module):
    """Zero elements with probability p while training (scaling the rest by 1/(1−p)).
    inplace=True is accepted and computed out of place (same values; the input is left unchanged)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not isinstance(p, bool) and isinstance(p, numbers.Real) and not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: probability p must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):  # noqa: A002
        return F.dropout(expect_tensor(input, "Dropout"), self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}" + (", inplace=True" if self.inplace else "")


class ReLU(Module):
    """max(x, 0).  inplace=True is accepted and computed out of place: the same values, but the
    input is left unchanged and a new tensor is returned (torch overwrites the input)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):  # noqa: A002
        return F.relu(expect_tensor(input, "ReLU"), inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    def forward(self, input):  # noqa: A002
        return F.tanh(expect_tensor(input, "Tanh"))


class Sigmoid(Module):
    def forward(self, input):  # noqa: A002
        return F.sigmoid(expect_tensor(input, "Sigmoid"))


class Softmax(Module):
    """softmax along dim; dim=None picks torch's legacy implicit dim (0 for 0-, 1- and 3-D input,
    else 1) with torch's warning."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):  # noqa: A002
        return F.softmax(expect_tensor(input, type(self).__name__), self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, input):  # noqa: A002
        return F.log_softmax(expect_tensor(input, "LogSoftmax"), self.dim, _stacklevel=5)


class Flatten(Module):
    """(N, C, H, W) -> (N, C·H·W) (dims start_dim..end_dim merged)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):  # noqa: A002
        return F.flatten(expect_tensor(input, "Flatten"), self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    """Returns its input unchanged (whatever it is); the constructor takes and ignores any
    arguments, as torch's, so it can stand in for a configured layer."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):  # noqa: A002
        return input


class Sequential(Module):
    """Modules applied in order; children named '0', '1', ... as in PyTorch, or by the keys of a
    single OrderedDict argument: Sequential(OrderedDict([('conv', ...), ('act', ...)]))."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def _name_at(self, i):
        n = len(self._modules)
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"{type(self).__name__} indices must be integers or slices, "
                            f"not {type(i).__name__}")
        if not -n <= i < n:
            raise IndexError(f"{type(self).__name__}: index {i} is out of range")
        return list(self._modules)[i % n]

    def __getitem__(self, i):
        if not isinstance(i, slice):
            return self._modules[self._name_at(i)]
        part = type(self)()       # a slice keeps the children's names, as in PyTorch
        for name, module in list(self._modules.items())[i]:
            part.add_module(name, module)
        return part

    def __setitem__(self, i, module):
        self.add_module(self._name_at(i), module)

    def __delitem__(self, i):
        names = list(self._modules)[i] if isinstance(i, slice) else [self._name_at(i)]
        for name in names:
            del self._modules[name]
        # torch renumbers what is left '0', '1', ... (even children that had names)
        self._modules = OrderedDict((str(k), m) for k, m in enumerate(self._modules.values()))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, sequential):
        for m in sequential:
            self.append(m)
        return self

    def insert(self, index, module):
        """Put `module` before position `index` (-len ≤ index ≤ len, as torch); the children are
        renumbered '0', '1', ... (torch's own renumbering fails on named children)."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.insert: {type(module).__name__} is not a Module subclass")
        if not -len(self) <= index <= len(self):
            raise IndexError(f"{type(self).__name__}.insert: index {index} is out of range for {len(self)} modules")
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules = OrderedDict((str(k), m) for k, m in enumerate(modules))
        return self

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def forward(self, input):  # noqa: A002
        for m in self._modules.values():
            input = m(input)
        return input


class CrossEntropyLoss(Module):
    """Softmax cross-entropy on logits (N, C) / (C,) / (N, C, d1, ...) and class-index targets, with
    torch's weight (a buffer, in the state_dict when given), ignore_index, reduction and
    label_smoothing; see F.cross_entropy."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__()
        if isinstance(weight, str):
            raise TypeError(f"CrossEntropyLoss: weight must be a Tensor or None, got str {weight!r} "
                            f"(pass reduction={weight!r} by keyword, as in torch's signature)")
        self.register_buffer("weight", weight)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing
        self.reduction = check_reduction("CrossEntropyLoss", reduction, size_average, reduce)

    def forward(self, input, target):  # noqa: A002
        expect_tensor(input, "CrossEntropyLoss")
        expect_tensor(target, "CrossEntropyLoss", "target")
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class MSELoss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if isinstance(size_average, str):
            raise TypeError(f"MSELoss: size_average must be a bool or None, got str {size_average!r} "
                            f"(pass reduction={size_average!r} by keyword, as in torch's signature)")
        self.reduction = check_reduction("MSELoss", reduction, size_average, reduce)

    def forward(self, input, target):  # noqa: A002
        expect_tensor(input, "MSELoss")
        expect_tensor(target, "MSELoss", "target")
        return F.mse_loss(input, target, reduction=self.reduction)


# ---- added with the container and loss options (appended: the classes above keep their place) ----

class LeakyReLU(Module):
    """x if x > 0 else negative_slope · x.  inplace=True is accepted and computed out of place
    (same values; the input is left unchanged)."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):  # noqa: A002
        return F.leaky_relu(expect_tensor(input, "LeakyReLU"), self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) with probability p while training (scaling the rest by
    1/(1−p)); see F.dropout2d for other ranks."""

    def forward(self, input):  # noqa: A002
        return F.dropout2d(expect_tensor(input, "Dropout2d"), self.p, self.training, self.inplace)


class NLLLoss(Module):
    """Negative log-likelihood of log-probabilities (N, C) / (C,) / (N, C, d1, ...) at class-index
    targets, with torch's weight (a buffer), ignore_index and reduction; see F.nll_loss."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__()
        if isinstance(weight, str):
            raise TypeError(f"NLLLoss: weight must be a Tensor or None, got str {weight!r} "
                            f"(pass reduction={weight!r} by keyword, as in torch's signature)")
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = check_reduction("NLLLoss", reduction, size_average, reduce)

    def forward(self, input, target):  # noqa: A002
        expect_tensor(input, "NLLLoss")
        expect_tensor(target, "NLLLoss", "target")
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class ModuleList(Module):
    """A list of modules, registered as children '0', '1', ... (so their parameters, state_dict
    keys and .to() follow the model).  It has no forward: index or iterate it."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, i):
        n = len(self._modules)
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"ModuleList indices must be integers or slices, not {type(i).__name__}")
        if not -n <= i < n:
            raise IndexError(f"ModuleList: index {i} is out of range")
        return i % n

    def _renumber(self, modules):
        self._modules = OrderedDict((str(k), m) for k, m in enumerate(modules))

    def __getitem__(self, i):
        if isinstance(i, slice):     # a new ModuleList, numbered from 0, as torch
            return ModuleList(list(self._modules.values())[i])
        return self._modules[str(self._index(i))]

    def __setitem__(self, i, module):
        self.add_module(str(self._index(i)), module)

    def __delitem__(self, i):
        modules = list(self._modules.values())
        del modules[i if isinstance(i, slice) else self._index(i)]
        self._renumber(modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)) \
                or not hasattr(modules, "__iter__"):
            raise TypeError(f"ModuleList.extend should be called with an iterable, "
                            f"but got {type(modules).__name__}")
        for m in list(modules):
            self.append(m)
        return self

    def insert(self, index, module):
        """Put `module` before position `index` (list semantics, negative indices too); the
        children after it are renumbered."""
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.insert: {type(module).__name__} is not a Module subclass")
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def __repr__(self):
        # torch folds runs of identical children: "(0-2): 3 x Linear(...)"
        reprs = [repr(m) for m in self]
        if not reprs:
            return "ModuleList()"
        runs = []                 # [first index, last index, repr]
        for i, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = []
        for first, last, text in runs:
            label = f"({first}): " if first == last else f"({first}-{last}): {last - first + 1} x "
            lines.append("  " + (label + text).replace("\n", "\n  "))
        return "ModuleList(\n" + "\n".join(lines) + "\n)"


class ModuleDict(Module):
    """An ordered dict of modules, registered as children under their keys.  It has no forward."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        module = self._modules[key]
        del self._modules[key]
        return module

    def update(self, modules):
        """Add (or replace) from a mapping or an iterable of (key, module) pairs."""
        if hasattr(modules, "items"):
            pairs = list(modules.items())
        elif hasattr(modules, "__iter__"):
            pairs = []
            for j, item in enumerate(modules):
                if not hasattr(item, "__len__") or len(item) != 2:
                    raise ValueError(f"ModuleDict.update: element #{j} should be a (key, module) pair, "
                                     f"got {item!r}")
                pairs.append(tuple(item))
        else:
            raise TypeError(f"ModuleDict.update should be called with an iterable of key/value pairs, "
                            f"but got {type(modules).__name__}")
        for key, module in pairs:
            self[key] = module
