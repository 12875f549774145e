"""RNN (tanh/relu) and LSTM: the fast kernel against the plain-loop reference under every CPU
variant on awkward shapes (block edges of 32 hidden units, primes, zero sizes), bit-identical
results for 1 and 2 threads, float64 finite-difference gradchecks through time (h0/c0
included), torch parity of nn.RNN/nn.LSTM (outputs, final states, every parameter gradient;
1-3 layers, batch_first both ways, T = 1 and long, unbatched), gradient clipping, the identity
initialisation, and bad inputs."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn
from turbonn import _core, nn
from turbonn.nn._rnn_functional import rnn_layers

from test_autograd import gradcheck

MODES = ("LSTM", "RNN_TANH", "RNN_RELU")


def gates(mode):
    return 4 if mode == "LSTM" else 1


def layer_arrays(mode, T, B, I, H, bias=True, seed=0, scale=0.4):
    rng = np.random.default_rng(seed)
    G = gates(mode)
    f = lambda *s: rng.uniform(-1, 1, s).astype(np.float32)  # noqa: E731
    a = dict(x=f(T, B, I), h0=f(B, H), c0=f(B, H) if G == 4 else None,
             w_ih=f(G * H, I) * scale, w_hh=f(G * H, H) * scale,
             b_ih=f(G * H) if bias else None, b_hh=f(G * H) if bias else None)
    return a


def run_layer(mode, a, dy, dhn, dcn, variant=None):
    y, hn, cn, ws = _core.rnn_forward(mode, a["x"], a["h0"], a["c0"], a["w_ih"], a["w_hh"],
                                      a["b_ih"], a["b_hh"], variant=variant)
    grads = _core.rnn_backward(mode, a["x"], a["h0"], a["c0"], a["w_ih"], a["w_hh"],
                               a["b_ih"] is not None, y, ws, dy, dhn, dcn, variant=variant)
    return (y, hn, cn) + tuple(grads)


def upstream(mode, T, B, H, seed=5):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((T, B, H)).astype(np.float32),
            rng.standard_normal((B, H)).astype(np.float32),
            rng.standard_normal((B, H)).astype(np.float32) if mode == "LSTM" else None)


NAMES = ("output", "h_n", "c_n", "dx", "dh0", "dc0", "dw_ih", "dw_hh", "db")

# (T, B, I, H): H around the 32-unit block and the micro-kernels' widths, primes, B past MR.
SHAPES = [(1, 1, 1, 1), (3, 2, 5, 31), (4, 3, 7, 32), (2, 5, 3, 33), (5, 1, 17, 64),
          (3, 7, 2, 97), (2, 15, 1, 130), (6, 16, 9, 16), (2, 29, 13, 40)]


def assert_close(got, exp, name, rtol=2e-5):
    if exp is None:
        assert got is None, name
        return
    scale = max(1.0, float(np.abs(exp).max()) if exp.size else 1.0)
    np.testing.assert_allclose(got, exp, rtol=0, atol=rtol * scale * 10, err_msg=name)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", SHAPES)
def test_fast_matches_reference(isa, mode, shape):
    T, B, I, H = shape
    a = layer_arrays(mode, *shape)
    up = upstream(mode, T, B, H)
    fast = run_layer(mode, a, *up)
    ref = run_layer(mode, a, *up, variant="ref")
    for name, f, r in zip(NAMES, fast, ref):
        assert_close(f, r, f"{mode} {shape} {name}")


@pytest.mark.parametrize("mode", MODES)
def test_no_bias_and_no_state_gradients(isa, mode):
    a = layer_arrays(mode, 4, 3, 5, 37, bias=False)
    dy, _, _ = upstream(mode, 4, 3, 37)
    fast = run_layer(mode, a, dy, None, None)
    ref = run_layer(mode, a, dy, None, None, variant="ref")
    assert fast[-1] is None and ref[-1] is None
    for name, f, r in zip(NAMES, fast, ref):
        assert_close(f, r, f"{mode} {name}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(0, 3, 4, 5), (3, 0, 4, 5), (3, 2, 0, 5)])
def test_zero_sizes(variant_any, mode, shape):
    T, B, I, H = shape
    a = layer_arrays(mode, *shape)
    up = upstream(mode, T, B, H)
    out = run_layer(mode, a, *up, variant=variant_any)
    y, hn, cn, dx, dh0, dc0, dwi, dwh, db = out
    assert y.shape == (T, B, H) and dx.shape == (T, B, I)
    if T == 0:  # nothing happens: the final state is the initial one, its gradient passes
        np.testing.assert_array_equal(hn, a["h0"])
        np.testing.assert_array_equal(dh0, up[1])
        assert not dwi.any() and not dwh.any() and not db.any()
        if mode == "LSTM":
            np.testing.assert_array_equal(cn, a["c0"])
            np.testing.assert_array_equal(dc0, up[2])
    if I == 0:
        ref = run_layer(mode, a, *up, variant="ref")
        for name, f, r in zip(NAMES, out, ref):
            assert_close(f, r, name)


@pytest.fixture(params=["ref", "fast"])
def variant_any(request):
    return None if request.param == "fast" else "ref"


@pytest.mark.parametrize("mode", MODES)
def test_bit_identical_for_any_thread_count(mode):
    a = layer_arrays(mode, 5, 9, 20, 200)  # 7 blocks of hidden units: uneven shares
    up = upstream(mode, 5, 9, 200)
    tn.set_num_threads(1)
    one = run_layer(mode, a, *up)
    tn.set_num_threads(2)
    two = run_layer(mode, a, *up)
    for name, p, q in zip(NAMES, one, two):
        if p is not None:
            np.testing.assert_array_equal(p, q, err_msg=name)


@pytest.mark.parametrize("mode", MODES)
def test_nan_in_nan_out(mode):
    a = layer_arrays(mode, 3, 2, 4, 5)
    a["x"][1, 0, 2] = np.nan
    y, hn, cn, _ = _core.rnn_forward(mode, a["x"], a["h0"], a["c0"], a["w_ih"], a["w_hh"],
                                     a["b_ih"], a["b_hh"])
    assert np.isfinite(y[0]).all()
    assert np.isnan(y[1, 0]).all() and np.isnan(hn[0]).all()
    assert np.isfinite(y[:, 1]).all()  # the other sequence of the batch is untouched


# ------------------------------------------------------------------------ float64 gradchecks


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def layer64(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """float64 NumPy oracle: flat [output | h_n | c_n]."""
    H = w_hh.shape[1]
    h, c, ys = h0, c0, []
    for t in range(x.shape[0]):
        pre = x[t] @ w_ih.T + h @ w_hh.T + b_ih + b_hh
        if mode == "LSTM":
            i, f, g, o = (sigmoid(pre[:, :H]), sigmoid(pre[:, H:2 * H]), np.tanh(pre[:, 2 * H:3 * H]),
                          sigmoid(pre[:, 3 * H:]))
            c = f * c + i * g
            h = o * np.tanh(c)
        else:
            h = np.tanh(pre) if mode == "RNN_TANH" else np.maximum(pre, 0)
        ys.append(h)
    parts = [np.stack(ys).reshape(-1), h.reshape(-1)] + ([c.reshape(-1)] if mode == "LSTM" else [])
    return np.concatenate(parts)


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_float64_through_time(mode):
    T, B, I, H = 4, 2, 3, 3
    a = layer_arrays(mode, T, B, I, H, scale=0.8, seed=3)
    if mode == "RNN_RELU":  # keep pre-activations away from relu's kink
        a["b_ih"] = a["b_ih"] * 0 + 0.6
    names = ["x", "h0"] + (["c0"] if mode == "LSTM" else []) + ["w_ih", "w_hh", "b_ih", "b_hh"]

    def f_tn(*ts):
        d = dict(zip(names, ts))
        y, h_n, c_n = rnn_layers(d["x"], d["h0"].reshape(1, B, H),
                                 d["c0"].reshape(1, B, H) if mode == "LSTM" else None,
                                 [(d["w_ih"], d["w_hh"], d["b_ih"], d["b_hh"])], mode, 0.0, False)
        parts = [y.reshape(-1), h_n.reshape(-1)] + ([c_n.reshape(-1)] if c_n is not None else [])
        return tn.cat(parts)

    def f64(*arrs):
        d = dict(zip(names, arrs))
        return layer64(mode, d["x"], d["h0"], d.get("c0"), d["w_ih"], d["w_hh"], d["b_ih"],
                       d["b_hh"])

    gradcheck(f_tn, f64, *[a[n] for n in names], rtol=2e-3, atol=2e-4)


# ------------------------------------------------------------------------------ torch parity

def _torch():
    return pytest.importorskip("torch")


def make_pair(kind, I, H, L, bias=True, batch_first=False):
    torch = _torch()
    tn.manual_seed(0)
    if kind == "LSTM":
        m = nn.LSTM(I, H, L, bias=bias, batch_first=batch_first)
        tm = torch.nn.LSTM(I, H, L, bias=bias, batch_first=batch_first)
    else:
        m = nn.RNN(I, H, L, nonlinearity=kind, bias=bias, batch_first=batch_first)
        tm = torch.nn.RNN(I, H, L, nonlinearity=kind, bias=bias, batch_first=batch_first)
    tm = tm.double()
    # a torch state_dict loads 1:1 both ways: ours into torch here, torch's into ours below
    tm.load_state_dict({k: torch.tensor(np.asarray(v), dtype=torch.float64)
                        for k, v in m.state_dict().items()})
    m.load_state_dict({k: v.float().numpy() for k, v in tm.state_dict().items()})
    return m, tm


def parity(kind, L, batch_first, T, B, I, H, bias=True, with_state=True, unbatched=False):
    torch = _torch()
    m, tm = make_pair(kind, I, H, L, bias, batch_first)
    rng = np.random.default_rng(7)
    xs = (T, I) if unbatched else ((B, T, I) if batch_first else (T, B, I))
    ss = (L, H) if unbatched else (L, B, H)
    x = rng.standard_normal(xs).astype(np.float32)
    h0 = rng.standard_normal(ss).astype(np.float32)
    c0 = rng.standard_normal(ss).astype(np.float32)
    X, H0, C0 = (tn.tensor(v, requires_grad=True) for v in (x, h0, c0))
    tX, tH0, tC0 = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, h0, c0))
    lstm = kind == "LSTM"
    state = ((H0, C0) if lstm else H0) if with_state else None
    tstate = ((tH0, tC0) if lstm else tH0) if with_state else None
    y, hn = m(X, state)
    ty, thn = tm(tX, tstate)
    if lstm:
        (hn, cn), (thn, tcn) = hn, thn
    w = rng.standard_normal(y.shape)
    loss = (y * tn.tensor(w.astype(np.float32))).sum() + (hn * hn).sum()
    tloss = (ty * torch.tensor(w)).sum() + (thn * thn).sum()
    if lstm:
        loss = loss + (cn * 0.5).sum()
        tloss = tloss + (tcn * 0.5).sum()
    loss.backward()
    tloss.backward()
    tol = dict(rtol=1e-4, atol=2e-5 * max(1, T) ** 0.5)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **tol)
    np.testing.assert_allclose(hn.detach().numpy(), thn.detach().numpy(), **tol)
    if lstm:
        np.testing.assert_allclose(cn.detach().numpy(), tcn.detach().numpy(), **tol)
    np.testing.assert_allclose(X.grad.numpy(), tX.grad.numpy(), **tol)
    if with_state:
        np.testing.assert_allclose(H0.grad.numpy(), tH0.grad.numpy(), **tol)
        if lstm:
            np.testing.assert_allclose(C0.grad.numpy(), tC0.grad.numpy(), **tol)
    names = [n for n, _ in m.named_parameters()]
    assert names == [n for n, _ in tm.named_parameters()]
    for (n, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        g = tp.grad.numpy()
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-4,
                                   atol=2e-5 * max(1.0, np.abs(g).max()), err_msg=n)


@pytest.mark.parametrize("kind", ["LSTM", "tanh", "relu"])
@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("batch_first", [False, True])
def test_torch_parity_layers(kind, layers, batch_first):
    parity(kind, layers, batch_first, T=6, B=3, I=5, H=35)


@pytest.mark.parametrize("kind", ["LSTM", "tanh"])
@pytest.mark.parametrize("T", [1, 300])
def test_torch_parity_short_and_long(kind, T):
    parity(kind, 1, True, T=T, B=2, I=4, H=20)


@pytest.mark.parametrize("kind", ["LSTM", "relu"])
def test_torch_parity_no_bias_no_state_unbatched(kind):
    parity(kind, 2, False, T=5, B=4, I=3, H=33, bias=False, with_state=False)
    parity(kind, 2, False, T=5, B=1, I=3, H=9, unbatched=True)


def test_torch_parity_music_shapes():
    parity("LSTM", 1, True, T=20, B=8, I=64, H=256)


def test_dropout_between_layers():
    tn.manual_seed(0)
    m = nn.LSTM(4, 6, num_layers=2, dropout=0.5)
    x = tn.tensor(np.random.default_rng(0).standard_normal((5, 3, 4)).astype(np.float32))
    m.eval()
    y_eval, _ = m(x)
    m0 = nn.LSTM(4, 6, num_layers=2, dropout=0.0)
    m0.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(y_eval.detach().numpy(), m0(x)[0].detach().numpy())
    m.train()
    assert not np.allclose(m(x)[0].detach().numpy(), y_eval.detach().numpy())


# ------------------------------------------------------------------- clipping, identity init


def test_gradient_clipping_matches_torch():
    torch = _torch()
    m, tm = make_pair("LSTM", 3, 10, 2)
    x = np.random.default_rng(1).standard_normal((30, 2, 3)).astype(np.float32) * 3
    y, _ = m(tn.tensor(x))
    (y * y).sum().backward()
    ty, _ = tm(torch.tensor(x, dtype=torch.float64))
    (ty * ty).sum().backward()
    total = nn.utils.clip_grad_norm_(m.parameters(), 0.5)
    ttotal = torch.nn.utils.clip_grad_norm_(tm.parameters(), 0.5)
    np.testing.assert_allclose(float(total), float(ttotal), rtol=1e-4)
    norms = np.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum())
                        for p in m.parameters()))
    assert norms == pytest.approx(0.5, rel=1e-4)
    for p, tp in zip(m.parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-3, atol=1e-6)


def test_identity_init_keeps_gradients_alive():
    """IRNN: relu with W_hh = I and zero biases carries h0 through 100 steps unchanged, and the
    gradient back to h0 neither vanishes nor explodes; the default init's does vanish."""
    tn.manual_seed(0)
    m = nn.RNN(2, 16, nonlinearity="relu").init_recurrent_identity_()
    np.testing.assert_array_equal(m.weight_hh_l0.detach().numpy(), np.eye(16, dtype=np.float32))
    assert not m.bias_ih_l0.detach().numpy().any()
    x = tn.tensor(np.zeros((100, 1, 2), np.float32))
    h0 = tn.tensor(np.full((1, 1, 16), 0.5, np.float32), requires_grad=True)
    _, hn = m(x, h0)
    np.testing.assert_allclose(hn.detach().numpy(), 0.5)
    hn.sum().backward()
    np.testing.assert_allclose(h0.grad.numpy(), 1.0)
    d = nn.RNN(2, 16)
    h1 = tn.tensor(np.full((1, 1, 16), 0.5, np.float32), requires_grad=True)
    d(x, h1)[1].sum().backward()
    assert np.abs(h1.grad.numpy()).max() < 1e-3
    lstm = nn.LSTM(2, 4).init_recurrent_identity_(0.5)
    w = lstm.weight_hh_l0.detach().numpy()
    np.testing.assert_array_equal(w, np.tile(np.eye(4, dtype=np.float32) * 0.5, (4, 1)))
    np.testing.assert_array_equal(lstm.bias_hh_l0.detach().numpy()[4:8], 1.0)


