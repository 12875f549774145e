"""Cross entropy, nll, binary cross entropy (probabilities and logits) and mse: fast kernels vs the
plain-loop references on awkward shapes under every CPU variant, float64 finite-difference
gradients of the functionals, torch parity for every option, error inputs and the modules."""
from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest

import turbonn as tn
from turbonn import _core

from test_autograd import gradcheck

F = tn.nn.functional
nn = tn.nn
REDUCTIONS = ["none", "mean", "sum"]


def rng_for(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def class_data(shape, seed=0, ignore=-100, prob=False):
    """logits, targets (indices with some ignore_index, or probabilities) and a class weight."""
    rng = rng_for(shape, seed)
    x = (rng.standard_normal(shape) * 2).astype(np.float32)
    C = shape[0] if len(shape) == 1 else shape[1]
    w = rng.uniform(0.2, 2.0, C).astype(np.float32)
    if prob:
        q = rng.uniform(0, 1, shape).astype(np.float32)
        return x, (q / q.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)).astype(np.float32), w
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = rng.integers(0, max(C, 1), tshape).astype(np.int64)
    if t.size > 2:
        t.flat[::3] = ignore
    return x, t, w


# ------------------------------------------------------------------------ float64 formulas


def _log_softmax64(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return (x - m) - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def ce64(x, t, w=None, ignore_index=-100, eps=0.0, reduction="mean"):
    """torch's cross_entropy in float64 NumPy, class-index or probability targets."""
    x = np.asarray(x, np.float64)
    unbatched = x.ndim == 1
    if unbatched:
        x, t = x[None], np.asarray(t)[None]
    C = x.shape[1]
    W = np.ones(C) if w is None else np.asarray(w, np.float64)
    lsm = np.moveaxis(_log_softmax64(x, 1), 1, -1)  # (N, d..., C)
    if np.asarray(t).dtype.kind == "f":
        q = (1 - eps) * np.moveaxis(np.asarray(t, np.float64), 1, -1) + eps / C
        loss = -(lsm * q * W).sum(-1)
        denom = loss.size
    else:
        valid = t != ignore_index
        tc = np.where(valid, t, 0)
        nll = -np.take_along_axis(lsm, tc[..., None], -1)[..., 0] * W[tc]
        loss = np.where(valid, (1 - eps) * nll - eps / C * (lsm * W).sum(-1), 0.0)
        denom = (W[tc] * valid).sum()
    if reduction == "none":
        return loss[0] if unbatched else loss
    with np.errstate(invalid="ignore"):  # an empty batch or all targets ignored: NaN, as torch
        return loss.sum() if reduction == "sum" else loss.sum() / denom


def bce64(x, t, w=None, reduction="mean"):
    x, t = np.asarray(x, np.float64), np.asarray(t, np.float64)
    with np.errstate(divide="ignore"):
        loss = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))
    return _reduce(loss * (1 if w is None else w), reduction)


def bcel64(x, t, w=None, pw=None, reduction="mean"):
    x, t = np.asarray(x, np.float64), np.asarray(t, np.float64)
    lw = 1 if pw is None else 1 + (pw - 1) * t
    loss = (1 - t) * x + lw * (np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x))))
    return _reduce(loss * (1 if w is None else w), reduction)


def mse64(x, t, w=None, reduction="mean"):
    loss = (np.asarray(x, np.float64) - t) ** 2 * (1 if w is None else w)
    return _reduce(loss, reduction, loss.size if w is None else np.sum(w))


def _reduce(loss, reduction, divisor=None):
    if reduction == "none":
        return loss
    with np.errstate(invalid="ignore"):  # mean of nothing: NaN, as torch
        return loss.sum() / (loss.size if divisor is None else divisor) if reduction == "mean" \
            else loss.sum()


# -------------------------------------------------------------- fast kernels vs references

CLASS_SHAPES = [(0, 5), (1, 1), (3, 2), (5, 17), (4, 33), (7, 16), (2, 3, 5), (2, 5, 3, 4),
                (3, 7, 1), (7,), (1,), (2, 10000)]


