"""max_pool2d / avg_pool2d: fast kernels (every variant) vs the plain-loop reference vs a float64
NumPy oracle on awkward shapes, ties and NaN, finite-difference gradchecks, torch parity of values,
indices and gradients, error inputs naming the argument, and thread-count determinism."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn
from turbonn import _core, ops

from test_autograd import gradcheck

F = tn.nn.functional


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def out_size(n, k, s, p, d, ceil):
    o = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    return o - 1 if ceil and (o - 1) * s >= n + p else o


# ------------------------------------------------------------------------ float64 NumPy oracle


def max_oracle(x, k, s=None, p=0, d=1, ceil=False):
    """(out, indices) in float64 / int64: first max in window order, a NaN wins (the last)."""
    (kh, kw), (ph, pw), (dh, dw) = pair(k), pair(p), pair(d)
    sh, sw = pair(s if s is not None else k)
    H, W = x.shape[-2:]
    OH, OW = out_size(H, kh, sh, ph, dh, ceil), out_size(W, kw, sw, pw, dw, ceil)
    planes = np.asarray(x, np.float64).reshape(-1, H, W)
    out = np.empty((planes.shape[0], OH, OW))
    ind = np.empty((planes.shape[0], OH, OW), np.int64)
    for oh in range(OH):
        h0 = oh * sh - ph
        rows = [r for r in range(h0, h0 + (kh - 1) * dh + 1, dh) if 0 <= r < H]
        for ow in range(OW):
            w0 = ow * sw - pw
            cols = [c for c in range(w0, w0 + (kw - 1) * dw + 1, dw) if 0 <= c < W]
            win = planes[:, rows][:, :, cols].reshape(len(planes), len(rows) * len(cols))
            pos = np.array([r * W + c for r in rows for c in cols])
            j = np.argmax(win, axis=1)
            nan = np.isnan(win)
            last_nan = win.shape[1] - 1 - np.argmax(nan[:, ::-1], axis=1)
            j = np.where(nan.any(axis=1), last_nan, j)
            out[:, oh, ow] = win[np.arange(len(j)), j]
            ind[:, oh, ow] = pos[j]
    shape = x.shape[:-2] + (OH, OW)
    return out.reshape(shape), ind.reshape(shape)


def max_backward_oracle(dout, ind, x_shape):
    H, W = x_shape[-2:]
    planes = int(np.prod(x_shape[:-2]))
    dx = np.zeros((planes, H * W))
    n = ind.size // max(planes, 1)
    np.add.at(dx, (np.arange(planes)[:, None], ind.reshape(planes, n)),
              np.asarray(dout, np.float64).reshape(planes, n))
    return dx.reshape(x_shape)


def avg_windows(H, W, k, s, p, ceil, include_pad, div_over):
    """[(oh, ow, rows slice, cols slice, divisor)] of torch's avg_pool2d."""
    (kh, kw), (ph, pw) = pair(k), pair(p)
    sh, sw = pair(s if s is not None else k)
    OH, OW = out_size(H, kh, sh, ph, 1, ceil), out_size(W, kw, sw, pw, 1, ceil)
    wins = []
    for oh in range(OH):
        h0 = oh * sh - ph
        h1 = min(h0 + kh, H + ph)
        for ow in range(OW):
            w0 = ow * sw - pw
            w1 = min(w0 + kw, W + pw)
            r, c = slice(max(h0, 0), min(h1, H)), slice(max(w0, 0), min(w1, W))
            n = (h1 - h0) * (w1 - w0) if include_pad else (r.stop - r.start) * (c.stop - c.start)
            wins.append((oh, ow, r, c, div_over or n))
    return OH, OW, wins


def avg_oracle(x, k, s=None, p=0, ceil=False, include_pad=True, div_over=None):
    H, W = x.shape[-2:]
    OH, OW, wins = avg_windows(H, W, k, s, p, ceil, include_pad, div_over)
    planes = np.asarray(x, np.float64).reshape(-1, H, W)
    out = np.empty((planes.shape[0], OH, OW))
    for oh, ow, r, c, n in wins:
        out[:, oh, ow] = planes[:, r, c].sum(axis=(1, 2)) / n
    return out.reshape(x.shape[:-2] + (OH, OW))


