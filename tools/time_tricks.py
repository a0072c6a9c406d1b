"""Time each optimisation trick of fast/conv.py, fast/pool.py and fast/norm.py against the plain
version it replaced, on LeNet-5-sized float32 inputs (and fast/conv_transpose.py's and
fast/fold.py's Functions against the core's, on autoencoder-sized ones); prints one line per trick.

    OPENBLAS_NUM_THREADS=1 python tools/time_tricks.py [name ...]

Run it on a quiet machine (the numbers in the ops' comments were measured so, one
trick at a time, best of 7 repeats).  A quick check, not a benchmark: see benchmarks/.
"""
import sys
import timeit

import numpy as np

from minitorch_cnn.fast import conv
from minitorch_cnn.fast import pool
from minitorch_cnn.ops.pairs import window_taps

rng = np.random.default_rng(0)
F32 = np.float32


REPEAT = 7


def best(fn, number):
    if REPEAT == 1:          # --smoke: does every trick still run?
        number = 1
    return min(timeit.repeat(fn, number=number, repeat=REPEAT)) / number


def compare(name, trick, plain, number=20):
    t_trick, t_plain = best(trick, number), best(plain, number)
    print(f"{name:34s} trick {t_trick * 1e3:8.3f} ms   plain {t_plain * 1e3:8.3f} ms   "
          f"{t_plain / t_trick:5.2f}×", flush=True)


# ---- conv.py -----------------------------------------------------------------------------

def t_im2col_first_layer():
    """LeNet-5's conv1: 1 channel, 5×5, padding 2: the heuristic picks kernel-tap major."""
    x, g = rng.standard_normal((64, 1, 28, 28)).astype(F32), ((5, 5), (1, 1), (2, 2), (1, 1))
    compare("im2col layout, conv1 (C=1)", lambda: conv.im2col_tap_major(x, *g),
            lambda: conv.im2col_channels_last(x, *g))


def t_im2col_second_layer():
    """LeNet-5's conv2: 6 channels, 5×5: the heuristic picks channels last."""
    x, g = rng.standard_normal((64, 6, 14, 14)).astype(F32), ((5, 5), (1, 1), (0, 0), (1, 1))
    compare("im2col layout, conv2 (C=6)", lambda: conv.im2col_channels_last(x, *g),
            lambda: conv.im2col_tap_major(x, *g))


def t_bias_in_reorder():
    """The bias added during the (O, N, oh, ow) -> (N, O, oh, ow) copy, not after it."""
    out_t = rng.standard_normal((6, 64, 28, 28)).astype(F32).transpose(1, 0, 2, 3)
    bias, out = rng.standard_normal(6).astype(F32), np.empty((64, 6, 28, 28), F32)

    def fused():
        np.add(out_t, bias.reshape(-1, 1, 1), out=out)

    def plain():
        out[...] = out_t
        np.add(out, bias.reshape(-1, 1, 1), out=out)
    compare("conv bias in the reordering copy", fused, plain)


def t_grad_t_copy():
    """Backward: Gᵀ (O, rows) by copying runs of oh·ow, vs G (rows, O) by a full transpose."""
    g = rng.standard_normal((64, 6, 28, 28)).astype(F32)
    compare("conv backward Gᵀ vs G", lambda: np.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(6, -1),
            lambda: np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(-1, 6))


def t_col2im_strided_adds():
    """col2im: kh·kw strided adds vs one np.add.at scatter."""
    x_shape, k, s, p, d = (64, 6, 14, 14), (5, 5), (1, 1), (0, 0), (1, 1)
    col = rng.standard_normal((64 * 10 * 10, 25 * 6)).astype(F32)
    n, c, h, w = x_shape
    i, j = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")
    ki, kj = np.meshgrid(np.arange(5), np.arange(5), indexing="ij")
    rows = (i.reshape(-1, 1) + ki.reshape(1, -1))            # (oh·ow, kh·kw)
    cols = (j.reshape(-1, 1) + kj.reshape(1, -1))

    def add_at():
        dx = np.zeros((n, h, w, c), F32)
        src = col.reshape(n, 100, 25, c)
        np.add.at(dx, (np.arange(n)[:, None, None], rows[None], cols[None]), src)
        return dx
    compare("col2im strided adds vs np.add.at", lambda: conv.col2im(col, x_shape, k, s, p, d), add_at, number=3)