def _assert_close(a, b, rtol, atol, what):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol, err_msg=what)


@pytest.mark.parametrize("shape", CLASS_SHAPES, ids=str)
@pytest.mark.parametrize("prob", [False, True], ids=["index", "prob"])
def test_cross_entropy_fast_vs_reference(shape, prob, isa):
    x, t, w = class_data(shape, prob=prob)
    for weight in (None, w):
        for eps in (0.0, 0.25):
            for red in REDUCTIONS:
                what = f"weight={weight is not None} eps={eps} {red}"
                fast = _core.cross_entropy_forward(x, t, weight, -100, eps, red, True)
                ref = _core.cross_entropy_forward(x, t, weight, -100, eps, red, True, "ref")
                for a, b in zip(fast[:3], ref[:3]):
                    _assert_close(a, b, 2e-5, 2e-5, what)
                _assert_close(fast[0], ce64(x, t, weight, -100, eps, red), 1e-4, 1e-5, what)
                if prob:  # the fused gradient is for class indices only
                    assert fast[3] is None and ref[3] is None
                else:  # the forward's gradient is the backward's for dloss = 1
                    ones = np.ones(np.shape(fast[0]), np.float32)
                    d1, _ = _core.cross_entropy_backward(ones, x, t, ref[1], float(ref[2]), weight,
                                                         -100, eps, red, False, None, False, "ref")
                    _assert_close(fast[3], d1, 1e-5, 1e-6, what)
                    _assert_close(ref[3], d1, 1e-6, 1e-7, what)
                g = rng_for(shape, red).standard_normal(np.shape(fast[0])).astype(np.float32)
                args = (g, x, t, ref[1], float(ref[2]), weight, -100, eps, red, prob)
                df, tf = _core.cross_entropy_backward(*args, None, False)
                dr, tr = _core.cross_entropy_backward(*args, None, False, "ref")
                _assert_close(df, dr, 1e-5, 1e-6, what)
                if prob:
                    _assert_close(tf, tr, 1e-5, 1e-5, what)
                d0 = np.ones_like(x)  # accumulate adds to what is there
                da, _ = _core.cross_entropy_backward(*args, d0, True)
                assert da is d0
                _assert_close(da, dr + 1, 1e-5, 1e-6, what)


@pytest.mark.parametrize("shape", [(0, 5), (3, 2), (5, 17), (2, 5, 3, 4), (7,), (2, 10000)],
                         ids=str)
def test_nll_fast_vs_reference(shape, isa):
    x, t, w = class_data(shape, ignore=1)
    for weight in (None, w):
        for red in REDUCTIONS:
            fast = _core.nll_loss_forward(x, t, weight, 1, red)
            ref = _core.nll_loss_forward(x, t, weight, 1, red, "ref")
            for a, b in zip(fast, ref):
                _assert_close(a, b, 1e-5, 1e-6, red)
            g = np.full(np.shape(fast[0]), 0.5, np.float32)
            df = _core.nll_loss_backward(g, x, t, float(fast[1]), weight, 1, red)
            dr = _core.nll_loss_backward(g, x, t, float(fast[1]), weight, 1, red, None, False,
                                         "ref")
            _assert_close(df, dr, 1e-6, 1e-7, red)


POINT_SIZES = [0, 1, 2, 3, 5, 17, 33, 4097, 70001]


