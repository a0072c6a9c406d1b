"""minitorch_cnn.optim held to torch.optim: signatures, updates, state, state_dict, errors, schedulers.

Updates.  Both engines start from the same parameters and, at every step, receive the same
gradients, computed (by NumPy, outside either engine) from torch's current parameters, so a wrong
update changes every later gradient.  The formulas are torch's, operation for operation, in the
parameter's dtype; what differs is rounding: torch's CPU kernels fuse a multiply and an add into
one rounding (add with alpha, addcmul, addcdiv, lerp) where NumPy rounds twice.  So the values are
held to the array's scale: |ours − torch's| ≤ TOL · max(|torch's|), TOL 1e-13 in float64 and 1e-5
in float32.  Measured over these 10 steps: at most 4e-15 and 2e-6, both in the centered RMSprop
with α = 0.3, whose √(v − ḡ²) takes the difference of near-equal numbers; elsewhere at most 6e-16
and 5e-7 (a few ulps).

Schedules are Python float arithmetic in both engines, torch's formulas in torch's order: the lrs
(and momenta) are asserted exactly equal.
"""
import copy
import inspect
import json
import warnings

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import optim
from minitorch_cnn.optim import lr_scheduler

from _optional import needs_torch, torch
from _torch_helpers import torch_single_thread  # noqa: F401 (an autouse fixture)

TOL = {np.float64: 1e-13, np.float32: 1e-5}
SHAPES = [(4, 3), (5,), (2, 3, 2, 2), ()]          # () : a 0-d parameter
STEPS = 10


def gradient(step, index, values):
    """A bounded gradient that depends on the parameters, different per step and parameter."""
    noise = np.random.default_rng(100 * step + index).standard_normal(values.shape)
    return np.sin(3 * values.astype(np.float64)) + noise


def make_params(dtype, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    return ([mt.nn.Parameter(a.copy()) for a in arrays],
            [torch.nn.Parameter(torch.tensor(a)) for a in arrays])


def set_gradients(step, mt_params, t_params, dtype, skip=()):
    for i, (pm, pt) in enumerate(zip(mt_params, t_params)):
        if i in skip:              # no gradient this step: the parameter and its state are left alone
            pm.grad, pt.grad = None, None
            continue
        g = gradient(step, i, pt.detach().numpy()).astype(dtype)
        pm.grad, pt.grad = mt.tensor(g), torch.tensor(g)


def assert_close(mine, theirs, dtype, what):
    mine, theirs = np.asarray(mine), np.asarray(theirs)
    assert mine.dtype == theirs.dtype == dtype, what
    scale = max(np.abs(theirs).max(initial=0.0), 1e-30)
    np.testing.assert_allclose(mine, theirs, rtol=0, atol=TOL[dtype] * scale, err_msg=what)


def assert_state_close(mt_opt, t_opt, dtype, what):
    mine, theirs = mt_opt.state_dict(), t_opt.state_dict()
    assert list(mine["state"]) == list(theirs["state"]), what
    for index, entries in theirs["state"].items():
        assert sorted(mine["state"][index]) == sorted(entries), what
        for name, value in entries.items():
            ours = mine["state"][index][name]
            assert isinstance(ours, mt.Tensor), f"{what}: {index}/{name}"
            if name == "step":      # a 0-d float32 counter on the CPU, as torch's
                assert ours.dtype == np.float32 and ours.shape == () and ours.device == "cpu"
                assert ours.item() == value.item()
            else:
                assert_close(ours.array, value.numpy(), dtype, f"{what}: {index}/{name}")


CASES = [
    ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-2)),
    ("SGD", dict(lr=0.1, momentum=0.5, maximize=True)),
    ("Adam", dict()), ("Adam", dict(lr=0.01, weight_decay=0.1)), ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), eps=1e-6, maximize=True)),      # β₁ < 0.5: lerp's other form
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, amsgrad=True)),
    ("AdamW", dict()), ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("Adadelta", dict()), ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict()), ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)), ("RMSprop", dict(lr=0.01, alpha=0.3, centered=True, momentum=0.5,
                                                                maximize=True)),
    ("Adagrad", dict()), ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5,
                                          eps=1e-8)),
    ("Adagrad", dict(lr=0.05, maximize=True)),
]


