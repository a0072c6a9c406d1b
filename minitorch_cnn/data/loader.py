"""DataLoader: a dataset, cut into batches (torch.utils.data.DataLoader, its signature to the letter).

    sampler        the order of the indices: SequentialSampler, or RandomSampler (shuffle=True,
                   drawing from `generator` or the engine's generator), or the one given
    batch_sampler  lists of batch_size indices: BatchSampler(sampler, batch_size, drop_last) unless given
    collate_fn     the list of samples -> a batch: default_collate (batch_size=None: default_convert)
    num_workers    0: batches made here, in this process.  N > 0: N worker processes (worker.py) each
                   make whole batches; tasks go out round-robin, prefetch_factor per worker ahead,
                   and come back in the sampler's order (in_order=False: as they finish)

So a dataset of (image, label) tuples gives [images (B, ...), labels (B,)] batches, a list of
Tensors.  With num_workers=0, an array-backed dataset (TensorDataset, ImageDataset, a Subset of
one: ``arrays()``) under the default sampler and collate_fn is batched by one fancy index per
field instead of a Python loop over samples: the same batches, faster.

Beyond torch: ``loader.to(device)`` (as Module.to; returns the loader) puts each batch on that
device; an array-backed dataset is then uploaded once and batched there.  Integer Tensors of a batch carry
their value range (ops/loss.py's vouch_range), so cross_entropy checks GPU targets without reading
the GPU.  pin_memory=True changes nothing here (there is no pinned memory); without CUDA it warns as
torch warns without an accelerator.
"""
import functools
import itertools
import multiprocessing
import os
import pickle
import queue
import warnings

import numpy as np

from .. import backend
from ..ops.loss import vouch_range
from ..generator import numpy_generator
from ..tensor import Tensor
from . import worker as _worker
from .collate import default_collate, default_convert
from .dataset import IterableDataset, Subset
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _InfiniteConstantSampler