def t_output_order():
    """Forward GEMM as W·colᵀ (O, rows), reordered by runs of oh·ow, vs col·Wᵀ (rows, O)
    and a full transpose to NCHW (LeNet-5's conv1 and conv2 at batch 64)."""
    for name, x_shape, out_c, k, p in [("conv1", (64, 1, 28, 28), 6, 5, 2), ("conv2", (64, 6, 14, 14), 16, 5, 0)]:
        x = rng.standard_normal(x_shape).astype(F32)
        col = conv.im2col(x, (k, k), (1, 1), (p, p), (1, 1))
        w_mat = rng.standard_normal((out_c, col.shape[1])).astype(F32)
        oh = x_shape[2] + 2 * p - k + 1
        out = np.empty((64, out_c, oh, oh), F32)

        def w_col_t():
            out[...] = (w_mat @ col.T).reshape(out_c, 64, oh, oh).transpose(1, 0, 2, 3)

        def col_w_t():
            out[...] = (col @ w_mat.T).reshape(64, oh, oh, out_c).transpose(0, 3, 1, 2)
        compare(f"conv forward W·colᵀ vs col·Wᵀ, {name}", w_col_t, col_w_t)


def t_grad_col_per_tap():
    """Backward dcol = G·W one kernel tap at a time, (kh·kw, rows, C), then col2im, vs one
    (rows, kh·kw·C) product then col2im (LeNet-5's conv2 at batch 64)."""
    x_shape, g = (64, 6, 14, 14), ((5, 5), (1, 1), (0, 0), (1, 1))
    grad_t = rng.standard_normal((16, 6400)).astype(F32)
    w_mat = rng.standard_normal((16, 150)).astype(F32)
    w_taps = np.ascontiguousarray(w_mat.reshape(16, 25, 6).transpose(1, 0, 2))

    def per_tap():
        grad_col = np.empty((25, 6400, 6), F32)
        np.matmul(grad_t.T, w_taps, out=grad_col)
        return conv.col2im(grad_col.transpose(1, 0, 2), x_shape, *g)

    def whole():
        return conv.col2im(grad_t.T @ w_mat, x_shape, *g)
    compare("conv backward G·W per tap", per_tap, whole, number=5)


def t_inference_slicing():
    """No-grad conv at batch 1000 in slices of INFERENCE_COL_BYTES of columns vs all at once."""
    import minitorch_cnn as mt
    from minitorch_cnn.nn import functional as F
    for name, x_shape, w_shape, padding in [("conv1", (1000, 1, 28, 28), (6, 1, 5, 5), 2),
                                            ("conv2", (1000, 6, 14, 14), (16, 6, 5, 5), 0)]:
        x = mt.tensor(rng.standard_normal(x_shape).astype(F32))
        w = mt.tensor(rng.standard_normal(w_shape).astype(F32))
        b = mt.tensor(rng.standard_normal(w_shape[0]).astype(F32))

        def run(col_bytes):
            conv.INFERENCE_COL_BYTES = col_bytes
            with mt.no_grad():
                F.conv2d(x, w, b, padding=padding)
        default = conv.INFERENCE_COL_BYTES
        try:
            compare(f"inference batch slicing, {name}", lambda: run(default), lambda: run(1 << 40), number=3)
        finally:
            conv.INFERENCE_COL_BYTES = default


# ---- pool.py -----------------------------------------------------------------------------

X_POOL = rng.standard_normal((64, 6, 28, 28)).astype(F32)
POOL = (2, 2), (2, 2), (0, 0)


def _windows(x, k, s):
    n, c, h, w = x.shape
    oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    sn, sc, sh, sw = x.strides
    return np.lib.stride_tricks.as_strided(x, (n, c, oh, ow, k[0], k[1]),
                                           (sn, sc, sh * s[0], sw * s[1], sh, sw))


