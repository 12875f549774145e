"""Error inputs of the tensor layer and the functional ops (tn.tensor and Tensor methods,
autograd, F.linear, activations, softmax, dropout, the losses): one table, each row a bad call,
the exception it must raise and a regex naming the argument (and the shapes where they matter).
Conv, pooling, embedding, layer_norm, attention and the raw tn.ops wrappers are in
test_error_inputs_kernels.py; modules in _nn.py; optim, data, train, io, runtime in _misc.py."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn
import turbonn.nn.functional as F
from error_inputs import ErrorInput as E
from error_inputs import check, check_family_sizes, params


def t(*shape, dtype=np.float32, grad=False):
    """A deterministic tensor of ``shape`` (float data 0.1, 0.2, ...; ints 0, 1, ...)."""
    n = int(np.prod(shape, dtype=np.int64))
    data = (np.arange(n) % 7).reshape(shape)
    return tn.tensor(data.astype(dtype) * (0.1 if np.dtype(dtype).kind == "f" else 1),
                     requires_grad=grad)


def idx(*values):
    return tn.tensor(np.array(values, np.int64))


def _nonscalar_backward():
    (t(3, grad=True) * 2).backward()


def _backward_twice():
    y = (t(3, grad=True) * t(3, grad=True)).sum()
    y.backward()
    y.backward()


def _set_requires_grad_false_on_nonleaf():
    (t(2, grad=True) * 2).requires_grad = False


def _assign_grad(value):
    x = t(2, 3, grad=True)
    x.grad = value


class _WrongGradCount(tn.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return (g,)


class _WrongGradShape(tn.Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, g):
        return np.ones(7, np.float32)


def _custom_backward(fn, *args):
    fn.apply(*args).sum().backward()


TENSOR = [
    E("tensor", "ragged-nested-list", lambda: tn.tensor([[1.0, 2.0], [3.0]]), ValueError,
      r"rectangular array from \bdata\b"),
    E("tensor", "string-data", lambda: tn.tensor(["a", "b"]), TypeError,
      r"unsupported dtype <U1.*\bdata\b"),
    E("tensor", "dtype-float64", lambda: tn.tensor([1.0], dtype=np.float64), TypeError,
      r"\bdtype\b must be float32, int64 or bool, got float64"),
    E("tensor", "requires-grad-int", lambda: tn.tensor([1, 2], requires_grad=True), TypeError,
      r"\brequires_grad\b.*floating point.*int64"),
    E("tensor", "requires-grad-bool", lambda: t(2).bool().requires_grad_(), TypeError,
      r"\brequires_grad\b.*floating point.*bool"),
    E("tensor", "wrap-list", lambda: tn.Tensor([1.0]), TypeError,
      r"\bdata\b must be a NumPy array.*list"),
    E("tensor", "wrap-float64", lambda: tn.Tensor(np.ones(2)), TypeError,
      r"unsupported dtype float64 of \bdata\b"),
    E("tensor", "from-numpy-list", lambda: tn.from_numpy([1.0]), TypeError,
      r"from_numpy.*np\.ndarray.*list"),
    E("tensor", "from-numpy-float64", lambda: tn.from_numpy(np.ones(2)), TypeError,
      r"from_numpy.*np\.ndarray of type float64"),
    E("tensor", "reshape-numel", lambda: t(2, 3).reshape(4, 2), ValueError,
      r"\bshape\b \(4, 2\) is invalid.*\(2, 3\)"),
    E("tensor", "reshape-two-minus-one", lambda: t(2, 3).reshape(-1, -1), ValueError,
      r"\bshape\b \(-1, -1\)"),
    E("tensor", "reshape-float", lambda: t(2, 3).reshape(3, 2.0), TypeError,
      r"\bshape\b must be a sequence of ints"),
    E("tensor", "view-numel", lambda: t(6).view(4), ValueError, r"\bshape\b \(4,\) is invalid"),
    E("tensor", "permute-repeated", lambda: t(2, 3).permute(0, 0), ValueError,
      r"permute \bdims\b \(0, 0\).*\(2, 3\)"),
    E("tensor", "permute-too-few", lambda: t(2, 3, 4).permute(1, 0), ValueError,
      r"permute \bdims\b \(1, 0\)"),
    E("tensor", "transpose-dim-out-of-range", lambda: t(2, 3).transpose(0, 2), IndexError,
      r"Dimension out of range.*got 2"),
    E("tensor", "sum-dim-out-of-range", lambda: t(2, 3).sum(dim=-3), IndexError,
      r"Dimension out of range \(expected to be in range of \[-2, 1\], but got -3\)"),
    E("tensor", "sum-dim-repeated", lambda: t(2, 3).sum(dim=(0, -2)), ValueError,
      r"\bdim\b \(0, -2\) appears multiple times"),
    E("tensor", "mean-dim-float", lambda: t(2, 3).mean(dim=0.5), TypeError,
      r"\bdim\b must be an int, got float"),
    E("tensor", "max-empty", lambda: tn.tensor([]).max(), ValueError,
      r"max\(\): expected a non-empty \binput\b tensor"),
    E("tensor", "max-dim-size-zero", lambda: tn.tensor(np.zeros((2, 0), np.float32)).max(dim=1),
      IndexError, r"\bdim\b 1 of size 0.*\(2, 0\)"),
    E("tensor", "matmul-inner-mismatch", lambda: t(2, 3) @ t(4, 5), ValueError,
      r"matmul shape mismatch: \(2, 3\) @ \(4, 5\)"),
    E("tensor", "matmul-0d", lambda: tn.matmul(t(2), tn.tensor(1.0)), ValueError,
      r"matmul needs at least 1-D operands.*\(2,\) and \(\)"),
    E("tensor", "matmul-int", lambda: t(2, 2) @ t(2, 2, dtype=np.int64), TypeError,
      r"matmul needs float32 tensors.*int64"),
    E("tensor", "matmul-not-tensor", lambda: tn.matmul(t(2, 2), [[1.0, 0.0]]), TypeError,
      r"matmul\(\) expects Tensors.*list"),
    E("tensor", "add-broadcast", lambda: t(2, 3) + t(4), ValueError,
      r"shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    E("tensor", "mul-broadcast-batch", lambda: t(2, 1, 3) * t(3, 1, 3), ValueError,
      r"shapes \(2, 1, 3\) and \(3, 1, 3\) cannot be broadcast"),
    E("tensor", "compare-broadcast", lambda: t(2, 3) < t(2), ValueError,
      r"shapes \(2, 3\) and \(2,\) cannot be broadcast"),
    E("tensor", "index-out-of-range", lambda: t(3)[5], IndexError, r"\bindex\b 5 is out of bounds"),
    E("tensor", "index-float", lambda: t(3)[1.5], TypeError, r"unsupported \bindex\b 1\.5"),
    E("tensor", "index-float-tensor", lambda: t(3)[t(1)], IndexError,
      r"tensors used as \bindices\b must be long or bool, got float32"),
    E("tensor", "cat-shape-mismatch", lambda: tn.cat([t(2, 3), t(2, 4)], dim=0), ValueError,
      r"cat\(\): shapes \[\(2, 3\), \(2, 4\)\] must match except in \bdim\b 0"),
    E("tensor", "cat-empty", lambda: tn.cat([]), ValueError,
      r"cat\(\) expects a non-empty sequence of \btensors\b"),
    E("tensor", "stack-shape-mismatch", lambda: tn.stack([t(2), t(3)]), ValueError,
      r"stack\(\): expects each \btensor\b to be equal size.*\(2,\), \(3,\)"),
    E("tensor", "stack-not-tensor", lambda: tn.stack([t(2), [1.0, 2.0]]), TypeError,
      r"stack\(\) expects a sequence of \bTensors\b, got list"),
    E("tensor", "item-many", lambda: t(3).item(), ValueError,
      r"a Tensor with 3 elements cannot be converted to Scalar"),
    E("tensor", "bool-ambiguous", lambda: bool(t(2)), ValueError,
      r"Boolean value of Tensor with more than one value is ambiguous"),
    E("tensor", "len-0d", lambda: len(tn.tensor(1.0)), TypeError, r"len\(\) of a 0-d tensor"),
    E("tensor", "grad-wrong-shape", lambda: _assign_grad(t(3, 2)), ValueError,
      r"\bgrad\b of shape \(3, 2\) assigned to a tensor of shape \(2, 3\)"),
    E("tensor", "grad-not-tensor", lambda: _assign_grad(np.zeros((2, 3), np.float32)), TypeError,
      r"\bgrad\b must be a Tensor or None, got ndarray"),
    E("tensor", "grad-int-dtype", lambda: _assign_grad(t(2, 3, dtype=np.int64)), TypeError,
      r"\bgrad\b of dtype int64 assigned to a tensor of dtype float32"),
    E("tensor", "size-dim-out-of-range", lambda: t(2, 3).size(2), IndexError,
      r"Dimension out of range.*got 2"),
]

AUTOGRAD = [
    E("autograd", "backward-nonscalar-without-gradient", _nonscalar_backward, ValueError,
      r"implicitly created only for scalar outputs: pass a \bgradient\b of shape \(3,\)"),
    E("autograd", "backward-gradient-shape", lambda: (t(3, grad=True) * 2).backward(t(4)),
      ValueError, r"\bgradient\b has a shape of \(4,\) and output has a shape of \(3,\)"),
    E("autograd", "backward-gradient-list-shape",
      lambda: (t(2, 2, grad=True) * 2).backward([1.0, 2.0]), ValueError,
      r"\bgradient\b has a shape of \(2,\) and output has a shape of \(2, 2\)"),
    E("autograd", "backward-complex-gradient",
      lambda: (t(2, grad=True) * 2).backward(np.array([1j, 2j])), TypeError,
      r"\bgradient\b must hold real numbers, got dtype complex128"),
    E("autograd", "backward-string-gradient",
      lambda: (t(2, grad=True) * 2).backward(["a", "b"]), TypeError,
      r"\bgradient\b must hold real numbers, got dtype <U1"),
    E("autograd", "backward-no-grad", lambda: t(2).sum().backward(), RuntimeError,
      r"does not require grad"),
    E("autograd", "backward-twice", _backward_twice, RuntimeError, r"\bretain_graph=True\b"),
    E("autograd", "requires-grad-false-nonleaf", _set_requires_grad_false_on_nonleaf,
      RuntimeError, r"\brequires_grad\b flags of leaf variables"),
    E("autograd", "numpy-requires-grad", lambda: t(2, grad=True).numpy(), RuntimeError,
      r"numpy\(\) on Tensor that requires grad"),
    E("autograd", "function-wrong-grad-count",
      lambda: _custom_backward(_WrongGradCount, t(2, grad=True), t(2, grad=True)), RuntimeError,
      r"_WrongGradCountBackward returned 1 gradients, expected 2"),
    E("autograd", "function-wrong-grad-shape",
      lambda: _custom_backward(_WrongGradShape, t(2, grad=True)), RuntimeError,
      r"_WrongGradShapeBackward returned a gradient of shape \(7,\) for input 0, "
      r"expected \(2,\)"),
]


LINEAR = [
    E("linear", "weight-1d", lambda: F.linear(t(2, 3), t(3)), ValueError,
      r"\bweight\b must be 2-D \(out_features, in_features\), got shape \(3,\)"),
    E("linear", "in-features-mismatch", lambda: F.linear(t(2, 3), t(4, 5)), ValueError,
      r"\binput\b shape \(2, 3\) and \bweight\b shape \(4, 5\).*in_features=5"),
    E("linear", "input-0d", lambda: F.linear(tn.tensor(1.0), t(4, 1)), ValueError,
      r"\binput\b shape \(\)"),
    E("linear", "input-int", lambda: F.linear(t(2, 3, dtype=np.int64), t(4, 3)), TypeError,
      r"float32 \binput\b and \bweight\b, got int64 and float32"),
    E("linear", "weight-int", lambda: F.linear(t(2, 3), t(4, 3, dtype=np.int64)), TypeError,
      r"float32 \binput\b and \bweight\b, got float32 and int64"),
    E("linear", "bias-shape", lambda: F.linear(t(2, 3), t(4, 3), t(5)), ValueError,
      r"\bbias\b shape \(5,\) does not match out_features=4"),
    E("linear", "bias-2d", lambda: F.linear(t(2, 3), t(4, 3), t(2, 4)), ValueError,
      r"\bbias\b shape \(2, 4\)"),
    E("linear", "bias-int", lambda: F.linear(t(2, 3), t(4, 3), t(4, dtype=np.int64)), TypeError,
      r"float32 \bbias\b, got int64"),
    E("linear", "input-ndarray", lambda: F.linear(np.ones((2, 3), np.float32), t(4, 3)),
      TypeError, r"argument '\binput\b' must be a Tensor, not ndarray"),
    E("linear", "weight-list", lambda: F.linear(t(2, 3), [[1.0] * 3]), TypeError,
      r"argument '\bweight\b' must be a Tensor, not list"),
    E("linear", "bias-ndarray", lambda: F.linear(t(2, 3), t(4, 3), np.zeros(4, np.float32)),
      TypeError, r"argument '\bbias\b' must be a Tensor, not ndarray"),
]

ACTIVATION = [
    E("activation", "relu-int", lambda: F.relu(t(3, dtype=np.int64)), TypeError,
      r"relu\(\): expected a float32 tensor.*\binput\b.*int64"),
    E("activation", "relu-ndarray", lambda: F.relu(np.ones(3, np.float32)), TypeError,
      r"relu\(\): argument '\binput\b' must be a Tensor, not ndarray"),
    E("activation", "sigmoid-bool", lambda: F.sigmoid(t(3).bool()), TypeError,
      r"sigmoid\(\): expected a float32 tensor.*\binput\b.*bool"),
    E("activation", "sigmoid-list", lambda: F.sigmoid([1.0]), TypeError,
      r"sigmoid\(\): argument '\binput\b' must be a Tensor, not list"),
    E("activation", "tanh-int", lambda: F.tanh(t(3, dtype=np.int64)), TypeError,
      r"tanh\(\): expected a float32 tensor.*\binput\b.*int64"),
    E("activation", "tanh-none", lambda: F.tanh(None), TypeError,
      r"tanh\(\): argument '\binput\b' must be a Tensor, not NoneType"),
    E("activation", "relu-module-int", lambda: tn.nn.ReLU()(t(2, dtype=np.int64)), TypeError,
      r"relu\(\).*\binput\b.*int64"),
]

SOFTMAX = [
    E("softmax", "softmax-dim-out-of-range", lambda: F.softmax(t(2, 3), dim=2), IndexError,
      r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    E("softmax", "softmax-dim-negative", lambda: F.softmax(t(2, 3), dim=-3), IndexError,
      r"Dimension out of range.*got -3"),
    E("softmax", "softmax-dim-float", lambda: F.softmax(t(2, 3), dim=1.0), TypeError,
      r"softmax\(\): \bdim\b must be an int, got float"),
    E("softmax", "softmax-dim-tuple", lambda: F.softmax(t(2, 3), dim=(0, 1)), TypeError,
      r"softmax\(\): \bdim\b must be an int, got tuple"),
    E("softmax", "softmax-int-input", lambda: F.softmax(t(2, 3, dtype=np.int64), dim=1),
      TypeError, r"softmax\(\): expected a float32 tensor.*\binput\b.*int64"),
    E("softmax", "softmax-dtype-float64", lambda: F.softmax(t(2, 3), dim=1, dtype=np.float64),
      TypeError, r"softmax\(\): \bdtype\b must be None or float32"),
    E("softmax", "log-softmax-dim-out-of-range", lambda: F.log_softmax(t(4), dim=1), IndexError,
      r"Dimension out of range.*got 1"),
    E("softmax", "log-softmax-dim-bool", lambda: F.log_softmax(t(2, 3), dim=True), TypeError,
      r"log_softmax\(\): \bdim\b must be an int, got bool"),
    E("softmax", "log-softmax-ndarray", lambda: F.log_softmax(np.ones(3, np.float32), dim=0),
      TypeError, r"log_softmax\(\): argument '\binput\b' must be a Tensor"),
    E("softmax", "softmax-module-dim", lambda: tn.nn.Softmax(dim=3)(t(2, 3)), IndexError,
      r"Dimension out of range.*got 3"),
    E("softmax", "log-softmax-module-dim", lambda: tn.nn.LogSoftmax(dim="1")(t(2, 3)), TypeError,
      r"log_softmax\(\): \bdim\b must be an int, got str"),
]

DROPOUT = [
    E("dropout", "p-negative", lambda: F.dropout(t(4), p=-0.1), ValueError,
      r"dropout probability \bp\b has to be between 0 and 1, but got -0\.1"),
    E("dropout", "p-above-one", lambda: F.dropout(t(4), p=1.5), ValueError,
      r"dropout probability \bp\b has to be between 0 and 1, but got 1\.5"),
    E("dropout", "p-nan", lambda: F.dropout(t(4), p=float("nan")), ValueError,
      r"dropout probability \bp\b has to be between 0 and 1, but got nan"),
    E("dropout", "p-string", lambda: F.dropout(t(4), p="0.5"), TypeError,
      r"dropout\(\): \bp\b must be a float, got str"),
    E("dropout", "p-bool", lambda: F.dropout(t(4), p=True), TypeError,
      r"dropout\(\): \bp\b must be a float, got bool"),
    E("dropout", "p-none", lambda: F.dropout(t(4), p=None), TypeError,
      r"dropout\(\): \bp\b must be a float, got NoneType"),
    E("dropout", "input-int", lambda: F.dropout(t(4, dtype=np.int64), 0.5), TypeError,
      r"dropout\(\): expected a float32 tensor.*\binput\b.*int64"),
    E("dropout", "input-ndarray", lambda: F.dropout(np.ones(4, np.float32), 0.5), TypeError,
      r"dropout\(\): argument '\binput\b' must be a Tensor"),
    E("dropout", "module-p-above-one", lambda: tn.nn.Dropout(p=2.0), ValueError,
      r"dropout probability \bp\b has to be between 0 and 1, but got 2\.0"),
    E("dropout", "module-p-string", lambda: tn.nn.Dropout(p="x"), TypeError,
      r"\bp\b must be a float, got str"),
]

CROSS_ENTROPY = [
    E("cross_entropy", "target-batch-mismatch", lambda: F.cross_entropy(t(4, 3), idx(0, 1, 2)),
      ValueError, r"\btarget\b must have shape \(4,\) \(input's shape \(4, 3\) without the class "
      r"dim 1\), got \(3,\)"),
    E("cross_entropy", "target-out-of-range", lambda: F.cross_entropy(t(2, 3), idx(0, 3)),
      IndexError, r"\btarget\b 3 at flat position 1 is out of bounds: class indices must be in "
      r"\[0, 3\) or ignore_index=-100"),
    E("cross_entropy", "target-negative", lambda: F.cross_entropy(t(2, 3), idx(-1, 0)),
      IndexError, r"\btarget\b -1 at flat position 0 is out of bounds"),
    E("cross_entropy", "target-float-wrong-shape", lambda: F.cross_entropy(t(2, 3), t(2, 4)),
      ValueError, r"\btarget\b must have shape \(2, 3\) \(class probabilities: input's shape\), "
      r"got \(2, 4\)"),
    E("cross_entropy", "target-bool", lambda: F.cross_entropy(t(2, 3), t(2).bool()), TypeError,
      r"\btarget\b must be int64 class indices of shape \(2,\) or float32 class "
      r"probabilities of input's shape \(2, 3\), got dtype bool"),
    E("cross_entropy", "target-list", lambda: F.cross_entropy(t(2, 3), [0, 1]), TypeError,
      r"argument '\btarget\b' must be a Tensor, not list"),
    E("cross_entropy", "input-0d", lambda: F.cross_entropy(tn.tensor(1.0), idx(0)), ValueError,
      r"\binput\b.*\(\)"),
    E("cross_entropy", "input-int", lambda: F.cross_entropy(t(2, 3, dtype=np.int64), idx(0, 1)),
      TypeError, r"\binput\b.*int64"),
    E("cross_entropy", "weight-wrong-length",
      lambda: F.cross_entropy(t(2, 3), idx(0, 1), weight=t(4)), ValueError,
      r"\bweight\b must have shape \(3,\) \(one weight per class.*got \(4,\)"),
    E("cross_entropy", "weight-2d", lambda: F.cross_entropy(t(2, 3), idx(0, 1), weight=t(1, 3)),
      ValueError, r"\bweight\b.*\(1, 3\)"),
    E("cross_entropy", "reduction-unknown",
      lambda: F.cross_entropy(t(2, 3), idx(0, 1), reduction="avg"), ValueError,
      r"avg is not a valid value for \breduction\b"),
    E("cross_entropy", "label-smoothing-above-one",
      lambda: F.cross_entropy(t(2, 3), idx(0, 1), label_smoothing=1.5), ValueError,
      r"\blabel_smoothing\b must be between 0\.0 and 1\.0, got 1\.5"),
    E("cross_entropy", "label-smoothing-negative",
      lambda: F.cross_entropy(t(2, 3), idx(0, 1), label_smoothing=-0.1), ValueError,
      r"\blabel_smoothing\b must be between 0\.0 and 1\.0, got -0\.1"),
    E("cross_entropy", "ignore-index-float",
      lambda: F.cross_entropy(t(2, 3), idx(0, 1), ignore_index=0.5), TypeError,
      r"argument '\bignore_index\b' must be int, not float"),
    E("cross_entropy", "label-smoothing-string",
      lambda: F.cross_entropy(t(2, 3), idx(0, 1), label_smoothing="0.1"), TypeError,
      r"argument '\blabel_smoothing\b' must be float, not str"),
    E("cross_entropy", "module-reduction", lambda: tn.nn.CrossEntropyLoss(reduction="all")(
        t(2, 3), idx(0, 1)), ValueError, r"all is not a valid value for \breduction\b"),
]

NLL_LOSS = [
    E("nll_loss", "target-out-of-range", lambda: F.nll_loss(t(2, 3), idx(0, 5)), IndexError,
      r"\btarget\b 5 at flat position 1 is out of bounds: class indices must be in \[0, 3\)"),
    E("nll_loss", "target-float", lambda: F.nll_loss(t(2, 3), t(2)), TypeError,
      r"\btarget\b must hold int64 class indices, got dtype float32"),
    E("nll_loss", "target-batch-mismatch", lambda: F.nll_loss(t(2, 3), idx(0, 1, 2)),
      ValueError, r"\btarget\b must have shape \(2,\) \(input's shape \(2, 3\).*got \(3,\)"),
    E("nll_loss", "input-0d", lambda: F.nll_loss(tn.tensor(0.5), idx(0)), ValueError,
      r"\binput\b.*\(\)"),
    E("nll_loss", "weight-wrong-length", lambda: F.nll_loss(t(2, 3), idx(0, 1), weight=t(2)),
      ValueError, r"\bweight\b must have shape \(3,\).*got \(2,\)"),
    E("nll_loss", "reduction-unknown", lambda: F.nll_loss(t(2, 3), idx(0, 1), reduction="max"),
      ValueError, r"max is not a valid value for \breduction\b"),
    E("nll_loss", "input-ndarray", lambda: F.nll_loss(np.ones((2, 3), np.float32), idx(0, 1)),
      TypeError, r"argument '\binput\b' must be a Tensor"),
    E("nll_loss", "ignore-index-none", lambda: F.nll_loss(t(2, 3), idx(0, 1), ignore_index=None),
      TypeError, r"argument '\bignore_index\b' must be int, not NoneType"),
    E("nll_loss", "target-string", lambda: F.nll_loss(t(2, 3), "01"), TypeError,
      r"argument '\btarget\b' must be a Tensor, not str"),
    E("nll_loss", "module-weight-length", lambda: tn.nn.NLLLoss(weight=t(5))(t(2, 3), idx(0, 1)),
      ValueError, r"\bweight\b must have shape \(3,\).*got \(5,\)"),
]

BCE = [
    E("bce", "target-shape", lambda: F.binary_cross_entropy(t(4), t(3)), ValueError,
      r"\btarget\b size \(\(3,\)\) that is different to the \binput\b size \(\(4,\)\)"),
    E("bce", "input-above-one", lambda: F.binary_cross_entropy(tn.tensor([0.5, 1.5]), t(2)),
      ValueError, r"\binput\b.*between 0 and 1"),
    E("bce", "input-negative", lambda: F.binary_cross_entropy(tn.tensor([-0.5]), t(1)),
      ValueError, r"\binput\b.*between 0 and 1"),
    E("bce", "weight-not-broadcastable",
      lambda: F.binary_cross_entropy(t(2, 3), t(2, 3), weight=t(2)), ValueError,
      r"\bweight\b of shape \(2,\) cannot be broadcast to the input's shape \(2, 3\)"),
    E("bce", "reduction-unknown",
      lambda: F.binary_cross_entropy(t(2), t(2), reduction="elementwise"), ValueError,
      r"elementwise is not a valid value for \breduction\b"),
    E("bce", "target-int", lambda: F.binary_cross_entropy(t(2), idx(0, 1)), TypeError,
      r"\btarget\b.*int64"),
    E("bce", "input-list", lambda: F.binary_cross_entropy([0.5], t(1)), TypeError,
      r"argument '\binput\b' must be a Tensor, not list"),
    E("bce", "logits-target-shape", lambda: F.binary_cross_entropy_with_logits(t(2, 3), t(3, 2)),
      ValueError, r"\bTarget\b size \(\(3, 2\)\) must be the same as \binput\b size \(\(2, 3\)\)"),
    E("bce", "logits-pos-weight-shape",
      lambda: F.binary_cross_entropy_with_logits(t(2, 3), t(2, 3), pos_weight=t(2)), ValueError,
      r"\bpos_weight\b of shape \(2,\) cannot be broadcast to the input's shape \(2, 3\)"),
    E("bce", "logits-weight-shape",
      lambda: F.binary_cross_entropy_with_logits(t(2, 3), t(2, 3), weight=t(4)), ValueError,
      r"\bweight\b of shape \(4,\) cannot be broadcast"),
    E("bce", "logits-reduction", lambda: F.binary_cross_entropy_with_logits(
        t(2), t(2), reduction=None), ValueError, r"None is not a valid value for \breduction\b"),
    E("bce", "logits-pos-weight-list", lambda: F.binary_cross_entropy_with_logits(
        t(2), t(2), pos_weight=[1.0, 2.0]), TypeError,
      r"argument '\bpos_weight\b' must be a Tensor, not list"),
    E("bce", "logits-target-int", lambda: F.binary_cross_entropy_with_logits(t(2), idx(0, 1)),
      TypeError, r"\btarget\b.*int64"),
    E("bce", "module-weight-shape",
      lambda: tn.nn.BCELoss(weight=t(3))(t(2, 2), t(2, 2)), ValueError,
      r"\bweight\b of shape \(3,\) cannot be broadcast"),
]

MSE_LOSS = [
    E("mse_loss", "not-broadcastable", lambda: F.mse_loss(t(2, 3), t(4)), ValueError,
      r"\btarget\b of shape \(4,\) cannot be broadcast with \binput\b of shape \(2, 3\)"),
    E("mse_loss", "reduction-unknown", lambda: F.mse_loss(t(2), t(2), reduction="avg"),
      ValueError, r"avg is not a valid value for \breduction\b"),
    E("mse_loss", "weight-shape", lambda: F.mse_loss(t(2, 3), t(2, 3), weight=t(3)), ValueError,
      r"\bWeights\b and \binput\b must have the same size \(weight \(3,\), input \(2, 3\)\)"),
    E("mse_loss", "target-int", lambda: F.mse_loss(t(2), idx(0, 1)), TypeError,
      r"\btarget\b.*int64"),
    E("mse_loss", "input-int", lambda: F.mse_loss(t(2, dtype=np.int64), t(2)), TypeError,
      r"\binput\b.*int64"),
    E("mse_loss", "input-ndarray", lambda: F.mse_loss(np.ones(2, np.float32), t(2)), TypeError,
      r"argument '\binput\b' must be a Tensor"),
    E("mse_loss", "target-list", lambda: F.mse_loss(t(2), [1.0, 2.0]), TypeError,
      r"argument '\btarget\b' must be a Tensor, not list"),
    E("mse_loss", "module-reduction", lambda: tn.nn.MSELoss(reduction="means")(t(2), t(2)),
      ValueError, r"means is not a valid value for \breduction\b"),
    E("mse_loss", "module-shape", lambda: tn.nn.MSELoss()(t(3, 2), t(3, 3)), ValueError,
      r"\btarget\b of shape \(3, 3\) cannot be broadcast with \binput\b of shape \(3, 2\)"),
]

CASES = (TENSOR + AUTOGRAD + LINEAR + ACTIVATION + SOFTMAX + DROPOUT + CROSS_ENTROPY + NLL_LOSS
         + BCE + MSE_LOSS)


@pytest.mark.filterwarnings("ignore::UserWarning")  # mse_loss warns before it raises
@pytest.mark.parametrize("case", params(CASES))
def test_error_input(case):
    check(case)


def test_every_family_has_enough_error_inputs():
    check_family_sizes(CASES)
