"""layer_norm: the fast kernel against the plain-loop (double) reference under every CPU variant
on awkward shapes (N around the vector widths, primes, M = 0), bit-identical results for 1 and
2 threads, accuracy on rows with a large mean, float64 finite-difference gradchecks, torch
parity of F.layer_norm and nn.LayerNorm, NaN propagation, zero sizes and bad inputs."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn
from turbonn import _core, nn, ops

from test_autograd import gradcheck

F = nn.functional

NS = (1, 2, 15, 16, 17, 31, 33, 64, 100, 1000, 4097)
MS = (0, 1, 3, 257)


def arrays(M, N, seed=0, offset=3.0, scale=2.0):
    rng = np.random.default_rng(seed + 7 * M + N)
    x = (rng.standard_normal((M, N)) * scale + offset).astype(np.float32)
    w = rng.standard_normal(N).astype(np.float32)
    b = rng.standard_normal(N).astype(np.float32)
    g = rng.standard_normal((M, N)).astype(np.float32)
    return x, w, b, g


def oracle(x, w=None, b=None, eps=1e-5, axes=(-1,)):
    """float64 NumPy layer norm over `axes`: (out, mean, rstd)."""
    x = np.asarray(x, np.float64)
    mu = x.mean(axis=axes, keepdims=True)
    r = 1.0 / np.sqrt(((x - mu) ** 2).mean(axis=axes, keepdims=True) + eps)
    out = (x - mu) * r
    if w is not None:
        out = out * np.asarray(w, np.float64)
    if b is not None:
        out = out + np.asarray(b, np.float64)
    return out, mu, r


def both(x, w, b, g, k=1, **need):
    """(fast, ref): each (out, mean, rstd, dx, dweight, dbias); the backward of each variant
    runs from the reference's saved mean and rstd, so the two backwards see the same input."""
    res = []
    for variant in (None, "ref"):
        out, mean, rstd = _core.layer_norm_forward(x, k, w, b, variant=variant)
        res.append([out, mean, rstd])
    for r, variant in zip(res, (None, "ref")):
        r += _core.layer_norm_backward(g, x, res[1][1], res[1][2], k, w, variant=variant, **need)
    return res


def check_close(fast, ref, x, w, g):
    out, mean, rstd, dx, dw, db = fast
    rout, rmean, rrstd, rdx, rdw, rdb = ref
    big = lambda a: float(np.abs(a).max()) if a.size else 0.0  # noqa: E731
    np.testing.assert_allclose(out, rout, rtol=0, atol=1e-5 * max(1.0, big(rout)), err_msg="out")
    np.testing.assert_allclose(mean, rmean, rtol=0, atol=1e-6 * max(1.0, big(x)), err_msg="mean")
    np.testing.assert_allclose(rstd, rrstd, rtol=1e-5, err_msg="rstd")
    gw = np.abs(g * (1.0 if w is None else w)).astype(np.float64)
    # dx = rstd * (g - mean(g) - xhat * mean(g xhat)): its terms are rstd * |g w| large.
    dx_scale = max(big(rdx), big(rrstd[:, None] * gw)) if dx is not None else 0.0
    if dx is not None:
        np.testing.assert_allclose(dx, rdx, rtol=0, atol=2e-5 * dx_scale + 1e-30, err_msg="dx")
    xhat = (x.astype(np.float64) - rmean[:, None]) * rrstd[:, None]
    for name, got, exp, terms in (("dweight", dw, rdw, g * xhat), ("dbias", db, rdb, g)):
        if got is None:
            assert exp is None, name
            continue
        tol = 1e-5 * np.abs(terms).sum(axis=0) + 1e-30
        assert np.all(np.abs(got.astype(np.float64) - exp) <= tol), name


# ------------------------------------------------------------------- fast vs reference


@pytest.mark.parametrize("M", MS)
@pytest.mark.parametrize("N", NS)
def test_fast_matches_reference(isa, M, N):
    x, w, b, g = arrays(M, N)
    fast, ref = both(x, w, b, g)
    check_close(fast, ref, x, w, g)


