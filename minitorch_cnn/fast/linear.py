"""The fast Linear, which replaces core/linear.py's while minitorch_cnn.backends.fast is
enabled (MatMul has no replacement: the core one runs in both modes).
tests/test_core_activations_loss_linear.py holds the two equal.

Departures from core.linear:
  Linear
  * float16 runs in float32 and rounds the results once (as torch's CPU kernels do);
  * the bias is added in place, and a bias of another shape than (out,) that F.linear lets
    through (one that broadcasts to the (rows, out) view, where torch's addmm adds it) is
    added on that view;
  * the rows are folded with explicit counts, so zero in_features or out_features work (the
    core's reshape(-1, 0) is ambiguous there).
"""
import numpy as np

from ..backends.fast import replaces
from ..core import linear as core_linear
from ..core.autograd import Function
from ..core.elementwise import unbroadcast
from ..ops.pairs import compute_dtype


@replaces(core_linear.Linear)
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
