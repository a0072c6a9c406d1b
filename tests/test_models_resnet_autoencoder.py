"""The small ResNet and the convolutional autoencoder (minitorch_cnn/models/resnet.py, autoencoder.py).

Torch-free: shapes for 28×28 and 32×32 inputs, the residual fan-out's gradient (the two branches'
gradients add), finite-difference checks of every parameter and the input in float64.

Against the PyTorch twins (tests/torch_models.py, MORE_TORCH_MODELS): state_dict keys, shapes and
dtypes, weights both ways with equal outputs (float64 to 1e-10), and float64 training trajectories
as tests/test_models_parity.py holds the four classic models: 20 steps from torch's initial weights on
fixed batches, the loss per step to 1e-9 relative, the final weights and running statistics to 1e-6.
The ResNet trains on cross-entropy; the autoencoder on MSE against its input, and on BCE with logits
against inputs in [0, 1].  Float32: one step, the loss to 1e-5 relative, gradients normwise to 1e-4.
"""
import re

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import models
from minitorch_cnn.nn import functional as F

import _torch_helpers as th
from _optional import needs_torch, torch
from _torch_helpers import torch_single_thread  # noqa: F401 (an autouse fixture)

STEPS, BATCH, NUM_BATCHES = 20, 8, 5
TINY_RESNET = dict(channels=(2, 3), blocks_per_stage=1)        # for the finite-difference checks


# ---- shapes and registration (torch-free) -------------------------------------------------------
def test_both_models_are_registered_by_their_cli_names():
    assert models.MODELS["resnet"] is models.ResNet
    assert models.MODELS["autoencoder"] is models.ConvAutoencoder
    assert isinstance(models.get_model("ResNet", num_classes=3), models.ResNet)
    assert models.get_model("autoencoder", num_classes=10, in_channels=3).loss == "mse"


@pytest.mark.parametrize("size", [28, 32])
@pytest.mark.parametrize("in_channels", [1, 3])
def test_resnet_takes_28_and_32_pixel_images(size, in_channels):
    model = models.ResNet(num_classes=7, in_channels=in_channels).eval()
    with mt.no_grad():
        out = model(mt.randn(2, in_channels, size, size))
    assert out.shape == (2, 7) and out.dtype == np.float32
    assert sum(p.numel() for p in models.ResNet().parameters()) == 77_754


def test_resnet_blocks_project_where_the_shape_changes():
    model = models.ResNet(channels=(4, 8, 8), blocks_per_stage=2)
    assert isinstance(model.layer1[0].shortcut, mt.nn.Identity)      # 4 → 4, stride 1
    assert isinstance(model.layer2[0].shortcut, mt.nn.Sequential)    # 4 → 8, stride 2
    assert isinstance(model.layer3[0].shortcut, mt.nn.Sequential)    # 8 → 8 but stride 2
    assert isinstance(model.layer2[1].shortcut, mt.nn.Identity)
    assert model.layer2[0].shortcut[0].kernel_size == (1, 1) and model.layer2[0].shortcut[0].stride == (2, 2)


@pytest.mark.parametrize("size", [28, 32])
@pytest.mark.parametrize("in_channels", [1, 3])
def test_autoencoder_gives_logits_of_the_inputs_shape(size, in_channels):
    model = models.ConvAutoencoder(in_channels=in_channels).eval()
    x = mt.randn(2, in_channels, size, size)
    with mt.no_grad():
        out = model(x)
    assert out.shape == x.shape and out.dtype == np.float32
    assert model.encoder(x).shape == (2, 32, size // 4, size // 4)


def test_autoencoder_losses():
    x = mt.tensor(np.random.default_rng(0).random((2, 1, 8, 8)))
    out = mt.tensor(np.random.default_rng(1).standard_normal((2, 1, 8, 8)))
    mse, bce = models.ConvAutoencoder(loss="mse"), models.ConvAutoencoder(loss="bce")
    assert mse.reconstruction_loss(out, x).item() == pytest.approx(F.mse_loss(out, x).item(), rel=1e-15)
    assert mse.reconstruction(out) is out
    p = 1 / (1 + np.exp(-out.numpy()))
    expected = -np.mean(x.numpy() * np.log(p) + (1 - x.numpy()) * np.log(1 - p))
    assert bce.reconstruction_loss(out, x).item() == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(bce.reconstruction(out).numpy(), p, rtol=1e-14)
    with pytest.raises(ValueError, match=r"ConvAutoencoder: loss must be one of bce, mse, got 'l1'"):
        models.ConvAutoencoder(loss="l1")


def test_a_seed_gives_the_same_initial_weights():
    for name in ("resnet", "autoencoder"):
        mt.manual_seed(5)
        a = models.get_model(name).state_dict()
        mt.manual_seed(5)
        b = models.get_model(name).state_dict()
        assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a), name