def test_repr_and_parameter_names():
    m = nn.LSTM(3, 5, num_layers=2, batch_first=True)
    assert repr(m) == "LSTM(3, 5, num_layers=2, batch_first=True)"
    assert [n for n, _ in m.named_parameters()] == [
        f"{w}_l{k}" for k in range(2) for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    assert m.weight_ih_l0.shape == (20, 3) and m.weight_ih_l1.shape == (20, 5)
    assert repr(nn.RNN(2, 3, nonlinearity="relu", bias=False)) == \
        "RNN(2, 3, bias=False, nonlinearity='relu')"


# ------------------------------------------------------------------------------- bad inputs


def test_bad_module_inputs():
    m = nn.LSTM(4, 6, num_layers=2)
    x = tn.tensor(np.zeros((5, 3, 4), np.float32))
    with pytest.raises(ValueError, match="input_size. Expected 4, got 3"):
        m(tn.tensor(np.zeros((5, 3, 3), np.float32)))
    with pytest.raises(ValueError, match=r"Expected input to be 2D or 3D, got 4D"):
        m(tn.tensor(np.zeros((1, 5, 3, 4), np.float32)))
    with pytest.raises(TypeError, match="input must be float32"):
        m(tn.tensor(np.zeros((5, 3, 4), np.int64)))
    with pytest.raises(TypeError, match="input must be a Tensor"):
        m(np.zeros((5, 3, 4), np.float32))
    good = tn.tensor(np.zeros((2, 3, 6), np.float32))
    with pytest.raises(ValueError, match=r"hidden\[0\] size \(2, 3, 6\), got \[1, 3, 6\]"):
        m(x, (tn.tensor(np.zeros((1, 3, 6), np.float32)), good))
    with pytest.raises(ValueError, match=r"hidden\[1\] size \(2, 3, 6\), got \[2, 4, 6\]"):
        m(x, (good, tn.tensor(np.zeros((2, 4, 6), np.float32))))
    with pytest.raises(TypeError, match="hx must be a tuple"):
        m(x, good)
    r = nn.RNN(4, 6)
    with pytest.raises(ValueError, match=r"Expected hidden size \(1, 3, 6\), got \[1, 3, 5\]"):
        r(x, tn.tensor(np.zeros((1, 3, 5), np.float32)))
    with pytest.raises(TypeError, match="Long, Int"):
        nn.Embedding(10, 4)(tn.tensor(np.zeros((2, 3), np.float32)))


def test_bad_module_arguments():
    with pytest.raises(NotImplementedError, match="bidirectional"):
        nn.LSTM(3, 4, bidirectional=True)
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size must be an int >= 1"):
        nn.LSTM(3, 0)
    with pytest.raises(ValueError, match="num_layers"):
        nn.RNN(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(TypeError, match="dtype"):
        nn.LSTM(3, 4, dtype=np.float64)


def test_bad_kernel_arguments():
    a = layer_arrays("LSTM", 3, 2, 4, 5)
    args = [a[k] for k in ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh")]

    def call(**kw):
        d = dict(zip(("input", "hx", "cx", "weight_ih", "weight_hh", "bias_ih", "bias_hh"), args))
        d.update(kw)
        return _core.rnn_forward(kw.pop("mode", "LSTM"), **d)

    with pytest.raises(ValueError, match="mode must be"):
        _core.rnn_forward("GRU", *args)
    with pytest.raises(ValueError, match=r"input must be 3-D"):
        call(input=a["x"][0])
    with pytest.raises(ValueError, match=r"weight_hh must have shape \(4\*hidden_size"):
        call(weight_hh=a["w_hh"][:-1])
    with pytest.raises(ValueError, match=r"weight_ih must have shape \(20, 4\)"):
        call(weight_ih=a["w_ih"][:, :3])
    with pytest.raises(ValueError, match=r"bias_ih must have shape \(20,\)"):
        call(bias_ih=a["b_ih"][:7])
    with pytest.raises(ValueError, match="both be arrays or both be None"):
        call(bias_hh=None)
    with pytest.raises(ValueError, match=r"hx must have shape \(2, 5\)"):
        call(hx=a["h0"][:1])
    with pytest.raises(ValueError, match="needs cx"):
        call(cx=None)
    with pytest.raises(TypeError, match="input"):
        call(input=a["x"].astype(np.float64))
    y, _, _, ws = call()
    dy = np.zeros_like(y)
    base = (a["x"], a["h0"], a["c0"], a["w_ih"], a["w_hh"], True)
    with pytest.raises(ValueError, match="workspace must have shape"):
        _core.rnn_backward("LSTM", *base, y, ws[:-1], dy)
    with pytest.raises(ValueError, match="grad_output must have shape"):
        _core.rnn_backward("LSTM", *base, y, ws, dy[:1])
    with pytest.raises(ValueError, match="grad_hn must have shape"):
        _core.rnn_backward("LSTM", *base, y, ws, dy, dy[0, :1])
    r = layer_arrays("RNN_TANH", 3, 2, 4, 5)
    with pytest.raises(ValueError, match="cx is for the LSTM only"):
        _core.rnn_forward("RNN_TANH", r["x"], r["h0"], r["h0"], r["w_ih"], r["w_hh"])