_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class DataLoader:
    """DataLoader(dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
    collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
    multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
    pin_memory_device='', in_order=True).  See the module docstring; ``.to(device)`` to batch on a GPU."""

    _initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        iterable = isinstance(dataset, IterableDataset)
        if not iterable and not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset must define __getitem__ (or be an IterableDataset), "
                            f"got {type(dataset).__name__}")
        prefetch_factor = _check_workers(num_workers, timeout, prefetch_factor, persistent_workers)
        shuffle, batch_size, drop_last = _check_sampling(iterable, batch_size, shuffle, sampler, batch_sampler,
                                                         drop_last)
        numpy_generator(generator, "DataLoader")          # a wrong type refused here, not mid-epoch
        if sampler is None:
            sampler = (_InfiniteConstantSampler() if iterable else
                       RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset))
        self._own_batch_sampler = batch_size is not None and batch_sampler is None
        if self._own_batch_sampler:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.prefetch_factor, self.timeout = num_workers, prefetch_factor, timeout
        self.pin_memory, self.pin_memory_device, self.in_order = pin_memory, pin_memory_device, in_order
        self.worker_init_fn, self.persistent_workers = worker_init_fn, persistent_workers
        self.multiprocessing_context = _check_context(multiprocessing_context, num_workers)
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_sampler is not None else default_convert)
        self.device = "cpu"             # where batches go: see to()
        self._on_device = None          # (the dataset's arrays, the same on self.device, their ranges)
        self._iterator = None           # the persistent workers' iterator
        self._passes = 0                # iterators made so far: part of each pass's worker seeds
        self._initialized = True
        _warn_if_too_many_workers(num_workers)

    def to(self, device):
        """Make batches on `device` ('cpu' or 'cuda') from now on; returns the loader.  An array-backed
        dataset is uploaded once (at the first batch) and batched there (not in torch: there a
        training loop moves each batch with .to(device))."""
        device = backend.normalize_device(device)
        if device == "cuda":
            backend.require_cuda()      # fail here, with the reason, not at the first batch
        self.device, self._on_device = device, None
        return self

    def __setattr__(self, name, value):
        if self._initialized and name in _FROZEN:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _iterable(self):
        return isinstance(self.dataset, IterableDataset)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __len__(self):
        return _length(self.dataset, self._index_sampler, self.batch_size, self.drop_last, self._iterable)

    def __iter__(self):
        self._passes += 1
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if not self.persistent_workers:
            return _MultiProcessIter(self)
        if self._iterator is None:
            self._iterator = _MultiProcessIter(self)
        else:
            self._iterator._reset(self)
        return self._iterator

    # ---- the batches of one pass made here ------------------------------------------------------
    def _batches_here(self):
        if self._array_path():
            return self._array_batches()
        if self._iterable:
            return _stream_batches(_worker._IterableFetcher(self.dataset, self.batch_size, self.drop_last,
                                                            self.collate_fn), self.device)
        return (_finish(_worker._fetch_map(self.dataset, indices, self.batch_sampler is not None, self.collate_fn),
                        self.device)
                for indices in self._index_sampler)

    def _array_path(self):
        """Whether a pass may gather rows of the dataset's arrays: the very batches default_collate
        makes of its samples, under the loader's own BatchSampler."""
        return (self._own_batch_sampler and self.collate_fn is default_collate
                and _array_backed(self.dataset) and hasattr(self.sampler, "__len__"))

    def _array_batches(self):
        arrays, ranges = self._device_arrays()
        batch_size = self.batch_size
        if type(self.sampler) is SequentialSampler:              # plain slices, each a copy
            n = len(self.sampler)
            stops = range(batch_size, n + batch_size, batch_size)
            for stop in (s for s in stops if s <= n or not self.drop_last):
                yield self._tensors([a[stop - batch_size:stop].copy() for a in arrays], ranges)
            return
        order = self.sampler.order() if type(self.sampler) is RandomSampler else np.fromiter(
            iter(self.sampler), dtype=np.int64)
        order = backend.get_array_module(arrays[0]).asarray(order)   # to the arrays' device, once a pass
        count = len(order) // batch_size if self.drop_last else -(-len(order) // batch_size)
        for start in range(0, count * batch_size, batch_size):
            index = order[start:start + batch_size]
            yield self._tensors([a[index] for a in arrays], ranges)

    def _device_arrays(self):
        """(the dataset's arrays on self.device, the value range of each integer one), uploaded and
        measured again only when the dataset gives other arrays (a Subset keeps giving the same)."""
        arrays = tuple(self.dataset.arrays())
        if (self._on_device is None or len(arrays) != len(self._on_device[0])
                or any(a is not b for a, b in zip(self._on_device[0], arrays))):
            self._on_device = (arrays, tuple(backend.to_device(a, self.device) for a in arrays),
                               tuple(_value_range(a) for a in arrays))
        return self._on_device[1:]

    def _tensors(self, fields, ranges):
        out = [Tensor(a) for a in fields]
        for tensor, bounds in zip(out, ranges):
            if bounds is not None:
                vouch_range(tensor, *bounds)
        return out

    def __repr__(self):
        workers = f", num_workers={self.num_workers}" if self.num_workers else ""
        return (f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
                f"sampler={type(self.sampler).__name__}{workers}, drop_last={self.drop_last})")


# ---- argument checks (torch's messages) ----------------------------------------------------------
def _check_workers(num_workers, timeout, prefetch_factor, persistent_workers):
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)):
        raise TypeError(f"DataLoader: num_workers must be an int, got {type(num_workers).__name__}")
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                         "to enable multiprocessing, otherwise set prefetch_factor to None.")
    if num_workers > 0 and prefetch_factor is None:
        prefetch_factor = 2
    elif prefetch_factor is not None and prefetch_factor <= 0:
        raise ValueError(f"prefetch_factor option should be positive, got {prefetch_factor}")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    return prefetch_factor


