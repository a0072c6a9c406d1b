"""Layers, losses, init and the Module API against PyTorch.

Every parity test copies the torch layer's weights into the minitorch layer with
`load_state_dict`, feeds both the same float64 inputs, and compares outputs,
input gradients, parameter gradients and -- after an SGD-momentum step taken by
each engine's own optimizer -- the parameters and buffers, for 10 steps.

Tolerance (float64): both engines evaluate the same formulas in the same
precision; what differs is summation order, whose rounding stays far below
1e-10 for these O(1) values.
"""
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minitorch_cnn as mt
from minitorch_cnn import models, nn
from minitorch_cnn.nn import init

import _torch_helpers as th
from _torch_helpers import torch_single_thread  # noqa: F401 (an autouse fixture)
from _optional import needs_torch, torch  # torch is None without it: @needs_torch tests skip

F64 = dict(rtol=1e-10, atol=1e-10)


def close(actual, expected, what, tol=F64):
    a, e = th.to_np(actual), th.to_np(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != torch's {e.shape}"
    assert a.dtype == e.dtype, f"{what}: dtype {a.dtype} != torch's {e.dtype}"
    np.testing.assert_allclose(a, e, err_msg=what, **tol)


def layer_parity(mt_layer, t_layer, make_input, steps=10, seed=0, lr=0.1, eval_after=False):
    """Train both layers `steps` SGD-momentum steps on the same inputs and cotangents;
    compare output, input gradient, parameter gradients, then parameters and buffers.
    eval_after: one more forward/backward in eval mode (BatchNorm on its running statistics)."""
    rng = np.random.default_rng(seed)
    t_layer = t_layer.double()
    mt_layer = th.copy_weights(t_layer, mt_layer.double())
    th.assert_state_close(mt_layer, t_layer, **F64, what="after load_state_dict")
    mt_params, t_params = list(mt_layer.parameters()), list(t_layer.parameters())
    assert len(mt_params) == len(t_params)
    mt_opt = mt.optim.SGD(mt_params, lr=lr, momentum=0.9) if mt_params else None
    t_opt = torch.optim.SGD(t_params, lr=lr, momentum=0.9) if t_params else None

    def forward_backward(label):
        x = make_input(rng)
        xm, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ym, yt = mt_layer(xm), t_layer(xt)
        close(ym, yt, f"{label}: output")
        cotangent = rng.standard_normal(yt.shape)
        ym.backward(mt.tensor(cotangent))
        yt.backward(torch.tensor(cotangent))
        close(xm.grad, xt.grad, f"{label}: input gradient")
        for (name, pm), pt in zip(mt_layer.named_parameters(), t_params):
            close(pm.grad, pt.grad, f"{label}: gradient of {name}")

    for step in range(steps):
        forward_backward(f"step {step}")
        if mt_opt is not None:
            mt_opt.step()
            t_opt.step()
            mt_opt.zero_grad()
            t_opt.zero_grad()
        th.assert_state_close(mt_layer, t_layer, **F64, what=f"step {step}: parameters and buffers")
    if eval_after:
        mt_layer.eval()
        t_layer.eval()
        forward_backward("eval")
        th.assert_state_close(mt_layer, t_layer, **F64, what="eval: buffers unchanged")


def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


# ---- Conv2d and Linear ----------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("kwargs, shape", [
    (dict(in_channels=3, out_channels=4, kernel_size=3), (2, 3, 7, 6)),
    (dict(in_channels=2, out_channels=3, kernel_size=(3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
     (2, 2, 8, 7)),
    (dict(in_channels=4, out_channels=6, kernel_size=3, padding=1, groups=2), (2, 4, 5, 5)),
    (dict(in_channels=3, out_channels=5, kernel_size=2, stride=2, bias=False), (3, 3, 6, 6)),
    (dict(in_channels=4, out_channels=4, kernel_size=3, padding=1, groups=4, bias=False), (2, 4, 5, 6)),
], ids=["basic", "stride-pad-dilation", "groups", "no-bias", "depthwise-no-bias"])
def test_conv2d_matches_torch(kwargs, shape):
    layer_parity(nn.Conv2d(**kwargs), torch.nn.Conv2d(**kwargs), normal(*shape))


@needs_torch
@settings(max_examples=15, deadline=None)
@given(groups=st.integers(1, 3), cin=st.integers(1, 2), cout=st.integers(1, 2), k=st.integers(1, 3),
       stride=st.integers(1, 2), padding=st.integers(0, 2), dilation=st.integers(1, 2),
       bias=st.booleans(), n=st.integers(1, 2), hw=st.tuples(st.integers(5, 8), st.integers(5, 8)),
       seed=st.integers(0, 2 ** 16))
def test_conv2d_random_hyper_parameters(groups, cin, cout, k, stride, padding, dilation, bias, n, hw, seed):
    kwargs = dict(in_channels=cin * groups, out_channels=cout * groups, kernel_size=k, stride=stride,
                  padding=padding, dilation=dilation, groups=groups, bias=bias)
    layer_parity(nn.Conv2d(**kwargs), torch.nn.Conv2d(**kwargs), normal(n, cin * groups, *hw),
                 steps=2, seed=seed)


@needs_torch
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 7), (2, 3, 7)], ids=["2d", "3d"])
def test_linear_matches_torch(bias, shape):
    layer_parity(nn.Linear(7, 4, bias=bias), torch.nn.Linear(7, 4, bias=bias), normal(*shape))


