"""The direct conv2d kernels (csrc/cpu/conv_direct*), which conv2d takes for one group, stride 1
and C*kH*kW <= 32: forward and backward under every CPU variant against the float64 oracle and
the plain-loop reference on awkward shapes, NaN propagation, null gradients, zero batch and
results that do not depend on the thread count. Nothing here times anything."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn
from turbonn import _core
from turbonn.nn import functional as F

from test_autograd import gradcheck
from test_conv import conv64, conv64_backward

# (N, C, H, W, O, kernel, padding, dilation); stride 1 and one group, so the direct path.
SHAPES = [
    (2, 1, 1, 1, 5, 1, 0, 1),                  # 1x1 image, 1x1 kernel
    (2, 3, 1, 1, 4, 3, 1, 1),                  # 1x1 image, 3x3 kernel all but its centre padding
    (1, 1, 5, 5, 3, 5, 0, 1),                  # kernel equal to the input, batch 1
    (1, 3, 4, 4, 2, 4, 0, 1),                  # the same with C = 3
    (2, 1, 3, 3, 2, 1, 2, 1),                  # padding wider than the kernel reaches
    (1, 3, 4, 5, 5, 3, 3, 1),                  # padding wider than the image's border
    (2, 1, 9, 11, 5, 3, 2, 2),                 # dilation 2
    (1, 3, 7, 7, 33, 3, 0, 2),                 # dilation 2, O one past a block
    (3, 1, 11, 13, 6, (3, 5), (1, 2), (1, 2)),  # per-axis kernel, padding, dilation
    (2, 2, 6, 9, 3, (2, 3), (1, 0), (2, 1)),
    (2, 2, 7, 6, 5, 4, 1, 1),                  # C*kH*kW = 32, the largest taken
    (2, 8, 5, 5, 7, 2, 1, 1),                  # ... with 8 channels
    (64, 1, 28, 28, 32, 3, 1, 1),              # MNIST's first layer, padded
    (8, 1, 28, 28, 6, 5, 0, 1),                # LeNet's first layer
    (2, 3, 32, 32, 64, 3, 1, 1),               # C = 3, O = 64
] + [
    (2, 1, 3, w, o, 3, 1, 1)                   # vector tails and block edges along the row
    for w, o in ((1, 1), (7, 5), (15, 32), (16, 33), (17, 1), (31, 5), (33, 32), (100, 33))
]


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _data(shape, seed=0):
    N, C, H, W, O, k, p, d = shape
    kh, kw = _pair(k)
    rng = np.random.default_rng(seed + N * 7 + C * 11 + H * 13 + W * 17 + O)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = rng.standard_normal((O, C, kh, kw)).astype(np.float32)
    b = rng.standard_normal(O).astype(np.float32)
    (ph, pw), (dh, dw) = _pair(p), _pair(d)
    OH, OW = H + 2 * ph - dh * (kh - 1), W + 2 * pw - dw * (kw - 1)
    go = rng.standard_normal((N, O, OH, OW)).astype(np.float32)
    return x, w, b, go, p, d


def _close(got, exp, scale, terms, what):
    """float32 against float64: the error budget grows with sqrt(terms) and each term's size."""
    assert got.dtype == np.float32 and got.shape == exp.shape, what
    tol = 1e-5 * max(1.0, np.sqrt(max(terms, 1)) / 4) * scale + 1e-6
    err = np.abs(got.astype(np.float64) - exp)
    assert (err <= tol).all(), f"{what}: max error {err.max():.3g}"


def _forward(x, w, b, p, d, variant=None):
    return _core.conv2d_forward(x, w, b, 1, p, d, None, variant, 1)


def _backward(go, x, w, p, d, variant=None, need=(True, True, True)):
    return _core.conv2d_backward(go, x, w, 1, p, d, *need, variant, 1)


@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_vs_float64_and_reference(isa, shape):
    x, w, b, go, p, d = _data(shape)
    K = w.shape[1] * w.shape[2] * w.shape[3]
    ax, aw, ag = np.abs(x), np.abs(w), np.abs(go)
    for bias in (b, None):
        out = _forward(x, w, bias, p, d)
        scale = conv64(ax, aw, None if bias is None else np.abs(bias), 1, p, d)
        _close(out, conv64(x, w, bias, 1, p, d), scale, K, "out")
        _close(out, _forward(x, w, bias, p, d, "ref").astype(np.float64), 2 * scale, K,
               "out vs ref")
    dx, dw, db = _backward(go, x, w, p, d)
    rx, rw, rb = _backward(go, x, w, p, d, "ref")
    ex, ew, eb = conv64_backward(go, x, w, 1, p, d)
    sx, sw, sb = conv64_backward(ag, ax, aw, 1, p, d)
    terms = go.shape[0] * go.shape[2] * go.shape[3]
    for got, ref, exp, scale, n, name in ((dx, rx, ex, sx, w.shape[0] * K, "dx"),
                                          (dw, rw, ew, sw, terms, "dweight"),
                                          (db, rb, eb, sb, terms, "dbias")):
        _close(got, exp, scale, n, name)
        _close(got, ref.astype(np.float64), 2 * scale, n, name + " vs ref")


