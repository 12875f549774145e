"""conv2d kernels (``ops.conv2d_forward/backward``, ``im2col``/``col2im``), ``F.conv2d`` and
``nn.Conv2d``: fast and reference kernels under every CPU variant against a float64 NumPy oracle
on awkward shapes, finite differences, torch parity, error inputs and thread-count invariance."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn
from turbonn import _core, ops
from turbonn.nn import functional as F

from test_autograd import gradcheck


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _geom(x_shape, w_shape, s, p, d):
    s, p, d = _pair(s), _pair(p), _pair(d)
    OH = (x_shape[2] + 2 * p[0] - d[0] * (w_shape[2] - 1) - 1) // s[0] + 1
    OW = (x_shape[3] + 2 * p[1] - d[1] * (w_shape[3] - 1) - 1) // s[1] + 1
    return s, p, d, OH, OW


def _windows(xp, i, j, s, d, OH, OW):
    """The (N, C, OH, OW) slice of the padded input that kernel tap (i, j) meets."""
    return (slice(None), slice(None), slice(i * d[0], i * d[0] + s[0] * (OH - 1) + 1, s[0]),
            slice(j * d[1], j * d[1] + s[1] * (OW - 1) + 1, s[1]))


def conv64(x, w, b=None, s=1, p=0, d=1, groups=1):
    """float64 conv2d, one einsum per kernel tap and group."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    s, p, d, OH, OW = _geom(x.shape, w.shape, s, p, d)
    N, O, Cg = x.shape[0], w.shape[0], w.shape[1]
    Og = O // groups
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    out = np.zeros((N, O, OH, OW))
    for g in range(groups):
        xg = xp[:, g * Cg:(g + 1) * Cg]
        for i in range(w.shape[2]):
            for j in range(w.shape[3]):
                patch = xg[_windows(xg, i, j, s, d, OH, OW)]
                out[:, g * Og:(g + 1) * Og] += np.einsum("nchw,oc->nohw", patch,
                                                         w[g * Og:(g + 1) * Og, :, i, j])
    if b is not None:
        out += np.asarray(b, np.float64)[None, :, None, None]
    return out


def conv64_backward(g_out, x, w, s=1, p=0, d=1, groups=1):
    """float64 (dx, dw, db): the transposes of conv64's einsums."""
    x, w, go = (np.asarray(a, np.float64) for a in (x, w, g_out))
    s, p, d, OH, OW = _geom(x.shape, w.shape, s, p, d)
    Cg, Og = w.shape[1], w.shape[0] // groups
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for g in range(groups):
        cs, os_ = slice(g * Cg, (g + 1) * Cg), slice(g * Og, (g + 1) * Og)
        for i in range(w.shape[2]):
            for j in range(w.shape[3]):
                win = _windows(xp, i, j, s, d, OH, OW)
                dxp[:, cs][win] += np.einsum("nohw,oc->nchw", go[:, os_], w[os_, :, i, j])
                dw[os_, :, i, j] = np.einsum("nohw,nchw->oc", go[:, os_], xp[:, cs][win])
    dx = dxp[:, :, p[0]:p[0] + x.shape[2], p[1]:p[1] + x.shape[3]]
    return dx, dw, go.sum((0, 2, 3))