def test_layers_name_themselves_in_shape_errors():
    with pytest.raises(ValueError, match=r"Conv2d\(3→16\): expected input \(N, 3, H, W\), got \(2, 1, 8, 8\)"):
        nn.Conv2d(3, 16, 3)(mt.zeros(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"Linear\(5→2\)"):
        nn.Linear(5, 2)(mt.zeros(3, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\)"):
        nn.BatchNorm2d(3)(mt.zeros(2, 4, 5, 5))
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2d(3, 4, 3, groups=2)


# ---- pooling --------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("kwargs, shape", [
    (dict(kernel_size=2), (2, 3, 8, 8)),
    (dict(kernel_size=2), (2, 3, 7, 9)),                  # odd sizes: the last row/column is dropped
    (dict(kernel_size=3, stride=2, padding=1), (2, 2, 9, 8)),
    (dict(kernel_size=(3, 2), stride=(1, 2)), (1, 2, 6, 6)),
], ids=["k2", "k2-odd", "k3-s2-p1", "rect"])
def test_max_pool2d_matches_torch(kwargs, shape):
    layer_parity(nn.MaxPool2d(**kwargs), torch.nn.MaxPool2d(**kwargs), normal(*shape))


@needs_torch
@pytest.mark.parametrize("kwargs, shape", [
    (dict(kernel_size=2), (2, 3, 8, 8)),
    (dict(kernel_size=2), (2, 3, 7, 9)),
    (dict(kernel_size=3, stride=2, padding=1), (2, 2, 9, 8)),
    (dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), (2, 2, 9, 8)),
    (dict(kernel_size=(3, 2), stride=(1, 2)), (1, 2, 6, 6)),
], ids=["k2", "k2-odd", "k3-s2-p1", "k3-s2-p1-exclude-pad", "rect"])
def test_avg_pool2d_matches_torch(kwargs, shape):
    layer_parity(nn.AvgPool2d(**kwargs), torch.nn.AvgPool2d(**kwargs), normal(*shape))


# ---- batch norm -------------------------------------------------------------------------------
BN_CASES = [dict(), dict(momentum=None), dict(momentum=0.3, eps=1e-3), dict(affine=False),
            dict(track_running_stats=False)]
BN_IDS = ["default", "cumulative", "momentum-eps", "no-affine", "no-running-stats"]


@needs_torch
@pytest.mark.parametrize("kwargs", BN_CASES, ids=BN_IDS)
def test_batch_norm2d_matches_torch_in_training_and_eval(kwargs):
    """Training: batch statistics, running_mean/var (unbiased) and num_batches_tracked after each
    of 10 steps; then eval: the running statistics are used and left alone."""
    make = lambda rng: 2.0 + 3.0 * rng.standard_normal((4, 3, 5, 6))   # noqa: E731 (mean/var far from 0/1)
    layer_parity(nn.BatchNorm2d(3, **kwargs), torch.nn.BatchNorm2d(3, **kwargs), make, eval_after=True)


@needs_torch
@pytest.mark.parametrize("kwargs", BN_CASES, ids=BN_IDS)
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5)], ids=["NC", "NCL"])
def test_batch_norm1d_matches_torch_in_training_and_eval(kwargs, shape):
    make = lambda rng: -1.0 + 2.0 * rng.standard_normal(shape)   # noqa: E731
    layer_parity(nn.BatchNorm1d(4, **kwargs), torch.nn.BatchNorm1d(4, **kwargs), make, eval_after=True)


def test_batch_norm_counts_batches_and_cumulative_average_is_the_plain_mean():
    """momentum=None: after k batches running_mean is the mean of the k batch means."""
    bn = nn.BatchNorm1d(2, momentum=None).double()
    rng = np.random.default_rng(5)
    means = []
    for k in range(1, 6):
        x = rng.standard_normal((8, 2)) + k
        means.append(x.mean(axis=0))
        bn(mt.tensor(x))
        assert bn.num_batches_tracked.item() == k
        assert bn.num_batches_tracked.dtype == np.int64
    np.testing.assert_allclose(th.to_np(bn.running_mean), np.mean(means, axis=0), rtol=1e-12)
    bn.eval()
    bn(mt.tensor(rng.standard_normal((8, 2))))
    assert bn.num_batches_tracked.item() == 5          # eval does not count


