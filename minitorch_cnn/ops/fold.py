"""F.unfold and F.fold, the API of im2col and col2im in torch's layout: torch's argument checks,
errors and dtypes, then core/fold.py's Unfold and Fold Functions (fast/fold.py's while the fast paths
are on).

dtypes, as torch's CPU kernels: floating inputs (float16 included: unfold copies, fold adds in
float16 in the same order as torch, so the results are torch's bit for bit) and bool (fold's sum
is then an or); integer inputs are refused (torch has no integer im2col/col2im).
"""
from ..backends.fast import choose
from ..core import fold as core_fold
from ..fast import fold as _fast_fold  # noqa: F401  (registers the fast Unfold and Fold)
from .checks import expect_tensor
from .pairs import is_int


def exact_pair(value, op, name):
    """int or a sequence of exactly two ints -> (h, w), as torch's im2col/col2im arguments: a
    wrong type is a TypeError, a wrong length a RuntimeError (values are checked by the caller)."""
    if is_int(value):
        return int(value), int(value)
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{op}: {name} must be an int or a tuple of two ints, got {type(value).__name__} {value!r}")
    bad = [v for v in value if not is_int(v)]
    if bad:
        raise TypeError(f"{op}: {name} must be a tuple of ints, got {value!r} (an element of type "
                        f"{type(bad[0]).__name__})")
    if len(value) != 2:
        raise RuntimeError(f"{op}: expected {name} to have 2 elements, got {len(value)}: {value!r}")
    return int(value[0]), int(value[1])


def _window_args(op, kernel_size, dilation, padding, stride):
    """The four window arguments as pairs, with torch's value checks."""
    kernel_size, dilation = exact_pair(kernel_size, op, "kernel_size"), exact_pair(dilation, op, "dilation")
    padding, stride = exact_pair(padding, op, "padding"), exact_pair(stride, op, "stride")
    for name, value, minimum in (("kernel_size", kernel_size, 1), ("dilation", dilation, 1),
                                 ("padding", padding, 0), ("stride", stride, 1)):
        if min(value) < minimum:
            kind = "greater than zero" if minimum else "non-negative"
            raise RuntimeError(f"{op}: {name} should be {kind}, got {name}={value}")
    return kernel_size, dilation, padding, stride


def _blocks_grid(op, hw, kernel_size, dilation, padding, stride):
    """(out_h, out_w): how many windows fit along each axis; at least one each, or a RuntimeError."""
    grid = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, d, p, s in zip(hw, kernel_size, dilation, padding, stride))
    if min(grid) < 1:
        raise RuntimeError(f"{op}: given spatial size {tuple(hw)}, kernel_size={kernel_size}, "
                           f"dilation={dilation}, padding={padding}, stride={stride}, the grid of sliding "
                           f"blocks is {grid}, but each side must be at least one")
    return grid


def _check_dtype(op, x):
    if x.dtype.kind not in "fb":
        raise NotImplementedError(f"{op}: not implemented for dtype {x.dtype} (torch's "
                                  f"{'im2col' if op == 'unfold' else 'col2im'} has floating and bool kernels only)")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002  (torch's names)
    """F.unfold: input (N, C, H, W) or unbatched (C, H, W) -> (N, C·kh·kw, L) (or (C·kh·kw, L)),
    L = out_h·out_w windows, out_h = (H + 2·ph − dh·(kh − 1) − 1) // sh + 1:

        out[n, (c, i, j), (oy, ox)] = x_pad[n, c, oy·sh + i·dh, ox·sw + j·dw]    (im2col, transposed)

    dx = fold(G): every copy of a pixel sends its gradient back to it."""
    x = expect_tensor(input, "unfold")
    kernel_size, dilation, padding, stride = _window_args("unfold", kernel_size, dilation, padding, stride)
    if x.ndim not in (3, 4) or 0 in x.shape[-3:]:
        raise RuntimeError(f"unfold: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input whose C, H and W "
                           f"are non-zero (N may be 0), got shape {x.shape}")
    _check_dtype("unfold", x)
    _blocks_grid("unfold", x.shape[-2:], kernel_size, dilation, padding, stride)
    if x.ndim == 3:   # unbatched, as torch: a batch of one, squeezed again
        return unfold(x.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    return choose(core_fold.Unfold, x).apply(x, kernel_size=kernel_size, dilation=dilation,
                                             padding=padding, stride=stride)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):  # noqa: A002
    """F.fold: input (N, C·kh·kw, L) or unbatched (C·kh·kw, L) -> (N, C, H, W) (or (C, H, W)),
    (H, W) = output_size, L the number of windows that fit in it; overlapping values add:

        y_pad[n, c, oy·sh + i·dh, ox·sw + j·dw] += input[n, (c, i, j), (oy, ox)]    (col2im)

    dx = unfold(G) (x: the input blocks): each value's gradient is that of the pixel it landed on."""
    blocks = expect_tensor(input, "fold")
    output_size = exact_pair(output_size, "fold", "output_size")
    kernel_size, dilation, padding, stride = _window_args("fold", kernel_size, dilation, padding, stride)
    if blocks.ndim not in (2, 3) or 0 in blocks.shape[-2:]:
        raise RuntimeError(f"fold: expected a 2-D (C·kh·kw, L) or 3-D (N, C·kh·kw, L) input whose last two "
                           f"sizes are non-zero (N may be 0), got shape {blocks.shape}")
    _check_dtype("fold", blocks)
    taps = kernel_size[0] * kernel_size[1]
    if blocks.shape[-2] % taps:
        raise RuntimeError(f"fold: expected input's dimension {blocks.ndim - 2} to be divisible by the product "
                           f"of kernel_size {kernel_size}, {taps}, got input of shape {blocks.shape}")
    grid = _blocks_grid("fold", output_size, kernel_size, dilation, padding, stride)
    if blocks.shape[-1] != grid[0] * grid[1]:
        raise RuntimeError(f"fold: given output_size={output_size}, kernel_size={kernel_size}, dilation="
                           f"{dilation}, padding={padding}, stride={stride}, expected input's last dimension to "
                           f"be the number of sliding blocks {grid[0]} * {grid[1]} = {grid[0] * grid[1]}, got "
                           f"input of shape {blocks.shape}")
    if blocks.ndim == 2:
        return fold(blocks.unsqueeze(0), output_size, kernel_size, dilation, padding, stride).squeeze(0)
    return choose(core_fold.Fold, blocks).apply(blocks, image_size=output_size, kernel_size=kernel_size,
                                                dilation=dilation, padding=padding, stride=stride)