# ---- gradients (torch-free) --------------------------------------------------------------------
def test_the_residual_fan_out_adds_the_two_branches_gradients(rng):
    """x feeds the convolution branch and the shortcut: x.grad = (branch's) + (shortcut's)."""
    block = models.BasicBlock(3, 4, stride=2).double()
    x = mt.tensor(rng.standard_normal((2, 3, 6, 6)), requires_grad=True)
    g = mt.tensor(rng.standard_normal((2, 4, 3, 3)))
    out = block(x)
    out.backward(g)
    mask = mt.tensor((out.detach().numpy() > 0).astype(np.float64))      # the final ReLU's gate
    grads = []
    for branch in (lambda v: block.bn2(block.conv2(F.relu(block.bn1(block.conv1(v))))), block.shortcut):
        v = mt.tensor(x.detach().numpy(), requires_grad=True)
        branch(v).backward(g * mask)
        grads.append(v.grad.numpy())
    assert np.abs(grads[0]).max() > 1e-3 and np.abs(grads[1]).max() > 1e-3      # both branches count
    np.testing.assert_allclose(x.grad.numpy(), grads[0] + grads[1], rtol=1e-12, atol=1e-14)


def _finite_difference_check(model, x, loss_of, rng, per_parameter=4, eps=1e-6):
    """Central differences of loss_of(model(x)) for `per_parameter` entries of every parameter."""
    model.zero_grad()
    loss_of(model(x)).backward()
    for name, p in model.named_parameters():
        flat = p.array.reshape(-1)
        for i in rng.choice(flat.size, min(per_parameter, flat.size), replace=False):
            saved = flat[i]
            with mt.no_grad():
                flat[i] = saved + eps
                up = loss_of(model(x)).item()
                flat[i] = saved - eps
                down = loss_of(model(x)).item()
            flat[i] = saved
            numeric, analytic = (up - down) / (2 * eps), p.grad.numpy().reshape(-1)[i]
            assert abs(numeric - analytic) <= 1e-6 + 1e-4 * abs(numeric), (name, i, numeric, analytic)


def test_resnet_gradients_by_finite_differences(rng, grad_check):
    model = models.ResNet(num_classes=3, in_channels=2, **TINY_RESNET).double().train()
    x = rng.standard_normal((3, 2, 6, 6))
    y = mt.tensor(np.array([0, 2, 1]))
    _finite_difference_check(model, mt.tensor(x), lambda out: F.cross_entropy(out, y), rng)
    grad_check(lambda F_, v: model(v), x)


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_autoencoder_gradients_by_finite_differences(loss, rng, grad_check):
    model = models.ConvAutoencoder(in_channels=2, channels=(2, 3), loss=loss).double()
    x = rng.random((2, 2, 8, 8))
    target = mt.tensor(x)
    _finite_difference_check(model, mt.tensor(x), lambda out: model.reconstruction_loss(out, target), rng)
    grad_check(lambda F_, v: model(v), x)


# ---- against the PyTorch twins ------------------------------------------------------------------
def _twins(name, dtype=np.float64, seed=0, **kwargs):
    """(minitorch model, torch model) with torch's initial weights in both."""
    torch.manual_seed(seed)
    t_model = th.torch_model(name) if not kwargs else _torch_class(name)(**kwargs)
    t_model = t_model.to(getattr(torch, np.dtype(dtype).name))
    mt_model = models.get_model(name, **kwargs).to(dtype)
    th.copy_weights(t_model, mt_model)
    return mt_model.train(), t_model.train()


def _torch_class(name):
    import torch_models
    return torch_models.MORE_TORCH_MODELS[name]


