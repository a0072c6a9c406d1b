"""python -m minitorch_cnn.as_torch SCRIPT [ARGS...]: run a PyTorch script unchanged on this engine.

The script runs as ``__main__`` with ``sys.argv = [SCRIPT, *ARGS]`` and its folder first on
``sys.path``, as ``python SCRIPT ARGS`` would run it; its exit status is the command's.
Environment: MINITORCH_CNN_AS_TORCH_LIMIT=N keeps only the first N samples of each
torchvision dataset split (with a notice on stderr), to make a long tutorial run short;
MINITORCH_CNN_AS_TORCH_SEED=N seeds the engine's generator, NumPy's and Python's before the
script starts, so an unseeded tutorial runs the same way twice (the tests use it).
"""
import os
import runpy
import sys
import traceback

from . import install

USAGE = """usage: python -m minitorch_cnn.as_torch SCRIPT [ARGS...]

Run a PyTorch script unchanged on minitorch_cnn: within the script, torch, torch.nn,
torch.nn.functional, torch.optim, torch.utils.data, torch.autograd, torch.cuda and the
MNIST/FashionMNIST parts of torchvision resolve to this engine.  Anything the engine lacks
raises an error naming it.  MINITORCH_CNN_AS_TORCH_LIMIT=N caps each torchvision dataset
split at its first N samples; MINITORCH_CNN_AS_TORCH_SEED=N seeds the engine's, NumPy's and
Python's generators before the script starts.  See docs/as_torch.md."""

SEED_VARIABLE = "MINITORCH_CNN_AS_TORCH_SEED"


def _seed_from_environment():
    """MINITORCH_CNN_AS_TORCH_SEED=N: seed every generator an unseeded script may draw from."""
    value = os.environ.get(SEED_VARIABLE)
    if value is None:
        return
    try:
        seed = int(value)
    except ValueError:
        raise SystemExit(f"minitorch_cnn.as_torch: {SEED_VARIABLE} must be an integer, got {value!r}") from None
    import random

    import numpy as np

    import minitorch_cnn
    random.seed(seed)
    np.random.seed(seed % 2**32)
    minitorch_cnn.manual_seed(seed)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    script = argv[0]
    if not os.path.isfile(script):
        print(f"minitorch_cnn.as_torch: no such script: {script}", file=sys.stderr)
        return 2
    install()
    _seed_from_environment()
    sys.argv = [script, *argv[1:]]
    # as `python SCRIPT`: the script's folder in place of the working directory -m put first
    # (the engine is already imported, and its submodules load through its package's path)
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    try:
        runpy.run_path(script, run_name="__main__")
    except Exception as exc:        # the script's traceback, without the runner's frames
        traceback.print_exception(type(exc), exc, _script_frames(exc.__traceback__))
        return 1
    return 0


def _script_frames(tb):
    """The traceback from the first frame outside runpy and this file."""
    while tb is not None and (tb.tb_frame.f_code.co_filename in (__file__, runpy.__file__)
                              or tb.tb_frame.f_code.co_filename.startswith("<frozen runpy")):
        tb = tb.tb_next
    return tb


if __name__ == "__main__":
    sys.exit(main())