@pytest.mark.parametrize("affine", ["none", "weight", "bias"])
@pytest.mark.parametrize("M, N", [(3, 17), (5, 1000)])
def test_affine_variants_and_skipped_gradients(isa, affine, M, N):
    x, w, b, g = arrays(M, N, seed=3)
    w = w if affine == "weight" else None
    b = b if affine == "bias" else None
    fast, ref = both(x, w, b, g)
    check_close(fast, ref, x, w, g)
    np.testing.assert_allclose(fast[0], oracle(x, w, b)[0],
                               atol=2e-5 * max(1, np.abs(fast[0]).max()))
    # Gradients not asked for are None; the others are the same bits.
    _, mean, rstd = fast[:3]
    full = _core.layer_norm_backward(g, x, mean, rstd, 1, w)
    dx, dw, db = _core.layer_norm_backward(g, x, mean, rstd, 1, w, need_dweight=False)
    assert dw is None
    np.testing.assert_array_equal(dx, full[0])
    np.testing.assert_array_equal(db, full[2])
    dx, dw, db = _core.layer_norm_backward(g, x, mean, rstd, 1, w, need_dinput=False,
                                           need_dbias=False)
    assert dx is None and db is None
    np.testing.assert_array_equal(dw, full[1])


def test_reference_matches_float64_oracle():
    x, w, b, g = arrays(6, 33, seed=4)
    out, mean, rstd = _core.layer_norm_forward(x, 1, w, b, eps=1e-3, variant="ref")
    eo, em, er = oracle(x, w, b, eps=1e-3)
    np.testing.assert_allclose(out, eo, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(mean, em[:, 0], rtol=1e-7)
    np.testing.assert_allclose(rstd, er[:, 0], rtol=1e-7)


def test_several_normalized_dims_are_one_row():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    w = rng.standard_normal((4, 5)).astype(np.float32)
    out, mean, rstd = ops.layer_norm_forward(x, 2, w, None)
    assert out.shape == x.shape and mean.shape == (2, 3) and rstd.shape == (2, 3)
    np.testing.assert_allclose(out, oracle(x, w, axes=(-2, -1))[0], atol=1e-5)
    full, m0, _ = ops.layer_norm_forward(x, 4)
    assert m0.shape == () and full.shape == x.shape
    dx, dw, db = ops.layer_norm_backward(np.ones_like(x), x, mean, rstd, 2, w)
    assert dx.shape == x.shape and dw.shape == (4, 5) and db.shape == (4, 5)


# ------------------------------------------------------------------- determinism, accuracy


@pytest.mark.parametrize("M, N", [(1000, 100), (2048, 768), (5, 40000)])
def test_bit_identical_for_1_and_2_threads(M, N):
    x, w, b, g = arrays(M, N, seed=6)
    runs = []
    for threads in (1, 2):
        tn.set_num_threads(threads)
        out, mean, rstd = ops.layer_norm_forward(x, 1, w, b)
        runs.append((out, mean, rstd) + ops.layer_norm_backward(g, x, mean, rstd, 1, w))
    for name, one, two in zip(("out", "mean", "rstd", "dx", "dweight", "dbias"), *runs):
        np.testing.assert_array_equal(one, two, err_msg=name)


@pytest.mark.parametrize("mean, std", [(1000.0, 1.0), (1e4, 0.5), (-300.0, 1e-2)])
def test_large_mean_rows_stay_accurate(isa, mean, std):
    """A float E[x^2] - E[x]^2 loses the whole variance here; the kernel must not."""
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((4, 4096)) * std + mean).astype(np.float32)
    out, m, r = ops.layer_norm_forward(x, 1)
    eo, em, er = oracle(x)
    np.testing.assert_allclose(out, eo, rtol=0, atol=1e-5 * np.abs(eo).max())
    np.testing.assert_allclose(m, em[:, 0], rtol=1e-7)
    np.testing.assert_allclose(r, er[:, 0], rtol=1e-5)
    g = rng.standard_normal(x.shape).astype(np.float32)
    fast = ops.layer_norm_backward(g, x, m, r, 1)
    ref = _core.layer_norm_backward(g, x, m, r, 1, variant="ref")
    for got, exp in zip(fast, ref):
        np.testing.assert_allclose(got, exp, rtol=0, atol=1e-4 * np.abs(exp).max())


