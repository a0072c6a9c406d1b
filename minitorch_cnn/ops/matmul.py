"""Matrix products: matmul (batched, broadcasting) and linear (x Wᵀ + b)."""
from ..autograd import Function
from ..tensor import Tensor
from .elementwise import unbroadcast


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
    """out = x Wᵀ + b  (x: (*, in), W: (out, in), b: (out,));
    dx = g W,  dW = gᵀ x,  db = Σ g  (the leading dims folded into one batch axis)."""
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = g.reshape(-1, g.shape[-1])
        grad_x = (g @ weight) if need_x else None
        grad_w = (g2.T @ x.reshape(-1, x.shape[-1])) if need_w else None
        grad_b = g2.sum(axis=0) if need_b else None
        return grad_x, grad_w, grad_b


def linear(x, weight, bias=None):
    """F.linear: x (*, in) @ weight (out, in)ᵀ + bias (out,) -> (*, out);  dx = g W,  dW = gᵀ x,  db = Σ g."""
    if weight.ndim != 2:
        raise ValueError(f"linear: expected a 2-D weight (out_features, in_features), got shape {weight.shape}")
    out_f, in_f = weight.shape
    if x.ndim < 1 or x.shape[-1] != in_f:
        raise ValueError(f"linear({in_f}→{out_f}): expected input (*, {in_f}), got {x.shape}")
    if bias is not None and bias.shape != (out_f,):
        raise ValueError(f"linear({in_f}→{out_f}): expected bias ({out_f},), got {bias.shape}")
    if x.dtype != weight.dtype:
        raise TypeError(f"linear({in_f}→{out_f}): input dtype {x.dtype} differs from weight dtype {weight.dtype}")
    return Linear.apply(x, weight, bias)