# ---- dropout --------------------------------------------------------------------------------
def test_dropout_eval_is_identity_with_identity_gradient():
    layer = nn.Dropout(0.5).eval()
    x = mt.tensor(np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True)
    y = layer(x)
    np.testing.assert_array_equal(th.to_np(y), th.to_np(x))
    y.sum().backward()
    np.testing.assert_array_equal(th.to_np(x.grad), np.ones((4, 5)))


@needs_torch
@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_training_drops_a_fraction_p_and_scales_the_rest(p):
    """Masks come from different generators than torch's, so the check is statistical:
    the zero fraction of n = 200,000 values is p within 6σ, σ = √(p(1−p)/n) ≤ 0.0012;
    kept values are x/(1−p) (float32: x · (1/(1−p)) rounds once, rtol 1e-6);
    the gradient is the same mask."""
    mt.manual_seed(0)
    x = mt.tensor(np.random.default_rng(1).uniform(1, 2, (400, 500)).astype(np.float32), requires_grad=True)
    y = nn.Dropout(p)(x)
    out, xs = th.to_np(y), th.to_np(x)
    dropped = out == 0
    assert abs(dropped.mean() - p) < 6 * math.sqrt(p * (1 - p) / out.size)
    np.testing.assert_allclose(out[~dropped], xs[~dropped] / (1 - p), rtol=1e-6)
    y.backward(mt.ones(400, 500))
    grad = th.to_np(x.grad)
    np.testing.assert_array_equal(grad == 0, dropped)
    np.testing.assert_allclose(grad[~dropped], 1 / (1 - p), rtol=1e-6)
    # torch's dropout has the same law (fraction p zeroed, the rest times 1/(1−p))
    torch.manual_seed(0)
    yt = torch.nn.Dropout(p)(torch.tensor(xs)).numpy()
    assert abs((yt == 0).mean() - p) < 6 * math.sqrt(p * (1 - p) / out.size)
    np.testing.assert_allclose(yt[yt != 0], xs[yt != 0] / (1 - p), rtol=1e-6)


def test_dropout_extremes_and_bad_p():
    x = mt.tensor(np.random.default_rng(2).standard_normal((3, 4)))
    np.testing.assert_array_equal(th.to_np(nn.Dropout(0.0)(x)), th.to_np(x))
    np.testing.assert_array_equal(th.to_np(nn.Dropout(1.0)(x)), np.zeros((3, 4)))
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="Dropout"):
            nn.Dropout(p)


# ---- activations, Flatten, Identity, Sequential -----------------------------------------------
@needs_torch
@pytest.mark.parametrize("name", ["ReLU", "Tanh", "Sigmoid", "Identity"])
def test_activations_match_torch(name):
    layer_parity(getattr(nn, name)(), getattr(torch.nn, name)(), normal(3, 4, 5))


@needs_torch
@pytest.mark.parametrize("dims", [(), (1, -1), (0, -1), (2, 3), (1, 2)])
def test_flatten_matches_torch(dims):
    layer_parity(nn.Flatten(*dims), torch.nn.Flatten(*dims), normal(2, 3, 4, 5), steps=2)


def test_identity_returns_its_input():
    x = mt.zeros(2, 3)
    assert nn.Identity()(x) is x


def _small_net(lib):
    return lib.Sequential(lib.Conv2d(2, 4, 3, padding=1), lib.BatchNorm2d(4), lib.ReLU(), lib.MaxPool2d(2),
                          lib.Conv2d(4, 4, 2, groups=2, bias=False), lib.Tanh(), lib.AvgPool2d(2),
                          lib.Flatten(), lib.Linear(4, 6), lib.BatchNorm1d(6), lib.Sigmoid(), lib.Identity(),
                          lib.Linear(6, 3))


@needs_torch
def test_sequential_matches_torch():
    layer_parity(_small_net(nn), _small_net(torch.nn), normal(4, 2, 8, 8), eval_after=True)


