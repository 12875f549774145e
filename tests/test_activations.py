"""ReLU, sigmoid and tanh kernels: fast vs the plain-loop reference on awkward sizes, vs float64
formulas, analytic gradients vs central differences in float64, NaN/inf, errors, torch parity."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn
from turbonn import _core

NAMES = ["relu", "sigmoid", "tanh"]
# 0, 1, primes, one past a SIMD width, and sizes that split across threads (grain 65536).
SIZES = [0, 1, 2, 3, 5, 9, 17, 31, 33, 1000, 65537, 131073, 300007]


def f64(name, x):
    x = x.astype(np.float64)
    if name == "relu":
        return np.where(x < 0, 0.0, x)
    if name == "sigmoid":
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-x))
    return np.tanh(x)


def dfdy(name, y):
    """Derivative expressed through the output, in float64."""
    y = y.astype(np.float64)
    if name == "relu":
        return (y > 0).astype(np.float64)
    if name == "sigmoid":
        return y * (1 - y)
    return 1 - y * y


def fwd(name, x, variant=None, out=None):
    return getattr(_core, f"{name}_forward")(x, out, variant)


def bwd(name, dout, y, dinp=None, accumulate=False, variant=None):
    return getattr(_core, f"{name}_backward")(dout, y, dinp, accumulate, variant)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n", SIZES)
def test_forward_fast_vs_reference_and_float64(name, n, rng, isa):
    x = (rng.standard_normal(n) * 4).astype(np.float32)
    fast, ref = fwd(name, x), fwd(name, x, "ref")
    exp = f64(name, x)
    assert fast.shape == x.shape and fast.dtype == np.float32
    np.testing.assert_allclose(ref, exp, rtol=3e-7, atol=1e-7)
    np.testing.assert_allclose(fast, exp, rtol=3e-7, atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("accumulate", [False, True])
def test_backward_fast_vs_reference(name, n, accumulate, rng, isa):
    x = (rng.standard_normal(n) * 3).astype(np.float32)
    y = fwd(name, x, "ref")
    dout = rng.standard_normal(n).astype(np.float32)
    d0 = rng.standard_normal(n).astype(np.float32) if accumulate else None
    fast = bwd(name, dout, y, None if d0 is None else d0.copy(), accumulate)
    ref = bwd(name, dout, y, None if d0 is None else d0.copy(), accumulate, "ref")
    exp = dout.astype(np.float64) * dfdy(name, y) + (0 if d0 is None else d0)
    # FMA contraction in the AVX builds rounds dout * (1 - y * y) differently where it cancels.
    np.testing.assert_allclose(fast, ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(fast, exp, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_central_differences(name, rng):
    # Away from ReLU's kink; the float64 finite difference of the float64 formula checks that
    # backward(dout, forward(x)) is the derivative of forward at x.
    x = rng.uniform(-3, 3, 200).astype(np.float32)
    x = x[np.abs(x) > 1e-2]
    dout = rng.standard_normal(x.size).astype(np.float32)
    grad = bwd(name, dout, fwd(name, x))
    h = 1e-6
    x64 = x.astype(np.float64)
    fd = (f64(name, x64 + h) - f64(name, x64 - h)) / (2 * h) * dout
    np.testing.assert_allclose(grad, fd, rtol=2e-5, atol=2e-6)


def test_relu_kink_gets_no_gradient():
    x = np.array([-1.0, 0.0, -0.0, 2.0], np.float32)
    g = tn.ops.relu_backward(np.ones(4, np.float32), tn.ops.relu_forward(x))
    np.testing.assert_array_equal(g, [0, 0, 0, 1])


@pytest.mark.parametrize("variant", [None, "ref"])
@pytest.mark.parametrize("name", NAMES)
def test_nan_and_infinities(name, variant, isa):
    x = np.array([np.nan, np.inf, -np.inf, 88.0, -88.0, 100.0, -100.0, -1e-30, 0.3, -0.3],
                 np.float32)
    y = fwd(name, x, variant)
    assert np.isnan(y[0])
    exp = f64(name, x[1:])
    np.testing.assert_allclose(y[1:], exp, rtol=3e-7, atol=1e-30)
    assert np.isfinite(y[1:]).all() or name == "relu"


@pytest.mark.parametrize("name", NAMES)
def test_any_shape_strided_input_and_in_place(name, rng):
    base = rng.standard_normal((7, 10, 6)).astype(np.float32)
    view = base[:, ::3, 1:]  # not contiguous: computed on a contiguous copy
    got = fwd(name, view)
    np.testing.assert_allclose(got, f64(name, view), rtol=3e-7, atol=1e-7)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    exp = fwd(name, x)
    same = fwd(name, x, None, x)  # out= the input itself
    assert same is x
    np.testing.assert_array_equal(x, exp)


@pytest.mark.parametrize("name", NAMES)
def test_results_do_not_depend_on_threads(name, rng):
    x = rng.standard_normal(300007).astype(np.float32)
    results = []
    for n in (1, 2):
        tn.set_num_threads(n)
        results.append(fwd(name, x))
    tn.set_num_threads(2)
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("name", NAMES)
def test_bad_inputs(name):
    f = getattr(tn.ops, f"{name}_forward")
    b = getattr(tn.ops, f"{name}_backward")
    x = np.ones((2, 3), np.float32)
    with pytest.raises(TypeError, match="x"):
        f(x.astype(np.float64))
    with pytest.raises(TypeError, match="x"):
        f([1.0, 2.0])
    with pytest.raises(TypeError, match="x"):
        f(x.astype(">f4"))
    with pytest.raises(ValueError, match="out"):
        f(x, out=np.ones((3, 2), np.float32))
    with pytest.raises(ValueError, match="out"):
        f(x, out=np.ones((2, 3), np.float64))
    with pytest.raises(ValueError, match=r"dout and out .*\(2, 3\).*\(3, 2\)"):
        b(x, np.ones((3, 2), np.float32))
    with pytest.raises(ValueError, match="dinp"):
        b(x, x, accumulate=True)
    with pytest.raises(ValueError, match="dinp"):
        b(x, x, dinp=np.ones(6, np.float32))
    with pytest.raises(ValueError, match="variant"):
        getattr(_core, f"{name}_forward")(x, None, "avx9")


@pytest.mark.parametrize("name", NAMES)
def test_against_torch(name, rng):
    torch = pytest.importorskip("torch")
    x = (rng.standard_normal(1000) * 4).astype(np.float32)
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    yt = getattr(torch, name)(xt)
    dout = rng.standard_normal(1000).astype(np.float32)
    yt.backward(torch.tensor(dout.astype(np.float64)))
    y = fwd(name, x)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=3e-7, atol=1e-7)
    np.testing.assert_allclose(bwd(name, dout, y), xt.grad.numpy(), rtol=2e-6, atol=1e-6)
