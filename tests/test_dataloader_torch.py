"""The DataLoader as torch.utils.data's: collation, argument rules, samplers, worker processes,
Generator, datasets, and minitorch_cnn.utils.data as the torch-named path.

Where torch is installed, each behaviour is held against torch 2.13 run on the same input (batch
structure, values, dtypes, exception type and message); the worker tests need no torch.  The
engine's random numbers are not torch's, so shuffled orders are compared between runs here.
"""
import collections
import gc
import inspect
import os
import random
import time
import warnings

import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.utils.data as data
from minitorch_cnn.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset,
                                      RandomSampler, SequentialSampler, Subset, SubsetRandomSampler,
                                      TensorDataset, WeightedRandomSampler, default_collate, default_convert,
                                      get_worker_info, random_split)

Generator = mt.Generator
Point = collections.namedtuple("Point", "x y")


# ---- helpers: one structure of ours and one of torch's, compared ---------------------------------
def plain(value, torch=None):
    """A batch as nested Python/NumPy values, tagging Tensors with their dtype name."""
    if isinstance(value, mt.Tensor):
        return ("tensor", value.dtype.name, value.numpy().tolist())
    if torch is not None and isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype).replace("torch.", ""), value.numpy().tolist())
    if isinstance(value, dict):
        return (type(value).__name__, {k: plain(v, torch) for k, v in value.items()})
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value).__name__, [plain(v, torch) for v in value])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [plain(v, torch) for v in value])
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.name, value.tolist())
    return (type(value).__name__, value)


def to_torch(value, torch):
    """The same sample for torch: our Tensors as torch tensors (arrays and numbers as they are)."""
    if isinstance(value, mt.Tensor):
        return torch.from_numpy(value.numpy().copy())
    if isinstance(value, dict):
        return type(value)((k, to_torch(v, torch)) for k, v in value.items())
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(to_torch(v, torch) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(to_torch(v, torch) for v in value)
    return value


def outcome(fn, *args, torch=None, **kwargs):
    try:
        return "ok", plain(fn(*args, **kwargs), torch)
    except Exception as exc:        # noqa: BLE001  (the exception itself is compared)
        return type(exc).__name__, str(exc)


COLLATE_CASES = {
    "ints": [1, 2, 3],
    "floats": [1.0, 2.5],
    "bools": [True, False],
    "int then float": [1, 2.5],
    "strings": ["a", "b"],
    "bytes": [b"a", b"b"],
    "numpy int32 arrays": [np.arange(3, dtype=np.int32), np.arange(3, 6, dtype=np.int32)],
    "numpy float32 scalars": [np.float32(1), np.float32(2)],
    "numpy int32 scalars": [np.int32(1), np.int32(2)],
    "numpy float64 scalars": [np.float64(1.5), np.float64(2)],
    "numpy 0-d arrays": [np.array(1.5), np.array(2.5)],
    "numpy mixed dtypes": [np.zeros(2, np.float32), np.ones(2, np.float64)],
    "numpy uint8 images": [np.full((2, 2), 7, np.uint8), np.zeros((2, 2), np.uint8)],
    "tuples": [(1, 2.0), (3, 4.0)],
    "lists": [[1, 2.0], [3, 4.0]],
    "nested": [((1, "a"), [np.zeros(2)]), ((2, "b"), [np.ones(2)])],
    "dicts": [{"x": 1, "y": "s", "z": {"w": np.float32(1)}}, {"x": 2, "y": "t", "z": {"w": np.float32(2)}}],
    "ordered dicts": [collections.OrderedDict(a=1), collections.OrderedDict(a=2)],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
    "ranges": [range(2), range(2)],
    "tensors": [mt.tensor([1.0, 2.0]), mt.tensor([3.0, 4.0])],
    "tensors of two dtypes": [mt.zeros(2), mt.zeros(2, dtype=mt.float64)],
    "image and label": [(mt.zeros((1, 2, 2)), 3), (mt.ones((1, 2, 2)), 5)],
    # refused, with torch's exception type
    "unequal sequences": [(1, 2), (3,)],
    "unequal tensors": [mt.zeros(2), mt.zeros(3)],
    "unequal arrays": [np.zeros(2), np.zeros(3)],
    "string arrays": [np.array(["a"]), np.array(["b"])],
    "object arrays": [np.array([{}], dtype=object)],
    "None": [None, None],
    "objects": [object, object],
    "dicts missing a key": [{"x": 1}, {"y": 2}],
}


@pytest.mark.parametrize("case", COLLATE_CASES)
def test_default_collate_is_torchs(case):
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    batch = COLLATE_CASES[case]
    ours = outcome(default_collate, batch)
    theirs = outcome(torch_collate, to_torch(batch, torch), torch=torch)
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] == "ok":
        assert ours == theirs
    elif ours[0] == "RuntimeError" and "each element" in theirs[1]:
        assert ours[1] == theirs[1]
    elif ours[0] == "TypeError" and "default_collate" in theirs[1]:
        assert ours[1] == theirs[1].replace("torch.Tensor", "minitorch_cnn.tensor.Tensor")


