"""Error inputs of the spatial and sequence functional ops (F.conv2d, F.max_pool2d, F.avg_pool2d,
F.embedding, F.layer_norm, F.scaled_dot_product_attention) and of the raw ``tn.ops`` wrappers on
NumPy arrays: one table, each row a bad call, the exception it must raise and a regex naming the
argument (and the shapes where they matter). See error_inputs.py for the machinery."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn
import turbonn.nn.functional as F
from error_inputs import ErrorInput as E
from error_inputs import check, check_family_sizes, params


def t(*shape, dtype=np.float32):
    n = int(np.prod(shape, dtype=np.int64))
    data = (np.arange(n) % 7).reshape(shape)
    return tn.tensor(data.astype(dtype) * (0.1 if np.dtype(dtype).kind == "f" else 1))


def a(*shape, dtype=np.float32):
    return t(*shape, dtype=dtype).data.copy()


def idx(*values):
    return tn.tensor(np.array(values, np.int64))


X = t(1, 3, 8, 8)          # conv / pool input (N, C, H, W)
W = t(4, 3, 3, 3)          # conv weight (out, in, kh, kw)


CONV2D = [
    E("conv2d", "input-2d", lambda: F.conv2d(t(8, 8), W), ValueError,
      r"\binput\b must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got shape \(8, 8\)"),
    E("conv2d", "input-5d", lambda: F.conv2d(t(1, 1, 3, 8, 8), W), ValueError,
      r"\binput\b must be 3-D.*\(1, 1, 3, 8, 8\)"),
    E("conv2d", "weight-3d", lambda: F.conv2d(X, t(4, 3, 3)), ValueError,
      r"\bweight\b must be 4-D.*got shape \(4, 3, 3\)"),
    E("conv2d", "channel-mismatch", lambda: F.conv2d(X, t(4, 2, 3, 3)), ValueError,
      r"\binput\b \(1, 3, 8, 8\) has 3 channels but \bweight\b \(4, 2, 3, 3\) with groups=1 "
      r"expects 2"),
    E("conv2d", "groups-mismatch", lambda: F.conv2d(X, W, groups=3), ValueError,
      r"has 3 channels but \bweight\b \(4, 3, 3, 3\) with \bgroups\b=3 expects 9"),
    E("conv2d", "groups-zero", lambda: F.conv2d(X, W, groups=0), ValueError,
      r"\bgroups\b must be positive, got 0"),
    E("conv2d", "groups-float", lambda: F.conv2d(X, W, groups=1.0), TypeError,
      r"\bgroups\b must be an int, got 1\.0"),
    E("conv2d", "out-channels-not-divisible-by-groups", lambda: F.conv2d(t(1, 4, 8, 8),
      t(3, 2, 3, 3), groups=2), ValueError,
      r"\bgroups\b=2 must divide x's channels \(4\) and \bweight\b's "
      r"out_channels \(3\)"),
    E("conv2d", "bias-shape", lambda: F.conv2d(X, W, t(3)), ValueError,
      r"\bbias\b must have shape \(4,\) = \(out_channels,\), got \(3,\)"),
    E("conv2d", "stride-zero", lambda: F.conv2d(X, W, stride=0), ValueError,
      r"\bstride\b must be positive, got \(0, 0\)"),
    E("conv2d", "stride-negative", lambda: F.conv2d(X, W, stride=(1, -2)), ValueError,
      r"\bstride\b must be positive, got \(1, -2\)"),
    E("conv2d", "padding-negative", lambda: F.conv2d(X, W, padding=-1), ValueError,
      r"\bpadding\b must be non-negative, got \(-1, -1\)"),
    E("conv2d", "dilation-zero", lambda: F.conv2d(X, W, dilation=0), ValueError,
      r"\bdilation\b must be positive, got \(0, 0\)"),
    E("conv2d", "stride-triple", lambda: F.conv2d(X, W, stride=(1, 1, 1)), TypeError,
      r"\bstride\b must be an int or a pair of ints, got \(1, 1, 1\)"),
    E("conv2d", "padding-float", lambda: F.conv2d(X, W, padding=1.5), TypeError,
      r"\bpadding\b must be an int or a pair of ints, got 1\.5"),
    E("conv2d", "padding-bad-string", lambda: F.conv2d(X, W, padding="full"), ValueError,
      r"\bpadding\b must be an int, a pair, 'valid' or 'same', got 'full'"),
    E("conv2d", "padding-same-strided", lambda: F.conv2d(X, W, stride=2, padding="same"),
      ValueError, r"\bpadding\b='same' needs \bstride\b 1"),
    E("conv2d", "kernel-larger-than-input", lambda: F.conv2d(t(1, 3, 2, 2), W), ValueError,
      r"\bkernel\b size \(3, 3\) \(dilated \(3, 3\)\) is larger than the padded \binput\b "
      r"\(2, 2\)"),
    E("conv2d", "dilated-kernel-larger-than-padded-input",
      lambda: F.conv2d(X, W, dilation=5, padding=1), ValueError,
      r"\bkernel\b size \(3, 3\) \(dilated \(11, 11\)\) is larger than the padded \binput\b "
      r"\(10, 10\)"),
    E("conv2d", "input-int", lambda: F.conv2d(t(1, 3, 8, 8, dtype=np.int64), W), TypeError,
      r"expected float32 \binput\b, got int64"),
    E("conv2d", "weight-ndarray", lambda: F.conv2d(X, a(4, 3, 3, 3)), TypeError,
      r"argument '\bweight\b' must be a Tensor, not ndarray"),
    E("conv2d", "bias-int", lambda: F.conv2d(X, W, t(4, dtype=np.int64)), TypeError,
      r"expected float32 \bbias\b, got int64"),
]

MAX_POOL2D = [
    E("max_pool2d", "kernel-zero", lambda: F.max_pool2d(X, 0), ValueError,
      r"\bkernel_size\b must be greater than zero, got \(0, 0\)"),
    E("max_pool2d", "kernel-negative", lambda: F.max_pool2d(X, (2, -1)), ValueError,
      r"\bkernel_size\b must be greater than zero, got \(2, -1\)"),
    E("max_pool2d", "stride-zero", lambda: F.max_pool2d(X, 2, stride=0), ValueError,
      r"\bstride\b must be greater than zero, got \(0, 0\)"),
    E("max_pool2d", "padding-over-half-kernel", lambda: F.max_pool2d(X, 2, padding=2),
      ValueError, r"\bpadding\b should be at most half of kernel_size, got padding=\(2, 2\) "
      r"and kernel_size=\(2, 2\)"),
    E("max_pool2d", "padding-negative", lambda: F.max_pool2d(X, 3, padding=-1), ValueError,
      r"\bpadding\b must be non-negative, got \(-1, -1\)"),
    E("max_pool2d", "dilation-zero", lambda: F.max_pool2d(X, 2, dilation=0), ValueError,
      r"\bdilation\b must be greater than zero, got \(0, 0\)"),
    E("max_pool2d", "input-2d", lambda: F.max_pool2d(t(8, 8), 2), ValueError,
      r"\binput\b must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got shape \(8, 8\)"),
    E("max_pool2d", "input-5d", lambda: F.max_pool2d(t(1, 1, 1, 8, 8), 2), ValueError,
      r"\binput\b must be 3-D.*got shape \(1, 1, 1, 8, 8\)"),
    E("max_pool2d", "kernel-larger-than-input", lambda: F.max_pool2d(t(1, 1, 2, 2), 3),
      ValueError, r"output size is too small: x \(H, W\) = \(2, 2\) gives output \(H, W\) = "
      r"\(0, 0\) for \bkernel_size\b=\(3, 3\)"),
    E("max_pool2d", "kernel-string", lambda: F.max_pool2d(X, "2"), TypeError,
      r"\bkernel_size\b must be an int or a pair of ints, got '2'"),
    E("max_pool2d", "kernel-triple", lambda: F.max_pool2d(X, (2, 2, 2)), ValueError,
      r"\bkernel_size\b must be an int or a pair of ints, got 3 values"),
    E("max_pool2d", "input-int", lambda: F.max_pool2d(t(1, 1, 4, 4, dtype=np.int64), 2),
      TypeError, r"float32 tensor for '\binput\b', got int64"),
    E("max_pool2d", "input-ndarray", lambda: F.max_pool2d(a(1, 1, 4, 4), 2), TypeError,
      r"argument '\binput\b' must be a Tensor, not ndarray"),
    E("max_pool2d", "module-stride-zero", lambda: tn.nn.MaxPool2d(2, stride=0)(X), ValueError,
      r"\bstride\b must be greater than zero, got \(0, 0\)"),
]

AVG_POOL2D = [
    E("avg_pool2d", "kernel-zero", lambda: F.avg_pool2d(X, 0), ValueError,
      r"\bkernel_size\b must be greater than zero, got \(0, 0\)"),
    E("avg_pool2d", "stride-zero", lambda: F.avg_pool2d(X, 2, stride=(0, 1)), ValueError,
      r"\bstride\b must be greater than zero, got \(0, 1\)"),
    E("avg_pool2d", "stride-negative", lambda: F.avg_pool2d(X, 2, stride=-2), ValueError,
      r"\bstride\b must be greater than zero, got \(-2, -2\)"),
    E("avg_pool2d", "padding-over-half-kernel", lambda: F.avg_pool2d(X, 3, padding=2),
      ValueError, r"\bpadding\b should be at most half of kernel_size, got padding=\(2, 2\) "
      r"and kernel_size=\(3, 3\)"),
    E("avg_pool2d", "input-2d", lambda: F.avg_pool2d(t(4, 4), 2), ValueError,
      r"\binput\b must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got shape \(4, 4\)"),
    E("avg_pool2d", "divisor-override-zero", lambda: F.avg_pool2d(X, 2, divisor_override=0),
      ValueError, r"\bdivisor_override\b must be non-zero"),
    E("avg_pool2d", "divisor-override-float", lambda: F.avg_pool2d(X, 2, divisor_override=1.5),
      TypeError, r"\bdivisor_override\b must be an int or None, got float"),
    E("avg_pool2d", "kernel-larger-than-input", lambda: F.avg_pool2d(t(1, 1, 2, 2), 3),
      ValueError, r"output size is too small: x \(H, W\) = \(2, 2\).*\bkernel_size\b=\(3, 3\)"),
    E("avg_pool2d", "input-bool", lambda: F.avg_pool2d(t(1, 1, 4, 4).bool(), 2), TypeError,
      r"float32 tensor for '\binput\b', got bool"),
    E("avg_pool2d", "padding-list-of-three", lambda: F.avg_pool2d(X, 2, padding=[0, 0, 0]),
      ValueError, r"\bpadding\b must be an int or a pair of ints, got 3 values"),
    E("avg_pool2d", "module-kernel-zero", lambda: tn.nn.AvgPool2d(0)(X), ValueError,
      r"\bkernel_size\b must be greater than zero, got \(0, 0\)"),
]

EMBEDDING = [
    E("embedding", "index-too-large", lambda: F.embedding(idx(0, 7), t(7, 3)), IndexError,
      r"\bindices\b must lie in \[0, num_embeddings\) = \[0, 7\), got 7"),
    E("embedding", "index-negative", lambda: F.embedding(idx(-1), t(7, 3)), IndexError,
      r"\bindices\b must lie in \[0, num_embeddings\) = \[0, 7\), got -1"),
    E("embedding", "indices-float", lambda: F.embedding(t(2), t(7, 3)), TypeError,
      r"argument #1 '\bindices\b'.*Long, Int; but got float32"),
    E("embedding", "indices-bool", lambda: F.embedding(t(2).bool(), t(7, 3)), TypeError,
      r"'\bindices\b'.*bool"),
    E("embedding", "indices-list", lambda: F.embedding([0, 1], t(7, 3)), TypeError,
      r"argument '\binput\b' \(the indices\) must be a Tensor, not list"),
    E("embedding", "weight-1d", lambda: F.embedding(idx(0), t(7)), ValueError,
      r"'\bweight\b' must be 2-D \(num_embeddings, embedding_dim\), got shape \(7,\)"),
    E("embedding", "weight-int", lambda: F.embedding(idx(0), t(7, 3, dtype=np.int64)),
      TypeError, r"float32 tensor for '\bweight\b', got int64"),
    E("embedding", "weight-ndarray", lambda: F.embedding(idx(0), a(7, 3)), TypeError,
      r"argument '\bweight\b' must be a Tensor, not ndarray"),
    E("embedding", "padding-idx-too-large", lambda: F.embedding(idx(0), t(7, 3), padding_idx=7),
      ValueError, r"Padding_idx must be within num_embeddings: expected in \[-7, 7\), got 7"),
    E("embedding", "padding-idx-too-negative",
      lambda: F.embedding(idx(0), t(7, 3), padding_idx=-8), ValueError,
      r"Padding_idx.*got -8"),
    E("embedding", "padding-idx-float", lambda: F.embedding(idx(0), t(7, 3), padding_idx=1.0),
      TypeError, r"\bpadding_idx\b must be an int or None, got float"),
    E("embedding", "max-norm-unsupported", lambda: F.embedding(idx(0), t(7, 3), max_norm=1.0),
      NotImplementedError, r"\bmax_norm\b=1\.0 is not supported"),
    E("embedding", "sparse-unsupported", lambda: F.embedding(idx(0), t(7, 3), sparse=True),
      NotImplementedError, r"\bsparse\b=True is not supported"),
]

LAYER_NORM = [
    E("layer_norm", "normalized-shape-mismatch", lambda: F.layer_norm(t(2, 3, 4), (5,)),
      ValueError, r"Given \bnormalized_shape\b=\[5\], expected input with shape \[\*, 5\], but "
      r"got input of size\[2, 3, 4\]"),
    E("layer_norm", "normalized-shape-too-long", lambda: F.layer_norm(t(4), (2, 4)), ValueError,
      r"\bnormalized_shape\b=\[2, 4\]"),
    E("layer_norm", "normalized-shape-empty", lambda: F.layer_norm(t(4), ()), ValueError,
      r"Expected \bnormalized_shape\b to be at least 1-dimensional"),
    E("layer_norm", "normalized-shape-float", lambda: F.layer_norm(t(4), (4.0,)), TypeError,
      r"argument '\bnormalized_shape\b' must be tuple of ints.*float at pos 0"),
    E("layer_norm", "normalized-shape-string", lambda: F.layer_norm(t(4), "4"), TypeError,
      r"argument '\bnormalized_shape\b' must be an int or a tuple of ints, not str"),
    E("layer_norm", "weight-shape", lambda: F.layer_norm(t(2, 4), 4, weight=t(3)), ValueError,
      r"Expected \bweight\b to be of same shape as normalized_shape, but got weight of shape "
      r"\[3\] and normalized_shape = \[4\]"),
    E("layer_norm", "bias-shape", lambda: F.layer_norm(t(2, 4), 4, bias=t(1, 4)), ValueError,
      r"\bbias\b of shape \[1, 4\]"),
    E("layer_norm", "weight-ndarray", lambda: F.layer_norm(t(2, 4), 4, weight=a(4)), TypeError,
      r"argument '\bweight\b' must be a Tensor or None, not ndarray"),
    E("layer_norm", "eps-string", lambda: F.layer_norm(t(2, 4), 4, eps="1e-5"), TypeError,
      r"argument '\beps\b' must be a float, not str"),
    E("layer_norm", "eps-negative", lambda: F.layer_norm(t(2, 4), 4, eps=-1.0), ValueError,
      r"\beps\b must be >= 0, got -1\.0"),
    E("layer_norm", "input-int", lambda: F.layer_norm(t(2, 4, dtype=np.int64), 4), TypeError,
      r"float32 tensor for '\binput\b', got int64"),
    E("layer_norm", "input-list", lambda: F.layer_norm([[1.0, 2.0]], 2), TypeError,
      r"argument '\binput\b' must be a Tensor, not list"),
]


def _q(*shape):
    return t(*shape)


ATTENTION = [
    E("attention", "head-dim-mismatch",
      lambda: F.scaled_dot_product_attention(_q(1, 2, 4, 8), _q(1, 2, 5, 6), _q(1, 2, 5, 8)),
      ValueError, r"head dimension of \bquery\b and \bkey\b must match, got query "
      r"\(1, 2, 4, 8\) and key \(1, 2, 5, 6\)"),
    E("attention", "key-value-length-mismatch",
      lambda: F.scaled_dot_product_attention(_q(1, 2, 4, 8), _q(1, 2, 5, 8), _q(1, 2, 6, 8)),
      ValueError, r"\bkey\b and \bvalue\b must have the same length.*\(1, 2, 5, 8\).*"
      r"\(1, 2, 6, 8\)"),
    E("attention", "ndim-mismatch",
      lambda: F.scaled_dot_product_attention(_q(2, 4, 8), _q(1, 2, 5, 8), _q(1, 2, 5, 8)),
      ValueError, r"\bquery\b, \bkey\b and \bvalue\b must have the same number of dimensions"),
    E("attention", "query-1d",
      lambda: F.scaled_dot_product_attention(_q(8), _q(5, 8), _q(5, 8)), ValueError,
      r"\bquery\b must be at least 2-D.*\(8,\)"),
    E("attention", "heads-mismatch",
      lambda: F.scaled_dot_product_attention(_q(1, 3, 4, 8), _q(1, 2, 5, 8), _q(1, 2, 5, 8)),
      ValueError, r"\bquery\b has 3 heads and \bkey\b 2"),
    E("attention", "batch-mismatch",
      lambda: F.scaled_dot_product_attention(_q(2, 2, 4, 8), _q(3, 2, 5, 8), _q(3, 2, 5, 8)),
      ValueError, r"\bquery\b and \bkey\b must have the same batch dimensions"),
    E("attention", "mask-shape",
      lambda: F.scaled_dot_product_attention(_q(1, 2, 4, 8), _q(1, 2, 5, 8), _q(1, 2, 5, 8),
                                             attn_mask=t(4, 4)), ValueError,
      r"\battn_mask\b of shape \(4, 4\) does not broadcast to \(1, 2, 4, 5\)"),
    E("attention", "mask-int",
      lambda: F.scaled_dot_product_attention(_q(1, 2, 4, 8), _q(1, 2, 5, 8), _q(1, 2, 5, 8),
                                             attn_mask=t(4, 5, dtype=np.int64)), TypeError,
      r"\battn_mask\b must be a bool or float tensor, got dtype int64"),
    E("attention", "mask-with-causal",
      lambda: F.scaled_dot_product_attention(_q(1, 1, 4, 8), _q(1, 1, 4, 8), _q(1, 1, 4, 8),
                                             attn_mask=t(4, 4), is_causal=True), ValueError,
      r"\battn_mask\b must be None when \bis_causal\b=True"),
    E("attention", "dropout-p-one",
      lambda: F.scaled_dot_product_attention(_q(1, 1, 4, 8), _q(1, 1, 4, 8), _q(1, 1, 4, 8),
                                             dropout_p=1.0), ValueError,
      r"\bdropout_p\b must be in \[0, 1\), got 1\.0"),
    E("attention", "dropout-p-string",
      lambda: F.scaled_dot_product_attention(_q(1, 1, 4, 8), _q(1, 1, 4, 8), _q(1, 1, 4, 8),
                                             dropout_p="0.1"), TypeError,
      r"\bdropout_p\b must be a float, got str"),
    E("attention", "scale-string",
      lambda: F.scaled_dot_product_attention(_q(1, 1, 4, 8), _q(1, 1, 4, 8), _q(1, 1, 4, 8),
                                             scale="1"), TypeError,
      r"\bscale\b must be a float, got str"),
    E("attention", "scale-nan",
      lambda: F.scaled_dot_product_attention(_q(1, 1, 4, 8), _q(1, 1, 4, 8), _q(1, 1, 4, 8),
                                             scale=float("nan")), ValueError,
      r"\bscale\b must be a finite number, got nan"),
    E("attention", "value-int",
      lambda: F.scaled_dot_product_attention(_q(1, 1, 4, 8), _q(1, 1, 4, 8),
                                             t(1, 1, 4, 8, dtype=np.int64)), TypeError,
      r"\bvalue\b must be float32, got int64"),
    E("attention", "key-ndarray",
      lambda: F.scaled_dot_product_attention(_q(1, 1, 4, 8), a(1, 1, 4, 8), _q(1, 1, 4, 8)),
      TypeError, r"\bkey\b must be a Tensor, got ndarray"),
]


OPS = [
    E("ops", "gemm-inner-mismatch", lambda: tn.ops.gemm(a(2, 3), a(4, 5)), ValueError,
      r"inner dimensions differ: op\(a\) is \(2, 3\) from \ba\b \(2, 3\), op\(b\) is \(4, 5\) "
      r"from \bb\b \(4, 5\)"),
    E("ops", "gemm-float64", lambda: tn.ops.gemm(np.ones((2, 3)), a(3, 2)), TypeError,
      r"^\ba\b must have dtype float32, got float64"),
    E("ops", "gemm-out-shape", lambda: tn.ops.gemm(a(2, 3), a(3, 2), out=a(3, 3)), ValueError,
      r"^\bout\b must have shape \(2, 2\), got \(3, 3\)"),
    E("ops", "gemm-beta-without-out", lambda: tn.ops.gemm(a(2, 3), a(3, 2), beta=1.0),
      ValueError, r"\bbeta\b=1\.0+ scales out, but \bout\b is None"),
    E("ops", "relu-forward-float64", lambda: tn.ops.relu_forward(np.ones(3)), TypeError,
      r"^\bx\b must have dtype float32, got float64"),
    E("ops", "relu-backward-shape", lambda: tn.ops.relu_backward(a(3), a(4)), ValueError,
      r"\bdout\b and \bout\b must have the same shape, got \(3,\) and \(4,\)"),
    E("ops", "softmax-forward-dim", lambda: tn.ops.softmax_forward(a(2, 3), 2), IndexError,
      r"\bdim\b out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    E("ops", "linear-forward-weight-shape", lambda: tn.ops.linear_forward(a(2, 3), a(4, 5)),
      ValueError, r"\bx\b \(2, 3\) and \bweight\b \(4, 5\) do not match"),
    E("ops", "linear-forward-list", lambda: tn.ops.linear_forward([[1.0]], a(1, 1)), TypeError,
      r"^\bx\b must be a numpy\.ndarray of float32, got list"),
    E("ops", "conv2d-forward-channels", lambda: tn.ops.conv2d_forward(a(1, 3, 8, 8),
      a(4, 2, 3, 3)), ValueError, r"\bx\b \(1, 3, 8, 8\) has 3 channels but \bweight\b "
      r"\(4, 2, 3, 3\) expects weight\.shape\[1\] \* groups = 2"),
    E("ops", "conv2d-forward-stride-zero", lambda: tn.ops.conv2d_forward(a(1, 3, 8, 8),
      a(4, 3, 3, 3), None, 0), ValueError, r"\bstride\b must be positive, got \(0, 0\)"),
    E("ops", "max-pool-backward-indices-shape", lambda: tn.ops.max_pool2d_backward(
        a(1, 1, 2, 2), np.zeros((1, 1, 3, 3), np.int32), (1, 1, 4, 4)), ValueError,
      r"\bindices\b must have dout's shape \(1, 1, 2, 2\), got \(1, 1, 3, 3\)"),
    E("ops", "max-pool-backward-index-out-of-range", lambda: tn.ops.max_pool2d_backward(
        a(1, 1, 2, 2), np.full((1, 1, 2, 2), 99, np.int32), (1, 1, 4, 4)), IndexError,
      r"\bindices\b must lie in \[0, H\*W\) = \[0, 16\), got 99"),
    E("ops", "embedding-forward-index", lambda: tn.ops.embedding_forward(a(4, 2),
      np.array([4], np.int64)), IndexError, r"\bindices\b must lie in \[0, num_embeddings\) = "
      r"\[0, 4\), got 4"),
    E("ops", "embedding-backward-num-weights", lambda: tn.ops.embedding_backward(
        a(1, 2), np.array([0], np.int64), -1), ValueError, r"\bnum_weights\b must be >= 0, got -1"),
    E("ops", "dropout-forward-p", lambda: tn.ops.dropout_forward(a(4), 1.5, 0), ValueError,
      r"dropout probability \bp\b has to be between 0 and 1, but got 1\.5"),
    E("ops", "cross-entropy-forward-target-range", lambda: tn.ops.cross_entropy_forward(
        a(2, 3), np.array([0, 3], np.int64)), IndexError,
      r"\btarget\b 3 at flat position 1 is out of bounds: class indices must be in \[0, 3\)"),
    E("ops", "nll-forward-reduction", lambda: tn.ops.nll_loss_forward(
        a(2, 3), np.array([0, 1], np.int64), None, -100, "avg"), ValueError,
      r"avg is not a valid value for \breduction\b"),
    E("ops", "mse-forward-shape", lambda: tn.ops.mse_loss_forward(a(2, 3), a(3, 2)), ValueError,
      r"\btarget\b must have shape \(2, 3\) \(input's shape\), got \(3, 2\)"),
    E("ops", "layer-norm-forward-ndim", lambda: tn.ops.layer_norm_forward(a(2, 3), 3),
      ValueError, r"\bnormalized_ndim\b must be in \[1, input\.ndim\] = \[1, 2\].*got 3"),
    E("ops", "attention-forward-3d", lambda: tn.ops.attention_forward(a(2, 4, 8), a(2, 4, 8),
      a(2, 4, 8)), ValueError, r"\bquery\b must be 4-D \(batch, heads, L, E\), got shape "
      r"\(2, 4, 8\)"),
    E("ops", "rnn-forward-mode", lambda: tn.ops.rnn_forward("GRU", a(2, 1, 3), a(1, 4), None,
      a(4, 3), a(4, 4)), ValueError, r"\bmode\b must be 'RNN_TANH', 'RNN_RELU' or 'LSTM', got "
      r"'GRU'"),
    E("ops", "rnn-forward-hidden-shape", lambda: tn.ops.rnn_forward("RNN_TANH", a(2, 1, 3),
      a(1, 5), None, a(4, 3), a(4, 4)), ValueError,
      r"\bhx\b must have shape \(1, 4\) \(batch, hidden_size\), got \(1, 5\)"),
    E("ops", "im2col-kernel-zero", lambda: tn.ops.im2col(a(1, 1, 4, 4), 0), ValueError,
      r"\bkernel_size\b must be positive, got \(0, 0\)"),
    E("ops", "sgd-step-shape-mismatch", lambda: tn._core.sgd_step(a(3), a(4), None, 0.1, 0.0,
      0.0, 0.0, False, False, True), ValueError,
      r"\bgrad\b must have the shape of param \(3,\), got \(4,\)"),
    E("ops", "adam-step-int-state", lambda: tn._core.adam_step(
        a(3), a(3), np.zeros(3, np.int64), a(3), None, 0.1, 0.9, 0.99, 1e-8, 0.0, 1, False,
        False, False), TypeError, r"\bexp_avg\b must have dtype float32, got int64"),
]

CASES = CONV2D + MAX_POOL2D + AVG_POOL2D + EMBEDDING + LAYER_NORM + ATTENTION + OPS


@pytest.mark.parametrize("case", params(CASES))
def test_error_input(case):
    check(case)


def test_every_family_has_enough_error_inputs():
    check_family_sizes(CASES)
