"""Matrix products: matmul, and the fully connected layer's y = x Wᵀ + b (docs/03_linear.md)."""
from .autograd import Function
from .elementwise import unbroadcast


class MatMul(Function):
    """a (..., n, k) @ b (..., k, m) -> (..., n, m), the batch dims broadcast;
    da = G bᵀ,  db = aᵀ G, each summed back over the batch dims it was broadcast along.
    A 1-D a is a row (1, k) and a 1-D b a column (k, 1), whose axis the output drops (as NumPy).
    """
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        a2 = a if a.ndim > 1 else a[None, :]
        b2 = b if b.ndim > 1 else b[:, None]
        if b.ndim == 1:        # put back the axes the output dropped: G is (..., n, m)
            g = g[..., None]
        if a.ndim == 1:
            g = g[..., None, :]
        need_a, need_b = ctx.needs_input_grad     # skip a product nobody asked for
        grad_a = unbroadcast(g @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape) if need_a else None
        grad_b = unbroadcast(a2.swapaxes(-1, -2) @ g, b2.shape).reshape(b.shape) if need_b else None
        return grad_a, grad_b


class Linear(Function):
    """x (*, in), W (out, in), b (out,) or None -> y = x Wᵀ + b, (*, out);
    dX = G W,  dW = Gᵀ x,  db = Σ_n G[n, :]  (x's leading dims folded into the rows n)."""
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        out = x @ weight.T
        return out if bias is None else out + bias

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved
        need_x, need_weight, need_bias = ctx.needs_input_grad   # skip a product nobody asked for
        rows_g = g.reshape(-1, g.shape[-1])      # (N, out): every leading index is a row
        rows_x = x.reshape(-1, x.shape[-1])      # (N, in)
        grad_x = g @ weight if need_x else None
        grad_weight = rows_g.T @ rows_x if need_weight else None
        grad_bias = rows_g.sum(axis=0) if need_bias else None
        return grad_x, grad_weight, grad_bias
