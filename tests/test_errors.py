"""Bad input fails early with a ValueError/TypeError that names the op, what it expected
and what it got (docs/design.md, "Errors")."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.nn import functional as F


def t(*shape, dtype=np.float32):
    return mt.tensor(np.ones(shape, dtype=dtype))


# (call, exception type, regex the message must match): op name, expectation, what came
CASES = {
    # conv2d
    "conv2d 2-D input": (lambda: F.conv2d(t(5, 5), t(4, 3, 3, 3)),
                         ValueError, r"conv2d: expected a 3-D \(C, H, W\) or 4-D input \(N, C, H, W\), got shape \(5, 5\)"),
    "conv2d 5-D input": (lambda: F.conv2d(t(1, 2, 3, 5, 5), t(4, 3, 3, 3)),
                         ValueError, r"conv2d: expected a 3-D \(C, H, W\) or 4-D input .*got shape \(1, 2, 3, 5, 5\)"),
    "conv2d channels": (lambda: F.conv2d(t(2, 1, 28, 28), t(16, 3, 3, 3)),
                        ValueError, r"conv2d: expected input with 3 channels .*got 1 channels"),
    "conv2d kernel > padded input": (lambda: F.conv2d(t(1, 1, 4, 4), t(1, 1, 7, 7), padding=1),
                                     ValueError, r"conv2d: kernel size \(7, 7\).* larger than the padded input \(4, 4\)"),
    "conv2d dilated kernel > input": (lambda: F.conv2d(t(1, 1, 4, 4), t(1, 1, 3, 3), dilation=2),
                                      ValueError, r"conv2d: kernel size \(3, 3\) \(dilation \(2, 2\)\) is larger"),
    "conv2d groups ∤ out channels": (lambda: F.conv2d(t(1, 4, 5, 5), t(3, 2, 3, 3), groups=2),
                                     ValueError, r"conv2d: groups=2 must divide the 3 output channels"),
    "conv2d groups ∤ in channels": (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 1, 3, 3), groups=2),
                                    ValueError, r"conv2d: groups=2 must divide the 3 input channels"),
    "conv2d groups 0": (lambda: F.conv2d(t(1, 2, 5, 5), t(2, 2, 3, 3), groups=0),
                        ValueError, r"conv2d: groups must be a positive integer, got 0"),
    "conv2d stride 0": (lambda: F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3), stride=0),
                        ValueError, r"conv2d: stride must be positive, got 0"),
    "conv2d stride negative": (lambda: F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3), stride=(1, -1)),
                               ValueError, r"conv2d: stride must be positive, got \(1, -1\)"),
    "conv2d padding negative": (lambda: F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3), padding=-1),
                                ValueError, r"conv2d: padding must be non-negative, got -1"),
    "conv2d bias shape": (lambda: F.conv2d(t(1, 1, 5, 5), t(2, 1, 3, 3), t(3)),
                          ValueError, r"conv2d: expected bias of shape \(2,\), got \(3,\)"),
    "conv2d mixed dtypes": (lambda: F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3, dtype=np.float64)),
                            TypeError, r"conv2d: input dtype float32 differs from weight dtype float64"),
    # linear, matmul
    "linear mixed dtypes": (lambda: F.linear(t(2, 3, dtype=np.float64), t(4, 3)),
                            TypeError, r"linear\(3→4\): input dtype float64 differs from weight dtype float32"),
    "linear in_features": (lambda: F.linear(t(2, 5), t(4, 3)),
                           ValueError, r"linear\(3→4\): expected input \(\*, 3\), got \(2, 5\)"),
    "matmul inner dims": (lambda: t(3, 4) @ t(5, 2),
                          ValueError, r"matmul: shapes \(3, 4\) and \(5, 2\) cannot be multiplied .*4 and 5"),
    "matmul batched": (lambda: t(2, 3, 4) @ t(2, 3, 4),
                       ValueError, r"matmul: shapes \(2, 3, 4\) and \(2, 3, 4\) cannot be multiplied"),
    "matmul 1-D": (lambda: t(3) @ t(4), ValueError, r"matmul: shapes \(3,\) and \(4,\)"),
    "matmul 0-D": (lambda: t() @ t(3), ValueError, r"matmul: both operands need at least 1 dimension"),
    # pooling
    "max_pool2d padding > k/2": (lambda: F.max_pool2d(t(1, 1, 6, 6), 3, 2, padding=2),
                                 ValueError, r"max_pool2d: padding \(2, 2\) must be at most half the kernel size \(3, 3\)"),
    "avg_pool2d padding > k/2": (lambda: F.avg_pool2d(t(1, 1, 6, 6), (2, 4), padding=(1, 3)),
                                 ValueError, r"avg_pool2d: padding \(1, 3\) must be at most half the kernel size \(2, 4\)"),
    "max_pool2d stride 0": (lambda: F.max_pool2d(t(1, 1, 5, 5), 2, stride=0),
                            ValueError, r"max_pool2d: stride must be positive, got 0"),
    "max_pool2d 2-D input": (lambda: F.max_pool2d(t(5, 5), 2),
                             ValueError, r"max_pool2d: expected a 3-D \(C, H, W\) or 4-D input \(N, C, H, W\), got shape \(5, 5\)"),
    "avg_pool2d kernel > input": (lambda: F.avg_pool2d(t(1, 1, 2, 2), 3),
                                  ValueError, r"avg_pool2d: kernel size \(3, 3\).* larger than the padded input \(2, 2\)"),
    # dropout
    "dropout p > 1": (lambda: F.dropout(t(3), 1.5), ValueError, r"dropout: .*p must be in \[0, 1\], got 1.5"),
    "dropout p < 0": (lambda: F.dropout(t(3), -0.1), ValueError, r"dropout: .*p must be in \[0, 1\], got -0.1"),
    # losses
    "cross_entropy float targets": (lambda: F.cross_entropy(t(3, 4), mt.tensor([0.0, 1.0, 2.0])),
                                    TypeError, r"cross_entropy: expected integer class indices .*got dtype float32"),
    "cross_entropy target shape": (lambda: F.cross_entropy(t(3, 4), mt.tensor([0, 1])),
                                   ValueError, r"cross_entropy: expected target of shape \(3,\) .*got \(2,\)"),
    "cross_entropy target range": (lambda: F.cross_entropy(t(3, 4), mt.tensor([0, 1, 4])),
                                   ValueError, r"cross_entropy: target values must lie in \[0, 4\), got .*max 4"),
    "cross_entropy reduction": (lambda: F.cross_entropy(t(3, 4), mt.tensor([0, 1, 2]), reduction="avg"),
                                ValueError, r"cross_entropy: reduction must be one of .*got 'avg'"),
    "mse_loss shapes": (lambda: F.mse_loss(t(3, 4), t(4, 3)),
                        ValueError, r"mse_loss: input shape \(3, 4\) and target shape \(4, 3\) differ"),
    # batch_norm
    "batch_norm stats shape": (lambda: F.batch_norm(t(4, 3), t(2), t(2), training=True),
                               ValueError, r"batch_norm: expected running_mean of shape \(3,\) .*got \(2,\)"),
    "batch_norm one value": (lambda: F.batch_norm(t(1, 3), None, None, training=True),
                             ValueError, r"batch_norm: expected more than 1 value per channel .*\(1, 3\)"),
    "batch_norm eval no stats": (lambda: F.batch_norm(t(4, 3), None, None, training=False),
                                 ValueError, r"batch_norm: evaluation mode needs running_mean and running_var"),
    # shapes and axes
    "softmax dim": (lambda: F.softmax(t(3, 4), dim=2), ValueError, r"softmax: dim 2 is out of range for a 2-d"),
    "reshape": (lambda: t(3, 4).reshape(5, 2),
                ValueError, r"reshape: cannot reshape a tensor of shape \(3, 4\) \(12 elements\) into \(5, 2\)"),
    "sum axis": (lambda: t(3, 4).sum(axis=2), ValueError, r"sum: axis 2 is out of range for a 2-d tensor"),
    "permute": (lambda: t(2, 3).permute(0, 0), ValueError, r"permute: dims \(0, 0\) are not a permutation"),
    # tensors
    "unknown device": (lambda: t(3).to("tpu"), ValueError, r"unknown device 'tpu': expected 'cpu' or 'cuda'"),
    "int requires grad": (lambda: mt.tensor([1, 2], requires_grad=True), RuntimeError, r"floating point"),
    "gradcheck without grads": (lambda: mt.gradcheck(lambda x: x * 2, [t(3)]),
                                ValueError, r"gradcheck: no input requires grad"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_raises_a_clear_error(case):
    call, error, message = CASES[case]
    with pytest.raises(error, match=message):
        call()


def test_errors_happen_before_any_graph_is_recorded():
    """A failed call leaves the inputs untouched: no .grad, no running-stat update."""
    x = mt.tensor(np.ones((4, 3), dtype=np.float32), requires_grad=True)
    mean = mt.zeros(3)
    with pytest.raises(ValueError):
        F.batch_norm(x, mean, mt.ones(2), training=True)
    np.testing.assert_array_equal(mean.numpy(), np.zeros(3))
    assert x.grad is None
