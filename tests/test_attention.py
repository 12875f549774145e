"""Scaled dot-product attention: the flash kernel against the plain-loop reference under every
CPU variant (tile edges, T = 1, Tq != Tk, head dims off the vector width, causal, masks,
grouped-query heads, dropout), a float64 gradcheck, logits around 1e4, torch parity of
F.scaled_dot_product_attention and nn.MultiheadAttention (outputs and every gradient), the
peak memory at T = 4096, and bad inputs."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import turbonn as tn
import turbonn.nn.functional as F
from turbonn import _core, nn

from test_autograd import gradcheck


def qkv(B, Hq, Hk, Tq, Tk, D, Dv, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    f = lambda *s: (rng.standard_normal(s) * scale).astype(np.float32)  # noqa: E731
    return f(B, Hq, Tq, D), f(B, Hk, Tk, D), f(B, Hk, Tk, Dv), f(B, Hq, Tq, Dv)


def both(q, k, v, do, variant, mask=None, causal=False, p=0.0, seed=0, scale=None):
    o, lse = _core.attention_forward(q, k, v, mask, scale, causal, p, seed, variant)
    dq, dk, dv = _core.attention_backward(do, q, k, v, o, lse, mask, scale, causal, p, seed,
                                          variant)
    return o, dq, dk, dv


def close(a, b, name, tol=2e-5):
    scale = max(1.0, float(np.abs(b).max()) if b.size else 1.0)
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale, err_msg=name)


# (B, Hq, Hk, Tq, Tk, D, Dv)
SHAPES = [(1, 1, 1, 1, 1, 1, 1), (2, 3, 3, 5, 7, 8, 8), (1, 2, 2, 55, 56, 17, 9),
          (1, 1, 1, 57, 129, 33, 65), (2, 2, 1, 128, 127, 64, 64), (1, 4, 2, 130, 70, 80, 3),
          (1, 1, 1, 1, 300, 16, 16), (1, 1, 1, 200, 1, 5, 7)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("causal", [False, True])
def test_fast_matches_reference(isa, shape, causal):
    q, k, v, do = qkv(*shape)
    fast = both(q, k, v, do, None, causal=causal)
    ref = both(q, k, v, do, "ref", causal=causal)
    for name, a, b in zip(("out", "dq", "dk", "dv"), fast, ref):
        close(a, b, f"{shape} causal={causal} {name}")


@pytest.mark.parametrize("mshape", [(9, 130), (2, 1, 9, 130), (1, 3, 1, 130), (2, 3, 9, 130)])
def test_masks_match_reference(isa, mshape):
    q, k, v, do = qkv(2, 3, 3, 9, 130, 16, 16, seed=1)
    rng = np.random.default_rng(2)
    mask = rng.standard_normal(mshape).astype(np.float32)
    mask[..., 3] = -np.inf  # a column no query may see
    if len(mshape) == 2:
        mask[4] = -np.inf  # a query that sees nothing: zeros, as torch's CPU kernel
    fast = both(q, k, v, do, None, mask=mask)
    ref = both(q, k, v, do, "ref", mask=mask)
    for name, a, b in zip(("out", "dq", "dk", "dv"), fast, ref):
        close(a, b, f"{mshape} {name}")
    if len(mshape) == 2:
        assert not fast[0][:, :, 4].any() and not fast[1][:, :, 4].any()


def test_dropout_matches_reference_and_rate(isa):
    q, k, v, do = qkv(2, 2, 2, 70, 140, 8, 8, seed=3)
    fast = both(q, k, v, do, None, p=0.3, seed=1234)
    ref = both(q, k, v, do, "ref", p=0.3, seed=1234)
    for name, a, b in zip(("out", "dq", "dk", "dv"), fast, ref):
        close(a, b, f"dropout {name}")
    # V = I reads the dropped probabilities back: about 30% are zero, the rest scaled
    T = 64
    q, k, _, _ = qkv(1, 1, 1, T, T, 4, 4, seed=4)
    eye = np.eye(T, dtype=np.float32)[None, None]
    o, _ = _core.attention_forward(q, k, eye, None, None, False, 0.3, 99)
    assert 0.25 < np.mean(o == 0) < 0.35
    o2, _ = _core.attention_forward(q, k, eye, None, None, False, 0.3, 100)
    assert not np.array_equal(o == 0, o2 == 0)  # another seed, another mask


def test_large_logits_are_stable():
    """Scores around 1e4: the running-max softmax keeps everything finite. The float32
    log-sum-exp of such rows carries an absolute error ~1e4 * 2^-24, so the recomputed
    probabilities are off by ~1e-3 relative; gradients are compared on their natural scale
    (|scale| |k| |dout| |v|), as any float32 flash kernel (torch's too) must be."""
    q, k, v, do = qkv(1, 2, 2, 40, 70, 16, 16, seed=5, scale=30.0)
    assert np.abs(np.einsum("bhqd,bhkd->bhqk", q, k) / 4).max() > 4e3
    fast = both(q, k, v, do, None)
    ref = both(q, k, v, do, "ref")
    natural = 0.25 * np.abs(k).max() * np.abs(do).max() * np.abs(v).max()
    close(fast[0], ref[0], "out", tol=1e-5)
    for name, a, b in zip(("dq", "dk", "dv"), fast[1:], ref[1:]):
        assert np.isfinite(a).all(), name
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * natural, err_msg=name)