def avg_backward_oracle(dout, x_shape, k, s=None, p=0, ceil=False, include_pad=True,
                        div_over=None):
    H, W = x_shape[-2:]
    _, _, wins = avg_windows(H, W, k, s, p, ceil, include_pad, div_over)
    g = np.asarray(dout, np.float64).reshape(-1, *dout.shape[-2:])
    dx = np.zeros((g.shape[0], H, W))
    for oh, ow, r, c, n in wins:
        dx[:, r, c] += (g[:, oh, ow] / n)[:, None, None]
    return dx.reshape(x_shape)


# ------------------------------------------------------------------------------ shapes

# (input shape, kernel, stride, padding, dilation, ceil_mode)
CASES = [
    ((2, 3, 1, 1), 1, None, 0, 1, False),          # 1x1 images
    ((1, 2, 5, 7), (5, 7), None, 0, 1, False),     # kernel equal to the input
    ((2, 2, 9, 9), 2, 3, 0, 1, False),             # stride larger than the kernel
    ((1, 3, 7, 5), 3, 2, 1, 1, False),             # odd sizes, padding
    ((2, 1, 8, 10), 2, None, 0, 1, False),         # the 2x2 fast path
    ((3, 2, 9, 11), 2, 2, 0, 1, True),             # ceil_mode: partial last windows
    ((1, 2, 10, 9), 3, 2, 1, 2, False),            # dilation 2
    ((2, 2, 11, 8), (3, 2), (2, 1), (1, 1), (2, 1), True),
    ((2, 3, 13, 17), (3, 4), (2, 3), (1, 2), 1, True),
    ((1, 1, 5, 5), 3, 3, 1, 1, True),              # ceil rule: last window starts in padding
    ((0, 3, 6, 6), 2, None, 0, 1, False),          # zero batch
    ((3, 6, 5), 2, 1, 0, 1, False),                # unbatched (C, H, W)
    ((2, 5, 33, 40), 2, 2, 0, 1, False),           # several fast rows, odd plane count
    ((2, 3, 9, 35), 2, 2, 0, 1, False),            # 2x2 with an uncovered last row and column
]
IDS = [f"{c[0]}-k{c[1]}-s{c[2]}-p{c[3]}-d{c[4]}-{'ceil' if c[5] else 'floor'}" for c in CASES]


def data(shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_max_pool_fast_ref_oracle(case, isa):
    shape, k, s, p, d, ceil = case
    x = data(shape)
    exp, exp_ind = max_oracle(x, k, s, p, d, ceil)
    outs = {}
    for variant in (None, "ref"):
        out, ind = _core.max_pool2d_forward(x, k, s, p, d, ceil, None, variant)
        assert out.dtype == np.float32 and ind.dtype == np.int32 and out.shape == exp.shape
        np.testing.assert_array_equal(out, exp.astype(np.float32))
        np.testing.assert_array_equal(ind, exp_ind)
        g = data(out.shape, 1)
        dx = _core.max_pool2d_backward(g, ind, shape, None, False, variant)
        np.testing.assert_allclose(dx, max_backward_oracle(g, exp_ind, shape), rtol=1e-6,
                                   atol=1e-6)
        acc = np.ones(shape, np.float32)
        _core.max_pool2d_backward(g, ind, shape, acc, True, variant)
        np.testing.assert_allclose(acc, dx + 1, rtol=1e-6, atol=1e-6)
        outs[variant] = (out, ind, dx)
    for a, b in zip(outs[None], outs["ref"]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("accumulate", [False, True])
def test_max_pool_backward_foreign_indices(accumulate, isa):
    # Indices a caller made up (any cell of the plane, not the window's own) still scatter, on the
    # 2x2 geometry whose fast backward writes windows only when every index lies in its window.
    shape = (2, 3, 8, 9)
    rng = np.random.default_rng(5)
    g = data((2, 3, 4, 4), 2)
    ind = rng.integers(0, 8 * 9, size=g.shape).astype(np.int32)
    ind[0, 1] = 0                                   # a whole plane sent to one cell
    ind[1, 2] = _core.max_pool2d_forward(data(shape), 2)[1][1, 2]  # a plane of real argmaxes
    exp = max_backward_oracle(g, ind, shape) + (1 if accumulate else 0)
    for variant in (None, "ref"):
        dx = np.ones(shape, np.float32) if accumulate else None
        got = _core.max_pool2d_backward(g, ind, shape, dx, accumulate, variant)
        np.testing.assert_allclose(got, exp, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("include_pad,div", [(True, None), (False, None), (True, 3)])
def test_avg_pool_fast_ref_oracle(case, include_pad, div, isa):
    shape, k, s, p, _, ceil = case
    x = data(shape)
    exp = avg_oracle(x, k, s, p, ceil, include_pad, div)
    res = {}
    for variant in (None, "ref"):
        out = _core.avg_pool2d_forward(x, k, s, p, ceil, include_pad, div, None, variant)
        assert out.dtype == np.float32 and out.shape == exp.shape
        np.testing.assert_allclose(out, exp, rtol=1e-5, atol=1e-6)
        g = data(out.shape, 1)
        dx = _core.avg_pool2d_backward(g, shape, k, s, p, ceil, include_pad, div, None, False,
                                       variant)
        np.testing.assert_allclose(dx, avg_backward_oracle(g, shape, k, s, p, ceil, include_pad,
                                                           div), rtol=1e-5, atol=1e-6)
        res[variant] = (out, dx)
    for a, b in zip(res[None], res["ref"]):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------ ties, NaN, -inf


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 1, 1), (2, 1, 0)])
def test_tied_windows_send_the_gradient_to_one_input(k, s, p, isa):
    x = np.ones((2, 3, 6, 7), np.float32)
    out, ind = ops.max_pool2d_forward(x, k, s, p)
    _, exp_ind = max_oracle(x, k, s, p)
    np.testing.assert_array_equal(ind, exp_ind)  # the first element of each window
    dx = ops.max_pool2d_backward(np.ones_like(out), ind, x.shape)
    assert dx.sum() == out.size  # every gradient lands exactly once
    if k == s:  # non-overlapping: one input per window gets 1, the rest 0
        assert np.array_equal(np.sort(np.unique(dx)), [0.0, 1.0])
        assert int((dx == 1).sum()) == out.size


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 2, 1)])
def test_nan_wins_and_all_minus_inf(k, s, p, isa):
    x = data((1, 2, 6, 6))
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 0, 0] = np.nan
    x[0, 1, :3, :3] = -np.inf
    for variant in (None, "ref"):
        out, ind = _core.max_pool2d_forward(x, k, s, p, 1, False, None, variant)
        exp, exp_ind = max_oracle(x, k, s, p)
        np.testing.assert_array_equal(out, exp.astype(np.float32))  # NaN == NaN here
        np.testing.assert_array_equal(ind, exp_ind)
        assert np.isnan(out[0, 0, 0, 0])


