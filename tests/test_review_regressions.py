"""Regression tests for bugs found in review of the dense layer, losses and dropout."""
import numpy as np
import pytest

import turbonn as tn
from turbonn import ops

F = tn.nn.functional


def test_cross_entropy_probability_target_accepts_negative_ignore_index():
    # torch only rejects ignore_index >= 0 with probability targets: CrossEntropyLoss(
    # ignore_index=-1) on soft labels works there (ignore_index unused).
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    p = rng.random((3, 4)).astype(np.float32)
    p /= p.sum(1, keepdims=True)
    got = F.cross_entropy(tn.tensor(x), tn.tensor(p), ignore_index=-1)
    want = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(p), ignore_index=-1)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="ignore_index"):
        F.cross_entropy(tn.tensor(x), tn.tensor(p), ignore_index=0)


def test_linear_backward_rejects_gradient_outputs_overlapping_each_other():
    # dinp and dweight are written by two threads at once: one buffer for both is a race and
    # silently wrong either way.
    rng = np.random.default_rng(1)
    g, x, w = (rng.standard_normal((4, 4)).astype(np.float32) for _ in range(3))
    both = np.zeros((4, 4), np.float32)
    with pytest.raises(ValueError, match="overlap"):
        ops.linear_backward(g, x, w, dinp=both, dweight=both, need_dbias=False)


def test_dropout_forward_rejects_out_partially_overlapping_x():
    buf = np.arange(12, dtype=np.float32)
    with pytest.raises(ValueError, match="overlap"):
        ops.dropout_forward(buf[:8], 0.5, 1, out=buf[4:])
    x = np.arange(8, dtype=np.float32)
    ref, _ = ops.dropout_forward(x.copy(), 0.5, 7)
    out, _ = ops.dropout_forward(x, 0.5, 7, out=x)  # fully in place is fine
    np.testing.assert_array_equal(out, ref)


def test_second_backward_accumulates_into_the_same_grad_array():
    # torch's AccumulateGrad adds in place: a reference taken to .grad sees later backwards.
    import turbonn as tn
    w = tn.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    (w * 2.0).sum().backward()
    g = w.grad
    (w * 3.0).sum().backward()
    assert w.grad is g
    np.testing.assert_array_equal(g.numpy(), np.full((2, 3), 5.0, np.float32))