def test_nan_in_nan_out(isa):
    x, w, b, g = arrays(3, 40, seed=8)
    x[1, 7] = np.nan
    for variant in (None, "ref"):
        out, mean, rstd = _core.layer_norm_forward(x, 1, w, b, variant=variant)
        assert np.isnan(out[1]).all() and np.isnan(mean[1]) and np.isnan(rstd[1])
        assert np.isfinite(out[[0, 2]]).all()
        dx, dw, db = _core.layer_norm_backward(g, x, mean, rstd, 1, w, variant=variant)
        assert np.isnan(dx[1]).all() and np.isfinite(dx[[0, 2]]).all()
        assert np.isnan(dw).all() and np.isfinite(db).all()


@pytest.mark.parametrize("variant", [None, "ref"])
def test_zero_sizes(variant):
    x = np.zeros((0, 5), np.float32)
    out, mean, rstd = _core.layer_norm_forward(x, 1, variant=variant)
    assert out.shape == (0, 5) and mean.shape == (0,)
    dx, dw, db = _core.layer_norm_backward(x, x, mean, rstd, 1, variant=variant)
    assert dx.shape == (0, 5) and not dw.any() and not db.any() and dw.shape == (5,)
    # An empty row: mean 0, rstd NaN (0/0 variance), as torch.
    x = np.zeros((3, 0), np.float32)
    out, mean, rstd = _core.layer_norm_forward(x, 1, variant=variant)
    assert out.shape == (3, 0) and (mean == 0).all() and np.isnan(rstd).all()
    dx, dw, db = _core.layer_norm_backward(x, x, mean, rstd, 1, variant=variant)
    assert dx.shape == (3, 0) and dw.shape == (0,) and db.shape == (0,)


# ------------------------------------------------------------------------------ autograd


def _np_layer_norm(shape, with_w, with_b):
    axes = tuple(range(-len(shape), 0))

    def f(x, *p):
        w = p[0] if with_w else None
        b = p[-1] if with_b else None
        return oracle(x, w, b, axes=axes)[0]
    return f


@pytest.mark.parametrize("shape, nshape, with_w, with_b", [
    ((3, 5), (5,), True, True), ((2, 3, 4), (3, 4), True, True), ((4, 6), (6,), False, False),
    ((2, 7), (7,), True, False), ((3, 1, 5), (1, 5), False, True)])
def test_gradcheck_float64(shape, nshape, with_w, with_b):
    rng = np.random.default_rng(9)
    arrs = [rng.standard_normal(shape).astype(np.float32)]
    if with_w:
        arrs.append(rng.uniform(0.5, 1.5, nshape).astype(np.float32))
    if with_b:
        arrs.append(rng.standard_normal(nshape).astype(np.float32))

    def f_tn(x, *p):
        w = p[0] if with_w else None
        b = p[-1] if with_b else None
        return F.layer_norm(x, nshape, w, b)
    gradcheck(f_tn, _np_layer_norm(nshape, with_w, with_b), *arrs, rtol=1e-3, atol=2e-4)


def test_only_the_gradients_needed():
    x, w, b, g = arrays(4, 9, seed=10)
    xt, wt, bt = tn.tensor(x), tn.tensor(w, requires_grad=True), tn.tensor(b)
    F.layer_norm(xt, 9, wt, bt).backward(tn.tensor(g))
    assert xt.grad is None and bt.grad is None
    _, mean, rstd = ops.layer_norm_forward(x, 1, w, b)
    np.testing.assert_array_equal(wt.grad.numpy(), ops.layer_norm_backward(g, x, mean, rstd, 1,
                                                                            w)[1])