# (N, C, H, W, O, kh, kw, stride, padding, dilation, groups)
SHAPES = [
    (2, 3, 1, 1, 4, 1, 1, 1, 0, 1, 1),             # 1x1 images
    (1, 2, 5, 5, 3, 5, 5, 1, 0, 1, 1),             # kernel equal to the input, batch 1
    (2, 3, 9, 7, 4, 2, 2, 3, 0, 1, 1),             # stride larger than the kernel
    (2, 2, 9, 9, 3, 3, 3, 1, 2, 2, 1),             # dilation 2
    (3, 1, 11, 13, 5, 3, 5, (2, 1), (1, 2), (1, 2), 1),  # odd sizes, per-axis geometry, C = 1
    (0, 3, 5, 5, 2, 3, 3, 1, 1, 1, 1),             # zero batch
    (2, 8, 6, 6, 16, 1, 1, 1, 0, 1, 1),            # pointwise (no unfolding)
    (2, 4, 6, 5, 6, 3, 3, 1, 1, 1, 2),             # groups
    (2, 6, 4, 4, 6, 3, 3, 1, 1, 1, 6),             # depthwise
    (2, 3, 3, 3, 2, 3, 3, 2, 1, 1, 1),             # padding wider than the image's border
    (3, 17, 12, 12, 33, 3, 3, 1, 1, 1, 1),         # larger than a register tile
    (1, 1, 28, 28, 6, 5, 5, 1, 0, 1, 1),           # LeNet's first layer
    (2, 3, 5, 5, 4, 3, 3, 1, 3, 1, 1),             # stride 1, padding past the kernel's reach
    (2, 4, 7, 6, 6, 3, 5, 1, (2, 4), 2, 2),        # dX as a dilated, grouped transposed conv
    (60, 16, 12, 12, 8, 3, 3, 1, 1, 1, 1),         # several groups of images (forward and dW)
    (3, 5, 9, 8, 7, 3, 2, 2, 1, 1, 1),             # stride 2: dX by col2im
    (2, 4, 3, 70, 5, 1, 3, 1, (0, 1), 1, 1),       # a 70-wide row spans several 32-column panels
    (2, 64, 7, 9, 70, 3, 3, 1, 1, 1, 1),           # Winograd: odd sizes cut the last 2x2 tiles
    (1, 66, 6, 5, 64, 3, 3, 1, 0, 1, 1),           # Winograd, no padding (dX padded by 2)
    (3, 64, 4, 4, 65, 3, 3, 1, 2, 1, 1),           # Winograd, padding 2
    (1, 64, 1, 1, 64, 3, 3, 1, 1, 1, 1),           # Winograd on a 1x1 image: one cropped tile
]