def test_nan_in_input_propagates_as_in_reference(isa):
    x, w, b, go, p, d = _data((2, 1, 9, 19, 5, 3, 1, 1), seed=1)
    for pos in ((0, 0, 0, 0), (0, 0, 4, 9), (1, 0, 8, 18), (1, 0, 0, 17)):
        x[pos] = np.nan
    got, ref = _forward(x, w, b, p, d), _forward(x, w, b, p, d, "ref")
    assert np.isnan(got).any()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    for g, r, name in zip(_backward(go, x, w, p, d), _backward(go, x, w, p, d, "ref"),
                          ("dx", "dweight", "dbias")):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(r), err_msg=name)
    assert np.isnan(_backward(go, x, w, p, d)[1]).any()


def test_nan_in_dout_propagates_as_in_reference(isa):
    # Unpadded, so no tap of the NaN's window falls in the padding (where 0 * NaN is NaN for
    # the fast kernels, im2col's and the direct one alike, and the reference skips the tap).
    x, w, b, go, p, d = _data((2, 3, 8, 17, 6, 3, 0, 1), seed=2)
    go[0, 1, 0, 0] = go[1, 4, 3, 7] = np.nan
    for g, r, name in zip(_backward(go, x, w, p, d), _backward(go, x, w, p, d, "ref"),
                          ("dx", "dweight", "dbias")):
        assert np.isnan(g).any(), name
        np.testing.assert_array_equal(np.isnan(g), np.isnan(r), err_msg=name)


def test_null_gradients_match_the_full_call(isa):
    x, w, b, go, p, d = _data((3, 3, 10, 17, 5, 3, 1, 1), seed=3)
    full = _backward(go, x, w, p, d)
    for need in ((True, False, False), (False, True, False), (False, False, True),
                 (False, True, True), (True, False, True), (False, False, False)):
        got = _backward(go, x, w, p, d, need=need)
        for g, f, wanted in zip(got, full, need):
            if wanted:
                assert np.array_equal(g, f)
            else:
                assert g is None


def test_zero_batch(isa):
    x, w, b, go, p, d = _data((0, 1, 6, 6, 4, 3, 1, 1))
    assert _forward(x, w, b, p, d).shape == (0, 4, 6, 6)
    dx, dw, db = _backward(go, x, w, p, d)
    assert dx.shape == x.shape and not dw.any() and not db.any()


@pytest.mark.parametrize("shape", [(64, 1, 28, 28, 32, 3, 1, 1), (5, 3, 17, 17, 33, 3, 2, 1),
                                   (7, 1, 28, 28, 6, 5, 0, 1), (3, 2, 15, 31, 5, (3, 5), 1, 2)],
                         ids=str)
def test_one_and_two_threads_bit_identical(isa, shape):
    x, w, b, go, p, d = _data(shape, seed=4)
    results = []
    for n in (1, 2):
        tn.set_num_threads(n)
        results.append((_forward(x, w, b, p, d), *_backward(go, x, w, p, d)))
    for a, c, name in zip(*results, ("out", "dx", "dweight", "dbias")):
        assert np.array_equal(a, c, equal_nan=True), name


@pytest.mark.parametrize("p, d", [(1, 1), (2, 2), ((0, 3), (2, 1))], ids=str)
def test_gradcheck_single_channel(p, d):
    rng = np.random.default_rng(13)
    x = rng.uniform(-1, 1, (2, 1, 5, 6)).astype(np.float32)
    w = rng.uniform(-1, 1, (3, 1, 3, 2)).astype(np.float32)
    b = rng.uniform(-1, 1, 3).astype(np.float32)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, 1, p, d), lambda x, w, b: conv64(x, w, b, 1, p, d),
              x, w, b, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("shape", [(4, 1, 28, 28, 32, 3, 1, 1), (4, 1, 28, 28, 6, 5, 0, 1),
                                   (2, 3, 16, 16, 64, 3, 1, 1)], ids=str)
def test_torch_parity(shape):
    torch = pytest.importorskip("torch")
    x, w, b, go, p, d = _data(shape, seed=5)
    tx, tw, tb = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, w, b))
    tout = torch.nn.functional.conv2d(tx, tw, tb, 1, p, d)
    tout.backward(torch.tensor(go, dtype=torch.float64))
    np.testing.assert_allclose(_forward(x, w, b, p, d), tout.detach().numpy(), rtol=1e-4,
                               atol=1e-4)
    for mine, theirs, name in zip(_backward(go, x, w, p, d), (tx, tw, tb),
                                  ("input", "weight", "bias")):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-4, atol=2e-4, err_msg=name)