def _check_sampling(iterable, batch_size, shuffle, sampler, batch_sampler, drop_last):
    """torch's rules between shuffle, sampler, batch_sampler, batch_size and drop_last; returns
    (shuffle, batch_size, drop_last) as the loader keeps them (None, False under a batch_sampler)."""
    if iterable:
        _check_iterable_options(shuffle, sampler, batch_sampler)
    else:
        shuffle = bool(shuffle)
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                             "sampler, and drop_last")
        batch_size, drop_last = None, False
    elif batch_size is None and drop_last:
        raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
    for name, value in (("sampler", sampler), ("batch_sampler", batch_sampler)):
        if value is not None and not hasattr(value, "__iter__"):
            raise TypeError(f"DataLoader: {name} must define __iter__ (an iterable of indices), "
                            f"got {type(value).__name__}")
    return shuffle, batch_size, drop_last


def _check_iterable_options(shuffle, sampler, batch_sampler):
    if shuffle not in {False, None}:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                         f"but got shuffle={shuffle}")
    if sampler is not None:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, "
                         f"but got sampler={sampler}")
    if batch_sampler is not None:
        raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                         f"but got batch_sampler={batch_sampler}")


def _check_context(context, num_workers):
    if context is None:
        return None
    if num_workers == 0:
        raise ValueError(f"multiprocessing_context can only be used with multi-process loading "
                         f"(num_workers > 0), but got num_workers={num_workers}")
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                             f"{methods!r}, but got multiprocessing_context={context!r}")
        context = multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError(f"multiprocessing_context option should be a valid context object or a string "
                        f"specifying the start method, but got multiprocessing_context={context}")
    return context


def _warn_if_too_many_workers(num_workers):
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if num_workers and cpus is not None and num_workers > cpus:
        warnings.warn(f"This DataLoader will create {num_workers} worker processes in total. Our suggested max "
                      f"number of worker in current system is {cpus}, which is smaller than what this DataLoader "
                      f"is going to create. Please be aware that excessive worker creation might get DataLoader "
                      f"running slow or even freeze, lower the worker number to avoid potential slowness/freeze "
                      f"if necessary.", stacklevel=3)


def _array_backed(dataset):
    """Whether the dataset's arrays() are its samples stacked: it has arrays(), and the class whose
    __getitem__ it uses also defines arrays (a subclass that overrides __getitem__ alone may return
    other samples), or it is a Subset of such a dataset."""
    if not callable(getattr(dataset, "arrays", None)):
        return False
    kind = type(dataset)
    if isinstance(dataset, Subset):
        return (kind.__getitem__ is Subset.__getitem__ and kind.__getitems__ is Subset.__getitems__
                and _array_backed(dataset.dataset))
    if callable(getattr(dataset, "__getitems__", None)):
        return False
    owner = next(c for c in kind.__mro__ if "__getitem__" in vars(c))
    return "arrays" in vars(owner) or "__getattr__" in vars(owner)


def _value_range(array):
    """(min, max) of an integer NumPy array (labels), or None for other arrays and empty ones."""
    if array.dtype.kind not in "iu" or array.size == 0:
        return None
    return int(array.min()), int(array.max())


def _finish(batch, device):
    """A collated batch moved to `device`, its integer Tensors vouched for (their range read on the
    host, before any upload); containers other than lists, tuples and dicts pass as they are."""
    if isinstance(batch, Tensor):
        on_host = backend.get_array_module(batch.array) is np
        bounds = _value_range(batch.array) if on_host else None
        moved = batch if device == "cpu" or not on_host else Tensor(backend.to_device(batch.array, device),
                                                                    requires_grad=batch.requires_grad)
        return moved if bounds is None else vouch_range(moved, *bounds)
    if isinstance(batch, list):
        return [_finish(b, device) for b in batch]
    if isinstance(batch, tuple):
        items = [_finish(b, device) for b in batch]
        return type(batch)(*items) if hasattr(batch, "_fields") else tuple(items)
    if type(batch) is dict:
        return {key: _finish(value, device) for key, value in batch.items()}
    return batch


def _stream_batches(fetcher, device):
    """The batches of one pass over an IterableDataset."""
    while True:
        try:
            batch = fetcher.fetch()
        except StopIteration:
            return
        yield _finish(batch, device)


