"""torch.accelerator as this engine answers it: the one accelerator is CUDA (cuda:0, through
CuPy) when `mt.cuda.is_available()`; otherwise there is none."""
from . import backend


def is_available():
    return backend.cuda_is_available()


def device_count():
    return int(is_available())


def current_accelerator(check_available=False):
    """device(type='cuda') when CUDA can be used here, else None (torch's answer on a CPU-only
    machine; with check_available=False torch may also name a device it cannot use)."""
    return backend.device("cuda") if is_available() else None