def test_nan_in_nan_out():
    q, k, v, do = qkv(1, 1, 1, 5, 6, 4, 4)
    k[0, 0, 2, 1] = np.nan
    o, _ = _core.attention_forward(q, k, v, None, None, False, 0.0, 0)
    assert np.isnan(o).all()  # every query reads key 2
    q, k, v, do = qkv(1, 1, 1, 5, 6, 4, 4)
    q[0, 0, 3, 0] = np.nan
    o, _ = _core.attention_forward(q, k, v, None, None, False, 0.0, 0)
    assert np.isnan(o[0, 0, 3]).all() and np.isfinite(np.delete(o[0, 0], 3, axis=0)).all()


def test_strided_inputs_read_in_place():
    q, k, v, do = qkv(2, 6, 6, 20, 20, 8, 8)
    # (B, T, H, D) memory seen as (B, H, T, D): what MultiheadAttention's reshape gives
    qt, kt, vt = (np.ascontiguousarray(a.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
                  for a in (q, k, v))
    assert not qt.flags.c_contiguous
    for a, b in zip(both(qt, kt, vt, do, None), both(q, k, v, do, None)):
        np.testing.assert_array_equal(a, b)


def test_bit_identical_for_any_thread_count():
    q, k, v, do = qkv(3, 4, 2, 100, 90, 32, 32)
    tn.set_num_threads(1)
    one = both(q, k, v, do, None, causal=True)
    tn.set_num_threads(2)
    two = both(q, k, v, do, None, causal=True)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------- gradcheck, torch


def sdpa64(q, k, v, mask=None, causal=False, scale=None):
    s = (q @ np.swapaxes(k, -1, -2)) * (scale if scale is not None else 1 / np.sqrt(q.shape[-1]))
    if mask is not None:
        s = s + mask
    if causal:
        s = s + np.triu(np.full(s.shape[-2:], -np.inf), 1)
    s = s - s.max(-1, keepdims=True)
    p = np.exp(s)
    return (p / p.sum(-1, keepdims=True)) @ v


@pytest.mark.parametrize("causal", [False, True])
def test_gradcheck_float64(causal):
    rng = np.random.default_rng(6)
    q, k, v = (rng.standard_normal((1, 2, n, 3)).astype(np.float32) for n in (4, 5, 5))
    if causal:
        k, v = k[:, :, :4], v[:, :, :4]
    mask = None if causal else rng.standard_normal((4, 5)).astype(np.float32)
    gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask,
                                                             is_causal=causal),
              lambda a, b, c: sdpa64(a, b, c, mask, causal), q, k, v, rtol=1e-3, atol=1e-4)


def _torch():
    return pytest.importorskip("torch")


SDPA_CASES = [
    dict(shape=(2, 3, 3, 1, 1, 8, 8)),
    dict(shape=(2, 2, 2, 7, 130, 33, 17)),
    dict(shape=(1, 4, 4, 100, 100, 64, 64), is_causal=True),
    dict(shape=(1, 4, 4, 60, 80, 16, 16), is_causal=True),
    dict(shape=(2, 2, 2, 9, 30, 8, 8), mask="bool"),
    dict(shape=(2, 2, 2, 9, 30, 8, 8), mask="float", scale=0.3),
    dict(shape=(1, 6, 2, 20, 20, 8, 8), enable_gqa=True),
    dict(shape=(3, 1, 1, 12, 12, 16, 16), ndim=3, is_causal=True),
]