def case_id(case):
    name, kwargs = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_updates_and_state_match_torch(case, dtype):
    name, kwargs = case
    mt_params, t_params = make_params(dtype)
    mt_opt, t_opt = getattr(optim, name)(mt_params, **kwargs), getattr(torch.optim, name)(t_params, **kwargs)
    for step in range(STEPS):
        set_gradients(step, mt_params, t_params, dtype, skip=(1,) if step in (0, 3) else ())
        mt_opt.step()
        t_opt.step()
        for i, (pm, pt) in enumerate(zip(mt_params, t_params)):
            assert_close(pm.array, pt.detach().numpy(), dtype, f"step {step}, parameter {i}")
        assert_state_close(mt_opt, t_opt, dtype, f"step {step}")


@needs_torch
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adadelta", "RMSprop", "Adagrad"])
def test_parameter_groups_and_add_param_group_match_torch(name):
    """Two groups with their own lr and weight decay, a third added after 3 steps."""
    mt_params, t_params = make_params(np.float64)
    kwargs = dict(momentum=0.9) if name in ("SGD", "RMSprop") else {}

    def groups(params):
        return [{"params": params[:1]}, {"params": params[1:3], "lr": 0.003, "weight_decay": 0.01}]
    mt_opt = getattr(optim, name)(groups(mt_params), lr=0.02, **kwargs)
    t_opt = getattr(torch.optim, name)(groups(t_params), lr=0.02, **kwargs)
    for step in range(8):
        if step == 3:
            mt_opt.add_param_group({"params": mt_params[3:], "lr": 0.05})
            t_opt.add_param_group({"params": t_params[3:], "lr": 0.05})
        set_gradients(step, mt_params, t_params, np.float64)
        mt_opt.step()
        t_opt.step()
        for i, (pm, pt) in enumerate(zip(mt_params, t_params)):
            assert_close(pm.array, pt.detach().numpy(), np.float64, f"step {step}, parameter {i}")
    assert_param_groups_equal(mt_opt.state_dict()["param_groups"], t_opt.state_dict()["param_groups"])


def assert_param_groups_equal(mine, theirs):
    assert len(mine) == len(theirs)
    for ours, group in zip(mine, theirs):
        assert list(ours) == list(group)          # torch's keys, in torch's order
        assert ours == group


@needs_torch
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adadelta", "RMSprop", "Adagrad"])
def test_defaults_and_param_group_keys_are_torchs(name):
    mt_params, t_params = make_params(np.float32)
    mt_opt, t_opt = getattr(optim, name)(mt_params), getattr(torch.optim, name)(t_params)
    assert mt_opt.defaults == t_opt.defaults and list(mt_opt.defaults) == list(t_opt.defaults)
    assert_param_groups_equal(mt_opt.state_dict()["param_groups"], t_opt.state_dict()["param_groups"])
    # state exists where torch's does: Adagrad's from construction, the others' from their first step
    assert list(mt_opt.state_dict()["state"]) == list(t_opt.state_dict()["state"])


@needs_torch
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_repr_is_torchs(name):
    mt_params, t_params = make_params(np.float32)
    mt_opt = getattr(optim, name)([{"params": mt_params[:2]}, {"params": mt_params[2:], "lr": 0.5}])
    t_opt = getattr(torch.optim, name)([{"params": t_params[:2]}, {"params": t_params[2:], "lr": 0.5}])
    assert repr(mt_opt) == repr(t_opt)


@needs_torch
@pytest.mark.parametrize("name", ["Optimizer", "SGD", "Adam", "AdamW", "Adadelta", "RMSprop", "Adagrad"])
def test_signatures_are_torchs(name):
    def parameters(fn):
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]
    mine, theirs = getattr(optim, name), getattr(torch.optim, name)
    assert parameters(mine) == parameters(theirs)
    for method in ("step", "zero_grad", "state_dict", "load_state_dict", "add_param_group"):
        assert parameters(getattr(mine, method)) == parameters(getattr(theirs, method)), method


@needs_torch
@pytest.mark.parametrize("name", ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "LinearLR",
                                  "CosineAnnealingLR", "OneCycleLR", "ReduceLROnPlateau"])
def test_scheduler_signatures_are_torchs(name):
    def parameters(fn):
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]
    mine, theirs = getattr(lr_scheduler, name), getattr(torch.optim.lr_scheduler, name)
    assert parameters(mine) == parameters(theirs)
    for method in ("step", "get_last_lr", "get_lr", "state_dict", "load_state_dict"):
        assert parameters(getattr(mine, method)) == parameters(getattr(theirs, method)), method