@needs_torch
def test_sequential_container_api():
    seq = _small_net(nn)
    ref = _small_net(torch.nn)
    assert len(seq) == len(ref) == 13
    assert [type(m).__name__ for m in seq] == [type(m).__name__ for m in ref]
    assert isinstance(seq[0], nn.Conv2d) and isinstance(seq[-1], nn.Linear)
    head = seq[:4]
    assert isinstance(head, nn.Sequential) and len(head) == 4 and head[0] is seq[0]
    middle, ref_middle = seq[3:9:2], ref[3:9:2]            # a slice keeps the children's names
    assert [n for n, _ in middle.named_children()] == [n for n, _ in ref_middle.named_children()] == ["3", "5", "7"]
    assert list(seq[4:].state_dict()) == list(ref[4:].state_dict())
    assert repr(seq[-3:]) == repr(ref[-3:])
    seq.append(nn.ReLU())
    assert len(seq) == 14 and list(dict(seq.named_children()))[-1] == "13"


# ---- losses -------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_loss_matches_torch(reduction):
    rng = np.random.default_rng(3)
    for step in range(10):
        scale = 1000.0 if step == 9 else 3.0             # the last step: logits far beyond exp's range
        logits = scale * rng.standard_normal((7, 5))
        target = rng.integers(0, 5, 7)
        zm, zt = mt.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
        lm = nn.CrossEntropyLoss(reduction=reduction)(zm, mt.tensor(target))
        lt = torch.nn.CrossEntropyLoss(reduction=reduction)(zt, torch.tensor(target))
        close(lm, lt, f"step {step}: loss")
        cotangent = rng.standard_normal(lt.shape)
        lm.backward(mt.tensor(cotangent))
        lt.backward(torch.tensor(cotangent))
        close(zm.grad, zt.grad, f"step {step}: gradient")


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_torch(reduction):
    rng = np.random.default_rng(4)
    for step in range(10):
        x, y = rng.standard_normal((2, 4, 3))
        xm, ym = mt.tensor(x, requires_grad=True), mt.tensor(y, requires_grad=True)
        xt, yt = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
        lm, lt = nn.MSELoss(reduction=reduction)(xm, ym), torch.nn.MSELoss(reduction=reduction)(xt, yt)
        close(lm, lt, f"step {step}: loss")
        cotangent = rng.standard_normal(lt.shape)
        lm.backward(mt.tensor(cotangent))
        lt.backward(torch.tensor(cotangent))
        close(xm.grad, xt.grad, f"step {step}: gradient of input")
        close(ym.grad, yt.grad, f"step {step}: gradient of target")


@needs_torch
def test_linear_trained_with_cross_entropy_matches_torch():
    """A Linear layer and CrossEntropyLoss, 10 SGD-momentum steps in both engines."""
    rng = np.random.default_rng(6)
    mt_layer = th.copy_weights(torch.nn.Linear(6, 4).double(), nn.Linear(6, 4).double())
    t_layer = th.copy_weights(mt_layer, torch.nn.Linear(6, 4).double())
    mt_opt = mt.optim.SGD(mt_layer.parameters(), lr=0.5, momentum=0.9)
    t_opt = torch.optim.SGD(t_layer.parameters(), lr=0.5, momentum=0.9)
    for step in range(10):
        x, y = rng.standard_normal((8, 6)), rng.integers(0, 4, 8)
        lm = nn.CrossEntropyLoss()(mt_layer(mt.tensor(x)), mt.tensor(y))
        lt = torch.nn.CrossEntropyLoss()(t_layer(torch.tensor(x)), torch.tensor(y))
        close(lm, lt, f"step {step}: loss")
        for opt, loss in ((mt_opt, lm), (t_opt, lt)):
            opt.zero_grad()
            loss.backward()
            opt.step()
        th.assert_state_close(mt_layer, t_layer, **F64, what=f"step {step}")


# ---- state_dict and load_state_dict -----------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("name", list(models.MODELS))
def test_state_dict_keys_order_shapes_and_dtypes_are_torchs(name):
    mine = models.get_model(name).state_dict()
    theirs = th.torch_model(name).state_dict()
    assert list(mine) == list(theirs)
    for key, value in theirs.items():
        assert mine[key].shape == tuple(value.shape), key
        assert mine[key].dtype == th.to_np(value).dtype, key       # float32, num_batches_tracked int64
        assert isinstance(mine[key], mt.Tensor) and not mine[key].requires_grad   # torch's: detached


@needs_torch
@pytest.mark.parametrize("make", [
    lambda lib: lib.Conv2d(2, 4, 3, bias=False), lambda lib: lib.BatchNorm2d(3, affine=False),
    lambda lib: lib.BatchNorm1d(3, track_running_stats=False), lambda lib: lib.Linear(3, 2, bias=False),
    _small_net], ids=["conv-no-bias", "bn-no-affine", "bn-no-stats", "linear-no-bias", "sequential"])
def test_state_dict_keys_of_optional_parts(make):
    mine, theirs = make(nn).state_dict(), make(torch.nn).state_dict()
    assert list(mine) == list(theirs)
    assert [v.shape for v in mine.values()] == [tuple(v.shape) for v in theirs.values()]