def test_non_contiguous_input():
    x = np.random.default_rng(11).standard_normal((6, 4)).astype(np.float32)
    xt = tn.tensor(x, requires_grad=True)
    y = F.layer_norm(xt.T, (6,))
    np.testing.assert_allclose(y.detach().numpy(), oracle(x.T)[0], atol=1e-5)
    y.sum().backward()
    assert xt.grad.shape == (6, 4) and np.abs(xt.grad.numpy()).max() < 1e-5


def test_module_parameters_and_repr():
    m = nn.LayerNorm(64)
    assert repr(m) == "LayerNorm((64,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert (m.weight.data == 1).all() and (m.bias.data == 0).all()
    assert m.weight.shape == (64,) and sorted(m.state_dict()) == ["bias", "weight"]
    m2 = nn.LayerNorm([2, 3], eps=1e-3, bias=False)
    assert m2.normalized_shape == (2, 3) and m2.bias is None and m2.weight.shape == (2, 3)
    assert repr(m2) == "LayerNorm((2, 3), eps=0.001, elementwise_affine=True, bias=False)"
    m3 = nn.LayerNorm(5, elementwise_affine=False)
    assert m3.weight is None and m3.bias is None and not list(m3.parameters())


# ---------------------------------------------------------------------------- torch parity


TORCH_CASES = [  # (input shape, normalized_shape, elementwise_affine, bias, eps)
    ((2, 3, 64), 64, True, True, 1e-5), ((2, 3, 4), (3, 4), True, True, 1e-5),
    ((5, 16), (16,), False, True, 1e-5), ((4, 33), [33], True, False, 1e-5),
    ((3, 7), (7,), True, True, 0.1), ((2, 1, 5), (1, 5), True, True, 1e-5),
]


@pytest.mark.parametrize("shape, nshape, affine, bias, eps", TORCH_CASES)
def test_module_matches_torch(shape, nshape, affine, bias, eps):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    tm = torch.nn.LayerNorm(nshape, eps=eps, elementwise_affine=affine, bias=bias).double()
    m = nn.LayerNorm(nshape, eps=eps, elementwise_affine=affine, bias=bias)
    assert repr(m) == repr(tm)
    state = {k: rng.standard_normal(tuple(v.shape)).astype(np.float32)
             for k, v in tm.state_dict().items()}
    assert sorted(state) == sorted(m.state_dict())
    m.load_state_dict(state)
    tm.load_state_dict({k: torch.from_numpy(v.astype(np.float64)) for k, v in state.items()})
    xt = tn.tensor(x, requires_grad=True)
    xr = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
    y, yr = m(xt), tm(xr)
    y.backward(tn.tensor(g))
    yr.backward(torch.from_numpy(g.astype(np.float64)))
    np.testing.assert_allclose(y.detach().numpy(), yr.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xt.grad.numpy(), xr.grad.numpy(), rtol=1e-4, atol=1e-4)
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(getattr(m, name).grad.numpy(), p.grad.numpy(), rtol=1e-4,
                                   atol=1e-4, err_msg=name)


def test_functional_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    x = rng.standard_normal((3, 4, 10)).astype(np.float32)
    w = rng.standard_normal((4, 10)).astype(np.float32)
    b = rng.standard_normal((4, 10)).astype(np.float32)
    ts = [tn.tensor(a, requires_grad=True) for a in (x, w, b)]
    rs = [torch.from_numpy(a.astype(np.float64)).requires_grad_(True) for a in (x, w, b)]
    y = F.layer_norm(ts[0], (4, 10), ts[1], ts[2], eps=1e-4)
    yr = torch.nn.functional.layer_norm(rs[0], (4, 10), rs[1], rs[2], eps=1e-4)
    np.testing.assert_allclose(y.detach().numpy(), yr.detach().numpy(), rtol=1e-5, atol=1e-5)
    (y * y).sum().backward()
    (yr * yr).sum().backward()
    for t, r in zip(ts, rs):
        np.testing.assert_allclose(t.grad.numpy(), r.grad.numpy(), rtol=1e-4, atol=1e-4)
    # NaN rows agree too
    x[1, 2, 3] = np.nan
    y = F.layer_norm(tn.tensor(x), (10,)).numpy()
    yr = torch.nn.functional.layer_norm(torch.from_numpy(x), (10,)).numpy()
    np.testing.assert_array_equal(np.isnan(y), np.isnan(yr))


