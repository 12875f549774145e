"""The dense-layer kernels (``ops.linear_forward`` / ``linear_backward``) and ``F.linear``:
every CPU variant and the reference against float64 NumPy on awkward shapes and strides,
accumulation, float64 finite differences, torch parity, and error inputs."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn
from turbonn import _core, ops

from test_autograd import gradcheck

SHAPES = [(1, 1, 1), (0, 3, 4), (3, 0, 4), (3, 4, 0), (2, 3, 5), (7, 13, 17), (15, 33, 9),
          (64, 10, 784), (29, 257, 31), (130, 65, 97)]


def _data(M, N, K, seed=0):
    rng = np.random.default_rng(seed + M * 1000 + N * 10 + K)
    x = rng.standard_normal((M, K)).astype(np.float32)
    w = rng.standard_normal((N, K)).astype(np.float32)
    b = rng.standard_normal(N).astype(np.float32)
    g = rng.standard_normal((M, N)).astype(np.float32)
    return x, w, b, g


def _tol(K):
    return 1e-5 * max(1.0, np.sqrt(max(K, 1))) * 8


@pytest.mark.parametrize("M,N,K", SHAPES)
@pytest.mark.parametrize("impl", ["ref", "fast"])
def test_forward_backward_vs_float64(isa, impl, M, N, K):
    x, w, b, g = _data(M, N, K)
    v = "ref" if impl == "ref" else None
    X, W, G = (a.astype(np.float64) for a in (x, w, g))
    for bias in (b, None):
        out = _core.linear_forward(x, w, bias, None, v)
        exp = X @ W.T + (0 if bias is None else bias)
        np.testing.assert_allclose(out, exp, rtol=_tol(K), atol=_tol(K))
    dx, dw, db = _core.linear_backward(g, x, w, True, True, True, None, None, None, False, v)
    np.testing.assert_allclose(dx, G @ W, rtol=_tol(N), atol=_tol(N))
    np.testing.assert_allclose(dw, G.T @ X, rtol=_tol(M), atol=_tol(M))
    np.testing.assert_allclose(db, G.sum(0), rtol=_tol(M), atol=_tol(M))
    assert dx.dtype == dw.dtype == db.dtype == np.float32


@pytest.mark.parametrize("M,N,K", [(5, 7, 3), (33, 17, 65)])
def test_fast_matches_reference_and_accumulates(isa, M, N, K):
    x, w, b, g = _data(M, N, K, seed=3)
    ref = _core.linear_backward(g, x, w, variant="ref")
    base = [np.full(s, 0.5, np.float32) for s in ((M, K), (N, K), (N,))]
    got = _core.linear_backward(g, x, w, dinp=base[0].copy(), dweight=base[1].copy(),
                                dbias=base[2].copy(), accumulate=True)
    for r, a, b0 in zip(ref, got, base):
        np.testing.assert_allclose(a, r + b0, rtol=1e-5, atol=1e-4)


def test_strided_inputs_are_read_in_place(isa):
    rng = np.random.default_rng(7)
    big_x = rng.standard_normal((9, 14)).astype(np.float32)
    big_w = rng.standard_normal((12, 10)).astype(np.float32)
    x = big_x[::2, 1::2]          # (5, 7), both strides > 1
    w = big_w[:7, :7].T[::-1]     # (7, 7) transposed, negative stride
    g = np.broadcast_to(np.float32(1.5), (5, 7))  # what sum().backward() feeds in
    out = ops.linear_forward(x, w)
    np.testing.assert_allclose(out, x @ w.T, rtol=1e-5, atol=1e-5)
    dx, dw, db = ops.linear_backward(g, x, w)
    np.testing.assert_allclose(dx, g @ w, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dw, g.T @ x, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(db, g.sum(0), rtol=1e-5, atol=1e-5)


def test_unneeded_gradients_are_none_and_nan_propagates():
    x, w, b, g = _data(4, 3, 2)
    dx, dw, db = ops.linear_backward(g, x, w, need_dinp=False, need_dbias=False)
    assert dx is None and db is None and dw.shape == w.shape
    x[1, 0] = np.nan
    out = ops.linear_forward(x, w, b)
    assert np.isnan(out[1]).all() and np.isfinite(np.delete(out, 1, 0)).all()


def test_results_do_not_depend_on_thread_count():
    x, w, b, g = _data(97, 300, 129, seed=5)
    res = []
    for n in (1, 2):
        tn.set_num_threads(n)
        res.append((ops.linear_forward(x, w, b),) + ops.linear_backward(g, x, w))
    for a, c in zip(*res):
        assert np.array_equal(a, c)


# ------------------------------------------------------------------------- autograd and torch


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (4,)])
def test_functional_linear_gradcheck(shape):
    rng = np.random.default_rng(11)
    x = rng.uniform(-1, 1, shape).astype(np.float32)
    w = rng.uniform(-1, 1, (5, 4)).astype(np.float32)
    b = rng.uniform(-1, 1, 5).astype(np.float32)
    gradcheck(lambda x, w, b: tn.nn.functional.linear(x, w, b),
              lambda x, w, b: x @ w.T + b, x, w, b)
    gradcheck(lambda x, w: tn.nn.functional.linear(x, w), lambda x, w: x @ w.T, x, w)


def test_grad_accumulates_over_two_backwards_and_is_not_shared():
    layer = tn.nn.Linear(3, 2)
    x = tn.tensor(np.ones((4, 3), np.float32))
    layer(x).sum().backward()
    first = layer.weight.grad.numpy().copy()
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), 2 * first, rtol=1e-6)
    layer.weight.grad.numpy()[:] = 0  # in place on .grad must not touch anything else
    assert layer.bias.grad.numpy()[0] == 8.0


def test_linear_module_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 2, 9)).astype(np.float32)
    tl = torch.nn.Linear(9, 5).double()
    ours = tn.nn.Linear(9, 5)
    ours.load_state_dict({k: v.float().numpy() for k, v in tl.state_dict().items()})
    xt = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
    xo = tn.tensor(x, requires_grad=True)
    yt, yo = tl(xt), ours(xo)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(yt.shape)
    yt.backward(torch.from_numpy(g))
    yo.backward(tn.tensor(g.astype(np.float32)))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.weight.grad.numpy(), tl.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(ours.bias.grad.numpy(), tl.bias.grad.numpy(), rtol=1e-5,
                               atol=1e-5)


# -------------------------------------------------------------------------------- bad inputs

F32 = np.zeros((3, 4), np.float32)
W32 = np.zeros((5, 4), np.float32)


@pytest.mark.parametrize("call,exc,words", [
    (lambda: ops.linear_forward(F32.astype(np.float64), W32), TypeError, "x"),
    (lambda: ops.linear_forward(F32, W32.astype(np.int64)), TypeError, "weight"),
    (lambda: ops.linear_forward(F32[0], W32), ValueError, "x must be 2-D"),
    (lambda: ops.linear_forward(F32, np.zeros((5, 3), np.float32)), ValueError, "in_features"),
    (lambda: ops.linear_forward(F32, W32, np.zeros(4, np.float32)), ValueError, "bias"),
    (lambda: ops.linear_forward(F32, W32, out=np.zeros((3, 4), np.float32)), ValueError, "out"),
    (lambda: ops.linear_forward(F32, W32, out=np.zeros((3, 5), np.float64)), ValueError, "out"),
    (lambda: ops.linear_forward(F32, W32, out=np.zeros((5, 3), np.float32).T), ValueError, "out"),
    (lambda: ops.linear_forward([[1.0]], W32), TypeError, "x"),
    (lambda: ops.linear_forward(F32.astype(">f4"), W32), TypeError, "byte order"),
    (lambda: ops.linear_backward(np.zeros((3, 4), np.float32), F32, W32), ValueError, "dout"),
    (lambda: ops.linear_backward(np.zeros((3, 5), np.float32), F32, W32, accumulate=True),
     ValueError, "accumulate"),
    (lambda: ops.linear_backward(np.zeros((3, 5), np.float32), F32, W32,
                                 dweight=np.zeros((4, 5), np.float32)), ValueError, "dweight"),
])
def test_bad_inputs_raise_naming_the_argument(call, exc, words):
    with pytest.raises(exc, match=words):
        call()


def test_out_overlapping_an_input_is_refused():
    buf = np.zeros(40, np.float32)
    x = buf[:12].reshape(3, 4)
    out = buf[10:25].reshape(3, 5)  # shares buf[10:12] with x
    with pytest.raises(ValueError, match="overlap"):
        ops.linear_forward(x, W32, out=out)


@pytest.mark.parametrize("call,exc,words", [
    (lambda: tn.nn.functional.linear(tn.tensor(F32), tn.tensor(np.zeros((5, 3), np.float32))),
     ValueError, "in_features"),
    (lambda: tn.nn.functional.linear(tn.tensor(F32), tn.tensor(np.zeros(4, np.float32))),
     ValueError, "weight must be 2-D"),
    (lambda: tn.nn.functional.linear(tn.tensor(F32), tn.tensor(W32),
                                     tn.tensor(np.zeros(3, np.float32))), ValueError, "bias"),
    (lambda: tn.nn.functional.linear(F32, tn.tensor(W32)), TypeError, "input"),
    (lambda: tn.nn.Linear(4, 5)(tn.tensor(np.zeros((2, 3), np.float32))), ValueError,
     "in_features=4"),
    (lambda: tn.nn.functional.linear(tn.tensor(np.zeros((3, 4), np.int64)), tn.tensor(W32)),
     TypeError, "float32"),
])
def test_functional_bad_inputs(call, exc, words):
    with pytest.raises(exc, match=words):
        call()