def test_default_collate_stacks_tensors_with_torchs_error_and_keeps_their_graph():
    with pytest.raises(RuntimeError, match=r"stack.* equal size, but got \[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([mt.zeros(2), mt.zeros(3)])
    a, b = mt.ones(2, requires_grad=True), mt.ones(2, requires_grad=True)
    default_collate([a, b]).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1, 1])
    with pytest.raises(IndexError, match="default_collate: the batch is empty"):
        default_collate([])
    with pytest.raises(TypeError, match="complex"):
        default_collate([np.zeros(2, np.complex64)])


@pytest.mark.parametrize("sample", [np.zeros(2, np.int32), (np.zeros(2), 1, "a"), [np.zeros(2), 1],
                                    {"a": np.zeros(2)}, np.float32(2), np.array(["a"]), Point(np.zeros(1), 2),
                                    3, "text", mt.zeros(2)])
def test_default_convert_is_torchs(sample):
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_convert as torch_convert
    assert outcome(default_convert, sample) == outcome(torch_convert, to_torch(sample, torch), torch=torch)


# ---- signatures and names ------------------------------------------------------------------------
SIGNED = ["DataLoader", "RandomSampler", "SequentialSampler", "SubsetRandomSampler", "WeightedRandomSampler",
          "BatchSampler", "Subset", "ConcatDataset", "TensorDataset", "random_split", "default_collate",
          "default_convert", "get_worker_info"]


@pytest.mark.parametrize("name", SIGNED)
def test_signatures_are_torchs(name):
    pytest.importorskip("torch")
    import torch.utils.data as torch_data

    def params(obj):
        target = obj.__init__ if isinstance(obj, type) else obj
        return [(p.name, p.kind, p.default) for p in inspect.signature(target).parameters.values()]
    ours, theirs = params(getattr(data, name)), params(getattr(torch_data, name))
    if name == "random_split":      # torch's default is torch.default_generator: ours, the engine's
        assert ours[-1][2] is mt.default_generator
        ours, theirs = ours[:-1], theirs[:-1]
    assert ours == theirs


def test_utils_data_mirrors_torch_utils_data():
    import minitorch_cnn.utils.data.distributed as dist_module
    assert dist_module.DistributedSampler is data.DistributedSampler
    from minitorch_cnn.utils.data.dataloader import DataLoader as loader_class
    assert loader_class is DataLoader and data.DataLoader is mt.data.DataLoader
    pytest.importorskip("torch")
    import torch.utils.data as torch_data
    assert set(data.__all__) <= set(torch_data.__all__)


# ---- DataLoader arguments: torch's rules and messages ----------------------------------------------
class Squares(Dataset):
    """Sample i: (float32 [i, i*i], int i); a plain map-style dataset (no arrays())."""

    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.array([i, i * i], np.float32), i


class Counting(IterableDataset):
    """0 .. n-1, split between the workers by get_worker_info()."""

    def __init__(self, n=10, split=True):
        self.n, self.split = n, split

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.split:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self):
        return self.n


