"""Adam's in-place update (one scratch buffer, no temporaries) against the same formula
written with temporaries, as Adam.step read before: bit for bit, since both run the same
element-wise operations in the same order (no matrix products involved)."""
import numpy as np
import pytest

import minitorch_cnn as mt


def textbook_adam(params, grads, state, lr, beta1, beta2, eps, wd, decoupled, amsgrad):
    for i, (p, g) in enumerate(zip(params, grads)):
        m, v, step, v_max = state.setdefault(i, [np.zeros_like(p), np.zeros_like(p), 0, np.zeros_like(p)])
        step += 1
        state[i][2] = step
        if wd and decoupled:
            p *= 1 - lr * wd
        elif wd:
            g = g + wd * p
        if 1 - beta1 < 0.5:                                   # torch's lerp(m, g, 1 − β₁), its two forms
            m += (1 - beta1) * (g - m)
        else:
            m[...] = g - (g - m) * (p.dtype.type(1) - p.dtype.type(1 - beta1))
        v *= beta2
        v += (1 - beta2) * g * g
        if amsgrad:
            np.maximum(v_max, v, out=v_max)
        denom = np.sqrt(v_max if amsgrad else v) / (1 - beta2 ** step) ** 0.5   # torch's bias_correction2 ** 0.5
        denom += eps
        p -= lr / (1 - beta1 ** step) * (m / denom)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("cls, wd, amsgrad", [(mt.optim.Adam, 0.0, False), (mt.optim.Adam, 0.1, True),
                                              (mt.optim.AdamW, 0.01, False)])
@pytest.mark.parametrize("betas", [(0.8, 0.99), (0.3, 0.9)])
def test_adam_in_place_is_the_textbook_update_bit_for_bit(dtype, cls, wd, amsgrad, betas):
    rng = np.random.default_rng(0)
    # shapes of different sizes, so the shared scratch buffer is reused, grown and sliced
    shapes = [(3, 4), (50,), (2, 3, 5, 5), (7,)]
    params = [mt.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]
    mirror = [p.array.copy() for p in params]
    opt = cls(params, lr=1e-2, betas=betas, eps=1e-6, weight_decay=wd, amsgrad=amsgrad)
    state = {}
    for step in range(6):
        grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
        if step == 3:
            grads[1][[0, 5]] = [np.inf, np.nan]      # non-finite gradients take the same path too
        for p, g in zip(params, grads):
            p.grad = mt.tensor(g)
        with np.errstate(over="ignore", invalid="ignore"):
            opt.step()
            textbook_adam(mirror, grads, state, 1e-2, *betas, 1e-6, wd, cls is mt.optim.AdamW, amsgrad)
        for p, expected in zip(params, mirror):
            assert p.array.dtype == dtype
            np.testing.assert_array_equal(p.array, expected)
        for i, p in enumerate(params):
            np.testing.assert_array_equal(opt.state[p]["exp_avg"].array, state[i][0])
            np.testing.assert_array_equal(opt.state[p]["exp_avg_sq"].array, state[i][1])
            assert opt.state[p]["step"].item() == state[i][2]
            if amsgrad:
                np.testing.assert_array_equal(opt.state[p]["max_exp_avg_sq"].array, state[i][3])


def test_adam_scratch_buffer_is_not_optimizer_state():
    p = mt.tensor(np.ones((4, 4), np.float32), requires_grad=True)
    opt = mt.optim.Adam([p])
    p.grad = mt.ones_like(p)
    opt.step()
    assert set(opt.state_dict()["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
