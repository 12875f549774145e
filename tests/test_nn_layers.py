"""turbonn.nn layers, functional ops, init and utils without torch: NumPy oracles and
finite-difference-free analytic gradients, init statistics and bounds, gradient clipping."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import turbonn as tn
from turbonn import nn
from turbonn.nn import functional as F
from turbonn.nn import init


def rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_functional_alias():
    assert tn.functional is tn.nn.functional


def test_linear_forward_backward_matches_numpy():
    x, w, b = rand((6, 5), 1), rand((3, 5), 2), rand((3,), 3)
    xt, wt, bt = (tn.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.linear(xt, wt, bt)
    np.testing.assert_allclose(out.detach().numpy(), x @ w.T + b, rtol=1e-5, atol=1e-6)
    g = rand((6, 3), 4)
    out.backward(g)
    np.testing.assert_allclose(xt.grad.numpy(), g @ w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(wt.grad.numpy(), g.T @ x, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bt.grad.numpy(), g.sum(0), rtol=1e-5, atol=1e-6)
    # no bias, batched 3-D input and a 1-D input
    np.testing.assert_allclose(F.linear(tn.tensor(rand((2, 4, 5))), tn.tensor(w)).numpy(),
                               rand((2, 4, 5)) @ w.T, rtol=1e-5, atol=1e-6)
    assert F.linear(tn.tensor(x[0]), tn.tensor(w)).shape == (3,)
    with pytest.raises(ValueError, match="in_features=5"):
        F.linear(tn.tensor(rand((2, 4))), tn.tensor(w))


def test_linear_module_init_bounds_and_shapes():
    tn.manual_seed(0)
    lin = nn.Linear(400, 300)
    assert lin.weight.shape == (300, 400) and lin.bias.shape == (300,)
    bound = 1 / math.sqrt(400)
    for p in (lin.weight, lin.bias):
        assert p.dtype == np.float32 and np.abs(p.data).max() <= bound
    # U(-b, b): std b/sqrt(3)
    assert abs(lin.weight.data.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert abs(lin.weight.data.mean()) < 0.01 * bound
    assert nn.Linear(3, 2, bias=False).bias is None
    with pytest.raises(ValueError):
        nn.Linear(-1, 2)


@pytest.mark.parametrize("name,ref,dref", [
    ("relu", lambda x: np.maximum(x, 0), lambda x, y: (x > 0).astype(np.float32)),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x)), lambda x, y: y * (1 - y)),
    ("tanh", np.tanh, lambda x, y: 1 - y * y),
])
def test_activations_native(name, ref, dref):
    x = rand((7, 9), 5) * 3
    module = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[name]()
    for fn in (getattr(F, name), module):
        xt = tn.tensor(x, requires_grad=True)
        y = fn(xt)
        np.testing.assert_allclose(y.detach().numpy(), ref(x), rtol=1e-5, atol=1e-6)
        g = rand((7, 9), 6)
        y.backward(g)
        np.testing.assert_allclose(xt.grad.numpy(), g * dref(x, ref(x)), rtol=1e-5, atol=1e-6)
    # a broadcast (read-only, zero-stride) upstream gradient from mean()
    xt = tn.tensor(x, requires_grad=True)
    getattr(F, name)(xt).mean().backward()
    np.testing.assert_allclose(xt.grad.numpy(), dref(x, ref(x)) / x.size, rtol=1e-5, atol=1e-8)
    assert getattr(F, name)(tn.tensor(x[:, ::2])).shape == (7, 5)
    with pytest.raises(TypeError):
        getattr(F, name)(tn.tensor(np.arange(3)))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax(dim):
    x = rand((4, 6), 7) * 10
    x[0, 0] = 1000.0  # max-subtracted: no overflow
    xt = tn.tensor(x.astype(np.float32), requires_grad=True)
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(dim, keepdims=True))
    sm = e / e.sum(dim, keepdims=True)
    y = F.softmax(xt, dim)
    np.testing.assert_allclose(y.detach().numpy(), sm, rtol=1e-5, atol=1e-7)
    g = rand((4, 6), 8)
    y.backward(g)
    np.testing.assert_allclose(xt.grad.numpy(), sm * (g - (g * sm).sum(dim, keepdims=True)),
                               rtol=1e-4, atol=1e-6)
    xt2 = tn.tensor(x, requires_grad=True)
    ly = nn.LogSoftmax(dim=dim)(xt2)
    assert np.all(np.isfinite(ly.detach().numpy()))
    lsm = x64 - x64.max(dim, keepdims=True) - np.log(e.sum(dim, keepdims=True))
    np.testing.assert_allclose(ly.detach().numpy(), lsm, rtol=1e-5, atol=1e-5)
    ly.backward(g)
    np.testing.assert_allclose(xt2.grad.numpy(), g - sm * g.sum(dim, keepdims=True),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(nn.Softmax(dim)(tn.tensor(x)).numpy(), sm, rtol=1e-5, atol=1e-7)


def test_softmax_implicit_dim_warns():
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = F.softmax(tn.tensor(rand((2, 3))))
    np.testing.assert_allclose(out.numpy().sum(1), 1, rtol=1e-6)
    with pytest.raises(IndexError):
        F.softmax(tn.tensor(rand((2, 3))), 2)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(reduction):
    x, t = rand((5, 3), 9), rand((5, 3), 10)
    xt = tn.tensor(x, requires_grad=True)
    loss = nn.MSELoss(reduction=reduction)(xt, tn.tensor(t))
    sq = (x - t) ** 2
    ref = {"mean": sq.mean(), "sum": sq.sum(), "none": sq}[reduction]
    np.testing.assert_allclose(loss.detach().numpy(), ref, rtol=1e-5)
    loss.sum().backward()
    scale = 1 / x.size if reduction == "mean" else 1
    np.testing.assert_allclose(xt.grad.numpy(), 2 * (x - t) * scale, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(xt, tn.tensor(t), reduction="avg")


def test_mse_loss_shape_mismatch_warns():
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(tn.tensor(rand((3, 1))), tn.tensor(rand((3,))))


def test_flatten_and_identity():
    x = tn.tensor(rand((2, 3, 4, 5)))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, -1)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Flatten()(tn.tensor(np.zeros((2, 0, 3), np.float32))).shape == (2, 0)
    assert nn.Identity()(x) is x


# ------------------------------------------------------------------------------------ init

BIG = (400, 500)


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


def p(shape):
    return nn.Parameter(np.zeros(shape, np.float32))


@pytest.mark.parametrize("shape", [BIG, (64, 32, 3, 3)])
def test_fan_based_inits(shape):
    fan_in = shape[1] * int(np.prod(shape[2:]))
    fan_out = shape[0] * int(np.prod(shape[2:]))
    tn.manual_seed(3)
    t = p(shape)
    assert init.xavier_uniform_(t, gain=2.0) is t
    a = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(t.data).max() <= a and np.abs(t.data).max() > 0.99 * a
    assert t.data.std() == pytest.approx(a / math.sqrt(3), rel=0.03)
    init.xavier_normal_(t)
    assert t.data.std() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.03)
    init.kaiming_uniform_(t, a=0, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan_in)
    assert np.abs(t.data).max() <= bound and t.data.std() == pytest.approx(
        bound / math.sqrt(3), rel=0.03)
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert t.data.std() == pytest.approx(math.sqrt(2 / fan_out), rel=0.03)
    assert abs(t.data.mean()) < 0.05 * t.data.std()
    init.kaiming_uniform_(t, a=math.sqrt(5))  # Linear's default: U(-1/sqrt(fan_in), ..)
    assert np.abs(t.data).max() <= 1 / math.sqrt(fan_in)
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(t, mode="fan_avg")


def test_simple_inits_and_errors():
    tn.manual_seed(4)
    t = p(BIG)
    init.normal_(t, mean=2.0, std=0.5)
    assert t.data.mean() == pytest.approx(2.0, abs=0.01)
    assert t.data.std() == pytest.approx(0.5, rel=0.02)
    init.uniform_(t, -3, 1)
    assert t.data.min() >= -3 and t.data.max() <= 1
    assert t.data.mean() == pytest.approx(-1, abs=0.02)
    assert np.all(init.zeros_(t).data == 0) and np.all(init.ones_(t).data == 1)
    assert np.all(init.constant_(t, 0.25).data == 0.25)
    e = p((3, 5))
    init.eye_(e)
    np.testing.assert_array_equal(e.data, np.eye(3, 5))
    assert t.requires_grad and t.grad is None and t.is_leaf
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(p((2, 2, 2)))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(p((5,)))
    with pytest.raises(TypeError, match="float32"):
        init.zeros_(tn.tensor(np.arange(3)))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        init.kaiming_uniform_(p((0, 3)))
    assert any("no-op" in str(x.message) for x in w)


def test_init_determinism():
    tn.manual_seed(99)
    a, b = p((50, 40)), p((50, 40))
    init.xavier_uniform_(a)
    init.normal_(b)
    tn.manual_seed(99)
    c, d = p((50, 40)), p((50, 40))
    init.xavier_uniform_(c)
    init.normal_(d)
    assert a.data.tobytes() == c.data.tobytes() and b.data.tobytes() == d.data.tobytes()


# ----------------------------------------------------------------------------------- utils


def with_grads(*grads):
    ps = []
    for g in grads:
        q = p(g.shape)
        q.grad = tn.tensor(g)
        ps.append(q)
    return ps


def test_clip_grad_norm_scales_all_grads():
    g1, g2 = rand((3, 4), 11), rand((5,), 12)
    ps = with_grads(g1, g2)
    total = math.sqrt((g1.astype(np.float64) ** 2).sum() + (g2.astype(np.float64) ** 2).sum())
    out = nn.utils.clip_grad_norm_(ps, max_norm=1.0)
    assert isinstance(out, tn.Tensor) and out.shape == () and out.dtype == np.float32
    assert out.item() == pytest.approx(total, rel=1e-6)
    coef = 1.0 / (total + 1e-6)
    np.testing.assert_allclose(ps[0].grad.numpy(), g1 * coef, rtol=1e-6)
    np.testing.assert_allclose(ps[1].grad.numpy(), g2 * coef, rtol=1e-6)
    # below max_norm: untouched
    ps = with_grads(g1)
    nn.utils.clip_grad_norm_(ps, max_norm=1e6)
    np.testing.assert_array_equal(ps[0].grad.numpy(), g1)
    # inf norm, and a single tensor
    q = with_grads(g1)[0]
    out = nn.utils.clip_grad_norm_(q, 0.5, norm_type=math.inf)
    assert out.item() == pytest.approx(np.abs(g1).max())
    assert np.abs(q.grad.numpy()).max() == pytest.approx(0.5, rel=1e-5)
    assert nn.utils.clip_grad_norm_([p((2,))], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite():
    g = rand((4,), 13)
    g[1] = np.nan
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(with_grads(g), 1.0, error_if_nonfinite=True)
    ps = with_grads(g)
    out = nn.utils.clip_grad_norm_(ps, 1.0)
    assert math.isnan(out.item()) and np.all(np.isnan(ps[0].grad.numpy()))


def test_clip_grad_value():
    g = rand((6, 6), 14) * 3
    ps = with_grads(g)
    assert nn.utils.clip_grad_value_(ps, 0.5) is None
    np.testing.assert_array_equal(ps[0].grad.numpy(), np.clip(g, -0.5, 0.5))