def _data(shape, seed=0):
    N, C, H, W, O, kh, kw, s, p, d, g = shape
    rng = np.random.default_rng(seed + N * 7 + C * 11 + H * 13 + O)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = rng.standard_normal((O, C // g, kh, kw)).astype(np.float32)
    b = rng.standard_normal(O).astype(np.float32)
    _, _, _, OH, OW = _geom(x.shape, w.shape, s, p, d)
    go = rng.standard_normal((N, O, OH, OW)).astype(np.float32)
    return x, w, b, go, (s, p, d, g)


def _close(got, exp, scale, terms, what):
    assert got.dtype == np.float32 and got.shape == exp.shape, what
    tol = 1e-5 * max(1.0, np.sqrt(max(terms, 1)) / 4) * scale + 1e-6
    err = np.abs(got.astype(np.float64) - exp)
    assert (err <= tol).all(), f"{what}: max error {err.max():.3g}"


@pytest.mark.parametrize("shape", SHAPES, ids=[str(i) for i in range(len(SHAPES))])
@pytest.mark.parametrize("impl", ["ref", "fast"])
def test_forward_backward_vs_float64(isa, impl, shape):
    x, w, b, go, (s, p, d, g) = _data(shape)
    v = "ref" if impl == "ref" else None
    K = w.shape[1] * w.shape[2] * w.shape[3]
    ax, aw, ag = np.abs(x), np.abs(w), np.abs(go)
    for bias in (b, None):
        out = _core.conv2d_forward(x, w, bias, s, p, d, None, v, g)
        scale = conv64(ax, aw, None if bias is None else np.abs(bias), s, p, d, g)
        _close(out, conv64(x, w, bias, s, p, d, g), scale, K, "out")
    dx, dw, db = _core.conv2d_backward(go, x, w, s, p, d, True, True, True, v, g)
    ex, ew, eb = conv64_backward(go, x, w, s, p, d, g)
    sx, sw, sb = conv64_backward(ag, ax, aw, s, p, d, g)
    terms = go.shape[0] * go.shape[2] * go.shape[3]
    _close(dx, ex, sx, w.shape[0] * w.shape[2] * w.shape[3], "dx")
    _close(dw, ew, sw, terms, "dweight")
    _close(db, eb, sb, terms, "dbias")
    if impl == "fast":  # and the fast kernel agrees with the reference
        rx, rw, rb = _core.conv2d_backward(go, x, w, s, p, d, True, True, True, "ref", g)
        _close(dw, rw.astype(np.float64), 2 * sw, terms, "dweight vs ref")


def test_winograd_over_several_chunks_of_images():
    # 12 images of 40x40 tiles exceed one chunk of the Winograd path's transformed buffers (the
    # fast kernel only: the plain-loop reference would take a minute on this size).
    x, w, b, go, (s, p, d, g) = _data((12, 64, 40, 40, 64, 3, 3, 1, 1, 1, 1))
    out = _core.conv2d_forward(x, w, b, s, p, d, None, None, g)
    scale = conv64(np.abs(x), np.abs(w), np.abs(b), s, p, d, g)
    _close(out, conv64(x, w, b, s, p, d, g), scale, 64 * 9, "out")
    dx, _, _ = _core.conv2d_backward(go, x, w, s, p, d, True, False, False, None, g)
    ex, _, _ = conv64_backward(go, x, w, s, p, d, g)
    sx, _, _ = conv64_backward(np.abs(go), np.abs(x), np.abs(w), s, p, d, g)
    _close(dx, ex, sx, 64 * 9, "dx")


def test_unneeded_gradients_are_none_and_strided_inputs(isa):
    x, w, b, go, (s, p, d, g) = _data((2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1))
    dx, dw, db = ops.conv2d_backward(go, x, w, s, p, d, need_dinput=False, need_dbias=False)
    assert dx is None and db is None and dw.shape == w.shape
    big = np.zeros((2, 3, 16, 9), np.float32)
    big[:, :, ::2, 1:] = x
    xs = big[:, :, ::2, 1:]  # not contiguous
    np.testing.assert_allclose(ops.conv2d_forward(xs, w, b, 1, 1), conv64(x, w, b, 1, 1),
                               rtol=1e-4, atol=1e-4)
    gb = np.broadcast_to(np.float32(1.5), go.shape)  # what sum().backward() feeds in
    got = ops.conv2d_backward(gb, xs, w, 1, 1)
    for a, e in zip(got, conv64_backward(gb, x, w, 1, 1)):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-4)


def test_nan_propagates():
    x, w, b, go, _ = _data((1, 2, 6, 6, 3, 3, 3, 1, 0, 1, 1))
    x[0, 0, 0, 0] = np.nan
    out = ops.conv2d_forward(x, w, b)
    assert np.isnan(out[0, :, 0, 0]).all() and np.isfinite(out[0, :, 1:, 1:]).all()


def test_one_and_two_threads_bit_identical():
    x, w, b, go, (s, p, d, g) = _data((6, 16, 14, 14, 24, 3, 3, 1, 1, 1, 1), seed=5)
    results = []
    for n in (1, 2):
        tn.set_num_threads(n)
        results.append((ops.conv2d_forward(x, w, b, s, p), *ops.conv2d_backward(go, x, w, s, p),
                        ops.im2col(x, 3, 1, 1)))
    for a, c in zip(*results):
        assert np.array_equal(a, c)


def test_im2col_col2im_adjoint_and_layout():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    cols = ops.im2col(x, (3, 2), (2, 1), (1, 0), (1, 2))
    assert cols.shape == (2, 3 * 3 * 2, 4 * 4)
    c = rng.standard_normal(cols.shape).astype(np.float32)
    back = ops.col2im(c, x.shape, (3, 2), (2, 1), (1, 0), (1, 2))
    assert back.shape == x.shape
    lhs = np.sum(cols.astype(np.float64) * c)
    rhs = np.sum(x.astype(np.float64) * back)
    assert abs(lhs - rhs) <= 1e-4 * (np.abs(cols) * np.abs(c)).sum()
    # conv2d == weight @ im2col
    w = rng.standard_normal((5, 3, 3, 2)).astype(np.float32)
    out = ops.conv2d_forward(x, w, None, (2, 1), (1, 0), (1, 2))
    np.testing.assert_allclose(out.reshape(2, 5, -1), w.reshape(5, -1) @ cols, rtol=1e-4,
                               atol=1e-4)


# ------------------------------------------------------------------ autograd: finite differences

GRAD_CASES = [
    dict(s=1, p=0, d=1, g=1, x=(2, 2, 4, 4), w=(3, 2, 2, 2)),
    dict(s=2, p=1, d=1, g=1, x=(1, 2, 5, 4), w=(2, 2, 3, 3)),
    dict(s=(1, 2), p=(2, 1), d=(2, 1), g=1, x=(2, 1, 5, 5), w=(2, 1, 2, 3)),
    dict(s=1, p=1, d=1, g=2, x=(1, 4, 3, 3), w=(4, 2, 2, 2)),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[str(i) for i in range(len(GRAD_CASES))])
def test_gradcheck(case):
    rng = np.random.default_rng(11)
    x = rng.uniform(-1, 1, case["x"]).astype(np.float32)
    w = rng.uniform(-1, 1, case["w"]).astype(np.float32)
    b = rng.uniform(-1, 1, case["w"][0]).astype(np.float32)
    s, p, d, g = case["s"], case["p"], case["d"], case["g"]
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, s, p, d, g),
              lambda x, w, b: conv64(x, w, b, s, p, d, g), x, w, b, rtol=1e-3, atol=1e-3)


