"""Issue 13, items 5 and 6, tested without a GPU.

A training step on the GPU must not read the device on the host (int(t.min()), bool(a.any()),
loss.item(): each waits for every queued kernel), and out-of-range indices must raise there as
on the CPU (CuPy wraps them).  Without a GPU the code that runs for CuPy arrays is reached by
pretending: `HostRead` is a NumPy array that refuses every host read of its values (bool, int,
float, index, item, tolist), and the one predicate that tells "this array lives on the host"
(`loss._on_host`, `train.reads._read_is_free`, `shape._wraps_out_of_range`) is patched to say so.
Whatever the CuPy branch computes then runs on NumPy, and any forgotten host read raises.
The same checks on a real GPU sit at the end of tests/test_cuda.py.
"""
import io
import re

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend, train
from minitorch_cnn.backends.fast import choose
from minitorch_cnn.core import loss as core_loss
from minitorch_cnn.data import DataLoader, TensorDataset
from minitorch_cnn.data.dataset import Subset
from minitorch_cnn.nn import functional as F
from minitorch_cnn.ops import loss as loss_ops
from minitorch_cnn.ops import shape as shape_ops


class HostReadError(AssertionError):
    pass


class HostRead(np.ndarray):
    """An array standing for a CuPy array: reading one of its values on the host raises."""
    def _refuse(self, *args, **kwargs):
        raise HostReadError("a host read of a device value (a GPU synchronisation)")
    __bool__ = __int__ = __float__ = __index__ = item = tolist = _refuse


def dev(array):
    return np.asarray(array).view(HostRead)


@pytest.fixture
def device_branch(monkeypatch):
    """The loss treats HostRead arrays as device arrays; flags left by a test are dropped."""
    monkeypatch.setattr(loss_ops, "_on_host", lambda a: not isinstance(a, HostRead))
    loss_ops._deferred.clear()
    yield
    loss_ops._deferred.clear()


def logits_and_target(n=6, c=5, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c)).astype(dtype), rng.integers(0, c, n)


def test_the_stand_in_refuses_host_reads():
    a = dev([1, 2, 3])
    for read in (lambda: bool(a.any()), lambda: int(a.min()), lambda: float(a.sum()), lambda: a.max().item()):
        with pytest.raises(HostReadError):
            read()


# ---- loss: target values ---------------------------------------------------------------------

def test_numpy_targets_still_raise_at_once():
    z, t = logits_and_target()
    t[2] = 7
    with pytest.raises(ValueError, match=r"cross_entropy: target values must lie in \[0, 5\), got min 7, max 7"):
        F.cross_entropy(mt.tensor(z), mt.tensor(t))
    assert not loss_ops._deferred


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_valid_device_targets_give_the_cpu_loss_and_gradient_without_a_host_read(device_branch, reduction):
    z, t = logits_and_target()
    expected_x = mt.tensor(z, requires_grad=True)
    expected = F.cross_entropy(expected_x, mt.tensor(t), reduction=reduction)
    expected.sum().backward()
    x = mt.Tensor(dev(z), requires_grad=True)
    out = F.cross_entropy(x, mt.Tensor(dev(t)), reduction=reduction)
    out.sum().backward()
    np.testing.assert_allclose(np.asarray(out.array), np.asarray(expected.array), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(x.grad.array), np.asarray(expected_x.grad.array), rtol=1e-12, atol=1e-15)
    loss_ops.check_deferred_targets()      # the designed read: nothing invalid was seen


@pytest.mark.parametrize("bad", [5, 9, -1])
def test_an_invalid_device_target_gives_nan_loss_and_gradient_and_a_deferred_error(device_branch, bad):
    z, t = logits_and_target()
    t[3] = bad
    x = mt.Tensor(dev(z), requires_grad=True)
    out = F.cross_entropy(x, mt.Tensor(dev(t)))
    assert np.isnan(np.asarray(out.array))                 # never a finite wrong loss
    out.backward()
    assert np.isnan(np.asarray(x.grad.array)).all()        # nor a finite wrong step
    with pytest.raises(ValueError, match=r"cross_entropy: target values must lie in \[0, 5\) "
                                         r"\(ignore_index=-100 is also allowed\); a target outside it"):
        loss_ops.check_deferred_targets()
    loss_ops.check_deferred_targets()      # reported once, then cleared


