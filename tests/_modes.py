"""What tests/test_core_*.py share: the tolerance fast and core are held to, and the check that
two runs of an op (switch off, switch on) gave the same output and the same gradients."""
import numpy as np

TOL = dict(rtol=1e-12, atol=1e-12)     # float64: fast equals core to 1e-12 (issue 20)


def assert_same_run(core_out, core_grads, fast_out, fast_grads, tol=TOL):
    """Outputs equal to `tol`; each input got a gradient in both runs or in neither, of the same
    shape and equal to `tol`."""
    np.testing.assert_allclose(core_out, fast_out, **tol)
    assert len(core_grads) == len(fast_grads)
    for core_grad, fast_grad in zip(core_grads, fast_grads):
        assert (core_grad is None) == (fast_grad is None)
        if core_grad is not None:
            assert np.shape(core_grad) == np.shape(fast_grad)
            np.testing.assert_allclose(core_grad, fast_grad, **tol)