def test_state_dict_values_share_memory_with_the_parameters_as_torchs():
    layer = nn.Linear(3, 2)
    state = layer.state_dict()
    state["weight"][...] = 7
    assert np.all(th.to_np(layer.weight) == 7) and state["weight"] is not layer.weight


@needs_torch
@pytest.mark.parametrize("name", list(models.MODELS))
def test_weights_move_both_ways_and_give_the_same_outputs(name):
    """torch -> minitorch with torch tensors; minitorch -> torch with torch.from_numpy."""
    torch.manual_seed(0)
    t_model = th.torch_model(name).double().eval()
    mt_model = th.copy_weights(t_model, models.get_model(name).double().eval())
    th.assert_state_close(mt_model, t_model, rtol=0, atol=0, what="torch -> minitorch")
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28))
    close(mt_model(mt.tensor(x)), t_model(torch.tensor(x)), "outputs")

    mt.manual_seed(1)
    source = models.get_model(name).double()
    target = th.copy_weights(source, th.torch_model(name).double())
    th.assert_state_close(source, target, rtol=0, atol=0, what="minitorch -> torch")


@needs_torch
def test_load_state_dict_takes_numpy_and_torch_and_keeps_the_dtype():
    layer = nn.Conv2d(2, 3, 3)                                         # float32
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)   # float64
    weight_object = layer.weight
    result = layer.load_state_dict({"weight": w, "bias": torch.from_numpy(b)})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert layer.weight is weight_object                                # copied in place
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    np.testing.assert_array_equal(th.to_np(layer.weight), w.astype(np.float32))
    np.testing.assert_array_equal(th.to_np(layer.bias), b.astype(np.float32))
    w[...] = 0                                                          # no aliasing of the source
    assert np.any(th.to_np(layer.weight) != 0)
    # a tensor that requires grad (a torch Parameter) loads too
    layer.load_state_dict(torch.nn.Conv2d(2, 3, 3).state_dict(keep_vars=True))
    # float32 into a float64 model stays float64; integer buffers stay int64
    bn = nn.BatchNorm2d(3).double()
    state = {k: v.numpy().astype(np.float32) if v.dtype.kind == "f" else v.numpy().astype(np.int32)
             for k, v in nn.BatchNorm2d(3).state_dict().items()}
    state["num_batches_tracked"] = np.array(7, dtype=np.int32)
    bn.load_state_dict(state)
    assert bn.running_mean.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64
    assert bn.num_batches_tracked.item() == 7


@needs_torch
def test_load_state_dict_strict_reports_missing_and_unexpected_keys_like_torch():
    state = models.LeNet5().state_dict()
    del state["fc1.bias"], state["conv1.weight"]
    state["fc4.weight"] = np.zeros((2, 2), dtype=np.float32)
    with pytest.raises(RuntimeError, match="Error\\(s\\) in loading state_dict for LeNet5") as info:
        models.LeNet5().load_state_dict(state)
    for key in ("fc1.bias", "conv1.weight", "fc4.weight"):
        assert key in str(info.value)
    t_result = th.torch_model("lenet5").load_state_dict({k: torch.from_numpy(th.to_np(v)) for k, v in state.items()},
                                                        strict=False)
    mt_model = models.LeNet5()
    before = th.to_np(mt_model.conv1.weight)
    result = mt_model.load_state_dict(state, strict=False)
    assert sorted(result.missing_keys) == sorted(t_result.missing_keys) == ["conv1.weight", "fc1.bias"]
    assert result.unexpected_keys == t_result.unexpected_keys == ["fc4.weight"]
    np.testing.assert_array_equal(th.to_np(mt_model.conv1.weight), before)      # missing: left alone
    np.testing.assert_array_equal(th.to_np(mt_model.fc2.weight), state["fc2.weight"])


def test_load_state_dict_shape_mismatch_raises_even_when_not_strict():
    state = nn.Linear(3, 2).state_dict()
    state["weight"] = np.zeros((2, 4), dtype=np.float32)
    for strict in (True, False):
        with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with shape "
                                               r"\(2, 4\) from checkpoint, the shape in current model is \(2, 3\)"):
            nn.Linear(3, 2).load_state_dict(state, strict=strict)


# ---- initialisation ---------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("make, fan_in", [
    (lambda lib: lib.Linear(400, 120), 400), (lambda lib: lib.Conv2d(6, 16, 5), 150),
    (lambda lib: lib.Conv2d(8, 16, 3, groups=4), 18), (lambda lib: lib.Linear(3, 2000), 3)])
