"""Gradient checks for every Tensor op: turbonn's float32 analytic gradients against central
differences of an independent float64 NumPy forward, plus the tape's rules (accumulation, reuse,
retain_graph, no_grad, non-leaf grads, repeated indices)."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn


def numeric_grads(f64, arrays, gout, eps=1e-6):
    """d/dx_i sum(f64(*x) * gout) by float64 central differences, for every input array."""
    xs = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for x in xs:
        g = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + eps
            up = np.sum(f64(*xs) * gout)
            x[i] = old - eps
            down = np.sum(f64(*xs) * gout)
            x[i] = old
            g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def gradcheck(f_tn, f64, *arrays, rtol=1e-4, atol=1e-4, seed=0):
    """Run f_tn on float32 tensors, backward a random upstream gradient, and compare the value
    and each input's .grad with float64 NumPy (value) and finite differences (gradients)."""
    xs = [tn.tensor(a, requires_grad=True) for a in arrays]
    out = f_tn(*xs)
    exp = np.asarray(f64(*[np.asarray(a, np.float64) for a in arrays]))
    assert out.shape == exp.shape
    np.testing.assert_allclose(out.detach().numpy(), exp, rtol=rtol, atol=atol)
    gout = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(tn.tensor(gout))
    for k, (x, g) in enumerate(zip(xs, numeric_grads(f64, arrays, gout))):
        assert x.grad is not None, f"input {k} got no gradient"
        assert x.grad.dtype == np.float32 and x.grad.shape == x.shape
        np.testing.assert_allclose(x.grad.numpy(), g, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {k}")


def rand(*shape, seed=1, low=-1.0, high=1.0):
    return np.random.default_rng(seed + sum(shape)).uniform(low, high, shape).astype(np.float32)


def pos(*shape, seed=2):
    return rand(*shape, seed=seed, low=0.5, high=2.0)


# --------------------------------------------------------------------- elementwise, broadcasting

BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3), (3,)), ((), (2, 3)),
                    ((2, 1, 3), (4, 1)), ((1,), (5,))]


@pytest.mark.parametrize("sa, sb", BROADCAST_SHAPES)
@pytest.mark.parametrize("name, f", [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b), ("pow", lambda a, b: a ** b),
])
def test_binary_ops_with_broadcasting(name, f, sa, sb):
    a = pos(*sa) if name == "pow" else rand(*sa)
    b = pos(*sb, seed=3) if name in ("div", "pow") else rand(*sb, seed=3)
    gradcheck(f, f, a, b)


@pytest.mark.parametrize("f", [
    lambda a: a + 2.5, lambda a: 2.5 + a, lambda a: a - 3, lambda a: 3 - a,
    lambda a: a * -1.5, lambda a: -1.5 * a, lambda a: a / 4.0, lambda a: 4.0 / a,
    lambda a: a ** 2, lambda a: a ** 3.5, lambda a: a ** -1, lambda a: a ** 0.5,
    lambda a: 2.0 ** a, lambda a: -a,
])
def test_scalar_on_either_side(f):
    gradcheck(f, f, pos(2, 3))


def test_pow_zero_exponent_and_zero_base():
    x = tn.tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    x.grad = None
    (x ** 2).sum().backward()
    assert x.grad.tolist() == [0.0, 4.0]
    e = tn.tensor([2.0, 2.0], requires_grad=True)
    (tn.tensor([0.0, 1.0]) ** e).sum().backward()
    assert e.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("name, f_tn, f64, make", [
    ("exp", lambda a: a.exp(), np.exp, rand),
    ("log", lambda a: a.log(), np.log, pos),
    ("sqrt", lambda a: a.sqrt(), np.sqrt, pos),
    ("abs", lambda a: a.abs(), np.abs, rand),
    ("neg", lambda a: -a, np.negative, rand),
])
def test_unary_ops(name, f_tn, f64, make):
    gradcheck(f_tn, f64, make(3, 4))


# ------------------------------------------------------------------------------------ matmul