# ---- the Optimizer base ------------------------------------------------------------------------
def quadratic(param, target):
    """loss = Σ (param − target)², through the engine's autograd."""
    return ((param - mt.tensor(target)) ** 2).sum()


def test_step_with_a_closure_evaluates_the_loss_with_grad_enabled_and_returns_it():
    target = np.array([1.0, -2.0, 3.0])
    p = mt.nn.Parameter(np.zeros(3))
    opt = optim.SGD([p], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        loss = quadratic(p, target)
        loss.backward()
        calls.append(loss)
        return loss
    with mt.no_grad():             # the closure still records its graph (torch's enable_grad)
        returned = opt.step(closure)
    assert returned is calls[0] and len(calls) == 1
    np.testing.assert_allclose(p.array, 0.2 * target, rtol=1e-15)    # θ − lr·2(θ − t) from θ = 0
    assert opt.step() is None


@needs_torch
def test_closure_trajectory_matches_torch():
    target = np.array([1.0, -2.0, 3.0, 0.5])
    p, tp = mt.nn.Parameter(np.zeros(4)), torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    opt, t_opt = optim.Adam([p], lr=0.1, amsgrad=True), torch.optim.Adam([tp], lr=0.1, amsgrad=True)

    def closure():
        opt.zero_grad()
        loss = quadratic(p, target)
        loss.backward()
        return loss

    def t_closure():
        t_opt.zero_grad()
        loss = ((tp - torch.tensor(target)) ** 2).sum()
        loss.backward()
        return loss
    for step in range(20):
        loss, t_loss = opt.step(closure), t_opt.step(t_closure)
        assert loss.item() == pytest.approx(t_loss.item(), rel=1e-12, abs=1e-300)
        assert_close(p.array, tp.detach().numpy(), np.float64, f"step {step}")


def test_zero_grad():
    params = [mt.nn.Parameter(np.ones((2, 3))), mt.nn.Parameter(np.ones(4))]
    opt = optim.SGD(params, lr=0.1)
    for p in params:
        p.grad = mt.tensor(np.full(p.shape, 3.0))
    grad = params[0].grad
    opt.zero_grad(set_to_none=False)
    assert params[0].grad is grad and not np.any(grad.array)      # zeroed in place, the same Tensor
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_parameters_as_a_generator_named_parameters_and_group_dicts():
    model = mt.nn.Sequential(mt.nn.Linear(3, 2), mt.nn.Linear(2, 1))
    opt = optim.SGD(p for p in model.parameters())        # a generator, consumed once
    assert len(opt.param_groups[0]["params"]) == 4
    named = optim.Adam(model.named_parameters())
    assert named.param_groups[0]["param_names"] == [n for n, _ in model.named_parameters()]
    assert named.state_dict()["param_groups"][0]["param_names"] == named.param_groups[0]["param_names"]
    grouped = optim.SGD([{"params": model[0].parameters()}, {"params": model[1].parameters(), "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in grouped.param_groups] == [0.1, 0.5]
    single = optim.SGD([{"params": model[0].weight}])     # one Tensor as a group's params
    assert len(single.param_groups[0]["params"]) == 1 and single.param_groups[0]["params"][0] is model[0].weight


def test_the_errors_have_torchs_wording():
    a, b = mt.nn.Parameter(np.ones(2)), mt.nn.Parameter(np.ones(3))
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [a, b]}])
    opt = optim.SGD([a])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": a})
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([a * 2])
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(a)
    with pytest.raises(TypeError, match="can only optimize Tensors.*numpy.ndarray"):
        optim.SGD([np.ones(2)])
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {a, b}}])
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([b])
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([a, a])
    retained = b * 2                             # a non-leaf that retains its grad may be optimized
    retained.retain_grad()
    assert optim.SGD([retained]).param_groups[0]["params"][0] is retained


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-1), "Invalid learning rate: -1"),
    (lambda p: optim.SGD(p, momentum=-0.1), "Invalid momentum value"),
    (lambda p: optim.SGD(p, weight_decay=-1), "Invalid weight_decay value"),
    (lambda p: optim.SGD(p, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    (lambda p: optim.Adam(p, lr=-0.1), "Invalid learning rate"),
    (lambda p: optim.Adam(p, lr=float("nan")), "Invalid learning rate"),
    (lambda p: optim.Adam(p, eps=-1.0), "Invalid epsilon value"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), "Invalid beta parameter at index 1"),
    (lambda p: optim.AdamW(p, betas=(-0.1, 0.9)), "Invalid beta parameter at index 0"),
    (lambda p: optim.Adam(p, betas=(0, 0.9)), "betas must be either both floats"),
    (lambda p: optim.Adam(p, weight_decay=-1), "Invalid weight_decay value"),
    (lambda p: optim.Adadelta(p, rho=1.5), "Invalid rho value"),
    (lambda p: optim.RMSprop(p, alpha=-1), "Invalid alpha value"),
    (lambda p: optim.RMSprop(p, momentum=-1), "Invalid momentum value"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "Invalid lr_decay value"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1), "Invalid initial_accumulator_value value"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_hyper_parameters_raise_torchs_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make([mt.nn.Parameter(np.ones(2))])
    if torch is not None:     # and torch refuses the same call
        tp = [torch.nn.Parameter(torch.ones(2))]
        with pytest.raises(ValueError):
            _in_torch(make)(tp)


def _in_torch(make):
    """The same lambda, evaluated with torch.optim in place of minitorch_cnn.optim."""
    return type(make)(make.__code__, {**make.__globals__, "optim": torch.optim}, None, make.__defaults__)


@pytest.mark.parametrize("make, name", [
    (lambda p: optim.SGD(p, foreach=True), "foreach=True"), (lambda p: optim.SGD(p, fused=True), "fused=True"),
    (lambda p: optim.SGD(p, differentiable=True), "differentiable=True"),
    (lambda p: optim.Adam(p, capturable=True), "capturable=True"), (lambda p: optim.AdamW(p, fused=True), "fused"),
    (lambda p: optim.Adadelta(p, foreach=True), "foreach"), (lambda p: optim.RMSprop(p, capturable=True), "capt"),
    (lambda p: optim.Adagrad(p, fused=True), "fused"), (lambda p: optim.Adagrad(p, differentiable=True), "diff"),
    (lambda p: optim.SGD(p, lr=mt.tensor(0.1)), "lr as a Tensor"),
    (lambda p: optim.Adam(p, betas=(mt.tensor(0.9), mt.tensor(0.99))), "betas as a Tensor"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_unbuilt_features_are_refused_by_name(make, name):
    with pytest.raises(RuntimeError, match=f"{name}.*not supported by minitorch_cnn.*needs real PyTorch"):
        make([mt.nn.Parameter(np.ones(2))])


def test_the_unbuilt_at_their_defaults_are_accepted():
    p = [mt.nn.Parameter(np.ones(2))]
    for opt in (optim.SGD(p, foreach=False, fused=False, differentiable=False),
                optim.Adam(p, foreach=False, fused=False, capturable=False, differentiable=False),
                optim.RMSprop(p, foreach=False), optim.Adagrad(p, foreach=None, fused=None)):
        assert opt.param_groups[0]["params"][0] is p[0]


def test_unbuilt_optimizers_and_schedulers_name_themselves():
    with pytest.raises(AttributeError, match="torch.optim.LBFGS is not built in minitorch_cnn"):
        optim.LBFGS
    with pytest.raises(AttributeError, match="lr_scheduler.CyclicLR is not built"):
        lr_scheduler.CyclicLR
    assert not hasattr(optim, "NoSuchOptimizer")


# ---- state and state_dict ---------------------------------------------------------------------
def trained(name="Adam", dtype=np.float32, steps=3, **kwargs):
    params = [mt.nn.Parameter(np.random.default_rng(i).standard_normal(s).astype(dtype))
              for i, s in enumerate(SHAPES)]
    opt = getattr(optim, name)(params, **kwargs)
    for step in range(steps):
        for i, p in enumerate(params):
            p.grad = mt.tensor(gradient(step, i, p.array).astype(dtype))
        opt.step()
    return params, opt


def test_state_entries_are_tensors_sharing_memory_with_the_update():
    params, opt = trained("Adam")
    entries = opt.state[params[0]]
    assert set(entries) == {"step", "exp_avg", "exp_avg_sq"}
    exp_avg = entries["exp_avg"]
    before = exp_avg.array.copy()
    assert isinstance(exp_avg, mt.Tensor) and exp_avg.dtype == np.float32 and exp_avg.shape == (4, 3)
    assert entries["step"].dtype == np.float32 and entries["step"].item() == 3.0
    params[0].grad = mt.ones_like(params[0])
    opt.step()
    assert opt.state[params[0]]["exp_avg"] is exp_avg and not np.array_equal(exp_avg.array, before)
    assert opt.state_dict()["state"][0]["exp_avg"] is exp_avg      # the live Tensor, as torch's
    assert entries["step"].item() == 4.0


def test_sgd_without_momentum_keeps_no_state_and_a_parameter_without_grad_none():
    params, opt = trained("SGD", lr=0.1)
    assert opt.state_dict()["state"] == {}
    params, opt = trained("SGD", lr=0.1, momentum=0.9, steps=0)
    params[1].grad = mt.ones_like(params[1])
    opt.step()
    assert list(opt.state_dict()["state"]) == [1]


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(momentum=0.9, nesterov=True)), ("Adam", dict(amsgrad=True)), ("AdamW", {}), ("Adadelta", {}),
    ("RMSprop", dict(momentum=0.5, centered=True)), ("Adagrad", dict(lr_decay=0.1))])
def test_state_dict_round_trip_continues_bit_for_bit(name, kwargs):
    """3 steps, state_dict, torch's save/load (a deep copy), into a fresh optimizer over copies of the
    parameters: the next 3 steps are bit for bit those of the uninterrupted optimizer."""
    params, opt = trained(name, dtype=np.float64, **kwargs)
    saved = copy.deepcopy(opt.state_dict())
    copies = [mt.nn.Parameter(p.array.copy()) for p in params]
    reloaded = getattr(optim, name)(copies, lr=123.0, **kwargs)    # the lr comes back from the state
    reloaded.load_state_dict(saved)
    assert reloaded.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for step in range(3, 6):
        for i, (p, q) in enumerate(zip(params, copies)):
            p.grad = mt.tensor(gradient(step, i, p.array))
            q.grad = mt.tensor(p.grad.array.copy())
        opt.step()
        reloaded.step()
        for p, q in zip(params, copies):
            np.testing.assert_array_equal(q.array, p.array)


def test_load_state_dict_casts_to_the_parameters_and_takes_old_and_json_layouts():
    params, opt = trained("Adam", dtype=np.float32)
    state = opt.state_dict()
    # float64 state Tensors are cast to the float32 parameters (as torch); 'step' stays float32
    wide = {"state": {i: {k: (v if k == "step" else v.double()) for k, v in entries.items()}
                      for i, entries in state["state"].items()},
            "param_groups": state["param_groups"]}
    fresh = optim.Adam(params)
    fresh.load_state_dict(wide)
    assert all(e["exp_avg"].dtype == np.float32 for e in fresh.state.values())
    # what the checkpoint reader and JSON give: int steps, NumPy arrays, str keys, list betas
    legacy = json.loads(json.dumps({"state": {i: {"step": 3} for i in state["state"]},
                                    "param_groups": state["param_groups"]}))
    for i, entries in legacy["state"].items():
        for name in ("exp_avg", "exp_avg_sq"):
            entries[name] = state["state"][int(i)][name].array.copy()
    fresh.load_state_dict(legacy)
    assert fresh.param_groups[0]["betas"] == (0.9, 0.999)
    for p in params:
        step = fresh.state[p]["step"]
        assert isinstance(step, mt.Tensor) and step.dtype == np.float32 and step.item() == 3.0
        assert isinstance(fresh.state[p]["exp_avg"], mt.Tensor)
    bad = copy.deepcopy(legacy)
    bad["state"]["0"]["exp_avg"] = np.zeros(7, np.float32)
    with pytest.raises(ValueError, match=r"state 'exp_avg' of parameter 0 has shape \(7,\), expected \(4, 3\)"):
        fresh.load_state_dict(bad)


def test_load_state_dict_fills_hyper_parameters_a_state_predates():
    """A state saved before maximize/amsgrad/foreach existed (as the CLI's old checkpoints) takes the
    defaults for them, as torch's __setstate__ does."""
    params, opt = trained("Adam")
    state = opt.state_dict()
    old_groups = [{k: v for k, v in g.items() if k in ("lr", "betas", "eps", "weight_decay", "params")}
                  for g in state["param_groups"]]
    fresh = optim.Adam(params)
    fresh.load_state_dict({"state": state["state"], "param_groups": old_groups})
    assert fresh.param_groups[0]["amsgrad"] is False and fresh.param_groups[0]["maximize"] is False
    assert all(p is q for p, q in zip(fresh.param_groups[0]["params"], params))


def test_adamw_stays_decoupled_after_loading_an_adam_state():
    params, opt = trained("Adam", weight_decay=0.1)
    adamw = optim.AdamW(params)
    adamw.load_state_dict(copy.deepcopy(opt.state_dict()))
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True


def test_deepcopy_of_an_optimizer_under_a_scheduler_steps_its_own_parameters():
    params, opt = trained("SGD", lr=0.1, momentum=0.9)
    lr_scheduler.StepLR(opt, 2)
    twin = copy.deepcopy(opt)
    before = params[0].array.copy()
    for p in twin.param_groups[0]["params"]:
        p.grad = mt.ones_like(p)
    twin.step()
    np.testing.assert_array_equal(params[0].array, before)


# ---- schedulers -----------------------------------------------------------------------------------
SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)), ("StepLR", dict(step_size=7)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 11], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 0.95 ** epoch + 0.01 * epoch)),
    ("LambdaLR", dict(lr_lambda=[lambda epoch: 1 / (1 + epoch), lambda epoch: 0.5 ** (epoch // 4)])),
    ("LinearLR", dict()), ("LinearLR", dict(start_factor=0.1, end_factor=0.7, total_iters=12)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.0, total_iters=30)),
    ("CosineAnnealingLR", dict(T_max=10)), ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=31)),
    ("OneCycleLR", dict(max_lr=[0.5, 1.0], epochs=4, steps_per_epoch=8, pct_start=0.25, anneal_strategy="linear",
                        three_phase=True, div_factor=10.0)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=40, cycle_momentum=False, final_div_factor=100.0)),
]


