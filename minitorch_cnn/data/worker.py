"""DataLoader worker processes: what runs inside one, and what crosses the pipe.

A worker is started with a copy of the dataset (inherited under fork, pickled under spawn), seeds
Python's `random`, NumPy's global generator and the engine's generator from `base_seed + id`
(so random transforms differ between workers and repeat under the same seeds), sets the
WorkerInfo that get_worker_info() returns, runs worker_init_fn(id), then serves tasks:

    index queue  -> (epoch, task, indices)   fetch dataset[i] for each index, collate -> batch
                 -> (epoch, task, None)       next batch of an IterableDataset
                 -> None                      stop
    result queue <- (epoch, task, batch | _ExceptionWrapper | _IterableEnd(worker id))

Tensors cross as their NumPy arrays (the reduction registered on multiprocessing's pickler below:
a pickle over the pipe, nothing written to disk).  An exception becomes _ExceptionWrapper, raised
again in the main process with the worker id and the worker's traceback.  A worker whose parent
died (its parent pid changed) stops by itself.
"""
import os
import queue
import random
import traceback
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler

import numpy as np

from ..random import manual_seed
from ..tensor import Tensor

STATUS_CHECK_INTERVAL = 1.0     # seconds between checks that the other side is still alive

_worker_info = None


@dataclass(frozen=True)
class WorkerInfo:
    """What get_worker_info() returns inside a worker: its id, the number of workers, its seed and
    its copy of the dataset."""
    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info():
    """This worker's WorkerInfo inside a DataLoader worker process; None in the main process."""
    return _worker_info


@dataclass(frozen=True)
class _IterableEnd:
    """A worker's IterableDataset copy is exhausted."""
    worker_id: int


class _ExceptionWrapper:
    """An exception caught in a worker, carried as its type and its formatted traceback."""

    def __init__(self, worker_id):
        exc_type, exc, tb = __import__("sys").exc_info()
        self.exc_type = exc_type
        self.where = f"in DataLoader worker process {worker_id}"
        self.text = "".join(traceback.format_exception(exc_type, exc, tb))

    def __reduce__(self):
        try:                                # a class that cannot be pickled travels as RuntimeError
            ForkingPickler.dumps(self.exc_type)
            exc_type = self.exc_type
        except Exception:
            exc_type = RuntimeError
        return _rebuild_wrapper, (exc_type, self.where, self.text)

    def reraise(self):
        """Raise the worker's exception type here with torch's message: "Caught <Type> in DataLoader
        worker process <id>.\\nOriginal Traceback (most recent call last): ..."."""
        message = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.text}"
        if self.exc_type is KeyError:
            message = _KeyErrorMessage(message)
        try:
            exception = self.exc_type(message)
        except Exception:                   # an exception type that takes other arguments
            raise RuntimeError(message) from None
        raise exception


def _rebuild_wrapper(exc_type, where, text):
    wrapper = _ExceptionWrapper.__new__(_ExceptionWrapper)
    wrapper.exc_type, wrapper.where, wrapper.text = exc_type, where, text
    return wrapper


class _KeyErrorMessage(str):
    """KeyError shows repr(message): this keeps the traceback's line breaks readable."""

    def __repr__(self):
        return str(self)


# ---- Tensors over the pipe: as NumPy arrays -----------------------------------------------------
def _reduce_tensor(tensor):
    if tensor.requires_grad and not tensor.is_leaf:
        raise RuntimeError("Cowardly refusing to serialize non-leaf tensor which requires_grad, "
                           "since autograd does not support crossing process boundaries.  "
                           "If you just want to transfer the data, call detach() on the tensor "
                           "before serializing (e.g., putting it on the queue).")
    from .. import backend
    return _rebuild_tensor, (backend.to_numpy(tensor.array), tensor.requires_grad)


def _rebuild_tensor(array, requires_grad):
    return Tensor(array, requires_grad=requires_grad)


ForkingPickler.register(Tensor, _reduce_tensor)


# ---- the worker process ----------------------------------------------------------------------------
def _seed_worker(seed, worker_id):
    """Seed every generator a transform may draw from: Python's, NumPy's global one and the engine's."""
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(np.random.SeedSequence([seed, worker_id]).generate_state(4))


def _fetch_map(dataset, indices, auto_collation, collate_fn):
    if not auto_collation:
        return collate_fn(dataset[indices])
    getitems = getattr(dataset, "__getitems__", None)
    samples = getitems(indices) if callable(getitems) else [dataset[i] for i in indices]
    return collate_fn(samples)


class _IterableFetcher:
    """Batches of the next `batch_size` samples of one pass over an IterableDataset."""

    def __init__(self, dataset, batch_size, drop_last, collate_fn):
        self.samples, self.batch_size, self.drop_last = iter(dataset), batch_size, drop_last
        self.collate_fn, self.ended = collate_fn, False

    def fetch(self):
        """The next batch; StopIteration at the end of the pass."""
        if self.ended:
            raise StopIteration
        if self.batch_size is None:
            return self.collate_fn(next(self.samples))
        batch = []
        for sample in self.samples:
            batch.append(sample)
            if len(batch) == self.batch_size:
                return self.collate_fn(batch)
        self.ended = True
        if not batch or self.drop_last:
            raise StopIteration
        return self.collate_fn(batch)


def worker_loop(dataset, index_queue, result_queue, done_event, config, worker_id):
    """The body of worker `worker_id`; `config` holds num_workers, base_seed, worker_init_fn,
    collate_fn, auto_collation, batch_size, drop_last and iterable (a plain dict: it is pickled)."""
    global _worker_info
    parent = os.getppid()
    try:
        seed = config["base_seed"] + worker_id
        _seed_worker(seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=config["num_workers"], seed=seed, dataset=dataset)
        init_error = None
        try:
            if config["worker_init_fn"] is not None:
                config["worker_init_fn"](worker_id)
        except Exception:
            init_error = _ExceptionWrapper(worker_id)     # reported with the first task, as torch
        epoch, fetcher = None, None
        while os.getppid() == parent:
            try:
                task = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if task is None:
                break
            if done_event.is_set():
                continue
            task_epoch, task_id, indices = task
            if config["iterable"] and task_epoch != epoch:       # a new pass: iterate from the start
                fetcher = None
            epoch = task_epoch
            result = init_error
            init_error = None
            if result is None:
                try:
                    if not config["iterable"]:
                        result = _fetch_map(dataset, indices, config["auto_collation"], config["collate_fn"])
                    else:
                        if fetcher is None:
                            fetcher = _IterableFetcher(dataset, config["batch_size"], config["drop_last"],
                                                       config["collate_fn"])
                        result = fetcher.fetch()
                except StopIteration:
                    result = _IterableEnd(worker_id) if config["iterable"] else _ExceptionWrapper(worker_id)
                except Exception:
                    result = _ExceptionWrapper(worker_id)
            result_queue.put((task_epoch, task_id, result))
            del result, task, indices
    except KeyboardInterrupt:
        pass                      # the main process has its own Ctrl-C and shuts the workers down
    if done_event.is_set():
        result_queue.cancel_join_thread()       # exit without waiting for the main to read the rest
        result_queue.close()