@pytest.mark.parametrize("n", POINT_SIZES)
def test_pointwise_losses_fast_vs_reference(n, isa):
    rng = rng_for("point", n)
    x = rng.uniform(0.01, 0.99, n).astype(np.float32)
    z = (rng.standard_normal(n) * 4).astype(np.float32)
    t = rng.uniform(0, 1, n).astype(np.float32)
    w, pw = rng.uniform(0.5, 2, n).astype(np.float32), rng.uniform(0.5, 3, n).astype(np.float32)
    cases = [("binary_cross_entropy", x, (w,), bce64), ("binary_cross_entropy_with_logits", z,
             (w, pw), bcel64), ("mse_loss", z, (w,), mse64)]
    for name, inp, extras, oracle in cases:
        for opts in [(None,) * len(extras), extras]:
            for red in REDUCTIONS:
                fwd, bwd = getattr(_core, f"{name}_forward"), getattr(_core, f"{name}_backward")
                fast, ref = fwd(inp, t, *opts, red), fwd(inp, t, *opts, red, "ref")
                if name == "mse_loss":
                    (fast, tw), (ref, _) = fast, ref
                _assert_close(fast, ref, 1e-5, 1e-6, f"{name} {red}")
                _assert_close(fast, oracle(inp, t, *opts, reduction=red), 1e-4, 1e-5, name)
                g = np.full(np.shape(fast), 0.75, np.float32)
                mid = (float(tw),) if name == "mse_loss" else ()
                args = (g, inp, t) + mid + opts + (red, True)
                (df, tf), (dr, tr) = bwd(*args), bwd(*args, None, False, "ref")
                _assert_close(df, dr, 1e-5, 1e-6, f"{name} {red} dinput")
                _assert_close(tf, tr, 1e-5, 1e-6, f"{name} {red} dtarget")


def test_reductions_do_not_depend_on_threads():
    x, t, w = class_data((600, 700))
    z = rng_for("threads").standard_normal(300007).astype(np.float32)
    out = []
    for n in (1, 2):
        tn.set_num_threads(n)
        out.append([*_core.cross_entropy_forward(x, t, w, -100, 0.1, "mean", True)[::3],
                    _core.mse_loss_forward(z, z[::-1].copy(), None, "sum")[0],
                    _core.binary_cross_entropy_with_logits_forward(z, np.abs(np.tanh(z)))])
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


def test_cross_entropy_nan_and_extremes():
    x = np.array([[np.nan, 1.0, 2.0], [1000.0, -1000.0, 0.0], [0.0, 0.0, 0.0]], np.float32)
    loss, lse, _, _ = _core.cross_entropy_forward(x, np.array([1, 0, 2]), None, -100, 0.0, "none")
    assert np.isnan(loss[0]) and loss[1] == 0.0
    np.testing.assert_allclose(loss[2], np.log(3), rtol=1e-6)
    dx, _ = _core.cross_entropy_backward(np.ones(3, np.float32), x, np.array([1, 0, 2]), lse, 3.0,
                                         None, -100, 0.0, "none")
    assert np.isnan(dx[0]).all() and np.isfinite(dx[1:]).all()
    # every target ignored: mean is 0/0 = NaN (torch), gradients 0
    t = np.full(3, -100)
    loss, lse, tw, dx1 = _core.cross_entropy_forward(x[1:], t[:2], need_dinput=True)
    assert np.isnan(loss) and tw == 0
    dx, _ = _core.cross_entropy_backward(np.ones((), np.float32), x[1:], t[:2], lse, float(tw))
    np.testing.assert_array_equal(dx, 0)
    np.testing.assert_array_equal(dx1, 0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_fused_gradient_in_autograd(reduction):
    """loss.backward() takes the forward's gradient; other seeds and a retained graph's second
    backward take the backward kernel, with the same result."""
    x, t, w = class_data((6, 7), 9)
    xt = tn.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xt, tn.tensor(t), tn.tensor(w), reduction=reduction)
    seed = np.ones(loss.shape, np.float32)
    loss.backward(tn.tensor(seed), retain_graph=True)
    first = xt.grad.numpy().copy()
    xt.grad = None
    loss.backward(tn.tensor(seed))  # recomputed from the saved lse
    np.testing.assert_allclose(xt.grad.numpy(), first, rtol=1e-5, atol=1e-7)
    xt.grad = None
    F.cross_entropy(xt, tn.tensor(t), tn.tensor(w), reduction=reduction).backward(
        tn.tensor(seed * 3))
    np.testing.assert_allclose(xt.grad.numpy(), 3 * first, rtol=1e-5, atol=1e-7)
    assert _core.cross_entropy_forward(x, t, w, -100, 0.0, reduction)[3] is None  # not asked