@pytest.mark.parametrize("case", SDPA_CASES, ids=lambda c: str(sorted(c.items())))
def test_sdpa_torch_parity(case):
    torch = _torch()
    B, Hq, Hk, Tq, Tk, D, Dv = case["shape"]
    q, k, v, do = qkv(B, Hq, Hk, Tq, Tk, D, Dv, seed=7)
    kw = {k_: case[k_] for k_ in ("is_causal", "scale", "enable_gqa") if k_ in case}
    mask = tmask = None
    rng = np.random.default_rng(8)
    if case.get("mask") == "bool":
        mask = rng.random((B, 1, Tq, Tk)) > 0.3
        tmask = torch.tensor(mask)
    elif case.get("mask") == "float":
        mask = rng.standard_normal((Tq, Tk)).astype(np.float32)
        tmask = torch.tensor(mask, dtype=torch.float64)
    if case.get("ndim") == 3:
        q, k, v, do = (a[:, 0] for a in (q, k, v, do))
    ts = [tn.tensor(a, requires_grad=True) for a in (q, k, v)]
    ps = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*ts, attn_mask=mask, **kw)
    tout = torch.nn.functional.scaled_dot_product_attention(*ps, attn_mask=tmask, **kw)
    out.backward(tn.tensor(do))
    tout.backward(torch.tensor(do, dtype=torch.float64))
    close(out.detach().numpy(), tout.detach().numpy(), "out")
    for name, a, b in zip(("dq", "dk", "dv"), ts, ps):
        close(a.grad.numpy(), b.grad.numpy(), name, tol=5e-5)


def mha_pair(E, H, batch_first, bias=True):
    torch = _torch()
    tn.manual_seed(0)
    m = nn.MultiheadAttention(E, H, bias=bias, batch_first=batch_first)
    tm = torch.nn.MultiheadAttention(E, H, bias=bias, batch_first=batch_first).double()
    tm.load_state_dict({k: torch.tensor(np.asarray(v), dtype=torch.float64)
                        for k, v in m.state_dict().items()})
    return m, tm


