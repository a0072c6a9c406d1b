"""Calls that crashed with NumPy's words or answered differently from torch (issue 21's lists): ReLU's
backward on a 0-d tensor, squeeze with a tuple of dims, a TensorDataset sliced, x[::-1]."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.backends import fast
from minitorch_cnn.data import TensorDataset
from minitorch_cnn.nn import functional as F


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("value,expected", [(2.0, 1.0), (-2.0, 0.0)])
def test_relu_backward_of_a_0d_tensor(enabled, value, expected):
    with fast.flags(enabled=enabled):
        x = mt.tensor(np.array([value / 2, value / 2]), requires_grad=True)
        F.relu(x.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [expected, expected])


@pytest.mark.parametrize("dims,shape", [((0, 2), (3,)), ((0, 1), (3, 1)), ((-1,), (1, 3)), ((2, 0), (3,)),
                                        ((), (1, 3, 1)), ([0, 2], (3,))])
def test_squeeze_takes_a_tuple_of_dims_as_torch(dims, shape):
    x = mt.zeros(1, 3, 1, requires_grad=True)
    out = x.squeeze(dims)
    assert out.shape == shape
    out.sum().backward()
    assert x.grad.shape == (1, 3, 1)


def test_squeeze_refuses_a_repeated_dim_and_names_it():
    with pytest.raises(RuntimeError, match="squeeze: dim 0 appears multiple times"):
        mt.zeros(1, 3, 1).squeeze((0, -3))
    with pytest.raises(ValueError, match="squeeze: dim 3 is out of range"):
        mt.zeros(1, 3, 1).squeeze((0, 3))
    with pytest.raises(TypeError, match="squeeze"):
        mt.zeros(1, 3, 1).squeeze((0, 1.0))


def test_a_tensor_dataset_slices_every_array():
    data = TensorDataset(mt.arange(5), mt.arange(5) * 2)
    xs, ys = data[1:3]
    np.testing.assert_array_equal(np.asarray(xs), [1, 2])
    np.testing.assert_array_equal(np.asarray(ys), [2, 4])
    xs, ys = data[::2]
    np.testing.assert_array_equal(np.asarray(ys), [0, 4, 8])
    with pytest.raises(IndexError):
        data[5]


@pytest.mark.parametrize("index", [np.s_[::-1], np.s_[:, ::-2], np.s_[1, 3:0:-1], np.s_[::0]])
def test_a_negative_or_zero_step_is_refused_as_torch_refuses_it(index):
    """x[::-1] gave the reversed tensor here; torch has no negative strides and refuses it."""
    with pytest.raises(ValueError, match="getitem: step must be greater than zero"):
        mt.zeros(4, 5)[index]
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.zeros(4, 5)[index]
