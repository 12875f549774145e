"""Tensor basics without gradients: construction, dtypes, zero-copy sharing with NumPy, repr,
grad mode (no_grad), shape ops' forward values and the errors bad input gets."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import turbonn as tn


# ------------------------------------------------------------------------------ construction


@pytest.mark.parametrize("data, dtype", [
    ([1.0, 2.0], np.float32),
    (np.arange(3, dtype=np.float64), np.float32),
    (np.arange(3, dtype=np.float16), np.float32),
    ([1, 2], np.int64),
    (np.arange(3, dtype=np.int32), np.int64),
    (np.arange(3, dtype=np.uint8), np.int64),
    ([True, False], np.bool_),
    ([1, 2.5], np.float32),
    (3.0, np.float32),
    (7, np.int64),
    ([], np.float32),
])
def test_tensor_dtype_inference(data, dtype):
    t = tn.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(data).astype(dtype))


def test_tensor_copies_and_from_numpy_shares():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = tn.tensor(a)
    assert not np.shares_memory(t.numpy(), a)
    s = tn.from_numpy(a)
    assert s.numpy() is a
    a[0, 0] = 42.0
    assert s[0, 0].item() == 42.0
    s.numpy()[1, 2] = -1.0
    assert a[1, 2] == -1.0
    assert tn.from_numpy(np.arange(3)).dtype == np.int64
    assert tn.from_numpy(np.array([True])).dtype == np.bool_


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.float16, np.complex64, object])
def test_from_numpy_rejects_other_dtypes(dtype):
    with pytest.raises(TypeError, match="from_numpy"):
        tn.from_numpy(np.zeros(3, dtype=dtype))


def test_from_numpy_rejects_non_arrays():
    with pytest.raises(TypeError, match="ndarray"):
        tn.from_numpy([1.0, 2.0])


def test_tensor_rejects_bad_data():
    with pytest.raises(TypeError):
        tn.tensor("abc")
    with pytest.raises(TypeError):
        tn.tensor([1 + 2j])
    with pytest.raises(ValueError):
        tn.tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError):
        tn.tensor([1.0], dtype=np.float64)


def test_explicit_dtype_and_tensor_from_tensor():
    assert tn.tensor([1.7, 2.2], dtype=np.int64).tolist() == [1, 2]
    src = tn.tensor([1.0, 2.0])
    copy = tn.tensor(src)
    assert not np.shares_memory(copy.numpy(), src.numpy())


def test_properties():
    t = tn.tensor(np.zeros((2, 3, 4)))
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.ndim == 3 and t.dim() == 3
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.numel() == 24 and len(t) == 2
    assert t.device == "cpu"
    assert t.requires_grad is False and t.grad is None and t.is_leaf and t.grad_fn is None


def test_item_and_conversions():
    assert tn.tensor([[2.5]]).item() == 2.5
    assert isinstance(tn.tensor(3).item(), int)
    assert float(tn.tensor(1.5)) == 1.5 and int(tn.tensor(4)) == 4
    assert bool(tn.tensor([True]))
    with pytest.raises(ValueError, match="3 elements cannot be converted"):
        tn.tensor([1.0, 2.0, 3.0]).item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(tn.tensor([1.0, 2.0]))
    with pytest.raises(TypeError):
        len(tn.tensor(1.0))
    assert (tn.tensor([1, 2]) > 1).float().dtype == np.float32
    assert tn.tensor([1.9]).long().tolist() == [1]
    assert np.asarray(tn.tensor([1.0, 2.0])).dtype == np.float32
    assert [x.item() for x in tn.tensor([4, 5])] == [4, 5]


def test_numpy_refuses_requires_grad():
    t = tn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        t.numpy()
    d = t.detach()
    assert not d.requires_grad and np.shares_memory(d.numpy(), t.data)


def test_requires_grad_only_for_float():
    with pytest.raises(TypeError, match="floating point"):
        tn.tensor([1, 2], requires_grad=True)
    t = tn.tensor([1.0]).requires_grad_()
    assert t.requires_grad
    y = t * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


# ------------------------------------------------------------------------------------- repr


@pytest.mark.parametrize("make, text", [
    (lambda: tn.tensor([1.0, 2.0, 3.0]), "tensor([1., 2., 3.])"),
    (lambda: tn.tensor([1.5, 2.0]), "tensor([1.5000, 2.0000])"),
    (lambda: tn.tensor([1, 2]), "tensor([1, 2])"),
    (lambda: tn.tensor([True, False]), "tensor([ True, False])"),
    (lambda: tn.tensor([1, -20]), "tensor([  1, -20])"),
    (lambda: tn.tensor(3.0), "tensor(3.)"),
    (lambda: tn.tensor([1e6, 1.5]), "tensor([1.0000e+06, 1.5000e+00])"),
    (lambda: tn.tensor([-1.0, 2.0]), "tensor([-1.,  2.])"),
    (lambda: tn.tensor([]), "tensor([])"),
    (lambda: tn.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
    (lambda: tn.tensor([[1.0, 2.0], [3.0, 4.0]]), "tensor([[1., 2.],\n        [3., 4.]])"),
    (lambda: tn.tensor([1.0, 2.0], requires_grad=True).sum(),
     "tensor(3., grad_fn=<SumBackward>)"),
])
def test_repr_like_torch(make, text):
    assert repr(make()) == text


# ---------------------------------------------------------------------------------- no_grad


def test_no_grad_context_and_nesting():
    x = tn.tensor([1.0], requires_grad=True)
    assert tn.is_grad_enabled()
    with tn.no_grad():
        assert not (x * 2).requires_grad
        with tn.no_grad():
            assert not tn.is_grad_enabled()
        assert not tn.is_grad_enabled()
        with tn.enable_grad():
            assert (x * 2).requires_grad
        assert not (x + 1).requires_grad
    assert tn.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_decorator_both_forms():
    x = tn.tensor([1.0], requires_grad=True)

    @tn.no_grad()
    def f(t):
        return t * 2

    @tn.no_grad
    def g(t):
        return t * 3

    assert not f(x).requires_grad and not g(x).requires_grad
    assert f.__name__ == "f" and tn.is_grad_enabled()


def test_no_grad_restores_on_exception():
    with pytest.raises(KeyError):
        with tn.no_grad():
            raise KeyError
    assert tn.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = []
    with tn.no_grad():
        th = threading.Thread(target=lambda: seen.append(tn.is_grad_enabled()))
        th.start()
        th.join()
    assert seen == [True]


def test_set_grad_enabled():
    with tn.set_grad_enabled(False):
        assert not tn.is_grad_enabled()
    assert tn.is_grad_enabled()


# --------------------------------------------------------------------- forward values, errors


def test_arithmetic_dtypes():
    f = tn.tensor([1.0, 2.0])
    i = tn.tensor([1, 2])
    assert (f + 1).dtype == np.float32 and (f * 2.5).dtype == np.float32
    assert (i + 1).dtype == np.int64
    assert (i * 2.5).dtype == np.float32 and (i / 2).dtype == np.float32
    assert (f + i).dtype == np.float32
    assert (f + np.float64(1.0)).dtype == np.float32
    np.testing.assert_allclose((2 / f).numpy(), [2.0, 1.0])
    np.testing.assert_allclose((np.ones(2) + f).numpy(), [2.0, 3.0])


def test_comparisons_give_bool_without_grad():
    x = tn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r in (x == 2, x != 2, x < 2, x <= 2, x > 2, x >= 2, 2 < x, x > tn.tensor([0.0])):
        assert r.dtype == np.bool_ and not r.requires_grad
    assert (x > 1.5).tolist() == [False, True, True]
    assert (2 >= x).tolist() == [True, True, False]


def test_broadcast_failure_is_value_error_naming_shapes():
    a, b = tn.tensor(np.zeros((2, 3))), tn.tensor(np.zeros((4,)))
    for op in (lambda: a + b, lambda: a - b, lambda: a * b, lambda: a / b, lambda: a ** b,
               lambda: a < b):
        with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
            op()


def test_wrong_operand_types_are_type_errors():
    t = tn.tensor([1.0])
    with pytest.raises(TypeError):
        t + "a"
    with pytest.raises(TypeError):
        t * [1.0]
    with pytest.raises(TypeError):
        t @ np.ones((1, 1), np.float32)
    with pytest.raises(TypeError, match="float32"):
        tn.tensor([[1, 2]]) @ tn.tensor([[1], [2]])
    with pytest.raises(TypeError):
        tn.cat([t, np.ones(1)])


def test_matmul_shape_errors():
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(4, 5\)"):
        tn.tensor(np.zeros((2, 3))) @ tn.tensor(np.zeros((4, 5)))
    with pytest.raises(ValueError):
        tn.tensor(1.0) @ tn.tensor([1.0])


def test_shape_op_values_and_errors():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    t = tn.tensor(a)
    np.testing.assert_array_equal(t.reshape(4, -1).numpy(), a.reshape(4, -1))
    np.testing.assert_array_equal(t.view((6, 4)).numpy(), a.reshape(6, 4))
    np.testing.assert_array_equal(t.transpose(0, 2).numpy(), a.swapaxes(0, 2))
    np.testing.assert_array_equal(t.permute(2, 0, 1).numpy(), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(t[0].T.numpy(), a[0].T)
    with pytest.raises(ValueError, match=r"\(5, 5\).*\(2, 3, 4\)"):
        t.reshape(5, 5)
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.sum(dim=3)
    with pytest.raises(ValueError):
        t.permute(0, 0, 1)
    with pytest.raises(IndexError):
        t[5]
    with pytest.raises(IndexError):
        t[tn.tensor([0.5])]
    with pytest.raises(ValueError, match="except in dim"):
        tn.cat([tn.tensor(np.zeros((2, 3))), tn.tensor(np.zeros((2, 4)))], 0)
    with pytest.raises(ValueError, match="equal size"):
        tn.stack([tn.tensor([1.0]), tn.tensor([1.0, 2.0])])
    with pytest.raises(ValueError):
        tn.cat([])


def test_reductions_forward():
    a = np.array([[1.0, 5.0, 5.0], [7.0, 2.0, 3.0]], np.float32)
    t = tn.tensor(a)
    assert t.sum().item() == a.sum()
    np.testing.assert_allclose(t.mean(dim=(0, 1)).numpy(), a.mean())
    np.testing.assert_array_equal(t.sum(dim=-1, keepdim=True).numpy(), a.sum(-1, keepdims=True))
    values, indices = t.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert indices.dtype == np.int64
    assert t.max().item() == 7.0 and t.min().item() == 1.0
    assert t.min(0).indices.tolist() == [0, 1, 1]
    assert t.argmax(1).tolist() == [1, 0]
    with pytest.raises(ValueError, match="non-empty"):
        tn.tensor([]).max()


def test_nan_propagates_silently(recwarn):
    x = tn.tensor([-1.0, 0.0, float("nan")])
    out = x.log()
    assert np.isnan(out.numpy()[0]) and out.numpy()[1] == -np.inf and np.isnan(out.numpy()[2])
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_indexing_forward():
    a = np.arange(12, dtype=np.float32).reshape(4, 3)
    t = tn.tensor(a)
    np.testing.assert_array_equal(t[1].numpy(), a[1])
    np.testing.assert_array_equal(t[1:3].numpy(), a[1:3])
    np.testing.assert_array_equal(t[tn.tensor([3, 0, 3])].numpy(), a[[3, 0, 3]])
    np.testing.assert_array_equal(t[[1, 2]].numpy(), a[[1, 2]])
    np.testing.assert_array_equal(t[t[:, 0] > 4].numpy(), a[a[:, 0] > 4])
    np.testing.assert_array_equal(t[:, 1].numpy(), a[:, 1])


@pytest.mark.parametrize("sa,sb", [((2, 3, 0), (0, 4)), ((2, 3, 4), (4, 0)),
                                   ((2, 2, 0, 4), (2, 2, 4, 3)), ((2, 2, 3, 0), (2, 2, 0, 3)),
                                   ((2, 2, 3, 4), (2, 2, 4, 0))])
def test_matmul_zero_size(sa, sb):
    # a zero-size operand once failed in reshape(-1, ...), which cannot infer a size of 0
    a = tn.tensor(np.ones(sa, np.float32), requires_grad=True)
    b = tn.tensor(np.ones(sb, np.float32), requires_grad=True)
    out = a @ b
    assert out.shape == np.matmul(np.ones(sa), np.ones(sb)).shape
    assert not out.detach().numpy().any()
    out.sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb
