"""Collation: a list of samples -> one batch (torch.utils.data's default_collate and default_convert).

default_collate(batch) looks at the first sample's type and recurses:
    Tensor            -> stack(batch): a new first dimension of len(batch) (dtypes promoted as stack does)
    NumPy array       -> each made a Tensor (sharing memory), then stacked; str/object arrays refused
    NumPy scalar      -> one Tensor of their dtype
    float             -> float64 Tensor;   int -> int64 Tensor (bool -> bool);   str, bytes -> the batch as is
    Mapping           -> the same mapping type, each key collated over the batch
    namedtuple        -> the same namedtuple, field by field
    other sequence    -> transposed and collated field by field: a list for tuples (as torch),
                         the same type for lists and other sequences; unequal lengths refused
So a batch of (image, label) tuples becomes [images (B, ...), labels (B,)].

`collate(batch, collate_fn_map=...)` is the same walk with a table from element type to the function
that collates it (exact type first, then isinstance in the table's order); default_collate uses
`default_collate_fn_map`.  default_convert(data) converts NumPy arrays inside one sample (no batching),
what the DataLoader applies when batch_size=None.
"""
import collections.abc
import copy

import numpy as np

from ..ops.join import stack
from ..tensor import Tensor
from ..creation import tensor as make_tensor

_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_text_or_object(array):
    """NumPy's bytes, str, void and object arrays: no Tensor can hold them."""
    return array.dtype.kind in "SaUVO"


def _array_tensor(array, who):
    """A Tensor over the array's memory (torch.as_tensor); complex refused as everywhere here."""
    if array.dtype.kind == "c":
        raise TypeError(f"{who}: complex arrays are not supported (got dtype {array.dtype})")
    return Tensor(array)


def collate_tensor_fn(batch, *, collate_fn_map=None):
    return stack(list(batch), 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    if _is_text_or_object(batch[0]):
        raise TypeError(_ERROR.format(batch[0].dtype))
    return collate([_array_tensor(a, "default_collate") for a in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    array = np.asarray(batch)
    if _is_text_or_object(array):
        raise TypeError(_ERROR.format(type(batch[0])))
    return _array_tensor(array, "default_collate")


def collate_float_fn(batch, *, collate_fn_map=None):
    return make_tensor(list(batch), dtype=np.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    out = make_tensor(list(batch))     # ints -> int64, bools -> bool, an int then floats -> float32, as torch
    if out.dtype == np.uint64:         # NumPy's way out of int64 overflow; torch refuses it
        raise ValueError(f"default_collate: the integers {max(batch)} and up overflow int64")
    return out


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def _rebuild_mapping(template, items):
    """A mapping like `template` holding `items` (a copy of a mutable one keeps its class and extra
    state; a frozen one is rebuilt through its constructor; a plain dict when neither works)."""
    try:
        if isinstance(template, collections.abc.MutableMapping):
            clone = copy.copy(template)
            clone.update(items)
            return clone
        return type(template)(items)
    except TypeError:
        return items


def _rebuild_sequence(template, items):
    """A sequence like `template` holding `items`: tuples become lists (torch's backwards
    compatible choice), lists and other sequences keep their type where it can be rebuilt."""
    if isinstance(template, tuple):
        return items
    try:
        if isinstance(template, collections.abc.MutableSequence):
            clone = copy.copy(template)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(template)(items)
    except TypeError:
        return items


def collate(batch, *, collate_fn_map=None):
    """Collate a list of samples by the type of the first one (see the module docstring)."""
    if len(batch) == 0:
        raise IndexError("default_collate: the batch is empty (nothing to collate)")
    elem = batch[0]
    if collate_fn_map is not None:
        if type(elem) in collate_fn_map:
            return collate_fn_map[type(elem)](batch, collate_fn_map=collate_fn_map)
        for kind, fn in collate_fn_map.items():
            if isinstance(elem, kind):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                                       for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):       # a namedtuple
        return type(elem)(*(collate(field, collate_fn_map=collate_fn_map) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [collate(field, collate_fn_map=collate_fn_map) for field in zip(*batch)]
        return _rebuild_sequence(elem, fields)
    raise TypeError(_ERROR.format(type(elem)))


def default_collate(batch):
    """Samples -> a batch, as torch.utils.data.default_collate (table in the module docstring):
    ``default_collate([(np.zeros(2), 1), (np.ones(2), 0)])`` is ``[float64 (2, 2), int64 [1, 0]]``."""
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data):
    """NumPy arrays and scalars inside one sample -> Tensors; containers rebuilt as default_collate
    rebuilds them (tuples -> lists); everything else (numbers, strings, str arrays) unchanged."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _is_text_or_object(data) else _array_tensor(data, "default_convert")
    if isinstance(data, (np.bool_, np.number)):
        return _array_tensor(np.asarray(data), "default_convert")
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data