@pytest.mark.parametrize("sa, sb", [
    ((3, 4), (4, 5)), ((1, 7), (7, 1)), ((5, 3), (3, 2)),
    ((4,), (4, 3)), ((3, 4), (4,)), ((4,), (4,)),
    ((2, 3, 4), (4, 5)),            # batched @ 2-D: one folded gemm
    ((2, 3, 4), (2, 4, 5)),         # bmm
    ((3, 4), (2, 4, 5)),            # 2-D @ batched: broadcast, dA reduced over the batch
    ((2, 1, 3, 4), (3, 4, 2)),      # broadcast batch axes
])
def test_matmul_gradients(sa, sb):
    gradcheck(lambda a, b: a @ b, np.matmul, rand(*sa), rand(*sb, seed=5))


def test_matmul_backward_uses_gemm_transpose_flags(monkeypatch):
    calls = []
    real = tn.ops.gemm

    def spy(a, b, **kw):
        calls.append((a.shape, b.shape, kw.get("trans_a", False), kw.get("trans_b", False)))
        return real(a, b, **kw)

    monkeypatch.setattr(tn.ops, "gemm", spy)
    a = tn.tensor(rand(3, 4), requires_grad=True)
    b = tn.tensor(rand(4, 5), requires_grad=True)
    (a @ b).sum().backward()
    assert calls == [((3, 4), (4, 5), False, False),
                     ((3, 5), (4, 5), False, True),     # dA = dC @ B^T
                     ((3, 4), (3, 5), True, False)]     # dB = A^T @ dC


def test_matmul_zero_sized():
    a = tn.tensor(np.zeros((0, 3), np.float32), requires_grad=True)
    b = tn.tensor(rand(3, 2), requires_grad=True)
    out = a @ b
    assert out.shape == (0, 2)
    out.sum().backward()
    assert a.grad.shape == (0, 3) and b.grad.tolist() == [[0.0, 0.0]] * 3


# ------------------------------------------------------------------------------ shapes, views


@pytest.mark.parametrize("f_tn, f64", [
    (lambda a: a.reshape(4, 6), lambda a: a.reshape(4, 6)),
    (lambda a: a.reshape((-1,)), lambda a: a.reshape(-1)),
    (lambda a: a.view(6, -1), lambda a: a.reshape(6, -1)),
    (lambda a: a.transpose(0, 2), lambda a: a.swapaxes(0, 2)),
    (lambda a: a.transpose(-1, 1), lambda a: a.swapaxes(-1, 1)),
    (lambda a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
    (lambda a: a[1].T, lambda a: a[1].T),
    (lambda a: a[1], lambda a: a[1]),
    (lambda a: a[0:1], lambda a: a[0:1]),
    (lambda a: a[:, 1:, ::2], lambda a: a[:, 1:, ::2]),
    (lambda a: a[tn.tensor([1, 0, 1, 1])], lambda a: a[[1, 0, 1, 1]]),
    (lambda a: a[:, tn.tensor([2, 2])], lambda a: a[:, [2, 2]]),
    (lambda a: a[a > 0], lambda a: a[a > 0]),
])
def test_shape_ops_and_indexing(f_tn, f64):
    gradcheck(f_tn, f64, rand(2, 3, 4))


def test_indexing_repeated_indices_accumulate():
    w = tn.tensor(np.zeros((4, 2), np.float32), requires_grad=True)
    idx = tn.tensor([0, 2, 0, 0, 3])
    (w[idx] * tn.tensor([[1.0, 10.0]])).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[3, 30], [0, 0], [1, 10], [1, 10]])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_and_stack(dim):
    a, b, c = rand(2, 3), rand(2, 3, seed=7), rand(2, 3, seed=8)
    gradcheck(lambda *t: tn.stack(t, dim), lambda *t: np.stack(t, dim), a, b, c)
    b2 = rand(2, 2, seed=9) if dim != 0 else rand(4, 3, seed=9)
    gradcheck(lambda *t: tn.cat(t, dim), lambda *t: np.concatenate(t, dim), a, b2)