# ------------------------------------------------------------- float64 finite differences


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 2), (5,)], ids=str)
@pytest.mark.parametrize("opts", [dict(), dict(weight=True, ignore_index=2),
                                  dict(label_smoothing=0.3, weight=True, reduction="sum"),
                                  dict(reduction="none", label_smoothing=0.1)], ids=str)
def test_cross_entropy_gradcheck(shape, opts):
    x, t, w = class_data(shape, 3)
    t = np.where((t == -100) | (t == 2), 1, t)
    if t.ndim:
        t.flat[0] = 2  # ignored when ignore_index=2
    kw = dict(opts, weight=w if opts.get("weight") else None)
    ii = kw.get("ignore_index", -100)
    kw64 = dict(w=kw["weight"], ignore_index=ii, eps=kw.get("label_smoothing", 0.0),
                reduction=kw.get("reduction", "mean"))
    tw = None if kw["weight"] is None else tn.tensor(kw["weight"])
    gradcheck(lambda a: F.cross_entropy(a, tn.tensor(t), **dict(kw, weight=tw)),
              lambda a: ce64(a, t, **kw64), x, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2)], ids=str)
def test_cross_entropy_probability_gradcheck(shape):
    x, q, w = class_data(shape, 4, prob=True)
    gradcheck(lambda a, b: F.cross_entropy(a, b, tn.tensor(w), label_smoothing=0.2),
              lambda a, b: ce64(a, b, w, eps=0.2), x, q, rtol=2e-4, atol=2e-5)


def test_nll_and_pointwise_gradcheck():
    x, t, w = class_data((4, 5), 5)
    t = np.where(t == -100, 0, t)
    lsm = _log_softmax64(x.astype(np.float64), 1).astype(np.float32)
    gradcheck(lambda a: F.nll_loss(a, tn.tensor(t), tn.tensor(w), reduction="sum"),
              lambda a: np.sum(-np.take_along_axis(a, t[:, None], 1)[:, 0] * w[t]), lsm)
    rng = rng_for("gc")
    p = rng.uniform(0.1, 0.9, (3, 4)).astype(np.float32)
    z = rng.standard_normal((3, 4)).astype(np.float32)
    y = rng.uniform(0, 1, (3, 4)).astype(np.float32)
    wc, pw = rng.uniform(0.5, 2, 4).astype(np.float32), rng.uniform(0.5, 3, 4).astype(np.float32)
    gradcheck(lambda a, b: F.binary_cross_entropy(a, b, tn.tensor(wc)),
              lambda a, b: bce64(a, b, wc), p, y, rtol=2e-4, atol=2e-5)
    gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, tn.tensor(wc), reduction="sum",
                                                              pos_weight=tn.tensor(pw)),
              lambda a, b: bcel64(a, b, wc, pw, "sum"), z, y, rtol=2e-4, atol=2e-5)
    wm = rng.uniform(0.5, 2, (3, 4)).astype(np.float32)
    gradcheck(lambda a, b: F.mse_loss(a, b, weight=tn.tensor(wm)),
              lambda a, b: mse64(a, b, wm), z, y, rtol=2e-4, atol=2e-5)
    gradcheck(lambda a, b: F.mse_loss(a, b, reduction="none"),
              lambda a, b: mse64(a, b, reduction="none"), z, y, rtol=2e-4, atol=2e-5)


# ---------------------------------------------------------------------------- torch parity


def _tw(torch, w):
    """An optional float32 weight as a float64 torch tensor."""
    return None if w is None else torch.from_numpy(w).double()


def _nw(w):
    return None if w is None else tn.tensor(w)


def _torch_pair(torch, *arrays, grad=True):
    """float64 torch leaves and float32 turbonn leaves of the same data."""
    ts = [torch.tensor(a.astype(np.float64), requires_grad=grad) for a in arrays]
    ns = [tn.tensor(a, requires_grad=grad) for a in arrays]
    return ts, ns


def _compare(torch, lt, ln, ts, ns, rtol=2e-5, atol=2e-6):
    np.testing.assert_allclose(ln.detach().numpy(), lt.detach().numpy(), rtol=rtol, atol=atol)
    g = np.asarray(rng_for("g", tuple(lt.shape)).uniform(0.5, 1.5, tuple(lt.shape)))
    lt.backward(torch.tensor(g))
    ln.backward(tn.tensor(g.astype(np.float32)))
    for k, (a, b) in enumerate(zip(ts, ns)):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=rtol * 5, atol=atol * 5,
                                   err_msg=f"gradient of input {k}")