def _length(dataset, index_sampler, batch_size, drop_last, iterable):
    """len(loader) as torch: batches of the index sampler, or of len(dataset) for an iterable one."""
    if not iterable:
        return len(index_sampler)
    n = len(dataset)
    if batch_size is None:
        return n
    return n // batch_size if drop_last else -(-n // batch_size)


def _warn_pin_memory(loader):
    # stacklevel 4: the line that iterates the loader (here < iterator __init__ < DataLoader.__iter__)
    if loader.pin_memory and loader.pin_memory_device:
        warnings.warn("pin_memory_device is deprecated, the current accelerator will be used as the device,"
                      f"ignore pin_memory_device='{loader.pin_memory_device}'.", stacklevel=4)
    if loader.pin_memory and not backend.cuda_is_available():
        warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                      "then device pinned memory won't be used.", stacklevel=4)


# ---- iterators -------------------------------------------------------------------------------------
class _SingleProcessIter:
    """One pass made in this process."""

    def __init__(self, loader):
        if loader.timeout != 0:
            raise ValueError(f"DataLoader: timeout={loader.timeout} needs num_workers > 0 (with num_workers=0 "
                             f"torch refuses it too: _SingleProcessDataLoaderIter requires timeout == 0)")
        _warn_pin_memory(loader)
        self._length = functools.partial(_length, loader.dataset, loader._index_sampler, loader.batch_size,
                                         loader.drop_last, loader._iterable)
        self._batches = loader._batches_here()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._batches)

    def __len__(self):
        return self._length()


