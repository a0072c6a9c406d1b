"""mt.backends.fast: the switch between the fast paths and the core (issue 20), modelled on
torch.backends.cudnn."""
import os
import subprocess
import sys

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.backends import fast
from minitorch_cnn.nn import functional as F


def test_on_by_default_and_flags_restore():
    assert mt.backends.fast.enabled is True or os.environ.get("MINITORCH_CNN_FAST") == "0"
    before = fast.enabled
    with fast.flags(enabled=False):
        assert fast.enabled is False
        with fast.flags(enabled=True):
            assert fast.enabled is True
        assert fast.enabled is False
    assert fast.enabled is before


def test_flags_restore_after_an_error():
    before = fast.enabled
    with pytest.raises(ZeroDivisionError):
        with fast.flags(enabled=not before):
            1 / 0
    assert fast.enabled is before


def test_flags_none_leaves_it_as_it_is():
    before = fast.enabled
    with fast.flags():
        assert fast.enabled is before


@pytest.mark.parametrize("value,expected", [("0", False), ("1", True), ("off", False), ("", True)])
def test_environment_sets_the_default(value, expected):
    env = dict(os.environ, MINITORCH_CNN_FAST=value)
    done = subprocess.run([sys.executable, "-c", "import minitorch_cnn as mt; print(mt.backends.fast.enabled)"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(expected)


def test_a_bad_environment_value_is_refused_by_name():
    env = dict(os.environ, MINITORCH_CNN_FAST="maybe")
    done = subprocess.run([sys.executable, "-c", "import minitorch_cnn"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    assert "MINITORCH_CNN_FAST" in done.stderr and "maybe" in done.stderr


def test_every_replacement_keeps_its_core_functions_name_and_lives_in_fast():
    pairs = fast.replacements()
    assert {core.__name__ for core in pairs} >= {"Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm"}
    for core, replacement in pairs.items():
        assert replacement.__name__ == core.__name__
        assert core.__module__.startswith("minitorch_cnn.core."), core
        assert replacement.__module__.startswith("minitorch_cnn.fast."), replacement


def test_choose_follows_the_switch():
    core, replacement = next(iter(fast.replacements().items()))
    with fast.flags(enabled=True):
        assert fast.choose(core) is replacement
    with fast.flags(enabled=False):
        assert fast.choose(core) is core


def test_a_renamed_replacement_is_refused():
    class Conv2d(mt.Function):
        pass

    with pytest.raises(TypeError, match="name"):
        fast.replaces(Conv2d)(type("FasterConv", (mt.Function,), {}))


def _lenet_step(seed=0):
    mt.manual_seed(seed)
    model = mt.models.LeNet5().double()
    rng = np.random.default_rng(seed)
    x = mt.tensor(rng.standard_normal((4, 1, 28, 28)))
    y = mt.tensor(rng.integers(0, 10, 4))
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    return loss, model


def test_the_graph_reads_the_same_in_both_modes():
    with fast.flags(enabled=True):
        fast_loss, fast_model = _lenet_step()
    with fast.flags(enabled=False):
        core_loss, core_model = _lenet_step()
    assert mt.to_dot(fast_loss, params=fast_model) == mt.to_dot(core_loss, params=core_model)
    assert fast_loss.grad_fn.__name__ == core_loss.grad_fn.__name__
    assert core_loss.grad_fn.__module__.startswith("minitorch_cnn.core.")


@pytest.mark.parametrize("name", ["lenet5", "simplecnn", "digitcnn", "deepcnn"])
def test_fast_equals_core_on_each_model_in_float64(name):
    """A whole training step's loss and every parameter gradient, both modes, float64.  Each op
    agrees to 1e-12 (tests/test_core_*.py); through a model's dozen layers the relative
    differences stay below 1e-10."""
    results = []
    for enabled in (True, False):
        with fast.flags(enabled=enabled):
            mt.manual_seed(0)
            model = mt.models.get_model(name).double()
            rng = np.random.default_rng(1)
            x = mt.tensor(rng.standard_normal((3, 1, 28, 28)))
            y = mt.tensor(rng.integers(0, 10, 3))
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            results.append((loss.item(), {k: p.grad.numpy().copy() for k, p in model.named_parameters()}))
    (fast_loss, fast_grads), (core_loss, core_grads) = results
    np.testing.assert_allclose(core_loss, fast_loss, rtol=1e-12)
    for key in fast_grads:
        np.testing.assert_allclose(core_grads[key], fast_grads[key], rtol=1e-10, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("case", ["float16 conv", "int64 max pool", "empty batch norm", "float64 conv"])
def test_inputs_the_core_does_not_define_keep_the_fast_function(case):
    """With the switch off, float16, integer and empty inputs still get torch's rules (the fast
    Function's); a float64 input runs the core."""
    rng = np.random.default_rng(0)
    if case.endswith("conv"):
        dtype = np.float16 if case.startswith("float16") else np.float64
        x = mt.tensor(rng.standard_normal((2, 3, 6, 6)).astype(dtype), requires_grad=True)
        w = mt.tensor(rng.standard_normal((4, 3, 3, 3)).astype(dtype), requires_grad=True)
        run = lambda: F.conv2d(x, w)  # noqa: E731
    elif case == "int64 max pool":
        x = mt.tensor(rng.integers(-9, 9, (2, 3, 6, 6)))
        run = lambda: F.max_pool2d(x, 2)  # noqa: E731
    else:
        x = mt.tensor(np.zeros((0, 3, 4, 4)), requires_grad=True)
        run = lambda: F.batch_norm(x, None, None, training=True)  # noqa: E731
    with fast.flags(enabled=True):
        expected = run()
    with fast.flags(enabled=False):
        got = run()
    # the same Function gives the same bits; core and fast float64 convs differ by GEMM rounding
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=0)
    layer = "minitorch_cnn.core." if case == "float64 conv" else "minitorch_cnn.fast."
    if got.grad_fn is not None:
        assert got.grad_fn.__module__.startswith(layer)