@pytest.mark.parametrize("shape", [(6, 5), (4, 5, 3), (3, 4, 2, 2), (5,)], ids=str)
@pytest.mark.parametrize("prob", [False, True], ids=["index", "prob"])
def test_cross_entropy_against_torch(shape, prob):
    torch = pytest.importorskip("torch")
    x, t, w = class_data(shape, 6, ignore=2, prob=prob)
    for weight in (None, w):
        for ignore_index in (-100,) if prob else (-100, 2):  # torch: not for probabilities
            for eps in (0.0, 0.3):
                for red in REDUCTIONS:
                    (xt, *qt), (xn, *qn) = _torch_pair(torch, x, *([t] if prob else []))
                    tt = qt[0] if prob else torch.from_numpy(t)
                    tnn = qn[0] if prob else tn.tensor(t)
                    kw = dict(ignore_index=ignore_index, reduction=red, label_smoothing=eps)
                    lt = torch.nn.functional.cross_entropy(xt, tt, _tw(torch, weight), **kw)
                    ln = F.cross_entropy(xn, tnn, _nw(weight), **kw)
                    _compare(torch, lt, ln, [xt] + qt, [xn] + qn)
                    mod = nn.CrossEntropyLoss(_nw(weight), **kw)
                    np.testing.assert_allclose(mod(tn.tensor(x), tnn.detach()).numpy(),
                                               lt.detach().numpy(), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("shape", [(6, 5), (4, 5, 3), (5,)], ids=str)
def test_nll_loss_against_torch(shape):
    torch = pytest.importorskip("torch")
    x, t, w = class_data(shape, 7, ignore=3)
    x = _log_softmax64(x.astype(np.float64), 0 if len(shape) == 1 else 1).astype(np.float32)
    for weight in (None, w):
        for ignore_index in (-100, 3):
            for red in REDUCTIONS:
                (xt,), (xn,) = _torch_pair(torch, x)
                kw = dict(ignore_index=ignore_index, reduction=red)
                lt = torch.nn.functional.nll_loss(xt, torch.from_numpy(t), _tw(torch, weight), **kw)
                ln = F.nll_loss(xn, tn.tensor(t), _nw(weight), **kw)
                _compare(torch, lt, ln, [xt], [xn])
                ln2 = nn.NLLLoss(_nw(weight), **kw)(tn.tensor(x), tn.tensor(t))
                np.testing.assert_allclose(ln2.numpy(), lt.detach().numpy(), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("red", REDUCTIONS)
def test_binary_cross_entropy_against_torch(red):
    torch = pytest.importorskip("torch")
    rng = rng_for("bce", red)
    x = rng.uniform(0.02, 0.98, (5, 4)).astype(np.float32)
    x[0, :3] = [0.0, 1.0, 1e-30]  # clamped logs, torch's 1e-12 gradient guard
    t = rng.uniform(0, 1, (5, 4)).astype(np.float32)
    t[0, :2] = [1.0, 0.0]
    w = rng.uniform(0.5, 2, 4).astype(np.float32)
    for weight in (None, w):
        (xt, tt), (xn, tnn) = _torch_pair(torch, x, t)
        lt = torch.nn.functional.binary_cross_entropy(xt, tt, _tw(torch, weight), reduction=red)
        ln = F.binary_cross_entropy(xn, tnn, _nw(weight), reduction=red)
        _compare(torch, lt, ln, [xt, tt], [xn, tnn])
        lm = nn.BCELoss(_nw(weight), reduction=red)
        np.testing.assert_allclose(lm(tn.tensor(x), tn.tensor(t)).numpy(), lt.detach().numpy(),
                                   rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("red", REDUCTIONS)
def test_binary_cross_entropy_with_logits_against_torch(red):
    torch = pytest.importorskip("torch")
    rng = rng_for("bcel", red)
    x = (rng.standard_normal((6, 3)) * 3).astype(np.float32)
    x[0] = [100.0, -100.0, 0.0]  # stable for large logits
    t = rng.uniform(0, 1, (6, 3)).astype(np.float32)
    w = rng.uniform(0.5, 2, (6, 1)).astype(np.float32)
    pw = rng.uniform(0.5, 4, 3).astype(np.float32)
    for weight, pos in [(None, None), (w, None), (None, pw), (w, pw)]:
        (xt, tt), (xn, tnn) = _torch_pair(torch, x, t)
        kw_t = dict(weight=_tw(torch, weight), pos_weight=_tw(torch, pos))
        kw_n = dict(weight=_nw(weight), pos_weight=_nw(pos))
        lt = torch.nn.functional.binary_cross_entropy_with_logits(xt, tt, reduction=red, **kw_t)
        ln = F.binary_cross_entropy_with_logits(xn, tnn, reduction=red, **kw_n)
        _compare(torch, lt, ln, [xt, tt], [xn, tnn])
        lm = nn.BCEWithLogitsLoss(reduction=red, **kw_n)(tn.tensor(x), tn.tensor(t))
        np.testing.assert_allclose(lm.numpy(), lt.detach().numpy(), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("red", REDUCTIONS)
def test_mse_loss_against_torch(red):
    torch = pytest.importorskip("torch")
    rng = rng_for("mse", red)
    x, t = (rng.standard_normal((7, 5)).astype(np.float32) for _ in range(2))
    w = rng.uniform(0.5, 2, (7, 5)).astype(np.float32)
    for weight in (None, w):
        (xt, tt), (xn, tnn) = _torch_pair(torch, x, t)
        lt = torch.nn.functional.mse_loss(xt, tt, reduction=red, weight=_tw(torch, weight))
        ln = F.mse_loss(xn, tnn, reduction=red, weight=_nw(weight))
        _compare(torch, lt, ln, [xt, tt], [xn, tnn])
    # torch broadcasts mismatched shapes (with a warning); gradients sum back
    (xt, tt), (xn, tnn) = _torch_pair(torch, x[:, :1], t[0])
    with pytest.warns(UserWarning, match="different to the input size"):
        ln = F.mse_loss(xn, tnn, reduction=red)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lt = torch.nn.functional.mse_loss(xt, tt, reduction=red)
    _compare(torch, lt, ln, [xt, tt], [xn, tnn])


def test_modules_repr_buffers_and_legacy_reduction():
    torch = pytest.importorskip("torch")
    w = tn.tensor(np.ones(3, np.float32))
    for ours, theirs in [(nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
                         (nn.NLLLoss(), torch.nn.NLLLoss()), (nn.BCELoss(), torch.nn.BCELoss()),
                         (nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss()),
                         (nn.MSELoss(), torch.nn.MSELoss())]:
        assert repr(ours) == repr(theirs)
        assert ours.reduction == theirs.reduction
    assert list(nn.CrossEntropyLoss(weight=w).state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(w, pos_weight=w).state_dict()) == ["weight", "pos_weight"]
    assert nn.CrossEntropyLoss(label_smoothing=0.1, ignore_index=3).ignore_index == 3
    with pytest.warns(UserWarning, match="reduction='sum'"):
        m = nn.MSELoss(size_average=False)
    assert m.reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        out = F.cross_entropy(tn.tensor(np.zeros((2, 3), np.float32)), tn.tensor(np.array([0, 1])),
                              reduce=False)
    assert out.shape == (2,)


# ---------------------------------------------------------------------------- error inputs


def test_cross_entropy_errors():
    x = tn.tensor(np.zeros((4, 3), np.float32))
    t = tn.tensor(np.array([0, 1, 2, 0]))
    with pytest.raises(TypeError, match="input"):
        F.cross_entropy(np.zeros((4, 3), np.float32), t)
    with pytest.raises(TypeError, match="input.*float32"):
        F.cross_entropy(tn.tensor(np.zeros((4, 3), np.int64)), t)
    with pytest.raises(ValueError, match=r"input must be \(C,\), \(N, C\)"):
        F.cross_entropy(tn.tensor(np.float32(1.0)), tn.tensor(np.int64(0)))
    with pytest.raises(ValueError, match=r"target must have shape \(4,\)"):
        F.cross_entropy(x, tn.tensor(np.array([0, 1, 2])))
    with pytest.raises(ValueError, match=r"target must have shape \(4, 3\)"):  # probabilities
        F.cross_entropy(x, tn.tensor(np.zeros((4, 2), np.float32)))
    with pytest.raises(IndexError, match=r"target 3 .*\[0, 3\)"):
        F.cross_entropy(x, tn.tensor(np.array([0, 1, 3, 0])))
    with pytest.raises(IndexError, match="target -1"):
        F.cross_entropy(x, tn.tensor(np.array([0, -1, 2, 0])))
    with pytest.raises(TypeError, match="target.*dtype bool"):
        F.cross_entropy(x, tn.tensor(np.array([True, False, True, True])))
    with pytest.raises(TypeError, match="target"):
        F.cross_entropy(x, [0, 1, 2, 0])
    with pytest.raises(TypeError, match="target"):
        tn.ops.cross_entropy_forward(x.numpy(), np.zeros((4, 3)))  # float64 probabilities
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(x, t, weight=tn.tensor(np.ones(4, np.float32)))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.cross_entropy(x, t, reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, t, label_smoothing=1.5)
    with pytest.raises(ValueError, match="ignore_index is not supported for floating point"):
        F.cross_entropy(x, tn.tensor(np.zeros((4, 3), np.float32)), ignore_index=0)
    # IndexError before anything is written: a given dinp keeps its contents
    dinp = np.full((4, 3), 7.0, np.float32)
    with pytest.raises(IndexError, match="target"):
        tn.ops.cross_entropy_backward(np.ones((), np.float32), x.numpy(), np.array([0, 9, 0, 0]),
                                      np.zeros(4, np.float32), 4.0, dinp=dinp)
    np.testing.assert_array_equal(dinp, 7.0)
    with pytest.raises(ValueError, match="dloss"):
        tn.ops.cross_entropy_backward(np.ones(3, np.float32), x.numpy(), t.numpy(),
                                      np.zeros(4, np.float32), 4.0, reduction="none")
    with pytest.raises(ValueError, match="lse"):
        tn.ops.cross_entropy_backward(np.ones((), np.float32), x.numpy(), t.numpy(),
                                      np.zeros(3, np.float32), 4.0)
    with pytest.raises(ValueError, match="dinp"):
        tn.ops.cross_entropy_backward(np.ones((), np.float32), x.numpy(), t.numpy(),
                                      np.zeros(4, np.float32), 4.0, accumulate=True)


def test_nll_loss_errors():
    x = tn.tensor(np.zeros((4, 3), np.float32))
    t = tn.tensor(np.array([0, 1, 2, 0]))
    with pytest.raises(TypeError, match="target must hold int64 class indices, got dtype float32"):
        F.nll_loss(x, tn.tensor(np.zeros(4, np.float32)))
    with pytest.raises(TypeError, match="input"):
        F.nll_loss(tn.tensor(np.zeros((4, 3), np.int64)), t)
    with pytest.raises(IndexError, match="target 5"):
        F.nll_loss(x, tn.tensor(np.array([0, 5, 2, 0])))
    with pytest.raises(ValueError, match=r"target must have shape \(4,\)"):
        F.nll_loss(x, tn.tensor(np.zeros((4, 1), np.int64)))
    with pytest.raises(ValueError, match="weight"):
        F.nll_loss(x, t, weight=tn.tensor(np.ones((3, 1), np.float32)))
    with pytest.raises(ValueError, match="reduction"):
        F.nll_loss(x, t, reduction="mean ")
    with pytest.raises(ValueError, match="input must be"):
        F.nll_loss(tn.tensor(np.float32(0)), tn.tensor(np.int64(0)))
    with pytest.raises(TypeError, match="weight"):
        F.nll_loss(x, t, weight=np.ones(3, np.float32))


def test_binary_cross_entropy_errors():
    x = tn.tensor(np.full((2, 3), 0.5, np.float32))
    t = tn.tensor(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"input should be between 0 and 1.*1\.5"):
        F.binary_cross_entropy(tn.tensor(np.array([0.5, 1.5], np.float32)),
                               tn.tensor(np.zeros(2, np.float32)))
    with pytest.raises(ValueError, match="input should be between 0 and 1"):
        F.binary_cross_entropy(tn.tensor(np.array([-0.1], np.float32)),
                               tn.tensor(np.zeros(1, np.float32)))
    with pytest.raises(ValueError, match="target size"):
        F.binary_cross_entropy(x, tn.tensor(np.zeros((3, 2), np.float32)))
    with pytest.raises(ValueError, match=r"weight of shape \(2,\) cannot be broadcast"):
        F.binary_cross_entropy(x, t, weight=tn.tensor(np.ones(2, np.float32)))
    with pytest.raises(ValueError, match="reduction"):
        F.binary_cross_entropy(x, t, reduction="max")
    with pytest.raises(TypeError, match="target must have dtype float32"):
        F.binary_cross_entropy(x, tn.tensor(np.zeros((2, 3), np.int64)))
    with pytest.raises(TypeError, match="input"):
        F.binary_cross_entropy(x.numpy(), t)
    with pytest.raises(TypeError, match="input"):
        tn.ops.binary_cross_entropy_forward(np.zeros(3), np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"weight must have shape \(2, 3\)"):
        tn.ops.binary_cross_entropy_forward(x.numpy(), t.numpy(), np.ones(3, np.float32))


def test_binary_cross_entropy_with_logits_errors():
    fn = F.binary_cross_entropy_with_logits
    x = tn.tensor(np.zeros((2, 3), np.float32))
    t = tn.tensor(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"Target size \(\(3,\)\) must be the same"):
        fn(x, tn.tensor(np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match="pos_weight of shape"):
        fn(x, t, pos_weight=tn.tensor(np.ones(2, np.float32)))
    with pytest.raises(ValueError, match="weight of shape"):
        fn(x, t, weight=tn.tensor(np.ones(4, np.float32)))
    with pytest.raises(ValueError, match="reduction"):
        fn(x, t, reduction="")
    with pytest.raises(TypeError, match="target"):
        fn(x, tn.tensor(np.zeros((2, 3), np.int64)))
    with pytest.raises(TypeError, match="pos_weight"):
        fn(x, t, pos_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="dloss must have the loss's shape"):
        tn.ops.binary_cross_entropy_with_logits_backward(np.ones(6, np.float32), x.numpy(),
                                                         t.numpy(), reduction="none")
    with pytest.raises(ValueError, match="dloss must hold one value"):
        tn.ops.binary_cross_entropy_with_logits_backward(np.ones(2, np.float32), x.numpy(),
                                                         t.numpy())
    with pytest.raises(ValueError, match="dinp"):
        tn.ops.binary_cross_entropy_with_logits_backward(np.ones((), np.float32), x.numpy(),
                                                         t.numpy(), accumulate=True)


def test_mse_loss_errors():
    x = tn.tensor(np.zeros((2, 3), np.float32))
    t = tn.tensor(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        F.mse_loss(x, t, weight=tn.tensor(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(x, t, reduction="avg")
    with pytest.raises(TypeError, match="input"):
        F.mse_loss([0.0], t)
    with pytest.raises(TypeError, match="input must have dtype float32"):
        F.mse_loss(tn.tensor(np.zeros((2, 3), np.int64)), t)
    with pytest.raises(ValueError, match=r"target must have shape \(2, 3\)"):
        tn.ops.mse_loss_forward(x.numpy(), np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="target"):
        tn.ops.mse_loss_forward(x.numpy(), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="dloss"):
        tn.ops.mse_loss_backward(np.ones((2, 2), np.float32), x.numpy(), t.numpy(), 6.0,
                                 reduction="none")
    with pytest.raises(ValueError, match="variant"):
        _core.mse_loss_forward(x.numpy(), t.numpy(), None, "mean", "fast")