def _optimizers(optimizer="SGD"):
    mt_params, t_params = make_params(np.float64)
    kwargs = dict(lr=0.1, momentum=0.9) if optimizer == "SGD" else dict(lr=0.1)
    return (getattr(optim, optimizer)([{"params": mt_params[:1]}, {"params": mt_params[1:], "lr": 0.3}], **kwargs),
            getattr(torch.optim, optimizer)([{"params": t_params[:1]}, {"params": t_params[1:], "lr": 0.3}], **kwargs))


def _group_values(opt):
    """Each group's lr and momentum (SGD's, or Adam's betas): what the schedules set."""
    return [value for g in opt.param_groups for value in (g["lr"], *g.get("betas", (g.get("momentum"),)))]


@needs_torch
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("name, kwargs", SCHEDULES, ids=[case_id(c) for c in SCHEDULES])
def test_schedules_match_torch_for_30_steps(name, kwargs, optimizer):
    mt_opt, t_opt = _optimizers(optimizer)
    sched, t_sched = getattr(lr_scheduler, name)(mt_opt, **kwargs), getattr(torch.optim.lr_scheduler, name)(t_opt,
                                                                                                        **kwargs)
    assert sched.get_last_lr() == t_sched.get_last_lr()
    for step in range(30):
        mt_opt.step()
        t_opt.step()
        sched.step()
        t_sched.step()
        assert sched.get_last_lr() == t_sched.get_last_lr(), step
        assert _group_values(mt_opt) == _group_values(t_opt), step
        assert sched.last_epoch == t_sched.last_epoch
    assert sorted(sched.state_dict()) == sorted(t_sched.state_dict())