def t_pool_taps():
    """max over kh·kw strided views vs a max over the unfolded windows."""
    compare("max-pool taps vs windows.max", lambda: pool.max_pool2d_forward(X_POOL, *POOL, need_argmax=False),
            lambda: _windows(X_POOL, (2, 2), (2, 2)).max(axis=(4, 5)))


def t_compare_and_count():
    """The argmax as compare-and-count passes vs argmax over the stacked taps."""
    out = pool.max_pool2d_forward(X_POOL, *POOL, need_argmax=False)[0]
    taps = [X_POOL[:, :, i::2, j::2] for i in range(2) for j in range(2)]

    def count():
        argmax = np.zeros(out.shape, dtype=np.int8)
        missed = np.ones(out.shape, dtype=bool)
        for tap in taps[:-1]:
            missed &= tap != out
            argmax += missed
        return argmax
    compare("max-pool argmax compare-and-count", count, lambda: np.stack(taps).argmax(axis=0))


def t_skip_argmax():
    compare("max-pool forward without argmax", lambda: pool.max_pool2d_forward(X_POOL, *POOL, need_argmax=False),
            lambda: pool.max_pool2d_forward(X_POOL, *POOL, need_argmax=True))


def t_backward_multiply_vs_where():
    _, argmax = pool.max_pool2d_forward(X_POOL, *POOL)
    g = rng.standard_normal(argmax.shape).astype(F32)
    view = np.zeros_like(g)

    def where():
        for k in range(4):
            view[...] += np.where(argmax == k, g, 0)
    compare("max-pool backward multiply", lambda: pool.max_pool2d_backward(g, argmax, X_POOL.shape, *POOL),
            where)


def t_backward_direct_write():
    """Windows side by side: np.multiply(..., out=view) vs view += g·hit."""
    _, argmax = pool.max_pool2d_forward(X_POOL, *POOL)
    g = rng.standard_normal(argmax.shape).astype(F32)
    dx = np.zeros(X_POOL.shape, F32)
    views = [dx[:, :, i::2, j::2] for i in range(2) for j in range(2)]

    def direct():
        for k, view in enumerate(views):
            np.multiply(g, argmax == k, out=view)

    def accumulate():
        dx[...] = 0
        for k, view in enumerate(views):
            view += g * (argmax == k)
    compare("max-pool backward direct write", direct, accumulate)


def t_avg_backward_no_zero_fill():
    """Windows tiling the input: each offset's share copied into an uninitialised dx vs
    added onto a zero-filled one.  (The max-pool backward already writes each offset
    straight into dx; skipping its zero-fill measured 0.98–1.01×, so it keeps it.)"""
    g = rng.standard_normal((64, 6, 14, 14)).astype(F32)

    def avg_zero_filled():
        share, dx = g / 4, np.zeros(X_POOL.shape, F32)
        for rows, columns in window_taps((2, 2), (2, 2), (1, 1), g.shape[2:]):
            dx[:, :, rows, columns] += share
        return dx
    compare("avg-pool backward, no zero-fill",
            lambda: pool.avg_pool2d_backward(g, X_POOL.shape, (2, 2), (2, 2), (0, 0), True), avg_zero_filled)


# ---- norm.py -----------------------------------------------------------------------------

def t_bn_eval_fused():
    x = rng.standard_normal((64, 6, 28, 28)).astype(F32)
    mean, var = rng.standard_normal(6).astype(F32), rng.random(6).astype(F32) + 0.5
    w, b = rng.standard_normal(6).astype(F32), rng.standard_normal(6).astype(F32)
    shape = (1, -1, 1, 1)

    def fused():
        scale = (1 / np.sqrt(var + 1e-5)).astype(F32) * w
        shift = b - mean * scale
        out = x * scale.reshape(shape)
        out += shift.reshape(shape)
        return out

    def plain():
        x_hat = (x - mean.reshape(shape)) * (1 / np.sqrt(var + 1e-5)).astype(F32).reshape(shape)
        out = x_hat * w.reshape(shape)
        out += b.reshape(shape)
        return out
    compare("batch norm eval scale/shift", fused, plain)