def test_default_init_has_torchs_bounds(make, fan_in):
    """kaiming_uniform(a=√5) weights and the bias: U(±1/√fan_in), as torch.  The bound is exact;
    for n ≥ 2,000 values the largest |w| lies within 1% of it (the chance it does not is
    (0.99)^n < 1e-8) and the std is bound/√3 and torch's own, to 3-4% of the bound."""
    mt.manual_seed(0)
    torch.manual_seed(0)
    layer, ref = make(nn), make(torch.nn)
    bound = 1 / math.sqrt(fan_in)
    for name in ("weight", "bias"):
        w, w_t = th.to_np(getattr(layer, name)), th.to_np(getattr(ref, name))
        assert w.dtype == np.float32
        assert np.abs(w).max() <= bound * (1 + 1e-7)
        assert np.abs(w_t).max() <= bound * (1 + 1e-7)
        if w.size >= 2000:
            assert np.abs(w).max() > 0.99 * bound
            assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound
            assert abs(w.std() - w_t.std()) < 0.04 * bound


@needs_torch
def test_batch_norm_init_is_ones_zeros_and_fresh_statistics():
    bn, ref = nn.BatchNorm2d(5), torch.nn.BatchNorm2d(5)
    for key, value in ref.state_dict().items():
        np.testing.assert_array_equal(bn.state_dict()[key], th.to_np(value), err_msg=key)


INIT_CASES = [
    ("uniform_", dict(a=-0.3, b=0.7)), ("normal_", dict(mean=0.5, std=2.0)),
    ("xavier_uniform_", dict()), ("xavier_uniform_", dict(gain=5 / 3)),
    ("xavier_normal_", dict()), ("xavier_normal_", dict(gain=2.0)),
    ("kaiming_uniform_", dict()), ("kaiming_uniform_", dict(a=math.sqrt(5))),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu")),
    ("kaiming_normal_", dict()), ("kaiming_normal_", dict(mode="fan_out", nonlinearity="relu")),
    ("kaiming_normal_", dict(a=0.2, nonlinearity="leaky_relu")),
]


@needs_torch
@pytest.mark.parametrize("name, kwargs", INIT_CASES, ids=[f"{n}{k}" for n, k in INIT_CASES])
@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)], ids=["linear", "conv"])
def test_init_functions_match_torchs_distribution(name, kwargs, shape):
    """Statistics of n ≥ 60,000 samples, against torch's init of the same shape and the formula:
    mean within 6 σ/√n; the standard deviation to 2% (its sampling error is ≈ 0.6%/√(n/10⁴));
    uniform inits stay inside the bound and reach its last 1%."""
    mt.manual_seed(0)
    torch.manual_seed(0)
    w64 = mt.zeros(*shape, dtype=mt.float64)
    out = getattr(init, name)(w64, **kwargs)
    assert out is w64 and w64.dtype == np.float64
    w = th.to_np(w64)
    w_t = getattr(torch.nn.init, name)(torch.zeros(shape, dtype=torch.float64), **kwargs).numpy()
    fan_in, fan_out = init.fan_in_and_fan_out(w64)
    if name == "uniform_":
        lo, hi = kwargs["a"], kwargs["b"]
    elif name == "xavier_uniform_":
        hi = kwargs.get("gain", 1.0) * math.sqrt(6 / (fan_in + fan_out))
        lo = -hi
    elif name == "kaiming_uniform_":
        gain = init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0))
        hi = gain * math.sqrt(3 / (fan_in if kwargs.get("mode", "fan_in") == "fan_in" else fan_out))
        lo = -hi
    if name.endswith("uniform_"):
        mean, std = (lo + hi) / 2, (hi - lo) / math.sqrt(12)
        for sample in (w, w_t):
            assert lo <= sample.min() < lo + 0.01 * (hi - lo)
            assert hi - 0.01 * (hi - lo) < sample.max() <= hi
    elif name == "normal_":
        mean, std = kwargs["mean"], kwargs["std"]
    elif name == "xavier_normal_":
        mean, std = 0.0, kwargs.get("gain", 1.0) * math.sqrt(2 / (fan_in + fan_out))
    else:
        gain = init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0))
        mean, std = 0.0, gain / math.sqrt(fan_in if kwargs.get("mode", "fan_in") == "fan_in" else fan_out)
    for sample, who in ((w, "minitorch"), (w_t, "torch")):
        assert abs(sample.mean() - mean) < 6 * std / math.sqrt(sample.size), who
        assert abs(sample.std() / std - 1) < 0.02, who


def test_constant_inits_and_dtype():
    w = mt.zeros(3, 4, dtype=mt.float64)
    assert init.ones_(w) is w and np.all(th.to_np(w) == 1)
    assert init.zeros_(w) is w and np.all(th.to_np(w) == 0)
    assert init.constant_(w, 0.25) is w and np.all(th.to_np(w) == 0.25) and w.dtype == np.float64