# ---------------------------------------------------------------------------------- reductions


@pytest.mark.parametrize("dim", [None, 0, 2, -1, (0, 2), (1,)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_mean(dim, keepdim):
    x = rand(2, 3, 4)
    gradcheck(lambda a: a.sum(dim=dim, keepdim=keepdim),
              lambda a: a.sum(axis=dim, keepdims=keepdim), x)
    gradcheck(lambda a: a.mean(dim, keepdim),
              lambda a: a.mean(axis=dim, keepdims=keepdim), x)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim(dim, keepdim):
    x = rand(3, 4, 5)  # distinct values: finite differences are valid
    gradcheck(lambda a: a.max(dim, keepdim)[0], lambda a: a.max(axis=dim, keepdims=keepdim), x)
    gradcheck(lambda a: a.min(dim=dim, keepdim=keepdim).values,
              lambda a: a.min(axis=dim, keepdims=keepdim), x)


def test_max_all():
    gradcheck(lambda a: a.max(), np.max, rand(3, 4))
    gradcheck(lambda a: a.min(), np.min, rand(3, 4))


def test_max_ties():
    x = tn.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
    x.max(dim=1).values.sum().backward()  # all to the first maximal index, as torch
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    assert x.max(1).indices.tolist() == [1, 0]
    x.grad = None
    x.max().backward()  # the full max shares the gradient among ties, as torch
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0.5, 0.5], [0, 0, 0]])


# ------------------------------------------------------------------------------- tape rules


def test_tensor_used_twice_gets_both_gradients():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 5.0])


def test_diamond_graph():
    x = tn.tensor([2.0], requires_grad=True)
    y = x * 3
    z = y * y + y.exp()  # y feeds two branches that meet again
    z.backward(tn.tensor([1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2 * 3 * 6 + 3 * np.exp(6)], rtol=1e-5)


def test_gradients_accumulate_across_backward_calls():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    first = x.grad
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])
    assert x.grad is first  # accumulated in place, as torch's AccumulateGrad does
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_backward_twice_needs_retain_graph():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    z = (x * x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="second time"):
        z.backward()


def test_non_leaf_tensors_keep_no_grad():
    x = tn.tensor([1.0], requires_grad=True)
    y = x * 2
    (y * 3).sum().backward()
    assert y.grad is None and not y.is_leaf and y.grad_fn is not None
    assert x.grad.tolist() == [6.0]


def test_grad_flows_only_to_requires_grad_leaves():
    x = tn.tensor([1.0], requires_grad=True)
    c = tn.tensor([5.0])
    (x * c).sum().backward()
    assert c.grad is None and x.grad.tolist() == [5.0]


def test_no_grad_disables_the_tape():
    x = tn.tensor([1.0], requires_grad=True)
    with tn.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_backward_argument_checks():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match="implicitly created only for scalar outputs"):
        y.backward()
    with pytest.raises(ValueError, match="shape"):
        y.backward(tn.tensor([1.0, 2.0, 3.0]))
    y.backward(np.array([1.0, 0.5]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 1.0])


def test_backward_on_a_leaf():
    x = tn.tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_detach_cuts_the_graph():
    x = tn.tensor([1.0], requires_grad=True)
    y = (x * 2).detach() * x
    y.sum().backward()
    assert x.grad.tolist() == [2.0]


def test_custom_function():
    class Cube(tn.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a ** 3

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 3 * a * a * g

    gradcheck(Cube.apply, lambda a: a ** 3, rand(4))
    assert repr(Cube.apply(tn.tensor([1.0], requires_grad=True)).grad_fn) == "<CubeBackward>"


def test_bad_gradient_shape_from_a_function_is_caught():
    class Bad(tn.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g[:1]

    x = tn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="BadBackward.*shape"):
        Bad.apply(x).sum().backward()


def test_deep_chain_has_no_recursion_limit():
    x = tn.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]
