"""Optimizers and learning-rate schedules against torch.optim.

The optimizers are compared on their own arithmetic: both engines hold the same
float64 parameters, and at every step both receive the same gradients, computed
(by NumPy, outside either engine) from the current parameters, so a wrong update
at step k changes every later gradient too.  Tolerance: 1e-12 relative -- the
update formulas are the same, evaluated in the same order, in float64; what is
left is at most an ulp or two where an expression is associated differently.
"""
import copy
import json
import math

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import optim
from minitorch_cnn.optim import lr_scheduler

import _torch_helpers as th
from _torch_helpers import torch_single_thread  # noqa: F401 (an autouse fixture)

torch = pytest.importorskip("torch", reason="needs torch: the optimizers and schedules are held to torch.optim")

RTOL = 1e-12
SHAPES = [(4, 3), (5,), (2, 3, 2, 2), ()]          # () : a 0-d parameter (a learnable scalar)


def gradient(step, index, values):
    """A gradient that depends on the parameters (and differs per step and parameter)."""
    noise = np.random.default_rng(100 * step + index).standard_normal(values.shape)
    return np.sin(3 * values) + 0.5 * values ** 3 + noise


def make_params(seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in SHAPES]
    return ([mt.nn.Parameter(a.copy()) for a in arrays],
            [torch.nn.Parameter(torch.tensor(a)) for a in arrays])


def set_gradients(step, mt_params, t_params, skip=()):
    for i, (pm, pt) in enumerate(zip(mt_params, t_params)):
        if i in skip:              # a parameter without a gradient this step is left alone
            pm.grad, pt.grad = None, None
            continue
        g = gradient(step, i, th.to_np(pt))
        pm.grad, pt.grad = mt.tensor(g), torch.tensor(g)


def assert_params_close(mt_params, t_params, what):
    for i, (pm, pt) in enumerate(zip(mt_params, t_params)):
        assert pm.dtype == np.float64
        np.testing.assert_allclose(th.to_np(pm), th.to_np(pt), rtol=RTOL, atol=1e-14,
                                   err_msg=f"{what}: parameter {i}")


def run_both(mt_cls, t_cls, kwargs, steps=10, groups=False):
    mt_params, t_params = make_params()
    if groups:   # two parameter groups, the second with its own lr
        mt_opt = mt_cls([{"params": mt_params[:2]}, {"params": mt_params[2:], "lr": 0.02}], **kwargs)
        t_opt = t_cls([{"params": t_params[:2]}, {"params": t_params[2:], "lr": 0.02}], **kwargs)
    else:
        mt_opt, t_opt = mt_cls(mt_params, **kwargs), t_cls(t_params, **kwargs)
    for step in range(steps):
        set_gradients(step, mt_params, t_params, skip=(1,) if step in (3, 4) else ())
        mt_opt.step()
        t_opt.step()
        assert_params_close(mt_params, t_params, f"step {step}")
    return mt_opt, t_opt, mt_params, t_params


SGD_CASES = [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.05, momentum=0.9, dampening=0.3),
             dict(lr=0.05, momentum=0.8, nesterov=True), dict(lr=0.1, weight_decay=0.01),
             dict(lr=0.05, momentum=0.9, weight_decay=1e-2, nesterov=True),
             dict(lr=0.05, momentum=0.5, dampening=0.5, weight_decay=0.1)]


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_sgd_matches_torch(kwargs):
    run_both(optim.SGD, torch.optim.SGD, kwargs)


ADAM_CASES = [dict(), dict(lr=0.01), dict(lr=0.01, weight_decay=0.1), dict(lr=0.005, betas=(0.8, 0.99), eps=1e-6),
              dict(lr=0.01, betas=(0.5, 0.9), weight_decay=1e-3)]


@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "default")
def test_adam_matches_torch(kwargs):
    run_both(optim.Adam, torch.optim.Adam, kwargs)


@pytest.mark.parametrize("kwargs", ADAM_CASES + [dict(lr=0.01, weight_decay=0.0)],
                         ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "default")
def test_adamw_matches_torch(kwargs):
    run_both(optim.AdamW, torch.optim.AdamW, kwargs)