def test_gradcheck_no_bias_and_input_without_grad():
    rng = np.random.default_rng(12)
    x = rng.uniform(-1, 1, (2, 2, 4, 4)).astype(np.float32)
    w = rng.uniform(-1, 1, (3, 2, 3, 3)).astype(np.float32)
    gradcheck(lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: conv64(x, w, None, 1, 1),
              x, w, rtol=1e-3, atol=1e-3)
    xt, wt = tn.tensor(x), tn.tensor(w, requires_grad=True)
    F.conv2d(xt, wt).sum().backward()
    assert xt.grad is None and wt.grad.shape == w.shape


# ------------------------------------------------------------------------------- torch parity

TORCH_CASES = [
    dict(stride=1, padding=0, dilation=1, groups=1, x=(2, 3, 8, 8), w=(4, 3, 3, 3)),
    dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=1, x=(3, 2, 9, 10), w=(5, 2, 3, 3)),
    dict(stride=1, padding="same", dilation=1, groups=1, x=(2, 3, 7, 6), w=(4, 3, 4, 3)),
    dict(stride=1, padding="same", dilation=2, groups=1, x=(1, 2, 6, 6), w=(3, 2, 3, 2)),
    dict(stride=1, padding="valid", dilation=1, groups=2, x=(2, 4, 5, 5), w=(6, 2, 3, 3)),
    dict(stride=3, padding=1, dilation=1, groups=1, x=(1, 1, 1, 1), w=(2, 1, 3, 3)),
    # the implicit GEMM on wide positions, and Winograd (>= 64 channels each way, forward and dX)
    dict(stride=1, padding=1, dilation=1, groups=1, x=(3, 32, 9, 9), w=(40, 32, 3, 3)),
    dict(stride=1, padding=1, dilation=1, groups=1, x=(2, 64, 7, 6), w=(64, 64, 3, 3)),
    dict(stride=1, padding=0, dilation=1, groups=1, x=(2, 64, 5, 8), w=(72, 64, 3, 3)),
]


@pytest.mark.filterwarnings("ignore:Using padding=.same.")
@pytest.mark.parametrize("case", TORCH_CASES, ids=[str(i) for i in range(len(TORCH_CASES))])
def test_torch_parity(case):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal(case["x"]).astype(np.float32)
    w = rng.standard_normal(case["w"]).astype(np.float32)
    b = rng.standard_normal(case["w"][0]).astype(np.float32)
    kw = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    tx, tw, tb = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, w, b))
    tout = torch.nn.functional.conv2d(tx, tw, tb, **kw)
    go = rng.standard_normal(tuple(tout.shape))
    tout.backward(torch.tensor(go))
    xs, ws, bs = (tn.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(xs, ws, bs, **kw)
    out.backward(tn.tensor(go.astype(np.float32)))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-4, atol=1e-4)
    for mine, theirs, name in ((xs, tx, "input"), (ws, tw, "weight"), (bs, tb, "bias")):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-4,
                                   err_msg=name)