ARGUMENT_CASES = {
    "negative num_workers": dict(num_workers=-1),
    "negative timeout": dict(timeout=-1),
    "prefetch_factor without workers": dict(prefetch_factor=2),
    "persistent_workers without workers": dict(persistent_workers=True),
    "sampler with shuffle": dict(sampler=[0, 1], shuffle=True),
    "batch_sampler with batch_size": dict(batch_sampler=[[0, 1]], batch_size=2),
    "batch_sampler with shuffle": dict(batch_sampler=[[0, 1]], shuffle=True),
    "batch_sampler with sampler": dict(batch_sampler=[[0, 1]], sampler=[0]),
    "batch_sampler with drop_last": dict(batch_sampler=[[0, 1]], drop_last=True),
    "batch_size None with drop_last": dict(batch_size=None, drop_last=True),
    "batch_size 0": dict(batch_size=0),
    "batch_size float": dict(batch_size=2.0),
    "drop_last not bool": dict(drop_last=1),
    "context without workers": dict(multiprocessing_context="fork"),
    "unknown context": dict(num_workers=1, multiprocessing_context="teleport"),
    "context of a wrong type": dict(num_workers=1, multiprocessing_context=3),
    "iterable with shuffle": dict(dataset=Counting(), shuffle=True),
    "iterable with sampler": dict(dataset=Counting(), sampler=[0]),
    "iterable with batch_sampler": dict(dataset=Counting(), batch_sampler=[[0]]),
}


@pytest.mark.parametrize("case", ARGUMENT_CASES)
def test_argument_errors_are_torchs(case):
    pytest.importorskip("torch")
    import torch.utils.data as torch_data
    kwargs = dict(ARGUMENT_CASES[case])
    dataset = kwargs.pop("dataset", Squares())
    torch_dataset = dataset if not isinstance(dataset, Counting) else type(
        "TorchCounting", (torch_data.IterableDataset,), {"__iter__": lambda self: iter(range(3))})()
    ours = outcome(DataLoader, dataset, **kwargs)
    theirs = outcome(torch_data.DataLoader, torch_dataset, **kwargs)
    assert ours[0] == theirs[0] != "ok"
    assert ours[1] == theirs[1]


def test_attributes_are_frozen_after_init_and_own_refusals():
    loader = DataLoader(Squares(), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 3
    loader.num_workers = 0                                    # not frozen in torch either
    with pytest.raises(TypeError, match="DataLoader: sampler must define __iter__"):
        DataLoader(Squares(), sampler=3)
    with pytest.raises(TypeError, match="DataLoader: generator must be a minitorch_cnn.Generator"):
        DataLoader(Squares(), shuffle=True, generator=3)
    with pytest.raises(ValueError, match="timeout=1 needs num_workers > 0"):
        iter(DataLoader(Squares(), timeout=1))
    with pytest.raises(ValueError, match="prefetch_factor option should be positive"):
        DataLoader(Squares(), num_workers=1, prefetch_factor=0)


# ---- DataLoader batches, next to torch's --------------------------------------------------------
def torch_batches(torch, dataset, **kwargs):
    return [plain(b, torch) for b in torch.utils.data.DataLoader(dataset, **kwargs)]


LOADER_CASES = {
    "batch_size 3": dict(batch_size=3),
    "drop_last": dict(batch_size=3, drop_last=True),
    "no auto-batching": dict(batch_size=None),
    "sampler as a list": dict(sampler=[9, 0, 4, 4], batch_size=2),
    "batch_sampler": dict(batch_sampler=[[1, 2], [0], [5, 6, 7]]),
    "collate_fn as given": dict(batch_size=4, collate_fn=lambda samples: [len(samples), samples[0][1]]),
}


@pytest.mark.parametrize("case", LOADER_CASES)
@pytest.mark.parametrize("make", ["per sample", "tensors"])
def test_batches_are_torchs(case, make):
    torch = pytest.importorskip("torch")
    kwargs = LOADER_CASES[case]
    if make == "per sample":
        ours, theirs = Squares(), Squares()
    else:
        x, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
        ours, theirs = TensorDataset(x, y), torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y))
    loader = DataLoader(ours, **kwargs)
    got = [plain(b) for b in loader]
    assert got == torch_batches(torch, theirs, **kwargs)
    assert len(loader) == len(torch.utils.data.DataLoader(theirs, **kwargs)) == len(got)