# ------------------------------------------------------------------------------ bad inputs


def _raises(exc, words, fn, *args, **kwargs):
    with pytest.raises(exc) as e:
        fn(*args, **kwargs)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_bad_inputs_functional():
    x = tn.tensor(np.zeros((2, 3, 32), np.float32))
    _raises(ValueError, ["normalized_shape=[64]", "[*, 64]", "size[2, 3, 32]"],
            F.layer_norm, x, (64,))
    _raises(ValueError, ["normalized_shape"], F.layer_norm, x, ())
    _raises(ValueError, ["normalized_shape=[2, 32]"], F.layer_norm, x, (2, 32))
    _raises(TypeError, ["normalized_shape"], F.layer_norm, x, (32.0,))
    _raises(ValueError, ["weight", "[31]", "[32]"], F.layer_norm, x, 32,
            tn.tensor(np.ones(31, np.float32)))
    _raises(ValueError, ["bias", "[1, 32]"], F.layer_norm, x, 32, None,
            tn.tensor(np.ones((1, 32), np.float32)))
    _raises(TypeError, ["weight"], F.layer_norm, x, 32, np.ones(32, np.float32))
    _raises(TypeError, ["input", "int64"], F.layer_norm, tn.tensor(np.zeros((2, 4), np.int64)), 4)
    _raises(TypeError, ["input"], F.layer_norm, np.zeros((2, 4), np.float32), 4)
    _raises(TypeError, ["input"], F.layer_norm, [[1.0, 2.0]], 2)
    _raises(TypeError, ["eps"], F.layer_norm, x, 32, eps="small")
    _raises(TypeError, ["dtype"], nn.LayerNorm, 8, dtype=np.float64)
    _raises(ValueError, ["normalized_shape"], nn.LayerNorm(16), x)


def test_bad_inputs_binding():
    x = np.zeros((2, 3, 8), np.float32)
    m = np.zeros((2, 3), np.float32)
    fwd, bwd = _core.layer_norm_forward, _core.layer_norm_backward
    _raises(TypeError, ["input", "float32", "float64"], fwd, x.astype(np.float64), 1)
    _raises(TypeError, ["input", "int32"], fwd, x.astype(np.int32), 1)
    _raises(TypeError, ["input", "list"], fwd, x.tolist(), 1)
    _raises(ValueError, ["normalized_ndim", "[1, 3]", "0"], fwd, x, 0)
    _raises(ValueError, ["normalized_ndim", "4"], fwd, x, 4)
    _raises(TypeError, ["normalized_ndim"], fwd, x, 1.0)
    _raises(ValueError, ["weight", "(8,)", "(3, 8)"], fwd, x, 1, np.zeros((3, 8), np.float32))
    _raises(ValueError, ["bias", "(3, 8)", "(8,)"], fwd, x, 2, None, np.zeros(8, np.float32))
    _raises(TypeError, ["weight", "float64"], fwd, x, 1, np.zeros(8))
    _raises(ValueError, ["variant"], fwd, x, 1, variant="fast")
    _raises(ValueError, ["dout", "(2, 3, 8)"], bwd, x[:1], x, m, m, 1)
    _raises(ValueError, ["mean", "(2, 3)"], bwd, x, x, m[:1], m, 1)
    _raises(ValueError, ["rstd", "(2,)"], bwd, x, x, m[:, 0], m[:, :1], 2)
    _raises(ValueError, ["weight", "(8,)"], bwd, x, x, m, m, 1, np.zeros(7, np.float32))
    _raises(TypeError, ["dout", "float64"], bwd, x.astype(np.float64), x, m, m, 1)


def test_exports():
    assert "LayerNorm" in tn.nn.__all__ and tn.nn.LayerNorm is tn.nn.normalization.LayerNorm
    assert "layer_norm" in F.__all__ and tn.functional.layer_norm is F.layer_norm
    assert {"layer_norm_forward", "layer_norm_backward"} <= set(ops.__all__)
