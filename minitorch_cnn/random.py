"""The engine's random state: one seed drives initialisation, dropout and shuffling.

`manual_seed(s)` resets a NumPy Generator (initialisation, shuffling, CPU
dropout masks) and, when CuPy is loaded, CuPy's generator (GPU dropout masks).
"""
import numpy as np

from . import backend

_state = {"seed": None, "rng": np.random.default_rng()}


def manual_seed(seed):
    """Seed every generator the engine uses; returns the seed, like torch."""
    seed = int(seed)
    _state["seed"] = seed
    _state["rng"] = np.random.default_rng(seed)
    if backend._cupy is not None:
        backend._cupy.random.seed(seed)
    return seed


def get_rng():
    """The NumPy Generator behind initialisation, shuffling and CPU dropout."""
    return _state["rng"]


def rng_for(xp):
    """A generator that makes arrays of module `xp` (numpy or cupy)."""
    if xp is np:
        return _state["rng"]
    return xp.random


def get_rng_state():
    """A JSON-able snapshot of the NumPy generator (for checkpoints)."""
    return _state["rng"].bit_generator.state


def set_rng_state(state):
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    _state["rng"] = rng