def test_iterable_dataset_batches_are_torchs():
    torch = pytest.importorskip("torch")

    class TorchCounting(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7
    for kwargs in (dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None)):
        loader = DataLoader(Counting(7), **kwargs)
        assert [plain(b) for b in loader] == torch_batches(torch, TorchCounting(), **kwargs)
        assert len(loader) == len(torch.utils.data.DataLoader(TorchCounting(), **kwargs))


def test_the_array_path_gives_the_per_sample_batches():
    """TensorDataset/ImageDataset batches gathered from arrays() equal those of default_collate."""
    x, y = np.random.default_rng(0).standard_normal((23, 3)).astype(np.float32), np.arange(23) % 4
    image_set = mt.data.ImageDataset(np.arange(23 * 4, dtype=np.uint8).reshape(23, 2, 2), np.arange(23) % 3)
    for dataset in (TensorDataset(x, y), Subset(TensorDataset(x, y), list(range(3, 20))), image_set):
        for kwargs in (dict(batch_size=5), dict(batch_size=5, drop_last=True)):
            for shuffle in (False, True):
                fast = DataLoader(dataset, shuffle=shuffle, generator=Generator().manual_seed(3), **kwargs)
                slow = DataLoader(dataset, shuffle=shuffle, generator=Generator().manual_seed(3),
                                  collate_fn=lambda samples: default_collate(samples), **kwargs)
                assert fast._array_path() and not slow._array_path()
                assert [plain(b) for b in fast] == [plain(b) for b in slow]


def test_a_subclass_that_overrides_getitem_is_read_sample_by_sample():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y
    loader = DataLoader(Doubled(np.ones((4, 2), np.float32), np.arange(4)), batch_size=4)
    assert not loader._array_path()
    np.testing.assert_array_equal(next(iter(loader))[0].numpy(), 2)


def test_to_picks_the_batches_device_and_returns_the_loader():
    loader = DataLoader(TensorDataset(np.ones((4, 2), np.float32)), batch_size=2)
    assert loader.to("cpu") is loader and loader.device == "cpu"
    assert [b[0].device for b in loader] == ["cpu", "cpu"]
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        loader.to("tpu")


def test_pin_memory_is_a_no_op_that_warns_as_torch_without_an_accelerator():
    loader = DataLoader(Squares(), batch_size=5, pin_memory=True)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        batches = [plain(b) for b in loader]
    assert batches == [plain(b) for b in DataLoader(Squares(), batch_size=5)]
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        list(torch.utils.data.DataLoader(Squares(), batch_size=5, pin_memory=True))
    if mt.cuda.is_available() == torch.accelerator.is_available():
        assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]