@needs_torch
@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("sigmoid", None),
    ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5))])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


def test_calculate_gain_extras_and_errors():
    """minitorch also names 'identity' (gain 1; torch rejects the name) and has no 'selu'."""
    assert init.calculate_gain("identity") == 1.0
    with pytest.raises(ValueError, match="selu"):
        init.calculate_gain("selu")
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(mt.zeros(3, 3), mode="fan_avg")


@needs_torch
@pytest.mark.parametrize("shape", [(5, 3), (8, 4, 3, 3), (6, 2, 5, 1)])
def test_fan_in_and_fan_out_match_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    assert init.fan_in_and_fan_out(mt.zeros(*shape)) == expected
    with pytest.raises(ValueError):
        init.fan_in_and_fan_out(mt.zeros(5))


# ---- seeding ----------------------------------------------------------------------------------
def test_manual_seed_makes_init_dropout_and_shuffling_reproducible():
    from minitorch_cnn.data import DataLoader, TensorDataset

    def draw(seed):
        mt.manual_seed(seed)
        model = models.DigitCNN()
        mask = th.to_np(nn.Dropout(0.5)(mt.ones(50, 50)))
        loader = DataLoader(TensorDataset(np.arange(40)), batch_size=8, shuffle=True)
        order = np.concatenate([th.to_np(b if isinstance(b, mt.Tensor) else b[0]) for b in loader])
        return model.state_dict(), mask, order

    (s1, m1, o1), (s2, m2, o2), (s3, m3, o3) = draw(7), draw(7), draw(8)
    for key in s1:
        np.testing.assert_array_equal(s1[key], s2[key], err_msg=key)
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(o1, o2)
    assert sorted(o1) == list(range(40)) and list(o1) != list(range(40))
    assert not np.array_equal(s1["conv1.weight"], s3["conv1.weight"])
    assert not np.array_equal(m1, m3) and not np.array_equal(o1, o3)
    assert mt.manual_seed(3) == 3


