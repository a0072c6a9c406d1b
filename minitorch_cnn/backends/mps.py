"""torch.backends.mps as this engine answers it: Apple's Metal backend is never available here
(the engine runs on the CPU with NumPy and on NVIDIA GPUs with CuPy)."""


def is_available():
    return False


def is_built():
    return False