def t_bn_train_scale_shift():
    """Training batch norm's output once the statistics are known: x·a + c (torch's form)
    vs x̂ = (x − μ)·inv_std, then x̂·w + b, on DeepCNN's first block, (64, 32, 28, 28)."""
    x = rng.standard_normal((64, 32, 28, 28)).astype(F32)
    mean, inv_std = rng.standard_normal(32).astype(F32), rng.random(32).astype(F32) + 0.5
    w, b = rng.standard_normal(32).astype(F32), rng.standard_normal(32).astype(F32)
    centered = x - mean.reshape(1, -1, 1, 1)
    shape = (1, -1, 1, 1)

    def scale_shift():
        scale = inv_std * w
        out = x * scale.reshape(shape)
        out += (b - mean * scale).reshape(shape)
        return out

    def through_x_hat():
        x_hat = centered * inv_std.reshape(shape)
        out = x_hat * w.reshape(shape)
        out += b.reshape(shape)
        return out
    compare("batch norm train x·a + c", scale_shift, through_x_hat)


# ---- optim/adam.py ------------------------------------------------------------------------

def t_adam_in_place():
    """One Adam step over DeepCNN's parameter shapes (981,450 float32 values): in place
    through one scratch buffer vs the same formula with temporaries."""
    import math

    import minitorch_cnn as mt
    from minitorch_cnn.models import get_model
    params = [p for p in get_model("deepcnn").parameters()]
    for p in params:
        p.grad = mt.tensor(rng.standard_normal(p.shape).astype(F32))
    opt = mt.optim.Adam(params)
    opt.step()
    moments = [(np.zeros_like(p.array), np.zeros_like(p.array)) for p in params]

    def with_temporaries(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, step=2):
        for p, (m, v) in zip(params, moments):
            g = p.grad.array
            m += (1 - beta1) * (g - m)
            v *= beta2
            v += (1 - beta2) * g * g
            denom = np.sqrt(v) / math.sqrt(1 - beta2 ** step)
            denom += eps
            p.array -= lr / (1 - beta1 ** step) * (m / denom)
    compare("Adam step in place", opt.step, with_temporaries, number=10)


# ---- conv_transpose.py, fold.py (the toolbox beside the learner's path) -----------------------

def _function_passes(cls, arrays, params, seed=1):
    """cls's forward on raw arrays (every gradient wanted), and a thunk running its backward."""
    from minitorch_cnn.core.autograd import Context

    def forward():
        ctx = Context(cls, [None] * len(arrays), (True,) * len(arrays))
        return ctx, cls.forward(ctx, *arrays, **params)
    ctx, out = forward()
    grad = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
    return forward, lambda: cls.backward(ctx, grad)


def _compare_functions(name, core_cls, fast_cls, arrays, params):
    """The fast Function's forward and backward against the core's, each timed alone."""
    fast_forward, fast_backward = _function_passes(fast_cls, arrays, params)
    core_forward, core_backward = _function_passes(core_cls, arrays, params)
    compare(f"{name} forward", fast_forward, core_forward)
    compare(f"{name} backward", fast_backward, core_backward)


def t_conv_transpose_decoder():
    """The autoencoder's decoder at batch 64 (kernel 3, stride 2, padding 1, output_padding 1):
    fast/conv_transpose.py's ConvTranspose2d against core/conv_transpose.py's."""
    from minitorch_cnn.core import conv_transpose as core_ct
    from minitorch_cnn.fast import conv_transpose as fast_ct
    params = dict(stride=(2, 2), padding=(1, 1), output_padding=(1, 1), groups=1, dilation=(1, 1))
    for in_c, out_c, hw in ((32, 16, 7), (16, 1, 14)):
        arrays = (rng.standard_normal((64, in_c, hw, hw)).astype(F32),
                  rng.standard_normal((in_c, out_c, 3, 3)).astype(F32), rng.standard_normal(out_c).astype(F32))
        _compare_functions(f"conv_transpose {in_c}→{out_c}", core_ct.ConvTranspose2d, fast_ct.ConvTranspose2d,
                           arrays, params)