def test_torch_unbatched_and_unfold_fold():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 6, 5)).astype(np.float32)
    w = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    out = F.conv2d(tn.tensor(x), tn.tensor(w), padding=1)
    exp = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
    np.testing.assert_allclose(out.numpy(), exp.numpy(), rtol=1e-4, atol=1e-4)
    x4 = x[None]
    cols = ops.im2col(x4, (2, 3), (2, 1), 1, (2, 1))
    tcols = torch.nn.functional.unfold(torch.tensor(x4), (2, 3), (2, 1), 1, (2, 1))
    np.testing.assert_allclose(cols, tcols.numpy(), rtol=0, atol=0)
    back = ops.col2im(cols, x4.shape, (2, 3), (2, 1), 1, (2, 1))
    tback = torch.nn.functional.fold(tcols, (6, 5), (2, 3), (2, 1), 1, (2, 1))
    np.testing.assert_allclose(back, tback.numpy(), rtol=1e-6, atol=1e-6)


def test_conv_stack_parameter_grads_vs_torch():
    torch = pytest.importorskip("torch")
    tn.manual_seed(0)
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(),
        torch.nn.Conv2d(6, 16, 5, stride=2), torch.nn.ReLU(),
        torch.nn.Conv2d(16, 8, 3, stride=2, bias=False), torch.nn.Tanh(),
        torch.nn.Flatten(), torch.nn.Linear(8 * 2 * 2, 10)).double()
    net = tn.nn.Sequential(
        tn.nn.Conv2d(1, 6, 5, padding=2), tn.nn.ReLU(),
        tn.nn.Conv2d(6, 16, 5, stride=2), tn.nn.ReLU(),
        tn.nn.Conv2d(16, 8, 3, stride=2, bias=False), tn.nn.Tanh(),
        tn.nn.Flatten(), tn.nn.Linear(8 * 2 * 2, 10))
    net.load_state_dict({k: v.detach().float().numpy() for k, v in tnet.state_dict().items()})
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, 1, 14, 14)).astype(np.float32)
    y = rng.integers(0, 10, 4)
    tloss = torch.nn.functional.cross_entropy(tnet(torch.tensor(x, dtype=torch.float64)),
                                              torch.tensor(y))
    tloss.backward()
    loss = F.cross_entropy(net(tn.tensor(x)), tn.tensor(y))
    loss.backward()
    assert abs(loss.item() - tloss.item()) < 1e-4
    tgrads = {k: p.grad.numpy() for k, p in tnet.named_parameters()}
    for k, p in net.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tgrads[k], rtol=1e-3, atol=1e-4, err_msg=k)


def test_module_shapes_init_and_repr():
    torch = pytest.importorskip("torch")
    tn.manual_seed(1)
    for args, kw in (((3, 8, 3), {}), ((4, 6, (3, 5)), dict(stride=2, padding=1, bias=False)),
                     ((4, 8, 3), dict(dilation=2, groups=2, padding="same"))):
        m, tm = tn.nn.Conv2d(*args, **kw), torch.nn.Conv2d(*args, **kw)
        assert repr(m) == repr(tm)
        assert dict((k, tuple(v.shape)) for k, v in m.state_dict().items()) == \
            dict((k, tuple(v.shape)) for k, v in tm.state_dict().items())
        fan_in = m.weight.shape[1] * m.weight.shape[2] * m.weight.shape[3]
        bound = 1 / np.sqrt(fan_in)
        assert np.abs(m.weight.detach().numpy()).max() <= bound
        assert np.abs(m.weight.detach().numpy()).max() > 0.5 * bound
        if m.bias is not None:
            assert np.abs(m.bias.detach().numpy()).max() <= bound
    m = tn.nn.Conv2d(3, 8, 3, padding=1)
    assert m(tn.tensor(np.zeros((2, 3, 5, 5), np.float32))).shape == (2, 8, 5, 5)