# ---- worker processes ----------------------------------------------------------------------------
class WhoMadeIt(Dataset):
    """Sample i: (i, the worker id that read it, a draw from NumPy's, Python's and the engine's
    global generators): what the worker tests read."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        info = get_worker_info()
        return (i, -1 if info is None else info.id, float(np.random.random()), random.random(),
                float(mt.rand(1).numpy()[0]))


@pytest.mark.filterwarnings("ignore:This DataLoader will create 3 worker processes")   # torch's warning
def test_workers_give_the_batches_of_no_workers_in_order():
    dataset = TensorDataset(np.arange(40, dtype=np.float32).reshape(20, 2), np.arange(20))
    expected = [plain(b) for b in DataLoader(Squares(17), batch_size=3, shuffle=True,
                                             generator=Generator().manual_seed(5))]
    for workers in (1, 2, 3):
        loader = DataLoader(Squares(17), batch_size=3, shuffle=True, num_workers=workers,
                            generator=Generator().manual_seed(5))
        assert [plain(b) for b in loader] == expected
    tensors = [plain(b) for b in DataLoader(dataset, batch_size=6, num_workers=2)]    # Tensors cross the pipe
    assert tensors == [plain(b) for b in DataLoader(dataset, batch_size=6)]


def test_in_order_false_gives_every_batch():
    loader = DataLoader(Squares(30), batch_size=4, num_workers=2, in_order=False, prefetch_factor=3)
    labels = sorted(i for _, y in loader for i in y.numpy().tolist())
    assert labels == list(range(30))


def test_worker_info_init_fn_and_seeds():
    mt.manual_seed(11)
    first = [b for b in DataLoader(WhoMadeIt(), batch_size=2, num_workers=2,
                                   worker_init_fn=lambda wid: np.random.seed(100 + wid) if wid == 1 else None)]
    ids = [b[1].numpy().tolist() for b in first]
    assert ids == [[0, 0], [1, 1]] * 3                                 # round-robin, whole batches
    numpy_draws = [b[2].numpy().tolist() for b in first]
    assert numpy_draws[1][0] == np.random.RandomState(101).random_sample()      # worker_init_fn ran there
    for column in (3, 4):                                              # Python's and the engine's generators
        draws = [b[column].numpy().tolist() for b in first]
        assert draws[0] != draws[1]                                    # differ between the workers
    mt.manual_seed(11)
    again = [b for b in DataLoader(WhoMadeIt(), batch_size=2, num_workers=2,
                                   worker_init_fn=lambda wid: np.random.seed(100 + wid) if wid == 1 else None)]
    assert [plain(b) for b in again] == [plain(b) for b in first]      # reproducible under manual_seed
    mt.manual_seed(12)
    other = [b[4].numpy().tolist() for b in DataLoader(WhoMadeIt(), batch_size=2, num_workers=2)]
    assert other != [b[4].numpy().tolist() for b in first]
    assert get_worker_info() is None


def test_a_loaders_generator_decides_its_workers_seeds():
    def draws(seed):
        loader = DataLoader(WhoMadeIt(), batch_size=3, num_workers=2, shuffle=True,
                            generator=Generator().manual_seed(seed))
        return [plain(b) for b in loader]
    mt.manual_seed(1)
    first = draws(5)
    mt.manual_seed(2)                          # the engine's stream plays no part given a generator
    assert draws(5) == first and draws(6) != first


def test_each_pass_seeds_its_workers_afresh():
    mt.manual_seed(0)
    loader = DataLoader(WhoMadeIt(), batch_size=4, num_workers=2)
    one, two = ([b[4].numpy().tolist() for b in loader] for _ in range(2))
    assert one != two


class Failing(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f"sample {i} is broken")
        return i


class KeyFailing(Failing):
    def __getitem__(self, i):
        return {}["missing"] if i == 3 else i


def test_a_workers_exception_is_raised_here_naming_the_worker():
    loader = DataLoader(Failing(), batch_size=2, num_workers=2)
    with pytest.raises(ValueError) as caught:
        list(loader)
    message = str(caught.value)
    assert message.startswith("Caught ValueError in DataLoader worker process 0.\nOriginal Traceback")
    assert "sample 5 is broken" in message and "in __getitem__" in message
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 1"):
        list(DataLoader(KeyFailing(), batch_size=2, num_workers=2))
    with pytest.raises(ZeroDivisionError, match="in DataLoader worker process 0"):
        list(DataLoader(Squares(), num_workers=1, worker_init_fn=lambda wid: 1 / 0))


class Slow(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(3 if i == 2 else 0)
        return i


def test_timeout_raises_torchs_runtime_error():
    loader = DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.5)
    batches = iter(loader)
    assert next(batches).numpy().tolist() == [0]
    with pytest.raises(RuntimeError, match=r"^DataLoader timed out after 0.5 seconds$"):
        list(batches)


class Dying(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 1:
            os._exit(3)
        return i


def test_a_dead_worker_is_reported():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"):
        list(DataLoader(Dying(), batch_size=1, num_workers=1))


def test_workers_stop_when_the_pass_ends_or_is_abandoned():
    batches = iter(DataLoader(Squares(40), batch_size=2, num_workers=2))
    next(batches)
    workers = list(batches._workers)
    assert all(w.is_alive() for w in workers)
    del batches
    gc.collect()
    assert not any(w.is_alive() for w in workers) and all(w.exitcode is not None for w in workers)
    done = iter(DataLoader(Squares(4), batch_size=2, num_workers=2))
    list(done)
    assert all(w.exitcode == 0 for w in done._workers)             # reaped: no zombies


def test_workers_stop_when_the_main_raises_mid_pass():
    loader = DataLoader(Squares(40), batch_size=2, num_workers=2)
    started = []

    def train_step_that_fails():
        batches = iter(loader)
        started.extend(batches._workers)
        for _ in batches:
            raise KeyError("the training step failed")
    try:
        train_step_that_fails()
    except KeyError:
        pass
    gc.collect()
    assert len(started) == 2 and not any(w.is_alive() for w in started)


def test_persistent_workers_serve_every_pass():
    loader = DataLoader(Squares(9), batch_size=2, num_workers=2, persistent_workers=True, shuffle=True)
    first = iter(loader)
    next(first)                                                     # abandoned midway: its results dropped
    pids = [w.pid for w in first._workers]
    for _ in range(2):
        labels = sorted(i for _, y in loader for i in y.numpy().tolist())
        assert labels == list(range(9))
    assert iter(loader) is first and [w.pid for w in first._workers] == pids
    assert all(w.is_alive() for w in first._workers)
    first._shutdown()
    assert not any(w.is_alive() for w in first._workers)


def test_iterable_dataset_with_workers():
    loader = DataLoader(Counting(10), batch_size=2, num_workers=2)
    batches = [b.numpy().tolist() for b in loader]
    assert batches == [[0, 2], [1, 3], [4, 6], [5, 7], [8], [9]]   # each worker its share, interleaved
    assert sorted(sum(batches, [])) == list(range(10))
    copies = sorted(i for b in DataLoader(Counting(3, split=False), batch_size=2, num_workers=2)
                    for i in b.numpy().tolist())
    assert copies == [0, 0, 1, 1, 2, 2]                             # unsplit: each worker streams it all


def test_spawned_workers_read_a_picklable_dataset():
    dataset = TensorDataset(np.arange(12, dtype=np.float32).reshape(6, 2), np.arange(6))
    loader = DataLoader(dataset, batch_size=4, num_workers=2, multiprocessing_context="spawn")
    assert [plain(b) for b in loader] == [plain(b) for b in DataLoader(dataset, batch_size=4)]


# ---- Generator ---------------------------------------------------------------------------------------
def test_generator_is_torchs_interface():
    g = Generator()
    assert g.initial_seed() == 67280421310721 and g.device == "cpu"
    assert g.manual_seed(-1) is g and g.initial_seed() == 2**64 - 1     # modulo 2**64, as torch
    state = g.get_state()
    assert isinstance(state, mt.Tensor) and state.dtype == np.uint8
    first = list(RandomSampler(range(10), generator=g))
    assert g.set_state(state) is g and list(RandomSampler(range(10), generator=g)) == first
    assert list(RandomSampler(range(10), generator=Generator().manual_seed(2**64 - 1))) == first
    for bad in (1.5, "3", True):
        with pytest.raises(RuntimeError, match="manual_seed expected a long"):
            g.manual_seed(bad)
    with pytest.raises(ValueError, match="overflows"):
        g.manual_seed(2**64)
    with pytest.raises(TypeError, match="expected a uint8 Tensor"):
        g.set_state([1, 2])
    with pytest.raises(RuntimeError, match="37 bytes"):
        g.set_state(mt.zeros(3, dtype=mt.uint8))
    assert isinstance(g.seed(), int) and g.initial_seed() >= 0
    mt.manual_seed(4)
    assert mt.default_generator.initial_seed() == 4


# ---- samplers -----------------------------------------------------------------------------------------
def test_samplers_draw_what_torchs_draw():
    g = Generator().manual_seed(0)
    perm = list(RandomSampler(range(7), generator=g))
    assert sorted(perm) == list(range(7))
    assert perm != list(RandomSampler(range(7), generator=g))          # a fresh order each pass
    chained = list(RandomSampler(range(4), num_samples=10, generator=g))
    assert sorted(chained[:4]) == sorted(chained[4:8]) == [0, 1, 2, 3] and len(chained) == 10
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=50, generator=g))
    assert len(drawn) == 50 and set(drawn) <= {0, 1, 2}
    subset = list(SubsetRandomSampler([10, 20, 30], generator=g))
    assert sorted(subset) == [10, 20, 30]
    weighted = list(WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=g))
    assert 0 not in weighted and abs(weighted.count(2) / 4000 - 0.75) < 0.03
    unique = list(WeightedRandomSampler([1, 1, 1, 0], 3, replacement=False, generator=g))
    assert sorted(unique) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="without replacement"):
        list(WeightedRandomSampler([1, 0], 2, replacement=False))
    pytest.importorskip("torch")
    import torch.utils.data as torch_data
    for kwargs in (dict(batch_size=3, drop_last=False), dict(batch_size=3, drop_last=True)):
        ours, theirs = BatchSampler(SequentialSampler(range(10)), **kwargs), \
            torch_data.BatchSampler(torch_data.SequentialSampler(range(10)), **kwargs)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("make", [
    lambda m: m.RandomSampler(range(3), replacement=1),
    lambda m: m.RandomSampler(range(3), num_samples=0),
    lambda m: m.RandomSampler(range(0)),
    lambda m: m.WeightedRandomSampler([1.0], 0),
    lambda m: m.WeightedRandomSampler([1.0], 2, replacement=None),
    lambda m: m.WeightedRandomSampler([[1.0]], 2),
    lambda m: m.BatchSampler(range(3), 0, False),
    lambda m: m.BatchSampler(range(3), True, False),
    lambda m: m.BatchSampler(range(3), 2, None),
])
def test_sampler_errors_are_torchs(make):
    pytest.importorskip("torch")
    import torch.utils.data as torch_data
    ours, theirs = outcome(make, data), outcome(make, torch_data)
    assert ours == theirs and ours[0] != "ok"


# ---- datasets ---------------------------------------------------------------------------------------
def test_tensor_dataset_stores_and_returns_tensors():
    x, y = mt.arange(12.0).reshape(6, 2), mt.arange(6)
    dataset = TensorDataset(x, y)
    assert dataset.tensors[0] is x
    item = dataset[-1]
    assert isinstance(item, tuple) and all(isinstance(t, mt.Tensor) for t in item)
    assert item[0].numpy().tolist() == [10.0, 11.0] and item[1].numpy().tolist() == 5
    rows = dataset[1:3]
    assert rows[0].shape == (2, 2) and rows[1].numpy().tolist() == [1, 2]
    assert dataset[[0, 5]][1].numpy().tolist() == [0, 5]
    with pytest.raises(IndexError):
        dataset[6]
    wrapped = TensorDataset(np.zeros((3, 2), np.float32))
    assert isinstance(wrapped.tensors[0], mt.Tensor) and wrapped.tensors[0].dtype == np.float32


def test_concat_subset_and_add_are_torchs():
    torch = pytest.importorskip("torch")
    import torch.utils.data as torch_data
    a, b = Squares(3), Squares(4)
    ours, theirs = a + b, torch_data.ConcatDataset([Squares(3), Squares(4)])
    assert isinstance(ours, ConcatDataset) and ours.cumulative_sizes == theirs.cumulative_sizes
    assert [plain(default_convert(ours[i])) for i in range(-7, 7)] == \
        [plain(torch_data.default_convert(theirs[i]), torch) for i in range(-7, 7)]
    subset = Subset(Squares(5), [4, 0])
    assert subset.indices == [4, 0] and [subset[i][1] for i in range(2)] == [4, 0]
    assert [s[1] for s in subset.__getitems__([1, 0])] == [0, 4]


def test_random_split_with_a_generator_and_fractions():
    dataset = Squares(10)
    parts = random_split(dataset, [0.5, 0.3, 0.2], generator=Generator().manual_seed(1))
    assert [len(p) for p in parts] == [5, 3, 2]
    again = random_split(dataset, [0.5, 0.3, 0.2], generator=Generator().manual_seed(1))
    assert [p.indices for p in parts] == [p.indices for p in again]
    assert sorted(sum((p.indices for p in parts), [])) == list(range(10))
    mt.manual_seed(2)
    by_default = [p.indices for p in random_split(dataset, [7, 3])]
    mt.manual_seed(2)
    assert [p.indices for p in random_split(dataset, [7, 3])] == by_default