def _batches(name, size=28, in_channels=1, seed=0, dtype=np.float64):
    """NUM_BATCHES fixed batches: images (in [0, 1] for the autoencoder) and labels."""
    rng = np.random.default_rng(seed)
    shape = (BATCH, in_channels, size, size)
    return [((rng.random(shape) if name == "autoencoder" else rng.standard_normal(shape)).astype(dtype),
             rng.integers(0, 10, BATCH)) for _ in range(NUM_BATCHES)]


def _loss(lib, model, out, x, y):
    if type(model).__name__ == "ConvAutoencoder":
        return model.reconstruction_loss(out, x)
    return lib.nn.functional.cross_entropy(out, y)


@needs_torch
@pytest.mark.parametrize("name", ["resnet", "autoencoder"])
def test_state_dict_names_shapes_and_dtypes_are_torchs(name):
    mine, theirs = models.get_model(name).state_dict(), th.torch_model(name).state_dict()
    assert list(mine) == list(theirs)
    for key, value in theirs.items():
        assert mine[key].shape == tuple(value.shape) and mine[key].dtype == th.to_np(value).dtype, key
    assert [n for n, _ in models.get_model(name).named_modules()] == \
        [n for n, _ in th.torch_model(name).named_modules()]


def _torch_repr(text):
    """torch's repr without BatchNorm's separate `bias` switch (recent torch only)."""
    return re.sub(r"(BatchNorm[12]d\(.*), bias=(True|False)", r"\1", text)


@needs_torch
@pytest.mark.parametrize("name", ["resnet", "autoencoder"])
def test_repr_is_torchs(name):
    assert repr(models.get_model(name)).splitlines() == _torch_repr(repr(th.torch_model(name))).splitlines()


@needs_torch
@pytest.mark.parametrize("name, kwargs, size", [
    ("resnet", {}, 28), ("resnet", dict(in_channels=3, num_classes=5), 32),
    ("resnet", dict(channels=(4, 6, 8, 8), blocks_per_stage=2), 32),
    ("autoencoder", {}, 28), ("autoencoder", dict(in_channels=3, channels=(5, 7)), 32),
    ("resnet", {}, 30), ("autoencoder", {}, 30)])
def test_weights_move_both_ways_and_outputs_match(name, kwargs, size):
    """Any size works as in torch: 30×30 comes out of the autoencoder as 32×32 in both engines."""
    mt_model, t_model = _twins(name, **kwargs)
    th.assert_state_close(mt_model, t_model, rtol=0, atol=0, what="torch -> minitorch")
    in_channels = kwargs.get("in_channels", 1)
    x = np.random.default_rng(0).standard_normal((3, in_channels, size, size))
    for mode in ("train", "eval"):
        getattr(mt_model, mode)(), getattr(t_model, mode)()
        assert mt_model(mt.tensor(x)).shape == tuple(t_model(torch.tensor(x)).shape)
        np.testing.assert_allclose(th.to_np(mt_model(mt.tensor(x))), th.to_np(t_model(torch.tensor(x))),
                                   rtol=1e-10, atol=1e-12, err_msg=mode)
    mt.manual_seed(1)
    source = models.get_model(name, **kwargs).double()
    target = th.copy_weights(source, _torch_class(name)(**kwargs).double())
    th.assert_state_close(source, target, rtol=0, atol=0, what="minitorch -> torch")