@needs_torch
@pytest.mark.parametrize("name, kwargs", [
    ("StepLR", dict(step_size=3, gamma=0.5)), ("MultiStepLR", dict(milestones=[2, 5, 5])),
    ("ExponentialLR", dict(gamma=0.8)), ("LinearLR", dict(total_iters=4)), ("CosineAnnealingLR", dict(T_max=6))])
def test_step_with_an_epoch_uses_torchs_closed_form_and_warns(name, kwargs):
    mt_opt, t_opt = _optimizers()
    sched, t_sched = getattr(lr_scheduler, name)(mt_opt, **kwargs), getattr(torch.optim.lr_scheduler, name)(t_opt,
                                                                                                        **kwargs)
    mt_opt.step()
    t_opt.step()
    for epoch in (4, 9, 2, 13):
        with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step\\(\\)`"):
            sched.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_sched.step(epoch)
        assert sched.get_last_lr() == t_sched.get_last_lr(), epoch


@needs_torch
@pytest.mark.parametrize("kwargs", [
    dict(), dict(mode="max", factor=0.5, patience=2, threshold_mode="abs", threshold=0.05),
    dict(patience=1, cooldown=2, min_lr=[0.02, 0.05], eps=1e-3),
    dict(mode="min", patience=0, threshold=0.1, min_lr=0.001)])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    mt_opt, t_opt = _optimizers()
    sched, t_sched = lr_scheduler.ReduceLROnPlateau(mt_opt, **kwargs), torch.optim.lr_scheduler.ReduceLROnPlateau(
        t_opt, **kwargs)
    metrics = np.concatenate([np.linspace(1.0, 0.8, 5), np.full(8, 0.8), np.linspace(0.8, 1.2, 6),
                              np.random.default_rng(0).uniform(0.5, 1.0, 21)])
    for step, metric in enumerate(metrics):
        value = mt.tensor(metric) if step % 2 else float(metric)     # a 0-d Tensor or a float, as torch
        sched.step(value)
        t_sched.step(torch.tensor(metric) if step % 2 else float(metric))
        assert sched.get_last_lr() == t_sched.get_last_lr(), step
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter, sched.last_epoch) == \
            (t_sched.best, t_sched.num_bad_epochs, t_sched.cooldown_counter, t_sched.last_epoch), step
    state = sched.state_dict()
    assert sorted(state) == sorted(t_sched.state_dict())
    fresh = lr_scheduler.ReduceLROnPlateau(_optimizers()[0], **kwargs)
    fresh.load_state_dict(json.loads(json.dumps(state)))
    assert (fresh.best, fresh.num_bad_epochs, fresh.mode_worse) == (sched.best, sched.num_bad_epochs, sched.mode_worse)


@needs_torch
@pytest.mark.parametrize("make, message", [
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, factor=1.0), "Factor should be < 1.0"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, mode="avg"), "mode avg is unknown"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="x"), "threshold mode x is unknown"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1]), "expected 2 min_lrs, got 1"),
    (lambda opt: lr_scheduler.LinearLR(opt, start_factor=0), "Starting multiplicative factor"),
    (lambda opt: lr_scheduler.LinearLR(opt, end_factor=1.5), "Ending multiplicative factor"),
    (lambda opt: lr_scheduler.LambdaLR(opt, [lambda e: 1.0]), "Expected 2 lr_lambdas, but got 1"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, 0.1), "either total_steps OR"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, 0.1, total_steps=0), "positive integer total_steps"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, 0.1, 10, pct_start=1), "pct_start"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, 0.1, 10, anneal_strategy="exp"), "anneal_strategy"),
    (lambda opt: lr_scheduler.OneCycleLR(opt, [0.1, 0.2, 0.3], 10), "max_lr must have the same length"),
])
def test_scheduler_errors_are_torchs(make, message):
    with pytest.raises(ValueError, match=message):
        make(_optimizers()[0])
    with pytest.raises(ValueError):
        _in_scheduler_torch(make)(_optimizers()[1])


def _in_scheduler_torch(make):
    return type(make)(make.__code__, {**make.__globals__, "lr_scheduler": torch.optim.lr_scheduler}, None,
                      make.__defaults__)


@needs_torch
def test_one_cycle_refuses_a_step_past_total_steps_and_a_momentumless_optimizer():
    for lib, opt in zip((lr_scheduler, torch.optim.lr_scheduler), _optimizers()):
        sched = lib.OneCycleLR(opt, 0.1, total_steps=3)
        for _ in range(3):
            opt.step()
            sched.step()
        with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
            sched.step()
    params = [mt.nn.Parameter(np.ones(2))]
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.OneCycleLR(optim.Adagrad(params), 0.1, total_steps=5)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.StepLR([], 3)


def _warnings_of(make_scheduler, calls):
    """The warning messages a call sequence gives ('opt': optimizer.step(), 'sched': scheduler.step())."""
    opt, sched = make_scheduler()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for call in calls:
            if call == "replace":
                opt.step = type(opt).step.__get__(opt)
            else:
                (opt.step if call == "opt" else sched.step)()
    return [str(w.message).split(". ")[0] for w in caught if "optimizer.step()" in str(w.message)]


@needs_torch
@pytest.mark.parametrize("calls", [["sched", "opt", "sched"], ["opt", "sched", "sched"], ["sched", "sched"],
                                   ["replace", "opt", "sched"], ["opt", "opt", "sched", "opt", "sched"]])
def test_the_scheduler_before_optimizer_warning_is_torchs(calls):
    def ours():
        opt = _optimizers()[0]
        return opt, lr_scheduler.StepLR(opt, 2)

    def theirs():
        opt = _optimizers()[1]
        return opt, torch.optim.lr_scheduler.StepLR(opt, 2)
    assert _warnings_of(ours, calls) == _warnings_of(theirs, calls)


def test_get_lr_outside_step_warns_to_use_get_last_lr():
    opt = optim.SGD([mt.nn.Parameter(np.ones(2))], lr=0.1)
    sched = lr_scheduler.ExponentialLR(opt, 0.5)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()
    assert sched.get_last_lr() == [0.1]


@needs_torch
@pytest.mark.parametrize("name, kwargs", [
    ("MultiStepLR", dict(milestones=[3, 6])), ("LinearLR", dict(total_iters=10)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=30)), ("LambdaLR", dict(lr_lambda=lambda epoch: 0.9 ** epoch))])
def test_scheduler_state_dict_round_trip_through_json_continues_exactly(name, kwargs):
    """Optimizer and scheduler saved after 7 steps (the scheduler through JSON, as the CLI's checkpoint
    does), both rebuilt and loaded: the next 20 lrs are those of the uninterrupted pair, and torch's."""
    mt_opt, t_opt = _optimizers()
    sched, t_sched = getattr(lr_scheduler, name)(mt_opt, **kwargs), getattr(torch.optim.lr_scheduler, name)(t_opt,
                                                                                                        **kwargs)
    for _ in range(7):
        for opt, s in ((mt_opt, sched), (t_opt, t_sched)):
            opt.step()
            s.step()
    opt_state, sched_state = copy.deepcopy(mt_opt.state_dict()), json.loads(json.dumps(sched.state_dict()))
    mt_opt2, _ = _optimizers()
    sched2 = getattr(lr_scheduler, name)(mt_opt2, **kwargs)
    mt_opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    for step in range(20):
        for opt, s in ((mt_opt, sched), (mt_opt2, sched2), (t_opt, t_sched)):
            opt.step()
            s.step()
        assert sched2.get_last_lr() == sched.get_last_lr() == t_sched.get_last_lr(), step
        assert _group_values(mt_opt2) == _group_values(mt_opt)


def test_lambda_lr_state_dict_keeps_callable_objects_state_not_functions():
    class Warmup:
        def __init__(self, steps):
            self.steps = steps

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.steps)

    def two_groups():
        return optim.SGD([{"params": [mt.nn.Parameter(np.ones(2))]}, {"params": [mt.nn.Parameter(np.ones(2))]}],
                         lr=1.0)
    state = lr_scheduler.LambdaLR(two_groups(), [Warmup(4), lambda epoch: 1.0]).state_dict()
    assert state["lr_lambdas"] == [{"steps": 4}, None]
    state["lr_lambdas"][0]["steps"] = 10
    other = lr_scheduler.LambdaLR(two_groups(), [Warmup(4), lambda epoch: 1.0])
    other.load_state_dict(state)
    assert other.lr_lambdas[0].steps == 10 and "lr_lambdas" in state


@needs_torch
def test_training_a_model_with_each_optimizer_and_a_schedule_matches_torch():
    """Real autograd gradients: a small MLP, 8 steps of each optimizer under OneCycleLR / StepLR."""
    import _torch_helpers as th
    rng = np.random.default_rng(0)
    data = [(rng.standard_normal((8, 6)), rng.integers(0, 3, 8)) for _ in range(8)]
    for name, kwargs in [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.01, amsgrad=True)),
                         ("Adadelta", dict()), ("RMSprop", dict(lr=0.01, centered=True)), ("Adagrad", dict(lr=0.1))]:
        t_model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).double()
        mt_model = th.copy_weights(t_model, mt.nn.Sequential(mt.nn.Linear(6, 5), mt.nn.Tanh(),
                                                             mt.nn.Linear(5, 3)).double())
        mt_opt = getattr(optim, name)(mt_model.parameters(), **kwargs)
        t_opt = getattr(torch.optim, name)(t_model.parameters(), **kwargs)
        mt_sched, t_sched = lr_scheduler.StepLR(mt_opt, 3, 0.5), torch.optim.lr_scheduler.StepLR(t_opt, 3, 0.5)
        for step, (x, y) in enumerate(data):
            for opt, sched, model, lib, tensor in ((mt_opt, mt_sched, mt_model, mt.nn, mt.tensor),
                                                   (t_opt, t_sched, t_model, torch.nn, torch.tensor)):
                opt.zero_grad()
                lib.CrossEntropyLoss()(model(tensor(x)), tensor(y)).backward()
                opt.step()
                sched.step()
            th.assert_state_close(mt_model, t_model, rtol=1e-10, atol=1e-12, what=f"{name} step {step}")