# ------------------------------------------------------------------------ gradchecks (float64)


def separated(shape, seed=0):
    """Distinct values at least 0.01 apart: no finite-difference step crosses a max's kink."""
    n = int(np.prod(shape))
    v = np.random.default_rng(seed).permutation(n).astype(np.float64) * 0.01 - n * 0.005
    return v.reshape(shape).astype(np.float32)


@pytest.mark.parametrize("case", [CASES[3], CASES[5], CASES[6], CASES[7], CASES[11]],
                         ids=[IDS[i] for i in (3, 5, 6, 7, 11)])
def test_gradcheck_max_pool(case):
    shape, k, s, p, d, ceil = case
    gradcheck(lambda x: F.max_pool2d(x, k, s, p, d, ceil),
              lambda x: max_oracle(x, k, s, p, d, ceil)[0], separated(shape), atol=1e-3,
              rtol=1e-3)


@pytest.mark.parametrize("case", [CASES[3], CASES[5], CASES[9], CASES[11]],
                         ids=[IDS[i] for i in (3, 5, 9, 11)])
@pytest.mark.parametrize("include_pad,div", [(True, None), (False, None), (False, 2)])
def test_gradcheck_avg_pool(case, include_pad, div):
    shape, k, s, p, _, ceil = case
    gradcheck(lambda x: F.avg_pool2d(x, k, s, p, ceil, include_pad, div),
              lambda x: avg_oracle(x, k, s, p, ceil, include_pad, div), data(shape),
              atol=1e-3, rtol=1e-3)


# ------------------------------------------------------------------------ torch parity

TORCH_CASES = [c for c in CASES if c[0][0] != 0]
TORCH_IDS = [i for c, i in zip(CASES, IDS) if c[0][0] != 0]