# ---- the Module API ---------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("name", list(models.MODELS))
def test_module_traversal_matches_torch(name):
    mine, theirs = models.get_model(name), th.torch_model(name)
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [p.shape for p in mine.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in mine.parameters())
    assert [n for n, _ in mine.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in mine.named_children()] == [n for n, _ in theirs.named_children()]
    assert [type(m).__name__ for m in mine.children()] == [type(m).__name__ for m in theirs.children()]
    assert [n for n, _ in mine.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [type(m).__name__ for m in mine.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert sum(p.numel() for p in mine.parameters()) == sum(p.numel() for p in theirs.parameters())


def test_train_and_eval_propagate_to_every_submodule():
    model = models.DeepCNN()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model
    assert all(m.training for m in model.modules())
    model.features.train(False)
    assert model.training and model.classifier[1].training
    assert not any(m.training for m in model.features.modules())


def test_zero_grad_clears_or_zeroes_every_gradient():
    model = models.LeNet5()
    loss = nn.CrossEntropyLoss()(model(mt.randn(2, 1, 28, 28)), mt.tensor(np.array([1, 2])))
    loss.backward()
    assert all(p.grad is not None and np.any(th.to_np(p.grad) != 0) for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not np.any(th.to_np(p.grad)) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_to_dtype_double_float_keep_parameters_and_integer_buffers():
    model = models.DeepCNN()
    params = list(model.parameters())
    opt = mt.optim.SGD(model.parameters(), lr=0.1)
    assert model.double() is model
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model.features[0].bn.running_var.dtype == np.float64
    assert model.features[0].bn.num_batches_tracked.dtype == np.int64
    assert all(a is b for a, b in zip(params, model.parameters()))     # the optimizer still holds them
    x = mt.tensor(np.random.default_rng(0).standard_normal((2, 1, 28, 28)))
    loss = nn.CrossEntropyLoss()(model(x), mt.tensor(np.array([3, 4])))
    assert loss.dtype == np.float64
    loss.backward()
    before = th.to_np(model.classifier[5].bias)
    opt.step()
    assert not np.array_equal(before, th.to_np(model.classifier[5].bias))
    assert model.float() is model and all(p.dtype == np.float32 for p in model.parameters())
    assert all(p.grad is None or p.grad.dtype == np.float32 for p in model.parameters())
    assert model.to(mt.float64) is model
    assert all(p.dtype == np.float64 for p in model.to(np.float64).parameters())
    assert all(p.dtype == np.float32 for p in model.to(dtype=mt.float32).parameters())


def _torch_repr_with_known_differences(text):
    """torch's repr without the fields of options minitorch's layers do not have: Dropout's
    inplace (no in-place ops), and BatchNorm's separate `bias` switch (recent torch only;
    minitorch's affine=True always has a bias, affine=False none)."""
    text = text.replace(", inplace=False)", ")")
    return re.sub(r"(BatchNorm[12]d\(.*), bias=(True|False)", r"\1", text)


@needs_torch
def test_repr_of_lenet5_is_torchs():
    assert repr(models.LeNet5()).splitlines() == repr(th.torch_model("lenet5")).splitlines()


@needs_torch
@pytest.mark.parametrize("name", ["simplecnn", "digitcnn", "deepcnn"])
def test_repr_matches_torch_up_to_stated_differences(name):
    assert repr(models.get_model(name)).splitlines() == \
        _torch_repr_with_known_differences(repr(th.torch_model(name))).splitlines()


@needs_torch
@pytest.mark.parametrize("make", [
    lambda lib: lib.Conv2d(4, 8, 3, stride=2, padding=1, dilation=2, groups=2, bias=False),
    lambda lib: lib.BatchNorm1d(3, momentum=None, affine=False), lambda lib: lib.Flatten(0, 2),
    lambda lib: lib.AvgPool2d(3, 1, 1), lambda lib: lib.Linear(2, 3, bias=False), lambda lib: lib.Tanh(),
    lambda lib: lib.Sigmoid(), lambda lib: lib.CrossEntropyLoss(), lambda lib: lib.MSELoss()])
def test_layer_reprs_match_torch(make):
    assert repr(make(nn)) == _torch_repr_with_known_differences(repr(make(torch.nn)))


def test_parameter_and_module_registration():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(np.ones(3, dtype=np.float32))
            self.body = nn.Linear(3, 3)
            self.register_buffer("count", np.zeros((), dtype=np.int64))
            self.note = "plain attribute"

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["scale", "body.weight", "body.bias"]
    assert list(net.state_dict()) == ["scale", "count", "body.weight", "body.bias"]
    net.body = nn.Identity()
    assert [n for n, _ in net.named_parameters()] == ["scale"]
    del net.scale
    assert list(net.parameters()) == [] and net.note == "plain attribute"
    with pytest.raises(AttributeError):
        net.missing


@needs_torch
def test_assigning_to_a_parameter_or_buffer_name_behaves_like_torch():
    """A Tensor assigned to a buffer's name replaces the buffer (it stays in state_dict); a plain
    Tensor or an array assigned to a parameter's name is refused instead of silently
    un-registering the parameter."""
    for lib, tensor in ((nn, mt.ones), (torch.nn, torch.ones)):
        bn = lib.BatchNorm1d(3)
        bn.running_mean = tensor(3)
        assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
        assert np.all(th.to_np(bn.state_dict()["running_mean"]) == 1)
        with pytest.raises(TypeError, match="weight"):
            bn.weight = tensor(3)
        with pytest.raises(TypeError, match="running_var"):
            bn.running_var = np.ones(3)
        bn.weight = lib.Parameter(tensor(3) * 2)                      # a Parameter replaces it
        assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
        bn.running_mean = None                                         # stays registered, as None
        assert "running_mean" not in bn.state_dict() and "running_mean" in dict(bn._buffers)
    # replacing a layer keeps its place: parameters, state_dict and repr stay in torch's order
    mine, theirs = models.LeNet5(), th.torch_model("lenet5")
    mine.conv1, theirs.conv1 = nn.Conv2d(1, 6, 3, padding=1), torch.nn.Conv2d(1, 6, 3, padding=1)
    mine.fc1.bias, theirs.fc1.bias = nn.Parameter(np.zeros(120, np.float32)), torch.nn.Parameter(torch.zeros(120))
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert repr(mine) == repr(theirs)
    with pytest.raises(TypeError, match="module 'pool1'"):
        mine.pool1 = "not a module"


@needs_torch
def test_shared_modules_are_traversed_once_but_saved_under_every_name_like_torch():
    """Tied weights: parameters() lists a shared Parameter once (an optimizer must step it once),
    state_dict lists it under each name, and both load back."""
    lin, t_lin = nn.Linear(3, 3), torch.nn.Linear(3, 3)
    seq, ref = nn.Sequential(lin, nn.Tanh(), lin), torch.nn.Sequential(t_lin, torch.nn.Tanh(), t_lin)
    assert [n for n, _ in seq.named_parameters()] == [n for n, _ in ref.named_parameters()] == ["0.weight", "0.bias"]
    assert [n for n, _ in seq.named_modules()] == [n for n, _ in ref.named_modules()]
    assert list(seq.state_dict()) == list(ref.state_dict())
    seq.load_state_dict(ref.state_dict())
    layer_parity(seq, ref, normal(4, 3))