# ----------------------------------------------------------------------------------- errors

X = np.zeros((2, 3, 6, 6), np.float32)
W = np.zeros((4, 3, 3, 3), np.float32)
G = np.zeros((2, 4, 4, 4), np.float32)

ERRORS = [
    (lambda: ops.conv2d_forward(X.astype(np.float64), W), TypeError, "x"),
    (lambda: ops.conv2d_forward(X[0], W), ValueError, "x must be 4-D"),
    (lambda: ops.conv2d_forward(X, W[0]), ValueError, "weight must be 4-D"),
    (lambda: ops.conv2d_forward(X, W.astype(np.int32)), TypeError, "weight"),
    (lambda: ops.conv2d_forward(X, W[:, :2]), ValueError, "channels"),
    (lambda: ops.conv2d_forward(X, W, stride=0), ValueError, "stride"),
    (lambda: ops.conv2d_forward(X, W, stride=(1, -2)), ValueError, "stride"),
    (lambda: ops.conv2d_forward(X, W, stride="2"), TypeError, "stride"),
    (lambda: ops.conv2d_forward(X, W, dilation=0), ValueError, "dilation"),
    (lambda: ops.conv2d_forward(X, W, padding=-1), ValueError, "padding"),
    (lambda: ops.conv2d_forward(X, W, padding=(0, 2 ** 62)), ValueError, "padding"),
    (lambda: ops.conv2d_forward(X, W, stride=2 ** 70), ValueError, "stride"),
    (lambda: ops.conv2d_forward(X, np.zeros((4, 3, 7, 3), np.float32)), ValueError,
     "larger than the padded input"),
    (lambda: ops.conv2d_forward(X, W, dilation=3), ValueError, "larger than the padded input"),
    (lambda: ops.conv2d_forward(X, W, np.zeros(3, np.float32)), ValueError, "bias"),
    (lambda: ops.conv2d_forward(X, W, groups=2), ValueError, "groups"),
    (lambda: ops.conv2d_forward(X, W, groups=0), ValueError, "groups"),
    (lambda: ops.conv2d_forward(X, W, out=np.zeros((2, 4, 3, 4), np.float32)), ValueError,
     "out"),
    (lambda: ops.conv2d_backward(G[:, :3], X, W), ValueError, "dout"),
    (lambda: ops.conv2d_backward(G.astype(np.float16), X, W), TypeError, "dout"),
    (lambda: ops.im2col(X, 0), ValueError, "kernel_size"),
    (lambda: ops.col2im(np.zeros((2, 27, 15), np.float32), X.shape, 3), ValueError, "cols"),
    (lambda: F.conv2d(X, tn.tensor(W)), TypeError, "input"),
    (lambda: F.conv2d(tn.tensor(X.astype(np.int64)), tn.tensor(W)), TypeError, "input"),
    (lambda: F.conv2d(tn.tensor(X), tn.tensor(W[:, :2])), ValueError, "channels"),
    (lambda: F.conv2d(tn.tensor(X[0, 0]), tn.tensor(W)), ValueError, "input must be"),
    (lambda: F.conv2d(tn.tensor(X), tn.tensor(W), stride=2, padding="same"), ValueError,
     "same"),
    (lambda: F.conv2d(tn.tensor(X), tn.tensor(W), padding="full"), ValueError, "padding"),
    (lambda: F.conv2d(tn.tensor(X), tn.tensor(W), tn.tensor(np.zeros(5, np.float32))),
     ValueError, "bias"),
    (lambda: tn.nn.Conv2d(3, 4, 0), ValueError, "kernel_size"),
    (lambda: tn.nn.Conv2d(3, 4, 3, groups=2), ValueError, "groups"),
]


@pytest.mark.parametrize("call,exc,text", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_error_inputs(call, exc, text):
    with pytest.raises(exc, match=text):
        call()