def test_nll_loss_on_the_device_branch_is_poisoned_and_deferred_too(device_branch):
    z, t = logits_and_target()
    t[0] = 5
    out = F.nll_loss(mt.Tensor(dev(z)), mt.Tensor(dev(t)), reduction="none")
    assert np.isnan(np.asarray(out.array)).all()
    with pytest.raises(ValueError, match=r"nll_loss: target values must lie in \[0, 5\)"):
        loss_ops.check_deferred_targets()


def test_ignore_index_on_unvouched_device_targets_takes_the_general_path(device_branch):
    z, t = logits_and_target()
    t[[1, 4]] = -100
    expected = F.cross_entropy(mt.tensor(z), mt.tensor(t))
    out = F.cross_entropy(mt.Tensor(dev(z), requires_grad=True), mt.Tensor(dev(t)))
    assert out._node.function is loss_ops.ClassLoss
    np.testing.assert_allclose(np.asarray(out.array), np.asarray(expected.array), rtol=1e-12)
    loss_ops.check_deferred_targets()


def test_an_ignored_row_with_an_invalid_one_still_poisons(device_branch):
    z, t = logits_and_target()
    t[1], t[2] = -100, 11
    assert np.isnan(np.asarray(F.cross_entropy(mt.Tensor(dev(z)), mt.Tensor(dev(t))).array))
    with pytest.raises(ValueError):
        loss_ops.check_deferred_targets()


def test_vouched_targets_are_checked_on_the_host_and_take_the_fused_path(device_branch):
    z, t = logits_and_target()
    target = loss_ops.vouch_range(mt.Tensor(dev(t)), 0, 4)
    assert loss_ops.check_target_values("cross_entropy", target, 5, -100) is None
    x = mt.Tensor(dev(z), requires_grad=True)
    out = F.cross_entropy(x, target)
    assert out._node.function is choose(core_loss.CrossEntropy)     # the fused op, in either mode
    assert not loss_ops._deferred                 # nothing was left for the device to check


def test_vouched_bounds_that_do_not_prove_validity_fall_back_to_the_device_check(device_branch):
    z, t = logits_and_target()          # the batch is valid; the dataset's bounds are wider than 5 classes
    target = loss_ops.vouch_range(mt.Tensor(dev(t)), 0, 9)
    flag = loss_ops.check_target_values("cross_entropy", target, 5, -100)
    assert flag is not None and not np.asarray(flag)
    out = F.cross_entropy(mt.Tensor(dev(z)), target)
    assert np.isfinite(np.asarray(out.array))
    loss_ops.check_deferred_targets()


def test_vouched_range_with_ignore_index_inside_takes_the_general_path(device_branch):
    z, t = logits_and_target()
    target = loss_ops.vouch_range(mt.Tensor(dev(t)), 0, 4)
    out = F.cross_entropy(mt.Tensor(dev(z), requires_grad=True), target, ignore_index=3)
    assert out._node.function is loss_ops.ClassLoss
    np.testing.assert_allclose(np.asarray(out.array),
                               np.asarray(F.cross_entropy(mt.tensor(z), mt.tensor(t), ignore_index=3).array),
                               rtol=1e-12)


def test_an_in_place_write_voids_the_vouched_range():
    target = loss_ops.vouch_range(mt.tensor(np.array([0, 1, 2])), 0, 2)
    assert loss_ops.vouched_range(target) == (0, 2)
    target[0] = 7
    assert loss_ops.vouched_range(target) is None
    assert loss_ops.vouched_range(mt.tensor(np.array([0]))) is None


def test_the_poison_leaves_every_value_alone_when_the_flag_is_clear():
    values = np.array([1.5, -2.0, np.inf])
    np.testing.assert_array_equal(loss_ops._poisoned(values, np.bool_(False)), values)
    assert np.isnan(loss_ops._poisoned(values, np.bool_(True))).all()
    assert loss_ops._poisoned(values, None) is values


# ---- DataLoader and Subset -------------------------------------------------------------------

def test_the_loader_vouches_for_integer_batches_with_the_dataset_bounds():
    x = np.zeros((10, 3), np.float32)
    y = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3])
    for shuffle in (False, True):
        for xb, yb in DataLoader(TensorDataset(x, y), batch_size=4, shuffle=shuffle):
            assert loss_ops.vouched_range(yb) == (1, 9)
            assert loss_ops.vouched_range(xb) is None         # float fields carry nothing