@pytest.mark.parametrize("mt_cls, t_cls, kwargs", [
    (optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
    (optim.Adam, torch.optim.Adam, dict(lr=0.01, weight_decay=0.01)),
    (optim.AdamW, torch.optim.AdamW, dict(lr=0.01))], ids=["sgd", "adam", "adamw"])
def test_parameter_groups_match_torch(mt_cls, t_cls, kwargs):
    mt_opt, t_opt, _, _ = run_both(mt_cls, t_cls, kwargs, groups=True)
    assert [g["lr"] for g in mt_opt.param_groups] == [g["lr"] for g in t_opt.param_groups]


def test_adamw_default_weight_decay_is_torchs():
    mt_params, t_params = make_params()
    assert optim.AdamW(mt_params).defaults["weight_decay"] == torch.optim.AdamW(t_params).defaults["weight_decay"]
    assert optim.Adam(mt_params).defaults["weight_decay"] == 0


def test_optimizers_train_a_model_like_torch():
    """The optimizers driven by real autograd gradients: a small MLP, Adam, 10 steps."""
    rng = np.random.default_rng(0)
    t_model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).double()
    mt_model = th.copy_weights(t_model, mt.nn.Sequential(mt.nn.Linear(6, 5), mt.nn.Tanh(),
                                                         mt.nn.Linear(5, 3)).double())
    mt_opt = optim.Adam(mt_model.parameters(), lr=0.05, weight_decay=0.01)
    t_opt = torch.optim.Adam(t_model.parameters(), lr=0.05, weight_decay=0.01)
    for step in range(10):
        x, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
        for opt, model, lib, tensor in ((mt_opt, mt_model, mt.nn, mt.tensor), (t_opt, t_model, torch.nn, torch.tensor)):
            opt.zero_grad()
            lib.CrossEntropyLoss()(model(tensor(x)), tensor(y)).backward()
            opt.step()
        th.assert_state_close(mt_model, t_model, rtol=1e-10, atol=1e-12, what=f"step {step}")


# ---- state_dict round trips ----------------------------------------------------------------
@pytest.mark.parametrize("mt_cls, t_cls, kwargs, names", [
    (optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True), ["momentum_buffer"]),
    (optim.Adam, torch.optim.Adam, dict(lr=0.01, weight_decay=0.01), ["step", "exp_avg", "exp_avg_sq"]),
    (optim.AdamW, torch.optim.AdamW, dict(lr=0.01), ["step", "exp_avg", "exp_avg_sq"])],
    ids=["sgd", "adam", "adamw"])
def test_optimizer_state_dict_round_trip_continues_exactly(mt_cls, t_cls, kwargs, names):
    """5 steps, state_dict, a fresh optimizer over a copy of the parameters, load_state_dict of a
    deep copy (what torch.save/torch.load give), 5 more steps: the same parameters, bit for bit, as
    10 steps without the reload.  state_dict() itself holds the live state Tensors, as torch's."""
    mt_params, t_params = make_params()
    opt, t_opt = mt_cls(mt_params, **kwargs), t_cls(t_params, **kwargs)
    for step in range(5):
        set_gradients(step, mt_params, t_params)
        opt.step()
        t_opt.step()
    saved = opt.state_dict()
    # the state is torch's: same per-parameter entry names and values, same group keys
    t_saved = t_opt.state_dict()
    assert sorted(saved["state"]) == sorted(t_saved["state"]) == list(range(len(SHAPES)))
    for index, entries in saved["state"].items():
        assert sorted(entries) == sorted(names)
        for name in names:
            assert isinstance(entries[name], mt.Tensor)
            np.testing.assert_allclose(th.to_np(entries[name]), th.to_np(t_saved["state"][index][name]),
                                       rtol=RTOL, err_msg=f"{index}/{name}")
    assert [g["params"] for g in saved["param_groups"]] == [g["params"] for g in t_saved["param_groups"]]
    assert set(saved["param_groups"][0]) <= set(t_saved["param_groups"][0])
    snapshot = copy.deepcopy(saved)

    copies = [mt.nn.Parameter(th.to_np(p).copy()) for p in mt_params]
    reloaded = mt_cls(copies, lr=123.0)         # hyper-parameters come back from the state too
    reloaded.load_state_dict(snapshot)
    for step in range(5, 10):
        set_gradients(step, mt_params, t_params)
        for p, q in zip(mt_params, copies):
            q.grad = mt.tensor(th.to_np(p.grad).copy())
        opt.step()
        reloaded.step()
        t_opt.step()
    for p, q in zip(mt_params, copies):
        np.testing.assert_array_equal(th.to_np(q), th.to_np(p))
    assert_params_close(mt_params, t_params, "after 10 steps")
    # as torch's: state_dict() gave the optimizer's own Tensors (they moved on with it), and loading
    # kept the given Tensors (they fit: same dtype and device) rather than copying them
    for index, p in enumerate(mt_params):
        for name in names:
            assert saved["state"][index][name] is opt.state[p][name]
            assert reloaded.state[copies[index]][name] is snapshot["state"][index][name]
    assert reloaded.param_groups[0]["lr"] == kwargs["lr"]