OPTIMIZERS = {
    "sgd-momentum": (lambda p: mt.optim.SGD(p, lr=0.05, momentum=0.9),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    "adam": (lambda p: mt.optim.Adam(p, lr=1e-3), lambda p: torch.optim.Adam(p, lr=1e-3)),
}


@needs_torch
@pytest.mark.parametrize("name, kwargs, opt_name", [
    ("resnet", {}, "sgd-momentum"), ("resnet", {}, "adam"),
    ("autoencoder", dict(loss="mse"), "sgd-momentum"), ("autoencoder", dict(loss="bce"), "adam")])
def test_float64_training_trajectory_matches_torch(name, kwargs, opt_name):
    mt_model, t_model = _twins(name, **kwargs)
    make_mt, make_t = OPTIMIZERS[opt_name]
    mt_opt, t_opt = make_mt(mt_model.parameters()), make_t(t_model.parameters())
    batches = _batches(name)
    mt_losses, t_losses = [], []
    for step in range(STEPS):
        x, y = batches[step % NUM_BATCHES]
        mt_opt.zero_grad()
        loss = _loss(mt, mt_model, mt_model(mt.tensor(x)), mt.tensor(x), mt.tensor(y))
        loss.backward()
        mt_opt.step()
        t_opt.zero_grad()
        t_loss = _loss(torch, t_model, t_model(torch.tensor(x)), torch.tensor(x), torch.tensor(y))
        t_loss.backward()
        t_opt.step()
        assert loss.dtype == np.float64
        mt_losses.append(loss.item())
        t_losses.append(t_loss.item())
    np.testing.assert_allclose(mt_losses, t_losses, rtol=1e-9, atol=0, err_msg="loss per step")
    assert t_losses[-1] < t_losses[0]            # the runs did learn: the comparison is not vacuous
    th.assert_state_close(mt_model, t_model, rtol=1e-6, atol=1e-9, what="final weights and running stats")
    x = _batches(name, seed=1)[0][0]
    with mt.no_grad(), torch.no_grad():
        np.testing.assert_allclose(th.to_np(mt_model.eval()(mt.tensor(x))), t_model.eval()(torch.tensor(x)).numpy(),
                                   rtol=1e-6, atol=1e-8, err_msg="eval outputs after training")


@needs_torch
@pytest.mark.parametrize("name", ["resnet", "autoencoder"])
def test_float32_single_step_matches_torch(name):
    """Float32 sums run in another order in each engine: the loss to 1e-5 relative, each gradient
    normwise to 1e-4 of its largest element, the parameters after one SGD step to 1e-6."""
    mt_model, t_model = _twins(name, np.float32)
    x, y = _batches(name, dtype=np.float32)[0]
    loss = _loss(mt, mt_model, mt_model(mt.tensor(x)), mt.tensor(x), mt.tensor(y))
    t_loss = _loss(torch, t_model, t_model(torch.tensor(x)), torch.tensor(x), torch.tensor(y))
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-5)
    loss.backward()
    t_loss.backward()
    for (key, p), pt in zip(mt_model.named_parameters(), t_model.parameters()):
        g, gt = th.to_np(p.grad), th.to_np(pt.grad)
        assert g.dtype == np.float32, key
        np.testing.assert_allclose(g, gt, rtol=1e-4, atol=1e-4 * np.abs(gt).max(), err_msg=f"gradient of {key}")
    mt.optim.SGD(mt_model.parameters(), lr=0.01).step()
    torch.optim.SGD(t_model.parameters(), lr=0.01).step()
    th.assert_state_close(mt_model, t_model, rtol=1e-6, atol=1e-6, what="after one float32 step")


@needs_torch
@pytest.mark.parametrize("name", ["resnet", "autoencoder"])
@pytest.mark.parametrize("training", [False, True])
def test_an_empty_batch_as_torch(name, training):
    mt_model, t_model = _twins(name)
    mt_model.train(training), t_model.train(training)
    expected = t_model(torch.zeros(0, 1, 28, 28, dtype=torch.float64))
    x = mt.tensor(np.zeros((0, 1, 28, 28)), requires_grad=True)
    out = mt_model(x)
    assert out.shape == tuple(expected.shape) and out.dtype == np.float64
    out.sum().backward()
    assert x.grad.shape == (0, 1, 28, 28)


@needs_torch
def test_unbatched_and_wrong_inputs_as_torch():
    """The autoencoder takes an unbatched (C, H, W) image as torch's does (its layers all do); the
    ResNet refuses one at its first BatchNorm2d, as torch's; a wrong channel count is refused by
    the first convolution, naming it (the engine's Conv2d raises ValueError where torch raises
    RuntimeError, as everywhere in the engine)."""
    mt_model, t_model = _twins("autoencoder")
    x = np.random.default_rng(0).standard_normal((1, 28, 28))
    np.testing.assert_allclose(th.to_np(mt_model(mt.tensor(x))), th.to_np(t_model(torch.tensor(x))),
                               rtol=1e-10, atol=1e-12)
    mt_model, t_model = _twins("resnet")
    with pytest.raises(ValueError, match="4D"):
        t_model(torch.tensor(x))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(16\): expected a 4-D input"):
        mt_model(mt.tensor(x))
    for name in ("resnet", "autoencoder"):
        with pytest.raises(ValueError, match=r"Conv2d\(1→16\): expected input \(N, 1, H, W\), got \(2, 3, 28, 28\)"):
            models.get_model(name)(mt.zeros(2, 3, 28, 28))
