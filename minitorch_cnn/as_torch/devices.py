"""What torch.cuda, torch.accelerator and torch.backends have beyond the engine's own
`minitorch_cnn.cuda`, `minitorch_cnn.accelerator` and `minitorch_cnn.backends.mps` (which
the hook shows first, see MODULES in __init__.py).

The engine has two devices, 'cpu' and 'cuda' (CuPy).  cuDNN's switches are accepted and
kept (the engine does not use cuDNN, so they change nothing).  Other names under these
modules fall through to the error saying the script needs real PyTorch.
"""
from types import SimpleNamespace

from .. import backend


def _synchronize(device=None):
    """Wait for the GPU's queued work (nothing to wait for without CUDA)."""
    if backend.cuda_is_available():
        import cupy
        cupy.cuda.Device().synchronize()


def _manual_seed(seed):
    """torch.cuda.manual_seed: ignored, as torch ignores it without CUDA.  With CUDA, the engine's
    one generator (seeded by torch.manual_seed) also draws the GPU's dropout masks, and re-seeding
    it here would change the CPU stream, which torch's cuda.manual_seed never does."""
    int(seed)


def _empty_cache():
    """The engine frees GPU memory through CuPy's pool when its arrays go; nothing to release."""


cuda = SimpleNamespace(manual_seed=_manual_seed, manual_seed_all=_manual_seed, synchronize=_synchronize,
                       empty_cache=_empty_cache)
accelerator = SimpleNamespace(synchronize=_synchronize)
cudnn = SimpleNamespace(enabled=True, benchmark=False, deterministic=False,
                        is_available=lambda: False, version=lambda: None)
backends = SimpleNamespace()        # its submodules mps and cudnn come from MODULES
