"""softmax / log_softmax kernels and F.softmax / F.log_softmax: fast vs the plain-loop reference
on awkward (outer, C, inner) shapes under every CPU variant, float64 formulas, finite-difference
gradients, NaN/inf, zero sizes, thread independence, torch parity and error inputs."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn
from turbonn import _core

from test_autograd import gradcheck

F = tn.nn.functional
NAMES = ["softmax", "log_softmax"]
# Zero sizes, 1, primes, one past 16-wide vectors, strided class axes (dim not last), large C.
SHAPES = [(0, 5), (3, 0), (1, 1), (2, 3), (5, 17), (3, 33), (7, 16), (4, 17, 3), (2, 5, 1, 7),
          (3, 31, 9), (2, 10000)]


def f64(name, x, dim):
    x = x.astype(np.float64)
    if x.size == 0:
        return x
    s = x - x.max(axis=dim, keepdims=True)
    lse = np.log(np.exp(s).sum(axis=dim, keepdims=True))
    return np.exp(s - lse) if name == "softmax" else s - lse


def grad64(name, dout, y, dim):
    dout, y = dout.astype(np.float64), y.astype(np.float64)
    if name == "softmax":
        return y * (dout - (dout * y).sum(axis=dim, keepdims=True))
    return dout - np.exp(y) * dout.sum(axis=dim, keepdims=True)


def fwd(name, x, dim, variant=None, out=None):
    return getattr(_core, f"{name}_forward")(x, dim, out, variant)


def bwd(name, dout, y, dim, dinp=None, accumulate=False, variant=None):
    return getattr(_core, f"{name}_backward")(dout, y, dim, dinp, accumulate, variant)


def data(shape, seed=0, scale=3.0):
    rng = np.random.default_rng(seed + sum(shape))
    return (rng.standard_normal(shape) * scale).astype(np.float32)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_forward_backward_fast_vs_reference(name, shape, isa):
    x, dout = data(shape), data(shape, 1, 1.0)
    for dim in range(-len(shape), len(shape)):
        ref, fast = fwd(name, x, dim, "ref"), fwd(name, x, dim)
        assert fast.shape == x.shape and fast.dtype == np.float32
        # log_softmax = (x - max) - log(sum): its rounding error scales with those terms (up to
        # ~20 here), not with the small results near 0 (the ASan build's -O1 rounds otherwise).
        scale = 1.0
        if name == "log_softmax":
            scale = float(np.abs(x).max(initial=0.0)) + np.log(max(x.size, 2))
        np.testing.assert_allclose(fast, ref, rtol=2e-6, atol=2e-7 * scale)
        np.testing.assert_allclose(fast, f64(name, x, dim), rtol=1e-5, atol=1e-6 * scale)
        for accumulate in (False, True):
            d0 = data(shape, 2) if accumulate else None
            gf = bwd(name, dout, ref, dim, None if d0 is None else d0.copy(), accumulate)
            gr = bwd(name, dout, ref, dim, None if d0 is None else d0.copy(), accumulate, "ref")
            exp = grad64(name, dout, ref, dim) + (0 if d0 is None else d0)
            np.testing.assert_allclose(gf, gr, rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(gf, exp, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("variant", [None, "ref"])
def test_nan_inf_and_large_values(variant, isa):
    x = np.array([[1000.0, 999.0, -1000.0],     # no overflow after the max shift
                  [np.nan, 1.0, 2.0],            # NaN poisons its own row only
                  [-np.inf, 0.0, 1.0],           # -inf gets probability 0
                  [-np.inf, -np.inf, -np.inf],   # torch: NaN (0/0)
                  [np.inf, 1.0, 0.0]], np.float32)  # torch: NaN (inf - inf)
    sm, lsm = fwd("softmax", x, 1, variant), fwd("log_softmax", x, 1, variant)
    np.testing.assert_allclose(sm[0], f64("softmax", x[:1], 1)[0], rtol=1e-6)
    np.testing.assert_allclose(lsm[0], f64("log_softmax", x[:1], 1)[0], rtol=1e-6)
    assert np.isnan(sm[1]).all() and np.isnan(lsm[1]).all()
    assert sm[2, 0] == 0.0 and lsm[2, 0] == -np.inf
    np.testing.assert_allclose(sm[2, 1:], f64("softmax", x[2:3, 1:], 1)[0], rtol=1e-6)
    assert np.isnan(sm[3]).all() and np.isnan(sm[4]).all()


def test_zero_d_and_empty():
    x = np.array(3.5, np.float32)
    assert fwd("softmax", x, 0) == 1.0 and fwd("log_softmax", x, -1) == 0.0
    for shape in [(0, 4), (4, 0), (0,), (2, 0, 3)]:
        x = np.zeros(shape, np.float32)
        for name in NAMES:
            for dim in range(len(shape)):
                assert fwd(name, x, dim).shape == shape
                assert bwd(name, x, x, dim).shape == shape
        t = tn.tensor(x, requires_grad=True)
        F.log_softmax(t, dim=-1).sum().backward()
        assert t.grad.shape == shape


@pytest.mark.parametrize("name", NAMES)
def test_strided_input_in_place_and_threads(name):
    base = data((6, 40, 8))
    view = base[:, ::3, 1:]  # not contiguous: a contiguous copy is computed on
    np.testing.assert_allclose(fwd(name, view, 1), f64(name, view, 1), rtol=1e-5, atol=1e-6)
    x = data((5, 7))
    exp = fwd(name, x, 1)
    assert fwd(name, x, 1, None, x) is x
    np.testing.assert_array_equal(x, exp)
    big = data((300, 1000))
    results = []
    for n in (1, 2):
        tn.set_num_threads(n)
        results.append((fwd(name, big, 1), fwd(name, big, 0), bwd(name, big, fwd(name, big, 1), 1)))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape,dim", [((3, 5), 1), ((3, 5), 0), ((2, 3, 4), 1), ((4,), 0)])
def test_functional_gradcheck(name, shape, dim):
    gradcheck(lambda x: getattr(F, name)(x, dim), lambda x: f64(name, x, dim), data(shape, 5, 1.0),
              rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape,dim", [((8, 13), -1), ((8, 13), 0), ((3, 17, 5), 1),
                                       ((2, 3, 4, 5), 2), ((1000,), 0)])
def test_against_torch(name, shape, dim):
    torch = pytest.importorskip("torch")
    x, g = data(shape, 7), data(shape, 8, 1.0)
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    yt = getattr(torch.nn.functional, name)(xt, dim)
    yt.backward(torch.tensor(g.astype(np.float64)))
    xn = tn.tensor(x, requires_grad=True)
    yn = getattr(F, name)(xn, dim)
    yn.backward(tn.tensor(g))
    np.testing.assert_allclose(yn.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)
    module = {"softmax": tn.nn.Softmax, "log_softmax": tn.nn.LogSoftmax}[name](dim)
    np.testing.assert_allclose(module(tn.tensor(x)).numpy(), yt.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_bad_inputs(name):
    f, b = getattr(tn.ops, f"{name}_forward"), getattr(tn.ops, f"{name}_backward")
    x = np.ones((2, 3), np.float32)
    with pytest.raises(TypeError, match="x"):
        f(x.astype(np.float64), 1)
    with pytest.raises(TypeError, match="x"):
        f([[1.0, 2.0]], 1)
    with pytest.raises(IndexError, match="dim"):
        f(x, 2)
    with pytest.raises(IndexError, match="dim"):
        b(x, x, -3)
    with pytest.raises(ValueError, match="out"):
        f(x, 1, out=np.ones((3, 2), np.float32))
    with pytest.raises(ValueError, match=r"dout .*\(2, 3\).*\(3, 2\)"):
        b(np.ones((3, 2), np.float32), x, 1)
    with pytest.raises(ValueError, match="dinp"):
        b(x, x, 1, accumulate=True)
    with pytest.raises(ValueError, match="dinp"):
        b(x, x, 1, dinp=np.ones(6, np.float32))
    with pytest.raises(ValueError, match="variant"):
        getattr(_core, f"{name}_forward")(x, 1, None, "avx9")
    fn = getattr(F, name)
    with pytest.raises(TypeError, match="float32"):
        fn(tn.tensor(np.arange(3)), 0)
    with pytest.raises(TypeError, match="dim"):
        fn(tn.tensor(x), 1.0)
    with pytest.raises(TypeError, match="dtype"):
        fn(tn.tensor(x), 1, dtype=np.float64)
    with pytest.raises(IndexError):
        fn(tn.tensor(x), 2)
    with pytest.raises(TypeError, match="input"):
        fn(x, 1)