@pytest.mark.parametrize("case", TORCH_CASES, ids=TORCH_IDS)
def test_max_pool_torch_parity(case):
    torch = pytest.importorskip("torch")
    shape, k, s, p, d, ceil = case
    x = data(shape)
    x.reshape(-1)[::7] = x.reshape(-1)[3]  # some ties
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    t_out, t_ind = torch.nn.functional.max_pool2d(tx, k, s, p, d, ceil, return_indices=True)
    g = data(tuple(t_out.shape), 2)
    t_out.backward(torch.tensor(g, dtype=torch.float64))
    xt = tn.tensor(x, requires_grad=True)
    out, ind = F.max_pool2d(xt, k, s, p, d, ceil, return_indices=True)
    out.backward(tn.tensor(g))
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-6, atol=1e-7)
    assert ind.numpy().dtype == np.int64
    np.testing.assert_array_equal(ind.numpy(), t_ind.numpy())
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", TORCH_CASES, ids=TORCH_IDS)
@pytest.mark.parametrize("include_pad,div", [(True, None), (False, None), (True, -2)])
def test_avg_pool_torch_parity(case, include_pad, div):
    torch = pytest.importorskip("torch")
    shape, k, s, p, _, ceil = case
    x = data(shape)
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    t_out = torch.nn.functional.avg_pool2d(tx, k, s, p, ceil, include_pad, div)
    g = data(tuple(t_out.shape), 2)
    t_out.backward(torch.tensor(g, dtype=torch.float64))
    xt = tn.tensor(x, requires_grad=True)
    out = F.avg_pool2d(xt, k, s, p, ceil, include_pad, div)
    out.backward(tn.tensor(g))
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_modules_match_torch_and_reprs():
    torch = pytest.importorskip("torch")
    x = data((2, 3, 9, 8))
    pairs = [(tn.nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
             (tn.nn.MaxPool2d((3, 2), stride=1, padding=1, dilation=2, ceil_mode=True),
              torch.nn.MaxPool2d((3, 2), stride=1, padding=1, dilation=2, ceil_mode=True)),
             (tn.nn.AvgPool2d(3, 2, 1), torch.nn.AvgPool2d(3, 2, 1)),
             (tn.nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False, divisor_override=3),
              torch.nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False,
                                 divisor_override=3))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(tn.tensor(x)).detach().numpy(),
                                   theirs(torch.tensor(x)).numpy(), rtol=1e-6, atol=1e-6)
    out, ind = tn.nn.MaxPool2d(2, return_indices=True)(tn.tensor(x))
    assert out.shape == (2, 3, 4, 4) and ind.shape == (2, 3, 4, 4)
    assert "MaxPool2d" in tn.nn.__all__ and "AvgPool2d" in tn.nn.__all__
    assert tn.nn.functional.max_pool2d is F.max_pool2d


# ------------------------------------------------------------------------ threads


def test_one_and_two_threads_bit_identical():
    x = data((4, 16, 40, 36))
    g_max = data((4, 16, 20, 18), 1)
    results = []
    for threads in (1, 2):
        tn.set_num_threads(threads)
        out, ind = ops.max_pool2d_forward(x, 2)
        o3, i3 = ops.max_pool2d_forward(x, 3, 1, 1)
        a = ops.avg_pool2d_forward(x, 3, 2, 1, True, False)
        results.append([out, ind, ops.max_pool2d_backward(g_max, ind, x.shape), o3, i3,
                        ops.max_pool2d_backward(o3, i3, x.shape), a,
                        ops.avg_pool2d_backward(a, x.shape, 3, 2, 1, True, False)])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


# ------------------------------------------------------------------------ error inputs

X = np.zeros((1, 2, 6, 6), np.float32)

MAX_FORWARD_ERRORS = [
    (dict(x=X.astype(np.float64)), TypeError, "x"),
    (dict(x=X.tolist()), TypeError, "x"),
    (dict(x=X[0, 0]), ValueError, "x"),
    (dict(x=np.zeros((1, 1, 1, 6, 6), np.float32)), ValueError, "x"),
    (dict(x=np.zeros((2, 0, 6, 6), np.float32)), ValueError, "x"),
    (dict(kernel_size=0), ValueError, "kernel_size"),
    (dict(kernel_size="2"), TypeError, "kernel_size"),
    (dict(kernel_size=(2, 2, 2)), ValueError, "kernel_size"),
    (dict(stride=0), ValueError, "stride"),
    (dict(stride=(1, -1)), ValueError, "stride"),
    (dict(dilation=0), ValueError, "dilation"),
    (dict(padding=-1), ValueError, "padding"),
    (dict(padding=2), ValueError, "padding"),
    (dict(kernel_size=5, dilation=2), ValueError, "output size"),
    (dict(out=np.zeros((1, 2, 3, 3), np.float32)), ValueError, "out"),
]


