"""The four models against their PyTorch twins (tests/torch_models.py): whole training runs.

Trajectory parity (float64): both start from PyTorch's initial weights and take
20 steps on the same fixed batches, dropout p = 0 and BatchNorm in training
mode.  The loss must match PyTorch's at every step to 1e-9 relative; the final
weights and BatchNorm running statistics to 1e-6.  In float64 the engines differ
only by summation order (~1e-16 per op); 20 steps amplify that by orders of
magnitude, still far below those tolerances.
"""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import models

import _torch_helpers as th
from _torch_helpers import torch_single_thread  # noqa: F401 (an autouse fixture)

torch = pytest.importorskip("torch", reason="needs torch: the four models are trained beside their PyTorch twins")
from torch_models import TORCH_MODELS  # noqa: E402  (needs torch)

STEPS, BATCH, NUM_BATCHES = 20, 8, 5
OPTIMIZERS = {
    "sgd-momentum": (lambda p: mt.optim.SGD(p, lr=0.05, momentum=0.9),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    "adam": (lambda p: mt.optim.Adam(p, lr=1e-3), lambda p: torch.optim.Adam(p, lr=1e-3)),
}


def fixed_batches(seed=0, dtype=np.float64):
    """NUM_BATCHES batches of BATCH random 28×28 'images' and labels, reused in turn."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((BATCH, 1, 28, 28)).astype(dtype), rng.integers(0, 10, BATCH))
            for _ in range(NUM_BATCHES)]


def twin_models(name, dtype, dropout=0.0, seed=0):
    """(minitorch model, torch model) with torch's initial weights in both."""
    torch.manual_seed(seed)
    t_model = TORCH_MODELS[name]().to(getattr(torch, np.dtype(dtype).name))
    mt_model = models.get_model(name).to(dtype)
    th.copy_weights(t_model, mt_model)
    th.set_dropout(t_model, dropout)
    th.set_dropout(mt_model, dropout)
    return mt_model.train(), t_model.train()


@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
@pytest.mark.parametrize("name", list(TORCH_MODELS))
def test_float64_training_trajectory_matches_torch(name, opt_name):
    mt_model, t_model = twin_models(name, np.float64)
    make_mt, make_t = OPTIMIZERS[opt_name]
    mt_opt, t_opt = make_mt(mt_model.parameters()), make_t(t_model.parameters())
    batches = fixed_batches()
    mt_losses, t_losses = [], []
    for step in range(STEPS):
        x, y = batches[step % NUM_BATCHES]
        mt_opt.zero_grad()
        loss = mt.nn.CrossEntropyLoss()(mt_model(mt.tensor(x)), mt.tensor(y))
        loss.backward()
        mt_opt.step()
        t_opt.zero_grad()
        t_loss = torch.nn.CrossEntropyLoss()(t_model(torch.tensor(x)), torch.tensor(y))
        t_loss.backward()
        t_opt.step()
        assert loss.dtype == np.float64
        mt_losses.append(loss.item())
        t_losses.append(t_loss.item())
    np.testing.assert_allclose(mt_losses, t_losses, rtol=1e-9, atol=0, err_msg="loss per step")
    assert t_losses[-1] < t_losses[0]           # the runs did learn (the comparison is not vacuous)
    th.assert_state_close(mt_model, t_model, rtol=1e-6, atol=1e-9, what="final weights and running stats")
    # and the trained models agree in eval mode (BatchNorm on its running statistics)
    x = fixed_batches(seed=1)[0][0]
    with mt.no_grad(), torch.no_grad():
        np.testing.assert_allclose(th.to_np(mt_model.eval()(mt.tensor(x))), t_model.eval()(torch.tensor(x)).numpy(),
                                   rtol=1e-6, atol=1e-8, err_msg="eval outputs after training")


@pytest.mark.parametrize("name", list(TORCH_MODELS))
def test_float32_single_step_matches_torch(name):
    """Float32 trajectories are chaotic: compare float32 per step, not per trajectory.

    One step from identical float32 weights and inputs.  Each engine accumulates its float32 sums
    (im2col/GEMM vs. torch's kernels) in a different order: the rounding error of a sum of n terms
    is ~√n·2⁻²⁴ relative to the terms' magnitude, ≲ 1e-5 for the largest sums here (n ≈ 2,300).
    So: the loss to 1e-5 relative, each gradient normwise to 1e-4 of its largest element (element
    values near 0 after cancellation can have large relative but tiny absolute errors), and the
    parameters after one SGD step to 1e-6 relative.  DeepCNN's conv biases feed a BatchNorm, which
    subtracts their per-channel mean again: their exact gradient is 0 and both engines return
    rounding noise, so those are checked to be noise-sized next to the conv weight's gradient.
    """
    mt_model, t_model = twin_models(name, np.float32, dropout=0.0)
    x, y = fixed_batches(dtype=np.float32)[0]
    loss = mt.nn.CrossEntropyLoss()(mt_model(mt.tensor(x)), mt.tensor(y))
    t_loss = torch.nn.CrossEntropyLoss()(t_model(torch.tensor(x)), torch.tensor(y))
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-5)
    loss.backward()
    t_loss.backward()
    grads = {key: (th.to_np(p.grad), th.to_np(pt.grad))
             for (key, p), pt in zip(mt_model.named_parameters(), t_model.parameters())}
    for key, (g, gt) in grads.items():
        assert g.dtype == np.float32, key
        if name == "deepcnn" and key.endswith("conv.bias"):
            weight_scale = np.abs(grads[key.replace("bias", "weight")][1]).max()
            assert np.abs(g).max() < 1e-4 * weight_scale and np.abs(gt).max() < 1e-4 * weight_scale, key
            continue
        np.testing.assert_allclose(g, gt, rtol=1e-4, atol=1e-4 * np.abs(gt).max(), err_msg=f"gradient of {key}")
    mt.optim.SGD(mt_model.parameters(), lr=0.01).step()
    torch.optim.SGD(t_model.parameters(), lr=0.01).step()
    th.assert_state_close(mt_model, t_model, rtol=1e-6, atol=1e-6, what="after one float32 step")


@pytest.mark.parametrize("name", list(TORCH_MODELS))
def test_forward_with_dropout_in_eval_mode_matches_torch(name):
    """The default dropout rates; eval mode makes dropout the identity in both engines."""
    torch.manual_seed(3)
    t_model = TORCH_MODELS[name]().double().eval()
    mt_model = th.copy_weights(t_model, models.get_model(name).double().eval())
    x = fixed_batches(seed=2)[0][0][:4]
    with mt.no_grad(), torch.no_grad():
        out = mt_model(mt.tensor(x))
        np.testing.assert_allclose(th.to_np(out), t_model(torch.tensor(x)).numpy(), rtol=1e-10, atol=1e-12)
    assert out.shape == (4, 10)


def test_parameter_counts():
    counts = {name: sum(p.numel() for p in models.get_model(name).parameters()) for name in TORCH_MODELS}
    assert counts == {name: sum(p.numel() for p in cls().parameters()) for name, cls in TORCH_MODELS.items()}
    assert counts["digitcnn"] == 206_922