def test_optimizer_load_state_dict_rejects_other_groups():
    params, _ = make_params()
    saved = optim.SGD(params, lr=0.1, momentum=0.9).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD(params[:2], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.1).load_state_dict(saved)


def test_optimizer_zero_grad_and_bad_hyper_parameters():
    params, _ = make_params()
    opt = optim.SGD(params, lr=0.1)
    for p in params:
        p.grad = mt.tensor(np.ones(p.shape))
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not np.any(th.to_np(p.grad)) for p in params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)
    for make in (lambda: optim.SGD(params, lr=-1), lambda: optim.SGD(params, lr=0.1, nesterov=True),
                 lambda: optim.SGD(params, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
                 lambda: optim.Adam(params, betas=(0.9, 1.0)), lambda: optim.AdamW(params, lr=-0.1),
                 lambda: optim.SGD([], lr=0.1)):
        with pytest.raises(ValueError):
            make()


# ---- learning-rate schedules -----------------------------------------------------------------
SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)), ("StepLR", dict(step_size=1, gamma=0.9)),
    ("StepLR", dict(step_size=7)),
    ("CosineAnnealingLR", dict(T_max=10)), ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
    ("CosineAnnealingLR", dict(T_max=30, eta_min=1e-4)),
]


def _schedulers(name, kwargs):
    mt_params, t_params = make_params()
    mt_opt = optim.SGD([{"params": mt_params[:1]}, {"params": mt_params[1:], "lr": 0.3}], lr=0.1, momentum=0.9)
    t_opt = torch.optim.SGD([{"params": t_params[:1]}, {"params": t_params[1:], "lr": 0.3}], lr=0.1, momentum=0.9)
    return (mt_opt, getattr(lr_scheduler, name)(mt_opt, **kwargs),
            t_opt, getattr(torch.optim.lr_scheduler, name)(t_opt, **kwargs))


@pytest.mark.parametrize("name, kwargs", SCHEDULES, ids=[f"{n}{k}" for n, k in SCHEDULES])
def test_schedulers_match_torch_for_30_steps(name, kwargs):
    """torch's recursive ('chainable') form in both; the lrs agree to rounding (1e-12 relative)."""
    mt_opt, sched, t_opt, t_sched = _schedulers(name, kwargs)
    assert sched.get_last_lr() == pytest.approx(t_sched.get_last_lr(), rel=RTOL)
    for step in range(30):
        mt_opt.step()      # no gradients: nothing moves, but torch wants optimizer.step() first
        t_opt.step()
        sched.step()
        t_sched.step()
        assert sched.get_last_lr() == pytest.approx(t_sched.get_last_lr(), rel=RTOL, abs=1e-15), step
        assert [g["lr"] for g in mt_opt.param_groups] == sched.get_last_lr()
        assert sched.last_epoch == t_sched.last_epoch == step + 1


@pytest.mark.parametrize("name, kwargs", SCHEDULES[::3] + SCHEDULES[4:5], ids=["step", "cosine", "cosine-eta"])
def test_scheduler_state_dict_round_trip_continues_exactly(name, kwargs):
    """Save optimizer + scheduler after 7 steps, rebuild both and load: the next 23 lrs are the same
    as without the reload.  The scheduler's state is JSON-able (the CLI stores it in a checkpoint)."""
    mt_opt, sched, _, _ = _schedulers(name, kwargs)
    for _ in range(7):
        mt_opt.step()        # no gradients: nothing moves, but torch wants optimizer.step() first
        sched.step()
    opt_state = mt_opt.state_dict()
    sched_state = json.loads(json.dumps(sched.state_dict()))
    mt_opt2, sched2, _, _ = _schedulers(name, kwargs)
    mt_opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    assert sched2.get_last_lr() == sched.get_last_lr()
    for _ in range(23):
        sched.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()
        assert [g["lr"] for g in mt_opt2.param_groups] == [g["lr"] for g in mt_opt.param_groups]


def test_cosine_annealing_follows_the_closed_form_within_one_period():
    mt_opt, sched, _, _ = _schedulers("CosineAnnealingLR", dict(T_max=12, eta_min=0.01))
    for t in range(1, 13):
        mt_opt.step()
        sched.step()
        expected = [0.01 + (base - 0.01) * (1 + math.cos(math.pi * t / 12)) / 2 for base in (0.1, 0.3)]
        assert sched.get_last_lr() == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_step_lr_rejects_a_zero_step_size():
    params, _ = make_params()
    with pytest.raises(ValueError, match="step_size"):
        lr_scheduler.StepLR(optim.SGD(params, lr=0.1), step_size=0)
