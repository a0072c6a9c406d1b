"""The table a learner draws by hand: per layer, output shape, parameters, receptive field
and the bytes of the im2col buffer each convolution builds.

    python -m minitorch_cnn.summary --model digitcnn
"""
import argparse
import os
import sys

import numpy as np

from .. import backend, nn
from ..autograd import no_grad
from ..tensor import Tensor


def _layer_geometry(module):
    """(kernel, stride, dilation) pairs for layers that move the receptive field, else None."""
    if isinstance(module, nn.Conv2d):
        return module.kernel_size, module.stride, module.dilation
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        as_pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
        return as_pair(module.kernel_size), as_pair(module.stride), as_pair(getattr(module, "dilation", 1))
    return None


def summary_rows(model, input_shape=(1, 28, 28), batch_size=64, dtype=np.float32):
    """Run one batch of zeros through `model` and describe each leaf layer in call order."""
    rows, handles = [], []
    field = {"size": [1, 1], "jump": [1, 1], "flat": False}

    def record(name):
        def hook(module, inputs, out):
            geometry = _layer_geometry(module)
            if geometry is not None and not field["flat"]:
                for axis, (k, s, d) in enumerate(zip(*geometry)):
                    field["size"][axis] += (d * (k - 1)) * field["jump"][axis]
                    field["jump"][axis] *= s
            if out.ndim < 4:
                field["flat"] = True
            col_bytes = 0
            if isinstance(module, nn.Conv2d):
                kh, kw = module.kernel_size
                col_bytes = out.shape[0] * out.shape[2] * out.shape[3] * module.in_channels * kh * kw \
                    * np.dtype(dtype).itemsize
            params = sum(p.numel() for p in module._parameters.values() if p is not None)
            rf = "image" if field["flat"] else f"{field['size'][0]}×{field['size'][1]}"
            rows.append((name, type(module).__name__, tuple(out.shape), params, rf, col_bytes))
        return hook

    for name, module in model.named_modules():
        if not module._modules:   # leaves only: containers would double-count
            handles.append(module.register_forward_hook(record(name)))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            device = next((p.device for p in model.parameters()), "cpu")   # the model's device
            zeros = np.zeros((batch_size,) + tuple(input_shape), dtype=dtype)
            model(Tensor(backend.to_device(zeros, device)))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return rows


def _bytes(n):
    return "-" if n == 0 else f"{n / 2**20:.2f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


def summary(model, input_shape=(1, 28, 28), batch_size=64, file=None):
    """Print the per-layer table with totals; returns the total number of parameters."""
    rows = summary_rows(model, input_shape, batch_size)
    header = ("layer", "type", "output shape", "params", "receptive field", "im2col buffer")
    table = [header] + [(n, t, str(s), f"{p:,}", rf, _bytes(b)) for n, t, s, p, rf, b in rows]
    total_params = sum(p.numel() for p in model.parameters())
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    out = file or sys.stdout
    rule = "  ".join("-" * w for w in widths)
    print(f"{type(model).__name__}, input {(batch_size,) + tuple(input_shape)} float32", file=out)
    for i, r in enumerate(table):
        print("  ".join(c.ljust(w) if j < 2 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))),
              file=out)
        if i == 0:
            print(rule, file=out)
    print(rule, file=out)
    print(f"total parameters: {total_params:,}   "
          f"largest im2col buffer: {_bytes(max((r[5] for r in rows), default=0))}   "
          f"all im2col buffers: {_bytes(sum(r[5] for r in rows))}", file=out)
    return total_params


def main(argv=None):
    from ..models import MODELS, get_model
    parser = argparse.ArgumentParser(prog="python -m minitorch_cnn.summary",
                                     description="Per-layer shapes, parameters, receptive field and im2col bytes.")
    parser.add_argument("--model", default="digitcnn", choices=sorted(MODELS), help="(default: digitcnn)")
    parser.add_argument("--input-shape", type=int, nargs=3, default=(1, 28, 28), metavar=("C", "H", "W"),
                        help="one image's shape (default: 1 28 28)")
    parser.add_argument("--batch-size", type=int, default=64, help="(default: 64)")
    args = parser.parse_args(argv)
    if min(args.input_shape) < 1 or args.batch_size < 1:
        parser.error(f"--input-shape and --batch-size must be positive, got {tuple(args.input_shape)} "
                     f"and {args.batch_size}")
    model = get_model(args.model, in_channels=args.input_shape[0])
    try:
        summary(model, tuple(args.input_shape), args.batch_size)
    except (ValueError, TypeError, RuntimeError) as exc:
        # the classifier's input size is fixed by the image size the model was designed for
        parser.exit(2, f"{parser.prog}: error: --model {args.model} does not take --input-shape "
                       f"{' '.join(map(str, args.input_shape))}: {exc}\n")
    except BrokenPipeError:       # `summary | head`: the reader left; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0
