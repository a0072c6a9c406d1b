"""The CUDA kernels exactly right where flat indices pass 2^31 (step "large-index" of tools/gpu_check.sh).

The kernels index a whole batch with 64-bit integers and one image with 32-bit ones
(kernels/*.cu, minitorch_cnn/cuda/kernels.py).  Each case below runs a public op
(F.conv2d, F.max_pool2d, F.avg_pool2d: forward and backward, so im2col, col2im and
the pooling kernels all run) on a tensor whose arrays have more than 2^31 elements,
then compares sampled images exactly with the NumPy path run on those images alone:
the first and last images, the ones around each array's 2^31-th element, and a few
random ones.  The inputs are small integers (x[n] = a[n] + b, a different offset per
image, so an image read from the wrong place shows), so every sum, GEMM included, is
exact in float32 whatever its order, and "equal" means bit for bit.

One image of more than 2^31 - 1 pixels is past the kernels' 32-bit per-image range:
the op must either refuse it with a clear error naming that range, or compute it
exactly; the largest image inside the range must come out exact.

Needs about 45 GB of GPU memory at the peak (each case frees its arrays); a case that
does not fit in the free memory fails as "not run".  Prints one line per case and
exits 1 if any failed.

    python tools/gpu_large_index.py [--json FILE] [--cases conv2d-3x3 ...]
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

INT32_LIMIT = 2**31
GB = 1e9
# how a refusal of a too-large image must name the limit it hits
RANGE_WORDS = ("32-bit", "index range", "2^31", "2**31", "int32")


def sample_images(n_images, per_image, rng, extra=3):
    """Image indices to compare: first, last, those holding flat elements 2^31 - 1 and 2^31
    of an array with `per_image` elements per image, and a few random ones."""
    picks = {0, n_images - 1}
    for flat in (INT32_LIMIT - 1, INT32_LIMIT, 2 * INT32_LIMIT - 1, 2 * INT32_LIMIT):
        n = flat // per_image
        if n < n_images:
            picks.update({max(n - 1, 0), n, min(n + 1, n_images - 1)})
    picks.update(int(v) for v in rng.integers(0, n_images, extra))
    return sorted(picks)


class Case:
    def __init__(self, name, need_bytes, run):
        self.name, self.need_bytes, self.run = name, need_bytes, run


def _pattern(cp, shape, period, seed, scale=1):
    """(device array, host offsets, host base): x[n] = (offset[n] + base) * scale, small integers."""
    rng = np.random.default_rng(seed)
    n = shape[0]
    offsets = ((np.arange(n, dtype=np.int64) * 3) % period).astype(np.float32)
    base = rng.integers(-2, 3, shape[1:]).astype(np.float32)
    x = cp.empty(shape, dtype=np.float32)
    cp.add(cp.asarray(offsets).reshape((n,) + (1,) * (len(shape) - 1)), cp.asarray(base)[None], out=x)
    if scale != 1:
        x *= scale
    return x, offsets, base


def _host_images(offsets, base, picks, scale=1):
    return ((offsets[picks].reshape((-1,) + (1,) * base.ndim) + base[None]) * scale).astype(np.float32)


def _compare(what, got, expected, problems):
    if got.shape != expected.shape:
        problems.append(f"{what}: shape {got.shape}, expected {expected.shape}")
    elif not np.array_equal(got, expected):
        bad = np.argwhere(got != expected)
        first = tuple(int(i) for i in bad[0])
        problems.append(f"{what}: {len(bad)} of {got.size} sampled elements differ, first at {first}: "
                        f"{got[first]!r} vs {expected[first]!r}")


def _run_op_case(cp, mt, op, x_shape, g_scale, picks_per_image, seed, check_x=True):
    """Forward and backward of `op` on a large x; sampled images against the NumPy path."""
    rng = np.random.default_rng(seed)
    x, offsets, base = _pattern(cp, x_shape, 7, seed)
    xt = mt.Tensor(x, requires_grad=True)
    y = op(xt)
    g, g_offsets, g_base = _pattern(cp, y.shape, 11, seed + 1, scale=g_scale)
    y.backward(mt.Tensor(g))
    cp.cuda.Device().synchronize()
    picks = sample_images(x_shape[0], picks_per_image(x_shape, y.shape), rng)
    problems = []
    xs = _host_images(offsets, base, picks)
    if check_x:   # the input itself, made by CuPy: a wrong one would void the comparison
        _compare("x", cp.asnumpy(x[cp.asarray(picks)]), xs, problems)
    reference = mt.Tensor(xs, requires_grad=True)
    y_ref = op(reference)
    y_ref.backward(mt.Tensor(_host_images(g_offsets, g_base, picks, g_scale)))
    _compare("output", cp.asnumpy(y.array[cp.asarray(picks)]), y_ref.array, problems)
    _compare("input gradient", cp.asnumpy(xt.grad.array[cp.asarray(picks)]), reference.grad.array, problems)
    sizes = {"x": x.size, "out": int(np.prod(y.shape))}
    return problems, f"images {picks}; elements: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items())


def conv_case(stride, padding, kernel, x_shape, out_channels):
    def run(cp, mt, F):
        w = mt.Tensor(cp.asarray(np.random.default_rng(5).integers(-2, 3, (out_channels, x_shape[1]) + kernel)
                                 .astype(np.float32)))
        w_host = mt.Tensor(cp.asnumpy(w.array))

        def op(t):
            weight = w if not isinstance(t.array, np.ndarray) else w_host
            return F.conv2d(t, weight, stride=stride, padding=padding)

        def col_per_image(xs, ys):   # im2col's rows (output pixels) × columns (taps × channels)
            return ys[2] * ys[3] * kernel[0] * kernel[1] * xs[1]
        problems, detail = _run_op_case(cp, mt, op, x_shape, 1, col_per_image, seed=1)
        col = x_shape[0] * col_per_image(x_shape, (0, 0) + _out_hw(x_shape, kernel, stride, padding))
        return problems, f"{detail}, col {col:,}"
    return run


def _out_hw(x_shape, kernel, stride, padding):
    return tuple((x_shape[2 + d] + 2 * padding - kernel[d]) // stride + 1 for d in range(2))


def pool_case(kind, kernel, stride, padding, x_shape):
    def run(cp, mt, F):
        if kind == "max":
            def op(t):
                return F.max_pool2d(t, kernel, stride=stride, padding=padding)
            scale = 1
        else:
            def op(t):
                return F.avg_pool2d(t, kernel, stride=stride, padding=padding, count_include_pad=True)
            scale = kernel * kernel      # grad / divisor stays an integer: exact sums
        return _run_op_case(cp, mt, op, x_shape, scale, lambda xs, ys: int(np.prod(xs[1:])), seed=2)
    return run


def one_image_case(side):
    """max_pool2d (2x2) on one (1, 1, side, side) image: refused clearly past the 32-bit
    per-image range, or exact; the top and bottom bands compared with NumPy."""
    def run(cp, mt, F):
        rows = (cp.arange(side, dtype=cp.int64) * 7919 % 13).astype(cp.float32)
        cols = (cp.arange(side, dtype=cp.int64) * 104729 % 11).astype(cp.float32) * 16
        x = cp.empty((1, 1, side, side), dtype=cp.float32)
        cp.add(rows[:, None], cols[None, :], out=x[0, 0])
        xt = mt.Tensor(x, requires_grad=True)
        pixels = side * side
        try:
            y = F.max_pool2d(xt, 2)
        except (ValueError, RuntimeError) as exc:
            message = str(exc)
            if pixels >= INT32_LIMIT and any(word in message for word in RANGE_WORDS):
                return [], f"{pixels:,} pixels refused clearly: {type(exc).__name__}: {message}"
            return [f"{pixels:,} pixels: {type(exc).__name__}: {message}"], ""
        g = cp.ones(y.shape, dtype=cp.float32)
        y.backward(mt.Tensor(g))
        cp.cuda.Device().synchronize()
        problems = []
        band = 4                                  # input rows per band: two output rows
        for top in (0, side - side % 2 - band):
            xs = cp.asnumpy(x[:, :, top:top + band, :])
            reference = mt.Tensor(xs, requires_grad=True)
            y_ref = F.max_pool2d(reference, 2)
            y_ref.backward(mt.Tensor(np.ones(y_ref.shape, dtype=np.float32)))
            o = top // 2
            _compare(f"output rows {o}..{o + band // 2 - 1}", cp.asnumpy(y.array[:, :, o:o + band // 2, :]),
                     y_ref.array, problems)
            _compare(f"input gradient rows {top}..{top + band - 1}",
                     cp.asnumpy(xt.grad.array[:, :, top:top + band, :]), reference.grad.array, problems)
        return problems, f"{pixels:,} pixels in one image computed; top and bottom bands exact"
    return run


def cases():
    # conv, 3x3 taps with padding: im2col's col has 240,000 * 256 * 36 = 2.2e9 elements
    # (im2col writes and col2im reads past 2^31).
    conv3 = (240_000, 4, 16, 16)
    # conv, 2x2 stride 2: x, col and dx all hold 1,050,000 * 2048 = 2.15e9 elements
    # (col2im's and im2col's thread indices pass 2^31).
    big = (1_050_000, 2, 32, 32)
    f32 = 4
    big_bytes = int(np.prod(big)) * f32
    return [
        Case("conv2d-3x3-pad1", 4 * 240_000 * 256 * 36 * f32, conv_case(1, 1, (3, 3), conv3, 2)),
        Case("conv2d-2x2-stride2", 5 * big_bytes, conv_case(2, 0, (2, 2), big, 1)),
        # pooling 3x3 stride 1 pad 1: out, argmax and dx as large as x (threads past 2^31 both ways)
        Case("max_pool2d-3x3", 5 * big_bytes, pool_case("max", 3, 1, 1, big)),
        Case("avg_pool2d-3x3", 4 * big_bytes, pool_case("avg", 3, 1, 1, big)),
        # one image: 46,340^2 = 2,147,395,600 pixels (the largest square under 2^31 - 1), and one past it
        Case("one-image-46340", 3 * 46_340**2 * f32, one_image_case(46_340)),
        Case("one-image-46341", 2 * 46_341**2 * f32, one_image_case(46_341)),
    ]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", help="write the per-case results here")
    p.add_argument("--cases", nargs="+", help="run only these cases")
    args = p.parse_args(argv)
    import cupy as cp
    import minitorch_cnn as mt
    from minitorch_cnn.nn import functional as F
    pool = cp.get_default_memory_pool()
    chosen = [c for c in cases() if not args.cases or c.name in args.cases]
    results, failed = [], 0
    for case in chosen:
        pool.free_all_blocks()
        free = cp.cuda.Device().mem_info[0]
        start = time.perf_counter()
        if case.need_bytes > 0.95 * free:
            problems, detail = [f"not run: needs about {case.need_bytes / GB:.0f} GB, "
                                f"{free / GB:.0f} GB free"], ""
        else:
            try:
                problems, detail = case.run(cp, mt, F)
            except Exception as exc:       # an illegal address, out of memory, a wrong shape: all failures
                problems, detail = [f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"], ""
        seconds = time.perf_counter() - start
        pool.free_all_blocks()
        status = "FAIL" if problems else "ok"
        failed += bool(problems)
        print(f"large-index {case.name}: {status} ({seconds:.1f} s) {detail}", flush=True)
        for problem in problems:
            print(f"    {problem}", flush=True)
        results.append({"case": case.name, "ok": not problems, "problems": problems,
                        "detail": detail, "seconds": round(seconds, 2)})
    if args.json:
        from minitorch_cnn.serialization import atomic_write
        atomic_write(args.json, lambda f: f.write(json.dumps({"cases": results}, indent=2).encode("utf-8")))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
