"""conv2d, the API of the 2-D convolution: torch's argument checks, errors, dtypes and edge
cases, then the Conv2d Function (core/conv.py, or fast/conv.py's while the fast paths are on).

Its definition: minitorch_cnn/reference.py's im2col, col2im, conv2d and conv2d_backward.
"""
import numpy as np

from ..backends.fast import choose
from ..core import conv as core_conv
from ..fast import conv as _fast_conv  # noqa: F401  (registers the fast Conv2d)
from .checks import expect_tensor
from .pairs import conv_output_size, is_int, pair, promote_types


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """F.conv2d: input (N, C_in, H, W) or unbatched (C_in, H, W), weight (C_out, C_in/groups, kh, kw),
    bias (C_out,) -> (N, C_out, out_h, out_w) (or (C_out, out_h, out_w)),
    out_h = (H + 2·ph − dh·(kh − 1) − 1) // sh + 1.
    padding="valid" is 0; padding="same" (stride 1 only) keeps H and W: dh·(kh − 1) rows of zeros,
    the odd one at the bottom (and likewise columns), as torch.
    With G = dY as (N·out_h·out_w, C_out):  dW = Gᵀ · col,  db = Σ_rows G,  dX = col2im(G · W)."""
    x = expect_tensor(input, "conv2d", "input")
    expect_tensor(weight, "conv2d", "weight")
    expect_tensor(bias, "conv2d", "bias", optional=True)
    if isinstance(padding, str):
        return _conv2d_padding_string(x, weight, bias, stride, padding, dilation, groups)
    stride, padding = pair(stride, "conv2d: stride", 1), pair(padding, "conv2d: padding", 0)
    dilation = pair(dilation, "conv2d: dilation", 1)
    if not is_int(groups):
        raise TypeError(f"conv2d: groups must be an int, got {type(groups).__name__} {groups!r}")
    if groups < 1:
        raise ValueError(f"conv2d: groups must be a positive integer, got {groups!r}")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: expected a 4-D weight (C_out, C_in/groups, kh, kw), got shape {weight.shape}")
    if x.ndim == 3:   # unbatched (C, H, W), as torch: a batch of one, squeezed again
        return conv2d(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if x.ndim != 4:
        raise ValueError(f"conv2d: expected a 3-D (C, H, W) or 4-D input (N, C, H, W), got shape {x.shape}")
    out_c, c_per_group, kh, kw = weight.shape
    if out_c == 0:
        raise ValueError(f"conv2d: expected a weight with at least 1 output channel, got shape {weight.shape}")
    if out_c % groups:
        raise ValueError(f"conv2d: groups={groups} must divide the {out_c} output channels")
    if x.shape[1] % groups:
        raise ValueError(f"conv2d: groups={groups} must divide the {x.shape[1]} input channels "
                         f"of input {x.shape}")
    if x.shape[1] != c_per_group * groups:
        raise ValueError(f"conv2d: expected input with {c_per_group * groups} channels "
                         f"(weight {weight.shape}, groups={groups}), got {x.shape[1]} channels "
                         f"in input of shape {x.shape}")
    if bias is not None and bias.shape != (out_c,):
        raise ValueError(f"conv2d: expected bias of shape ({out_c},), got {bias.shape}")
    if kh == 0 or kw == 0:
        raise ValueError(f"conv2d: kernel size must be positive, got weight of shape {weight.shape}")
    conv_output_size(x.shape[2:], (kh, kw), stride, padding, dilation, op="conv2d")
    if bias is not None and bias.dtype != x.dtype:
        raise TypeError(f"conv2d: input dtype {x.dtype} differs from bias dtype {bias.dtype}")
    if x.numel() == 0 and (x.shape[0] == 0 or x.shape[1] == 0):
        # torch returns an empty batch (or no channels) before it checks the weight's dtype,
        # in the promoted dtype of input and weight
        x = x.to(dtype=promote_types(x.dtype, weight.dtype))
        weight = weight.to(dtype=x.dtype)
        bias = None if bias is None else bias.to(dtype=x.dtype)
    elif x.numel() == 0:
        raise ValueError(f"conv2d: only an empty batch or zero channels may be empty, got input of shape {x.shape}")
    if x.dtype.kind not in "fiu" and x.numel():
        raise TypeError(f"conv2d: not implemented for dtype {x.dtype}")
    if x.dtype.kind in "iu" and x.dtype != np.int64 and dilation != (1, 1) and x.numel():
        raise TypeError(f"conv2d: a dilated convolution is not implemented for dtype {x.dtype} (torch has it "
                        f"for int64 only)")
    if x.dtype != weight.dtype:
        raise TypeError(f"conv2d: input dtype {x.dtype} differs from weight dtype {weight.dtype}")
    out = choose(core_conv.Conv2d, x, weight, bias).apply(x, weight, bias, stride=stride, padding=padding,
                                         dilation=dilation, groups=int(groups))
    # No input channel: torch gives no output channel either, where the sum over no channel
    # would be the bias (the core's answer; the fast Conv2d gives torch's already).
    return out[:, :0] if c_per_group == 0 else out


def check_padding_string(padding, stride, error=RuntimeError):
    """torch's padding strings: "valid" or "same"; "same" only with stride 1."""
    if padding not in ("valid", "same"):
        raise error(f"conv2d: invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
    if padding == "same" and pair(stride, "conv2d: stride", 1) != (1, 1):
        raise error("conv2d: padding='same' is not supported for strided convolutions")


def _conv2d_padding_string(x, weight, bias, stride, padding, dilation, groups):
    """padding="valid" | "same".  "same" pads d·(k − 1) in all per dim: half on each side and,
    when that is odd, one more at the end.  The Function pads symmetrically, so an odd total is
    padded by the larger half on both sides and the output's first row (column) dropped: output
    row i then starts its window at i + 1 − (half + 1) = i − half, torch's row i."""
    check_padding_string(padding, stride)
    if padding == "valid":
        return conv2d(x, weight, bias, stride, 0, dilation, groups)
    dilation = pair(dilation, "conv2d: dilation", 1)
    kernel = weight.shape[-2:] if weight.ndim == 4 else (1, 1)
    totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
    out = conv2d(x, weight, bias, 1, tuple((t + 1) // 2 for t in totals), dilation, groups)
    return out[..., totals[0] % 2:, totals[1] % 2:]
