"""Unfold, Fold and ConvTranspose2d: thin Modules over F.unfold, F.fold and F.conv_transpose2d, with
torch's constructor signatures, attributes, extra_repr and parameter names (docs/12_conv_transpose.md).
"""
import numbers

from . import functional as F
from .layers import _WeightedLayer, _count, _empty, _named_error, _place
from .module import Module, Parameter
from ..ops.checks import expect_tensor
from ..ops.conv_transpose import output_hw
from ..ops.pairs import pair


class Unfold(Module):
    """Every kernel_size window of (N, C, H, W) as a column: (N, C·kh·kw, L) (see F.unfold).
    The arguments are kept as given, as torch's attributes (and its extra_repr) keep them."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):  # noqa: A002  (torch's parameter name)
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Columns (N, C·kh·kw, L) added back into an output_size image (N, C, H, W) (see F.fold)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):  # noqa: A002  (torch's parameter name)
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class ConvTranspose2d(_WeightedLayer):
    """2-D transposed convolution; W (in, out/groups, kh, kw), b (out,).  Input (N, in, H, W) or
    unbatched (in, H, W) -> (N, out, out_h, out_w), out_h = (H − 1)·sh − 2·ph + dh·(kh − 1) +
    output_padding_h + 1; forward(input, output_size) picks output_padding to reach output_size.
    Initialised as torch's: W ~ kaiming_uniform_(a=√5) with fan_in = out/groups·kh·kw, b ~ U(±1/√fan_in)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        name = self._name(in_channels, out_channels)
        self.in_channels = _count(name, "in_channels", in_channels)
        self.out_channels = _count(name, "out_channels", out_channels)
        if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
            raise TypeError(f"{name}: groups must be an int, got {type(groups).__name__} {groups!r}")
        if groups < 1:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide both in_channels and out_channels")
        if padding_mode != "zeros":
            raise ValueError(f'{name}: Only "zeros" padding mode is supported for ConvTranspose2d, '
                             f"got {padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a pair of ints (no padding strings for "
                             f"the transposed convolution), got {padding!r}")
        if isinstance(kernel_size, (tuple, list)) and len(kernel_size) != 2:   # it shapes the weight
            raise ValueError(f"{name}: kernel_size must be an int or a pair of ints, got {kernel_size!r}")
        self.kernel_size = pair(kernel_size, f"{name}: kernel_size", 1)
        self.stride, self.padding = pair(stride, f"{name}: stride", 1), pair(padding, f"{name}: padding", 0)
        self.dilation = pair(dilation, f"{name}: dilation", 1)
        self.output_padding = pair(output_padding, f"{name}: output_padding", 0)
        self.groups, self.padding_mode, self.transposed = int(groups), padding_mode, True
        self.weight = Parameter(_empty(self.in_channels, self.out_channels // self.groups, *self.kernel_size))
        if bias:
            self.bias = Parameter(_empty(self.out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        _place(self, device, dtype)

    @staticmethod
    def _name(in_channels, out_channels):
        return f"ConvTranspose2d({in_channels}→{out_channels})"

    def forward(self, input, output_size=None):  # noqa: A002  (torch's parameter names)
        name = self._name(self.in_channels, self.out_channels)
        x = expect_tensor(input, name)
        if x.ndim not in (3, 4) or x.shape[-3] != self.in_channels:
            raise ValueError(f"{name}: expected input (N, {self.in_channels}, H, W), got {x.shape} "
                             f"(an unbatched input is ({self.in_channels}, H, W))")
        output_padding = self._output_padding(x, output_size, name)
        try:   # every other argument: F.conv_transpose2d checks it
            return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, output_padding,
                                      self.groups, self.dilation)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise _named_error(name, exc) from exc

    def _output_padding(self, x, output_size, name):
        """torch's rule: output_size (h, w), or (N, C, h, w) whose last two count, must lie between the
        smallest output (output_padding 0) and that + stride − 1; output_padding is the difference."""
        if output_size is None:
            return self.output_padding
        sizes = [int(s) for s in output_size]
        if len(sizes) == x.ndim:
            sizes = sizes[-2:]
        if len(sizes) != 2:
            raise ValueError(f"{name}: for {x.ndim}D input, output_size must have 2 or {x.ndim} elements "
                             f"(got {len(sizes)})")
        smallest = output_hw(x.shape[-2:], self.kernel_size, self.stride, self.padding, (0, 0), self.dilation)
        largest = [m + s - 1 for m, s in zip(smallest, self.stride)]
        if any(not lo <= s <= hi for s, lo, hi in zip(sizes, smallest, largest)):
            raise ValueError(f"{name}: requested an output size of {tuple(sizes)}, but valid sizes range from "
                             f"{list(smallest)} to {largest} (for an input of {tuple(x.shape[-2:])})")
        return tuple(s - m for s, m in zip(sizes, smallest))

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
