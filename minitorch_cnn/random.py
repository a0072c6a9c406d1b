"""The engine's random state: one seed drives initialisation, dropout and shuffling.

`manual_seed(s)` resets one NumPy Generator.  It draws initial weights,
shuffling orders and CPU dropout masks, and it seeds the GPU's dropout masks
too: each GPU draw re-seeds a cuRAND generator with a number taken from it.  So
the NumPy Generator's state (what checkpoints save) decides everything, on
either device, whenever CuPy happens to be imported.
"""
import numpy as np

_state = {"seed": None, "rng": np.random.default_rng()}


def manual_seed(seed):
    """Seed every generator the engine uses; returns the seed, like torch."""
    seed = int(seed)
    _state["seed"] = seed
    _state["rng"] = np.random.default_rng(seed)
    return seed


def get_rng():
    """The NumPy Generator behind initialisation, shuffling and CPU dropout."""
    return _state["rng"]


def rng_for(xp):
    """A generator that makes arrays of module `xp` (numpy or cupy); both have
    `.random(size, dtype)`, uniform on [0, 1)."""
    if xp is np:
        return _state["rng"]
    if "gpu" not in _state:
        _state["gpu"] = _GpuUniform(xp)
    return _state["gpu"]


class _GpuUniform:
    """U[0, 1) CuPy arrays from a cuRAND Philox generator that every call re-seeds
    from the NumPy Generator (a Philox state is just a key and a counter, so
    re-seeding launches nothing on the device)."""

    def __init__(self, cupy):
        from cupy.cuda import curand
        self._curand = cupy.random.RandomState(method=curand.CURAND_RNG_PSEUDO_PHILOX4_32_10)

    def random(self, size, dtype=np.float64):
        # np.uint64: CuPy 13.0-13.2 under NumPy 2 reject a Python int seed (cupy#8392).
        self._curand.seed(np.uint64(_state["rng"].integers(2**63)))
        return self._curand.random_sample(size, dtype=dtype)


def get_rng_state():
    """A JSON-able snapshot of the NumPy generator (for checkpoints)."""
    return _state["rng"].bit_generator.state


def set_rng_state(state):
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    _state["rng"] = rng
