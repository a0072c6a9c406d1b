"""conv_transpose2d, the API of the transposed convolution: torch's signature, argument checks,
errors, dtypes and edge cases, then core/conv_transpose.py's ConvTranspose2d (fast/conv_transpose.py's
while the fast paths are on).

dtypes, as torch on the CPU: float32 and float64; float16 computed in float32 and rounded once (as
torch's oneDNN path; its slow path rounds the column buffer to float16 first, so the two agree to
float16's precision); int64 computed exactly in int64 (torch has that kernel); other integer and
bool inputs refused.  An empty batch gives an empty result in the input's dtype.  A bias must have
the input's dtype: torch's oneDNN path refuses another (its slow path casts it), so it is refused.
"""
import numpy as np

from ..backends.fast import choose
from ..core import conv_transpose as core_conv_transpose
from ..fast import conv_transpose as _fast_conv_transpose  # noqa: F401  (registers the fast ConvTranspose2d)
from .checks import expect_tensor
from .pairs import is_int

OP = "conv_transpose2d"


def _pair(value, name):
    """int, (v,) or (h, w) of ints -> (h, w), as torch: a wrong type a TypeError, a wrong length
    a RuntimeError.  Values are checked by the caller, with torch's messages."""
    if is_int(value):
        return int(value), int(value)
    if not isinstance(value, (tuple, list)) or not all(is_int(v) for v in value):
        raise TypeError(f"{OP}: {name} must be an int or a tuple of ints, got {type(value).__name__} {value!r}")
    if len(value) not in (1, 2):
        raise RuntimeError(f"{OP}: expected {name} to be a single integer value or a list of 2 values to match "
                           f"the convolution dimensions, got {name}={list(value)}")
    return (int(value[0]), int(value[-1]))


def _hyper_parameters(stride, padding, output_padding, groups, dilation):
    if isinstance(padding, str):
        raise TypeError(f"{OP}: padding must be an int or a tuple of ints, got the string {padding!r} "
                        f"(torch has no padding strings for the transposed convolution)")
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    output_padding, dilation = _pair(output_padding, "output_padding"), _pair(dilation, "dilation")
    if not is_int(groups):
        raise TypeError(f"{OP}: groups must be an int, got {type(groups).__name__} {groups!r}")
    for name, value, minimum in (("stride", stride, 1), ("padding", padding, 0),
                                 ("output_padding", output_padding, 0), ("dilation", dilation, 1),
                                 ("groups", (groups,), 1)):
        if min(value) < minimum:
            raise RuntimeError(f"{OP}: {'non-positive' if minimum else 'negative'} {name} is not supported, "
                               f"got {name}={value if name != 'groups' else groups}")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{OP}: output padding must be smaller than either stride or dilation, got "
                           f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    return stride, padding, output_padding, int(groups), dilation


def _check_shapes(x, weight, bias, groups):
    if weight.ndim != 4:
        raise RuntimeError(f"{OP}: expected a 4-D weight (C_in, C_out/groups, kh, kw), got shape {weight.shape}")
    in_c, out_per_group, kh, kw = weight.shape
    if in_c == 0 or in_c % groups:
        raise RuntimeError(f"{OP}: given groups={groups}, expected weight's dimension 0 to be a positive "
                           f"multiple of {groups}, got weight of shape {weight.shape}")
    if x.shape[1] != in_c:
        raise RuntimeError(f"{OP}: given weight of shape {weight.shape}, expected input {x.shape} to have "
                           f"{in_c} channels, got {x.shape[1]} channels")
    if out_per_group == 0 or kh == 0 or kw == 0:
        raise RuntimeError(f"{OP}: expected a weight with at least one output channel and a non-empty kernel, "
                           f"got shape {weight.shape}")
    if bias is not None and bias.shape != (out_per_group * groups,):
        raise RuntimeError(f"{OP}: given weight of shape {weight.shape} and groups={groups}, expected bias "
                           f"of shape ({out_per_group * groups},), got {bias.shape}")
    if 0 in x.shape[2:]:
        raise RuntimeError(f"{OP}: only an empty batch may be empty, got input of shape {x.shape}")


def output_hw(in_hw, kernel_size, stride, padding, output_padding, dilation):
    """(out_h, out_w) = (in − 1)·s − 2·p + d·(k − 1) + output_padding + 1 per axis."""
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1
                 for n, k, s, p, op, d in zip(in_hw, kernel_size, stride, padding, output_padding, dilation))


def _check_dtypes(x, weight, bias):
    if x.dtype != weight.dtype:
        raise RuntimeError(f"{OP}: input dtype {x.dtype} and weight dtype {weight.dtype} should be the same")
    if bias is not None and bias.dtype != x.dtype:
        raise RuntimeError(f"{OP}: input dtype {x.dtype} and bias dtype {bias.dtype} should be the same")
    if x.dtype.kind not in "f" and x.dtype != np.int64:
        raise NotImplementedError(f"{OP}: not implemented for dtype {x.dtype} (torch's CPU kernel takes "
                                  f"floating types and int64)")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,  # noqa: A002
                     dilation=1):
    """F.conv_transpose2d: input (N, C_in, H, W) or unbatched (C_in, H, W), weight (C_in, C_out/groups,
    kh, kw), bias (C_out,) -> (N, C_out, out_h, out_w),
    out_h = (H − 1)·sh − 2·ph + dh·(kh − 1) + output_padding_h + 1.
    The input gradient of conv2d(y, weight, stride, padding, dilation, groups) run forward:
    y = col2im(x rows · W); with G = dY:  dX = im2col(G) · Wᵀ,  dW = x rowsᵀ · im2col(G),  db = Σ G."""
    x = expect_tensor(input, OP)
    expect_tensor(weight, OP, "weight")
    expect_tensor(bias, OP, "bias", optional=True)
    stride, padding, output_padding, groups, dilation = _hyper_parameters(stride, padding, output_padding,
                                                                          groups, dilation)
    if x.ndim == 3:   # unbatched (C, H, W), as torch: a batch of one, squeezed again
        return conv_transpose2d(x.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    if x.ndim != 4:
        raise RuntimeError(f"{OP}: expected a 3-D (unbatched) or 4-D (batched) input, got shape {x.shape}")
    _check_shapes(x, weight, bias, groups)
    out_hw = output_hw(x.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation)
    if min(out_hw) < 1:
        raise RuntimeError(f"{OP}: the output would be {out_hw} for input {x.shape}, weight {weight.shape}, "
                           f"stride={stride}, padding={padding}, output_padding={output_padding}, "
                           f"dilation={dilation}: too small (padding too large)")
    if x.shape[0] == 0:   # as torch: an empty batch in the input's dtype, before the dtype checks
        weight = weight.to(dtype=x.dtype)
        bias = None if bias is None else bias.to(dtype=x.dtype)
    _check_dtypes(x, weight, bias)
    work = x.dtype == np.float16   # float16: computed in float32, rounded once, as torch's CPU kernel
    if work:
        x, weight = x.float(), weight.float()
        bias = None if bias is None else bias.float()
    out = choose(core_conv_transpose.ConvTranspose2d, x, weight, bias).apply(
        x, weight, bias, stride=stride, padding=padding, output_padding=output_padding, groups=groups,
        dilation=dilation)
    return out.half() if work else out
