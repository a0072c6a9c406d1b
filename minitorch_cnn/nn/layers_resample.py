"""The resampling layers: Upsample (F.interpolate), its fixed-mode forms UpsamplingNearest2d and
UpsamplingBilinear2d, and MaxUnpool2d / MaxUnpool1d (F.max_unpool2d / F.max_unpool1d).  No
parameters; torch's constructor arguments, attributes and printed form."""
from ..ops.checks import expect_tensor
from ..ops.resample import interpolate
from ..ops.unpool import max_unpool1d, max_unpool2d
from .layers import _named_error
from .module import Module


class Upsample(Module):
    """Resample to `size` or by `scale_factor` (F.interpolate): mode "nearest" (3-D or 4-D input),
    "linear" (3-D) or "bilinear" (4-D), align_corners for the last two."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):  # noqa: A002  (torch's parameter name)
        name = f"{type(self).__name__}({self.extra_repr()})"
        expect_tensor(input, name)
        try:
            return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                               recompute_scale_factor=self.recompute_scale_factor)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise _layer_error(name, exc) from exc

    def extra_repr(self):
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Upsample with mode="nearest" (torch keeps it, deprecated in favour of F.interpolate)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample with mode="bilinear" and align_corners=True (torch keeps it, deprecated)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


def _layer_error(name, exc):
    """exc with the layer's name in front; a NotImplementedError stays one."""
    return NotImplementedError(f"{name}: {exc}") if isinstance(exc, NotImplementedError) else _named_error(name, exc)


class _MaxUnpool(Module):
    """The partial inverse of a max pooling with return_indices=True: forward(input, indices,
    output_size=None); stride defaults to kernel_size; each option kept as a `size`-tuple, as torch."""
    size, unpool = None, None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = self._tuple(kernel_size)
        self.stride = self._tuple(stride if stride is not None else kernel_size)
        self.padding = self._tuple(padding)

    def _tuple(self, value):
        """torch's _single/_pair: an int repeated `size` times; a tuple or list stays as given."""
        return tuple(value) if isinstance(value, (tuple, list)) else (value,) * self.size

    def forward(self, input, indices, output_size=None):  # noqa: A002  (torch's parameter names)
        name = f"{type(self).__name__}(kernel_size={self.kernel_size})"
        expect_tensor(input, name)
        try:
            return type(self).unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise _layer_error(name, exc) from exc

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpool):
    """The partial inverse of MaxPool2d(return_indices=True) (F.max_unpool2d)."""
    size, unpool = 2, staticmethod(max_unpool2d)


class MaxUnpool1d(_MaxUnpool):
    """The partial inverse of MaxPool1d(return_indices=True) (F.max_unpool1d)."""
    size, unpool = 1, staticmethod(max_unpool1d)
