"""Generator: torch.Generator's interface (manual_seed, seed, initial_seed, get_state, set_state)
over a NumPy Generator, and `default_generator`, the engine's own stream (random.py, mt.manual_seed)
seen as one.  The DataLoader, the samplers and random_split draw from a Generator given to them."""
import numpy as np

from . import backend
from .random import _state, manual_seed
from .tensor import Tensor

_DEFAULT_SEED = 67280421310721      # torch.Generator().initial_seed() before any manual_seed


def _check_seed(seed):
    """torch's seed rules: a Python int in [-2**63, 2**64), negatives taken modulo 2**64."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    if not -2**63 <= seed < 2**64:
        raise ValueError(f"manual_seed: seed {seed} overflows a 64-bit integer")
    return seed % 2**64


class Generator:
    """Generator(device='cpu'): a random stream of its own (as torch.Generator), for the DataLoader,
    samplers and random_split.  Underneath, a NumPy PCG64 Generator seeded with `initial_seed()`:
    the same seed gives the same draws here on every run, but not torch's numbers."""

    def __init__(self, device="cpu"):
        self.device = backend.normalize_device(device)
        if self.device == "cuda":
            backend.require_cuda()
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        """Restart the stream from `seed`; returns the generator, as torch's."""
        self._initial_seed = _check_seed(seed)
        self._numpy = np.random.default_rng(self._initial_seed)
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns that seed."""
        seed = int(np.random.SeedSequence().generate_state(2, np.uint64)[0])
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        return self._initial_seed

    def get_state(self):
        """The stream's state as a uint8 Tensor (PCG64's 128-bit state and increment and its
        buffered 32-bit half: 37 bytes; torch's are 5,056 bytes of another generator)."""
        state = self._numpy.bit_generator.state
        raw = (state["state"]["state"].to_bytes(16, "little") + state["state"]["inc"].to_bytes(16, "little")
               + bytes([state["has_uint32"]]) + int(state["uinteger"]).to_bytes(4, "little"))
        return Tensor(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from get_state(); returns the generator."""
        if not isinstance(new_state, Tensor) or new_state.dtype != np.uint8:
            raise TypeError(f"set_state: expected a uint8 Tensor from get_state(), got {_describe(new_state)}")
        raw = bytes(np.asarray(new_state.array).reshape(-1))
        if len(raw) != 37:
            raise RuntimeError(f"set_state: expected a state of 37 bytes (from Generator.get_state), "
                               f"got {len(raw)}")
        rng = np.random.default_rng()
        rng.bit_generator.state = {
            "bit_generator": "PCG64", "has_uint32": raw[32], "uinteger": int.from_bytes(raw[33:], "little"),
            "state": {"state": int.from_bytes(raw[:16], "little"), "inc": int.from_bytes(raw[16:32], "little")}}
        self._numpy = rng
        return self

    def __repr__(self):
        return f"Generator(device='{self.device}', initial_seed={self._initial_seed})"


class _DefaultGenerator(Generator):
    """The engine's own stream (mt.manual_seed's) seen as a Generator: torch.default_generator."""

    def __init__(self):
        self.device = "cpu"

    _numpy = property(lambda self: _state["rng"], lambda self, rng: _state.__setitem__("rng", rng))

    def manual_seed(self, seed):
        manual_seed(_check_seed(seed))
        return self

    def initial_seed(self):
        if _state["seed"] is None:
            raise RuntimeError("default_generator.initial_seed: the engine's generator was never seeded "
                               "(call mt.manual_seed first); it starts from the operating system's entropy")
        return _state["seed"]

    def __repr__(self):
        return f"default_generator(seed={_state['seed']})"


default_generator = _DefaultGenerator()


def _describe(value):
    return f"a {value.dtype} Tensor" if isinstance(value, Tensor) else type(value).__name__


def numpy_generator(generator, who):
    """The NumPy Generator behind `generator`: an mt.Generator's own, a numpy.random.Generator as
    it is (accepted too), or the engine's (manual_seed) for None."""
    if generator is None:
        return _state["rng"]
    if isinstance(generator, Generator):
        return generator._numpy
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"{who}: generator must be a minitorch_cnn.Generator (or a numpy.random.Generator), "
                    f"got {type(generator).__name__}")