def test_a_sample_by_sample_dataset_is_vouched_per_batch():
    class Samples(mt.data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.float32(i), [7, 2, 4, 3, 8][i]
    ranges = [loss_ops.vouched_range(y) for _, y in DataLoader(Samples(), batch_size=2)]
    assert ranges == [(2, 7), (3, 4), (8, 8)]


def test_subset_arrays_are_the_same_objects_until_the_dataset_changes():
    base = mt.data.ImageDataset(np.arange(40, dtype=np.uint8).reshape(10, 2, 2), np.arange(10) % 3)
    subset = Subset(base, [1, 3, 5])
    first = subset.arrays()
    assert all(a is b for a, b in zip(first, subset.arrays()))
    np.testing.assert_array_equal(first[1], [1, 0, 2])
    base.transform = lambda img: img.astype(np.float64)    # the dataset hands out new arrays
    second = subset.arrays()
    assert second[0] is not first[0] and second[0].dtype == np.float64
    assert all(a is b for a, b in zip(second, subset.arrays()))


def test_a_subset_is_uploaded_once_over_epochs(monkeypatch):
    x, y = np.arange(24, dtype=np.float32).reshape(12, 2), np.arange(12) % 4
    subset = Subset(TensorDataset(x, y), range(8))
    loader = DataLoader(subset, batch_size=3, shuffle=True)
    uploads, original = [], backend.to_device

    def to_device(array, device):
        if any(array is a for a in subset.arrays()):
            uploads.append(array)
        return original(array, device)
    monkeypatch.setattr(backend, "to_device", to_device)
    for _ in range(3):
        batches = list(loader)
        assert sum(b[0].shape[0] for b in batches) == 8
    assert len(uploads) == 2              # x and y, once, not once per epoch


# ---- train/reads.py: the losses read in batches ------------------------------------------------

class NoCtrlC:
    requested = False


def run_epoch(monkeypatch, deferred, poison_at=None, stop_at=None, tty=False):
    mt.manual_seed(0)
    rng = np.random.default_rng(1)
    data = TensorDataset(rng.standard_normal((40, 6)).astype(np.float32), rng.integers(0, 3, 40))
    loader = DataLoader(data, batch_size=5, shuffle=True)
    model = mt.nn.Sequential(mt.nn.Linear(6, 3))
    optimizer = mt.optim.SGD(model.parameters(), lr=0.1)
    monkeypatch.setattr(train.reads, "_read_is_free", lambda a: not deferred)
    reads, original = [], backend.to_numpy
    monkeypatch.setattr(backend, "to_numpy", lambda a: reads.append(1) or original(a))
    calls = {"n": 0}
    ctrl_c = NoCtrlC()
    real_loss = train.F.cross_entropy

    def cross_entropy(logits, target, **kwargs):
        calls["n"] += 1
        if calls["n"] == stop_at:
            ctrl_c.requested = True
        out = real_loss(logits, target, **kwargs)
        return out * float("nan") if calls["n"] == poison_at else out
    monkeypatch.setattr(train.F, "cross_entropy", cross_entropy)
    stream = io.StringIO()
    progress = train.Progress(len(loader), "epoch", stream=stream)
    position = train._epoch_start()
    losses, stop = [], None
    try:
        train.train_epoch(model, optimizer, loader, progress, position, ctrl_c, losses)
    except train.Stop as exc:
        stop = str(exc)
    return position, losses, stop, len(reads), [p.array.copy() for p in model.parameters()], stream.getvalue()


def strip_rates(lines):
    return re.sub(r"[\d.]+ batch/s", "", lines)


def test_deferred_reads_account_for_every_step_as_the_cpu_does(monkeypatch):
    eager = run_epoch(monkeypatch, deferred=False)
    late = run_epoch(monkeypatch, deferred=True)
    assert {k: v for k, v in late[0].items() if k != "seconds"} == {k: v for k, v in eager[0].items()
                                                                    if k != "seconds"}
    assert late[1] == eager[1] and len(late[1]) == 8
    for a, b in zip(late[4], eager[4]):
        np.testing.assert_array_equal(a, b)
    assert eager[3] == 8           # one read per step on the CPU, where it is free
    assert late[3] == 4            # one per redrawn progress line (a quarter of the epoch, not a tty)
    assert strip_rates(late[5]) == strip_rates(eager[5])     # the same progress lines


def test_deferred_reads_are_at_most_read_every_steps_apart(monkeypatch):
    monkeypatch.setattr(train.reads, "_READ_EVERY", 3)
    monkeypatch.setattr(train.Progress, "due", lambda self, done: done >= self.total)
    assert run_epoch(monkeypatch, deferred=True)[3] == 3       # after steps 3, 6 and 8


def test_a_non_finite_loss_found_late_still_names_its_batch(monkeypatch):
    eager = run_epoch(monkeypatch, deferred=False, poison_at=3)
    late = run_epoch(monkeypatch, deferred=True, poison_at=3)
    assert eager[2] == late[2] == "the loss became nan at batch 3"
    assert eager[0]["batches"] == late[0]["batches"] == 2
    assert eager[1] == late[1]


def test_ctrl_c_reads_the_pending_steps_before_stopping(monkeypatch):
    late = run_epoch(monkeypatch, deferred=True, stop_at=3)
    assert late[2] == "interrupted" and late[0]["batches"] == 3 and late[0]["seen"] == 15
    assert len(late[1]) == 3


def test_evaluate_reads_the_device_once(monkeypatch):
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((13, 4)).astype(np.float32), rng.integers(0, 2, 13)
    model = mt.nn.Sequential(mt.nn.Linear(4, 2))
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    reads, original = [], backend.to_numpy
    monkeypatch.setattr(backend, "to_numpy", lambda a: reads.append(1) or original(a))
    monkeypatch.setattr(train.Progress, "update", lambda *a, **k: None)
    mean_loss, accuracy = train.evaluate(model, loader)
    assert len(reads) == 2          # the loss sum and the count, at the end
    logits = model(mt.tensor(x)).detach()
    losses = F.cross_entropy(logits, mt.tensor(y), reduction="none").numpy()
    assert mean_loss == pytest.approx(float(np.sum(losses.astype(np.float64))) / 13, rel=1e-6)
    assert accuracy == np.mean(logits.numpy().argmax(axis=1) == y)


# ---- batch norm: the step counter ------------------------------------------------------------

def test_batch_norm_counts_its_steps_without_reading_the_counter(monkeypatch):
    bn = mt.nn.BatchNorm2d(3)
    x = mt.tensor(np.random.default_rng(3).standard_normal((4, 3, 2, 2)).astype(np.float32))

    def refuse(self):
        raise HostReadError("item() read in a training step")
    monkeypatch.setattr(mt.Tensor, "item", refuse)
    for _ in range(3):
        bn(x)
    assert int(bn.num_batches_tracked.array) == 3
    cumulative = mt.nn.BatchNorm2d(3, momentum=None)      # torch reads the counter here too
    with pytest.raises(HostReadError):
        cumulative(x)


# ---- out-of-range indices --------------------------------------------------------------------

INDEX_CASES = [
    ((5,), [5]), ((5,), [-6]), ((5,), [4, -5]), ((5,), [0, 2, 5]), ((3, 4), (slice(None), [4])),
    ((3, 4), ([0], [4])), ((3, 4), ([2], [-4])), ((3, 4), (Ellipsis, [3])), ((3, 4), (Ellipsis, [-5])),
    ((3, 4), (None, [3])), ((3, 4), (None, [2], None, [3])), ((2, 3, 4), ([1], Ellipsis, [4])),
    ((2, 3, 4), (0, [2], [3])), ((2, 3, 4), (1, Ellipsis, [-4])), ((2, 3), ([[True, False, True]] * 2, )),
    ((2, 3, 4), ([[True, False, True]] * 2, [3])), ((2, 3, 4), ([[True, False, True]] * 2, [4])),
    ((3, 4), (3,)), ((3, 4), (slice(1, 2), 4)), ((3, 4), (np.int64(-4),)), ((0,), [0]),
    ((0, 3), (slice(None), [2])), ((4,), [[1, 3], [0, 4]]),
    ((0, 0), ([], [0])), ((3, 4), ([], [7])), ((3, 4), ([], 7)), ((3, 4), (np.array([], np.int64), np.array(7))),
    ((2, 3, 4), ([[False] * 3] * 2, [9])), ((2, 3, 4), ([[False] * 3] * 2, 9)), ((3, 4), ([[]], [[9]])),
]


def as_array(part):
    array = np.asarray(part)
    return array.astype(np.int64) if array.size == 0 else array     # [] is an empty integer index


def as_index(parts):
    if not isinstance(parts, tuple):
        return as_array(parts)
    return tuple(as_array(p) if isinstance(p, list) else p for p in parts)


@pytest.mark.parametrize("shape, parts", INDEX_CASES)
def test_the_bounds_check_raises_exactly_where_numpy_does(shape, parts):
    index = as_index(parts)
    try:
        np.empty(shape)[index]
        numpy_raises = False
    except IndexError:
        numpy_raises = True
    if numpy_raises:
        with pytest.raises(IndexError, match=r"^getitem: index -?\d+ is out of bounds for dimension \d+ with size"):
            shape_ops.check_index_bounds("getitem", index, shape)
    else:
        shape_ops.check_index_bounds("getitem", index, shape)


def test_the_message_names_the_value_dimension_and_size_as_torch():
    with pytest.raises(IndexError, match=r"^getitem: index 4 is out of bounds for dimension 1 with size 4$"):
        shape_ops.check_index_bounds("getitem", (slice(None), np.array([4])), (3, 4))


def test_a_device_index_array_is_read_once(monkeypatch):
    reads, original = [], backend.to_numpy
    monkeypatch.setattr(backend, "to_numpy", lambda a: reads.append(type(a)) or original(a))
    shape_ops.check_index_bounds("getitem", (dev([0, 2]), dev([1, 3])), (3, 4))
    assert len(reads) == 2            # min and max together, one read per index array
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 1"):
        shape_ops.check_index_bounds("getitem", (dev([0, 2]), dev([1, 4])), (3, 4))


@pytest.fixture
def wrapping(monkeypatch):
    """getitem/setitem behave as for CuPy data, where the check is what raises."""
    monkeypatch.setattr(shape_ops, "_wraps_out_of_range", lambda a: True)
    from minitorch_cnn.ops import inplace
    monkeypatch.setattr(inplace, "_wraps_out_of_range", lambda a: True)


@pytest.mark.parametrize("index", [[5], np.array([5]), [-6], (slice(None), [5])])
def test_getitem_checks_before_indexing(wrapping, index):
    x = mt.tensor(np.arange(10.0).reshape(5, 2) if isinstance(index, tuple) else np.arange(5.0))
    with pytest.raises(IndexError, match=r"^getitem: index -?\d+ is out of bounds for dimension"):
        x[index]


def test_getitem_with_an_index_tensor_and_in_range_indices_still_works(wrapping):
    x = mt.tensor(np.arange(5.0), requires_grad=True)
    out = x[mt.tensor(np.array([4, -5, 4]))]
    np.testing.assert_array_equal(out.detach().numpy(), [4.0, 0.0, 4.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 0, 0, 0, 2])
    with pytest.raises(IndexError, match=r"^getitem: index 5 is out of bounds for dimension 0 with size 5$"):
        x[mt.tensor(np.array([5]))]


@pytest.mark.parametrize("grad", [False, True])
def test_setitem_checks_before_writing(wrapping, grad):
    x = mt.tensor(np.zeros(5), requires_grad=grad)
    y = x * 1 if grad else x
    with pytest.raises(IndexError, match=r"setitem: index 5 is out of bounds for dimension 0 with size 5"):
        y[[5]] = 1.0
    np.testing.assert_array_equal(y.detach().numpy(), np.zeros(5))


# ---- the bounds check against NumPy, fuzzed -------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402


@st.composite
def indexed_shapes(draw):
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=3)))
    parts = []
    for n in shape:
        kind = draw(st.sampled_from(["slice", "int", "array", "none", "0-d", "mask"]))
        if kind == "slice":
            parts.append(slice(None))
        elif kind == "int":
            parts.append(draw(st.integers(-n - 2, n + 2)))
        elif kind == "array":
            parts.append(np.array(draw(st.lists(st.integers(-n - 2, n + 2), min_size=0, max_size=3)),
                                  dtype=np.int64))
        elif kind == "0-d":
            parts.append(np.array(draw(st.integers(-n - 2, n + 2))))
        elif kind == "mask":
            parts.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool))
        else:
            parts.extend([None, slice(None)])
    if draw(st.booleans()) and parts:       # an Ellipsis standing for the leading parts
        cut = draw(st.integers(0, len(parts)))
        parts = [Ellipsis] + [p for p in parts[cut:]]
    return shape, tuple(parts)


@settings(max_examples=300, deadline=None)
@given(indexed_shapes())
def test_fuzz_the_bounds_check_agrees_with_numpy(case):
    shape, index = case
    try:
        np.empty(shape)[index]
    except IndexError as exc:
        numpy_error = exc
    else:
        numpy_error = None
    try:
        shape_ops.check_index_bounds("getitem", index, shape)
    except IndexError:
        assert numpy_error is not None and "out of bounds" in str(numpy_error)
    else:
        assert numpy_error is None or "out of bounds" not in str(numpy_error)


def test_an_empty_list_index_selects_nothing_as_in_torch():
    x = mt.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    out = x[[]]
    assert out.shape == (0, 3) and out.dtype == np.float64
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
    assert x[:, []].shape == (2, 0)
    y = mt.tensor(np.arange(3.0))
    y[[]] = 5.0
    np.testing.assert_array_equal(y.numpy(), [0.0, 1.0, 2.0])