@pytest.mark.parametrize("kwargs,exc,name", MAX_FORWARD_ERRORS)
def test_max_pool_forward_errors(kwargs, exc, name):
    args = dict(x=X, kernel_size=3, stride=None, padding=0, dilation=1, ceil_mode=False)
    args.update(kwargs)
    with pytest.raises(exc, match=name):
        ops.max_pool2d_forward(**args)


def test_max_pool_backward_errors():
    out, ind = ops.max_pool2d_forward(X, 2)
    cases = [
        (dict(indices=ind.astype(np.int64)), TypeError, "indices"),
        (dict(indices=ind.tolist()), TypeError, "indices"),
        (dict(indices=ind[..., :2]), ValueError, "indices"),
        (dict(indices=ind + 100), IndexError, "indices"),
        (dict(indices=ind - 100), IndexError, "indices"),
        (dict(dout=out.astype(np.float64)), TypeError, "dout"),
        (dict(dout=out[0]), ValueError, "dout"),
        (dict(input_shape=(6, 6)), ValueError, "input_shape"),
        (dict(input_shape=5), TypeError, "input_shape"),
        (dict(input_shape=(-1, 2, 6, 6)), ValueError, "input_shape"),
        (dict(accumulate=True), ValueError, "dinp"),
        (dict(dinp=np.zeros((1, 2, 6, 5), np.float32)), ValueError, "dinp"),
    ]
    for kwargs, exc, name in cases:
        args = dict(dout=out, indices=ind, input_shape=X.shape)
        args.update(kwargs)
        with pytest.raises(exc, match=name):
            _core.max_pool2d_backward(**args)


AVG_ERRORS = [
    (dict(x=X.astype(np.float16)), TypeError, "x"),
    (dict(x=np.zeros((6, 6), np.float32)), ValueError, "x"),
    (dict(kernel_size=-1), ValueError, "kernel_size"),
    (dict(kernel_size=2.5), TypeError, "kernel_size"),
    (dict(stride=-1), ValueError, "stride"),
    (dict(padding=-1), ValueError, "padding"),
    (dict(padding=(0, 2)), ValueError, "padding"),
    (dict(divisor_override=0), ValueError, "divisor_override"),
    (dict(divisor_override=1.5), TypeError, "divisor_override"),
    (dict(kernel_size=7), ValueError, "output size"),
]


@pytest.mark.parametrize("kwargs,exc,name", AVG_ERRORS)
def test_avg_pool_errors(kwargs, exc, name):
    args = dict(x=X, kernel_size=3)
    args.update(kwargs)
    with pytest.raises(exc, match=name):
        ops.avg_pool2d_forward(**args)
    if "x" not in kwargs:  # the backward checks its geometry the same way
        with pytest.raises(exc, match=name):
            ops.avg_pool2d_backward(np.zeros((1, 2, 2, 2), np.float32), X.shape,
                                    args["kernel_size"], args.get("stride"),
                                    args.get("padding", 0),
                                    divisor_override=args.get("divisor_override"))


def test_avg_pool_backward_dout_errors():
    with pytest.raises(ValueError, match="dout"):
        ops.avg_pool2d_backward(np.zeros((1, 2, 3, 3), np.float32), X.shape, 3)
    with pytest.raises(TypeError, match="dout"):
        ops.avg_pool2d_backward(np.zeros((1, 2, 2, 2), np.int32), X.shape, 3)
    with pytest.raises(ValueError, match="input_shape"):
        ops.avg_pool2d_backward(np.zeros((1, 2, 2, 2), np.float32), (6, 6), 3)


def test_integer_like_arguments():
    out, _ = ops.max_pool2d_forward(X, np.int64(2), [np.int32(2)], (0,), 1)
    np.testing.assert_array_equal(out, ops.max_pool2d_forward(X, 2)[0])
    np.testing.assert_array_equal(ops.avg_pool2d_forward(X, (2, 2), []),
                                  ops.avg_pool2d_forward(X, 2))  # stride [] means kernel_size


def test_functional_errors():
    with pytest.raises(TypeError, match="input"):
        F.max_pool2d(X, 2)
    with pytest.raises(TypeError, match="input"):
        F.avg_pool2d(tn.from_numpy(X.astype(np.int64)), 2)
    with pytest.raises(ValueError, match="kernel_size"):
        F.max_pool2d(tn.tensor(X), 0)
    with pytest.raises(ValueError, match="padding"):
        tn.nn.AvgPool2d(2, padding=2)(tn.tensor(X))