@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "causal", "padding"])
def test_multihead_attention_torch_parity(need_weights, batch_first, masks):
    torch = _torch()
    E, H, N, L = 32, 4, 3, 11
    m, tm = mha_pair(E, H, batch_first)
    rng = np.random.default_rng(9)
    shape = (N, L, E) if batch_first else (L, N, E)
    x = rng.standard_normal(shape).astype(np.float32)
    kw, tkw = {}, {}
    if masks == "causal":
        am = np.triu(np.ones((L, L), bool), 1)
        kw = dict(attn_mask=am, is_causal=True)
        tkw = dict(attn_mask=torch.tensor(am), is_causal=True)
    elif masks == "padding":
        kp = np.zeros((N, L), bool)
        kp[1, -4:] = True
        kw = dict(key_padding_mask=kp)
        tkw = dict(key_padding_mask=torch.tensor(kp))
    X = tn.tensor(x, requires_grad=True)
    tX = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    o, w = m(X, X, X, need_weights=need_weights, **kw)
    to, tw = tm(tX, tX, tX, need_weights=need_weights, **tkw)
    g = rng.standard_normal(o.shape)
    (o * tn.tensor(g.astype(np.float32))).sum().backward()
    (to * torch.tensor(g)).sum().backward()
    close(o.detach().numpy(), to.detach().numpy(), "out")
    if need_weights:
        close(w.detach().numpy(), tw.detach().numpy(), "weights")
    else:
        assert w is None
    close(X.grad.numpy(), tX.grad.numpy(), "dx", tol=5e-5)
    for (n, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        close(p.grad.numpy(), tp.grad.numpy(), n, tol=5e-5)


def test_multihead_attention_bad_inputs():
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    m = nn.MultiheadAttention(8, 2, batch_first=True)
    x = tn.tensor(np.zeros((2, 5, 8), np.float32))
    with pytest.raises(ValueError, match="query must be"):
        m(tn.tensor(np.zeros((2, 5, 7), np.float32)), x, x)
    with pytest.raises(ValueError, match="key_padding_mask must have shape"):
        m(x, x, x, key_padding_mask=np.zeros((2, 4), bool))
    with pytest.raises(ValueError, match="attn_mask must have shape"):
        m(x, x, x, attn_mask=np.zeros((4, 5), bool))
    with pytest.raises(NotImplementedError, match="kdim"):
        nn.MultiheadAttention(8, 2, kdim=4)


def test_sdpa_bad_inputs():
    q = tn.tensor(np.zeros((1, 2, 5, 8), np.float32))
    with pytest.raises(ValueError, match="head dimension of query and key"):
        F.scaled_dot_product_attention(q, tn.tensor(np.zeros((1, 2, 5, 7), np.float32)), q)
    with pytest.raises(ValueError, match="key and value must have the same length"):
        F.scaled_dot_product_attention(q, q, tn.tensor(np.zeros((1, 2, 6, 8), np.float32)))
    with pytest.raises(ValueError, match="heads"):
        F.scaled_dot_product_attention(q, tn.tensor(np.zeros((1, 3, 5, 8), np.float32)),
                                       tn.tensor(np.zeros((1, 3, 5, 8), np.float32)))
    with pytest.raises(ValueError, match="attn_mask must be None when is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.zeros((5, 5), bool), is_causal=True)
    with pytest.raises(ValueError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.zeros((4, 5), np.float32))
    with pytest.raises(ValueError, match="dropout_p"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.5)
    with pytest.raises(TypeError, match="query must be float32"):
        F.scaled_dot_product_attention(tn.tensor(np.zeros((1, 2, 5, 8), np.int64)), q, q)
    with pytest.raises(TypeError, match="key must be a Tensor"):
        F.scaled_dot_product_attention(q, np.zeros((1, 2, 5, 8), np.float32), q)
    with pytest.raises(ValueError, match="key's last dimension"):
        _core.attention_forward(np.zeros((1, 1, 2, 3), np.float32),
                                np.zeros((1, 1, 2, 4), np.float32),
                                np.zeros((1, 1, 2, 4), np.float32))


@pytest.mark.skipif(_core.build_info()["sanitize"],
                    reason="a sanitizer's shadow memory and quarantine swamp the RSS reading")
def test_peak_memory_at_4096_stays_small():
    """(1, 8, 4096, 64) forward + backward: the flash kernel's extra memory (beyond inputs and
    outputs) stays under 64 MiB; the (L, S) matrices of a math path would take 512 MiB each."""
    code = r"""
import resource, numpy as np, turbonn as tn
B, H, T, D = 1, 8, 4096, 64
rng = np.random.default_rng(0)
q, k, v, do = (rng.standard_normal((B, H, T, D)).astype(np.float32) for _ in range(4))
outs = [np.ones((B, H, T, D), np.float32) for _ in range(4)] + [np.ones((B, H, T), np.float32)]
del outs  # the heap now holds the outputs' size, reused below
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
o, lse = tn.ops.attention_forward(q, k, v, is_causal=True)
dq, dk, dv = tn.ops.attention_backward(do, q, k, v, o, lse, is_causal=True)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024.0)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    grown_mib = float(out.stdout.strip())
    assert grown_mib < 64, f"peak RSS grew by {grown_mib:.1f} MiB"


# ------------------------------------------------------------------------- transformer block


@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize("batch_first", [True, False])
def test_transformer_layer_torch_parity(norm_first, batch_first):
    """The pre-norm decoder-only block (norm_first, causal) and torch's post-norm default."""
    torch = _torch()
    E, H, FF, N, L = 32, 4, 64, 3, 10
    tn.manual_seed(0)
    m = nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, batch_first=batch_first,
                                   norm_first=norm_first)
    tm = torch.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, batch_first=batch_first,
                                          norm_first=norm_first).double()
    tm.load_state_dict({k: torch.tensor(np.asarray(v), dtype=torch.float64)
                        for k, v in m.state_dict().items()})
    assert list(m.state_dict()) == list(tm.state_dict())
    x = np.random.default_rng(10).standard_normal((N, L, E) if batch_first else (L, N, E))
    x = x.astype(np.float32)
    causal = np.triu(np.full((L, L), -np.inf, np.float32), 1)
    X = tn.tensor(x, requires_grad=True)
    tX = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = m(X, src_mask=causal, is_causal=True)
    tout = tm(tX, src_mask=torch.tensor(causal, dtype=torch.float64), is_causal=True)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    close(out.detach().numpy(), tout.detach().numpy(), "out", tol=5e-5)
    close(X.grad.numpy(), tX.grad.numpy(), "dx", tol=1e-4)
    for (n, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        close(p.grad.numpy(), tp.grad.numpy(), n, tol=1e-4)


def test_causal_flag_alone_matches_an_explicit_mask():
    tn.manual_seed(1)
    m = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True, norm_first=True)
    x = tn.tensor(np.random.default_rng(11).standard_normal((2, 9, 16)).astype(np.float32))
    mask = np.triu(np.full((9, 9), -np.inf, np.float32), 1)
    np.testing.assert_allclose(m(x, is_causal=True).detach().numpy(),
                               m(x, src_mask=mask).detach().numpy(), atol=1e-6)


def test_sinusoidal_positional_encoding():
    pe = nn.transformer.sinusoidal_encoding(50, 6)
    t, i = 7, 1
    assert pe[t, 2 * i] == pytest.approx(np.sin(t / 10000 ** (2 * i / 6)), rel=1e-6)
    assert pe[t, 2 * i + 1] == pytest.approx(np.cos(t / 10000 ** (2 * i / 6)), rel=1e-6)
    enc = nn.SinusoidalPositionalEncoding(6, max_len=50)
    x = tn.tensor(np.zeros((2, 5, 6), np.float32))
    np.testing.assert_allclose(enc(x).numpy()[1], pe[:5])
    with pytest.raises(ValueError, match="T <= 50"):
        enc(tn.tensor(np.zeros((1, 51, 6), np.float32)))
    odd = nn.transformer.sinusoidal_encoding(4, 5)  # odd widths end on a sine
    assert odd.shape == (4, 5) and np.isfinite(odd).all()
