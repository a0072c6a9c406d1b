"""Matrix products: matmul (batched, broadcasting) and linear (x Wᵀ + b)."""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .elementwise import unbroadcast
from .checks import expect_tensor
from .pairs import compute_dtype


class MatMul(Function):
    """out = a @ b  (a: (..., n, k), b: (..., k, m));  da = g @ bᵀ,  db = aᵀ @ g.

    1-D operands are treated as a row (a) or a column (b) vector, as in NumPy.
    """
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        a2 = a if a.ndim > 1 else a.reshape(1, -1)
        b2 = b if b.ndim > 1 else b.reshape(-1, 1)
        if a.ndim == 1:
            g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]) if b.ndim > 1 else g.reshape(1, *g.shape)
        if b.ndim == 1:
            g = g.reshape(g.shape + (1,))
        need_a, need_b = ctx.needs_input_grad
        grad_a = unbroadcast(g @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape) if need_a else None
        grad_b = unbroadcast(a2.swapaxes(-1, -2) @ g, b2.shape).reshape(b.shape) if need_b else None
        return grad_a, grad_b


def matmul(a, b):
    """a (..., n, k) @ b (..., k, m) -> (..., n, m), batch dims broadcast;  da = g @ bᵀ,  db = aᵀ @ g."""
    for operand in (a, b):
        if not isinstance(operand, Tensor):
            raise TypeError(f"matmul: expected Tensor operands, got {type(operand).__name__}")
    if a.dtype != b.dtype:    # torch promotes nothing here
        raise RuntimeError(f"matmul: expected both operands to have the same dtype, got {a.dtype} and {b.dtype}")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                         f"(inner dimensions {k_a} and {k_b} differ)")
    return MatMul.apply(a, b)


class Linear(Function):
    """out = x Wᵀ + b  (x: (*, in), W: (out, in), b: broadcast to (*, out));
    dx = g W,  dW = gᵀ x,  db = Σ g  (the leading dims folded into one batch axis).
    float16 runs in float32 and rounds the results once (as torch's CPU kernels do)."""
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.dtypes = x.dtype, weight.dtype, None if bias is None else bias.dtype
        ctx.bias_shape = None if bias is None else bias.shape
        work = compute_dtype(x.dtype)
        x, weight = x.astype(work, copy=False), weight.astype(work, copy=False)
        ctx.save_for_backward(x, weight)
        out = x @ weight.T
        ctx.folded = (int(np.prod(out.shape[:-1])), out.shape[-1]) if x.ndim > 1 else out.shape
        if bias is not None and bias.shape == out.shape[-1:]:
            out += bias.astype(work, copy=False)
        elif bias is not None:   # any other shape broadcasts on the (rows, out) view, where torch adds it
            out = (out.reshape(ctx.folded) + bias.astype(work, copy=False)).reshape(out.shape)
        return out.astype(ctx.dtypes[0], copy=False)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad
        g = g.astype(x.dtype, copy=False)
        g2 = g.reshape(int(np.prod(g.shape[:-1])), g.shape[-1])   # explicit: -1 is ambiguous for N = 0
        grad_x = (g @ weight) if need_x else None
        grad_w = (g2.T @ x.reshape(g2.shape[0], x.shape[-1])) if need_w else None
        grad_b = unbroadcast(g.reshape(ctx.folded), ctx.bias_shape) if need_b else None
        return tuple(None if grad is None else grad.astype(dtype, copy=False)
                     for grad, dtype in zip((grad_x, grad_w, grad_b), ctx.dtypes))


def linear(x, weight, bias=None):
    """F.linear: x (*, in) @ weight (out, in)ᵀ + bias (out,) -> (*, out);  dx = g W,  dW = gᵀ x,  db = Σ g.
    A 1-D weight (in,) gives x @ weight, shape (*)."""
    expect_tensor(x, "linear", "input")
    expect_tensor(weight, "linear", "weight")
    expect_tensor(bias, "linear", "bias", optional=True)
    if weight.ndim == 1 and x.ndim >= 1 and bias is None:   # torch's vector weight: a dot product per row
        return linear(x, weight.unsqueeze(0)).squeeze(-1)
    if weight.ndim != 2:
        raise ValueError(f"linear: expected a 2-D weight (out_features, in_features), got shape {weight.shape}")
    out_f, in_f = weight.shape
    if x.ndim < 1 or x.shape[-1] != in_f:
        raise ValueError(f"linear({in_f}→{out_f}): expected input (*, {in_f}), got {x.shape}")
    # torch adds the bias to the output folded to (rows, out_features) (addmm), or to (out,)
    folded = (int(np.prod(x.shape[:-1])), out_f) if x.ndim > 1 else (out_f,)
    if bias is not None and _broadcast_shape(folded, bias.shape) != folded:
        raise ValueError(f"linear({in_f}→{out_f}): expected bias ({out_f},) (or one that broadcasts to "
                         f"{folded}), got {bias.shape}")
    if x.dtype.kind not in "fiu" and x.numel() and weight.numel():   # torch lets an empty bool product through
        raise TypeError(f"linear({in_f}→{out_f}): not implemented for dtype {x.dtype}")
    if x.dtype != weight.dtype:
        raise TypeError(f"linear({in_f}→{out_f}): input dtype {x.dtype} differs from weight dtype {weight.dtype}")
    if bias is not None and bias.dtype != x.dtype:
        raise TypeError(f"linear({in_f}→{out_f}): input dtype {x.dtype} differs from bias dtype {bias.dtype}")
    return Linear.apply(x, weight, bias)


def _broadcast_shape(a, b):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None