class _MultiProcessIter:
    """One pass made by worker processes (or every pass, with persistent_workers).

    Task k of a pass goes to the next worker round-robin, with at most prefetch_factor tasks per
    worker waiting; results are held until their turn (in_order).  Each pass has a number, carried
    by its tasks and results, so that results of an abandoned pass are dropped."""

    def __init__(self, loader):
        _warn_pin_memory(loader)
        self._iterable, self._in_order = loader._iterable, loader.in_order
        self._num_workers, self._prefetch = loader.num_workers, loader.prefetch_factor
        self._timeout, self._persistent = loader.timeout, loader.persistent_workers
        self._device, self._pass, self._shut = loader.device, 0, False
        context = loader.multiprocessing_context or multiprocessing.get_context()
        config = {"num_workers": loader.num_workers, "base_seed": _base_seed(loader),
                  "worker_init_fn": loader.worker_init_fn, "collate_fn": loader.collate_fn,
                  "auto_collation": loader.batch_sampler is not None, "batch_size": loader.batch_size,
                  "drop_last": loader.drop_last, "iterable": loader._iterable}
        self._results, self._done = context.Queue(), context.Event()
        self._index_queues, self._workers = [], []
        try:
            for worker_id in range(loader.num_workers):
                index_queue = context.Queue()
                index_queue.cancel_join_thread()
                process = context.Process(target=_worker.worker_loop, daemon=True, args=(
                    loader.dataset, index_queue, self._results, self._done, config, worker_id))
                process.start()
                self._index_queues.append(index_queue)
                self._workers.append(process)
        except BaseException:
            self._shutdown()
            raise
        self._reset(loader)

    def _reset(self, loader):
        self._pass, self._device = self._pass + 1, loader.device
        self._length = functools.partial(_length, loader.dataset, loader._index_sampler, loader.batch_size,
                                         loader.drop_last, loader._iterable)
        self._indices = iter(loader._index_sampler)
        self._sent = self._received = 0
        self._tasks = {}                        # task -> [worker] while waiting, [worker, result] once back
        self._active = [True] * self._num_workers
        self._per_worker = [0] * self._num_workers
        self._cycle = itertools.cycle(range(self._num_workers))
        for _ in range(self._prefetch * self._num_workers):
            self._send_task()

    def __iter__(self):
        return self

    def __len__(self):
        return self._length()

    def _send_task(self):
        try:
            indices = next(self._indices)
        except StopIteration:
            return
        limit = self._prefetch * self._num_workers // max(sum(self._active), 1)
        for _ in range(self._num_workers):
            worker_id = next(self._cycle)
            if self._active[worker_id] and (self._in_order or self._per_worker[worker_id] < limit):
                break
        else:
            return
        self._index_queues[worker_id].put((self._pass, self._sent, indices))
        self._tasks[self._sent] = [worker_id]
        self._per_worker[worker_id] += 1
        self._sent += 1

    def __next__(self):
        while True:
            while self._received < self._sent:          # skip tasks of workers whose stream ended
                info = self._tasks.get(self._received)
                if info is not None and (len(info) == 2 or self._active[info[0]]):
                    break
                self._tasks.pop(self._received, None)
                self._received += 1
            else:
                if not self._persistent:
                    self._shutdown()
                raise StopIteration
            if len(self._tasks[self._received]) == 2:
                worker_id, result = self._tasks.pop(self._received)
                self._received += 1
                return self._process(result, worker_id)
            task, result = self._get_result()
            if task not in self._tasks:                 # the reply to a task skipped above
                continue
            if isinstance(result, _worker._IterableEnd):
                self._end_worker(result.worker_id)
                self._tasks.pop(task)
                self._send_task()
                continue
            if task == self._received or not self._in_order:
                worker_id = self._tasks.pop(task)[0]
                self._received += task == self._received
                return self._process(result, worker_id)
            self._tasks[task].append(result)

    def _end_worker(self, worker_id):
        self._active[worker_id] = False
        self._per_worker[worker_id] = 0
        if not self._persistent:
            self._index_queues[worker_id].put(None)

    def _process(self, result, worker_id):
        self._per_worker[worker_id] -= 1
        self._send_task()
        if isinstance(result, _worker._ExceptionWrapper):
            result.reraise()
        return _finish(result, self._device)

    def _get_result(self):
        """(task, result) of this pass: waits, checking every STATUS_CHECK_INTERVAL seconds that the
        workers live; RuntimeError after `timeout` seconds without a result (timeout > 0)."""
        wait = self._timeout if self._timeout > 0 else _worker.STATUS_CHECK_INTERVAL
        while True:
            try:
                pass_number, task, result = self._results.get(timeout=wait)
            except queue.Empty:
                dead = [w for i, w in enumerate(self._workers) if self._active[i] and not w.is_alive()]
                if dead:
                    self._shutdown()
                    raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(str(w.pid) for w in dead)}) "
                                       f"exited unexpectedly") from None
                if self._timeout > 0:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds") from None
                continue
            if pass_number == self._pass:
                return task, result

    def _shutdown(self):
        """Stop every worker and reap it (terminated if it does not stop within the check interval)."""
        if self._shut:
            return
        self._shut = True
        try:
            self._done.set()
            for index_queue in self._index_queues:
                index_queue.put(None)
            for process in self._workers:
                process.join(timeout=_worker.STATUS_CHECK_INTERVAL)
            for index_queue in self._index_queues:
                index_queue.cancel_join_thread()
                index_queue.close()
        finally:
            for process in self._workers:
                if process.is_alive():
                    process.terminate()
                    process.join(timeout=_worker.STATUS_CHECK_INTERVAL)
            self._results.cancel_join_thread()
            self._results.close()

    def __del__(self):
        try:
            self._shutdown()
        except Exception:       # noqa: BLE001  (interpreter shutdown: the modules may be gone)
            pass

    def __getstate__(self):
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled")


def _base_seed(loader):
    """This pass's workers' base seed, read off the state of the generator the pass draws from
    (the loader's, or the engine's) and the pass number, without drawing from it: the sampler's
    order is then the same with and without workers, and the seeds repeat under the same seeds."""
    state = numpy_generator(loader.generator, "DataLoader").bit_generator.state
    digest = np.frombuffer(__import__("hashlib").sha256(pickle.dumps(state)).digest()[:16], dtype=np.uint32)
    words = np.random.SeedSequence([*digest.tolist(), loader._passes]).generate_state(2, np.uint32)
    return (int(words[0]) << 31) | (int(words[1]) >> 1)      # < 2**63, as torch's int64 seed