def t_conv_transpose_tap_major():
    """The transposed convolution's backward: im2col(G) tap-major vs channels last, G of 28×28,
    3×3 windows at stride 2 (fast/conv.py's own rule picks channels last for every strided window)."""
    g = ((3, 3), (2, 2), (1, 1), (1, 1))
    for c in (1, 4, 8):
        x = rng.standard_normal((64, c, 28, 28)).astype(F32)
        compare(f"im2col(G) tap-major, C={c} stride 2", lambda: conv.im2col_tap_major(x, *g),
                lambda: conv.im2col_channels_last(x, *g))


def t_conv_transpose_dx_order():
    """dX = im2col(G) · Wᵀ: W · colᵀ from a tap-major col (16→1) vs col · Wᵀ; the other way round
    from a channels-last col (32→16)."""
    g = ((3, 3), (2, 2), (1, 1), (1, 1))
    for in_c, out_c, hw, make in ((16, 1, 14, conv.im2col_tap_major), (32, 16, 7, conv.im2col_channels_last)):
        col = make(rng.standard_normal((64, out_c, 2 * hw, 2 * hw)).astype(F32), *g)
        w_mat = rng.standard_normal((in_c, 9 * out_c)).astype(F32)

        def w_col_t():
            out_t = w_mat @ col.T
            return np.ascontiguousarray(out_t.reshape(in_c, 64, hw, hw).transpose(1, 0, 2, 3))

        def col_w_t():
            rows = col @ w_mat.T
            return np.ascontiguousarray(rows.reshape(64, hw, hw, in_c).transpose(0, 3, 1, 2))
        if make is conv.im2col_tap_major:
            compare(f"conv_transpose dX W·colᵀ, {in_c}→{out_c}", w_col_t, col_w_t)
        else:
            compare(f"conv_transpose dX col·Wᵀ, {in_c}→{out_c}", col_w_t, w_col_t)


def t_conv_transpose_bias_matvec():
    """db = Σ_{n,y,x} G as two matrix-vector products vs sum(axis=(0, 2, 3))."""
    for c in (16, 1):
        g = rng.standard_normal((64, c, 28, 28)).astype(F32)
        ones_n, ones_hw = np.ones(64, F32), np.ones(28 * 28, F32)
        compare(f"conv_transpose db matvec, C={c}", lambda: (ones_n @ g.reshape(64, -1)).reshape(c, -1) @ ones_hw,
                lambda: g.sum(axis=(0, 2, 3)))


def t_unfold_fold():
    """F.unfold of (64, 6, 28, 28) with a 5×5 kernel (and F.fold back): fast/fold.py's Unfold and
    Fold against core/fold.py's (each one's backward is the other's forward)."""
    from minitorch_cnn.core import fold as core_fold
    from minitorch_cnn.fast import fold as fast_fold
    params = dict(kernel_size=(5, 5), dilation=(1, 1), padding=(0, 0), stride=(1, 1))
    x = rng.standard_normal((64, 6, 28, 28)).astype(F32)
    _compare_functions("unfold (64, 6, 28, 28) k5", core_fold.Unfold, fast_fold.Unfold, (x,), params)
    blocks = rng.standard_normal((64, 6 * 25, 24 * 24)).astype(F32)
    _compare_functions("fold to (64, 6, 28, 28) k5", core_fold.Fold, fast_fold.Fold, (blocks,),
                       dict(params, image_size=(28, 28)))


TRICKS = {name[2:]: fn for name, fn in globals().items() if name.startswith("t_")}

if __name__ == "__main__":
    names = [a for a in sys.argv[1:] if a != "--smoke"]
    REPEAT = 1 if "--smoke" in sys.argv else REPEAT
    for name in names or TRICKS:
        TRICKS[name]()
