"""Error inputs of the ``tn.nn`` modules (constructors and forwards of Linear, Conv2d, the pools,
Embedding, LayerNorm, MultiheadAttention, TransformerEncoderLayer, RNN/LSTM, containers),
``nn.Module`` registration and ``load_state_dict``, ``nn.init`` and ``nn.utils`` gradient
clipping: one table, each row a bad call, the exception it must raise and a regex naming the
argument (and the shapes where they matter). See error_inputs.py for the machinery."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn
from turbonn import nn
from error_inputs import ErrorInput as E
from error_inputs import check, check_family_sizes, params


def t(*shape, dtype=np.float32):
    n = int(np.prod(shape, dtype=np.int64))
    data = (np.arange(n) % 7).reshape(shape)
    return tn.tensor(data.astype(dtype) * (0.1 if np.dtype(dtype).kind == "f" else 1))


def _linear_state(**changes):
    sd = nn.Linear(3, 2).state_dict()
    for k, v in changes.items():
        if v is None:
            del sd[k]
        else:
            sd[k] = v
    return sd


def _load(module, sd, strict=True):
    return module.load_state_dict(sd, strict=strict)


def _register_parameter(name, value):
    nn.Module().register_parameter(name, value)


def _register_buffer(name, value):
    nn.Module().register_buffer(name, value)


def _assign_to_parameter():
    lin = nn.Linear(3, 2)
    lin.weight = np.zeros((2, 3), np.float32)


def _clip(max_norm, norm_type=2.0, **kw):
    p = nn.Parameter(np.ones(3, np.float32))
    p.grad = tn.tensor([1.0, float("inf"), 0.0])
    return nn.utils.clip_grad_norm_([p], max_norm, norm_type, **kw)


LINEAR = [
    E("nn.Linear", "in-features-negative", lambda: nn.Linear(-1, 2), ValueError,
      r"\bin_features\b must be a non-negative int, got -1"),
    E("nn.Linear", "out-features-float", lambda: nn.Linear(3, 2.5), TypeError,
      r"\bout_features\b must be a non-negative int, got 2\.5"),
    E("nn.Linear", "in-features-string", lambda: nn.Linear("3", 2), TypeError,
      r"\bin_features\b must be a non-negative int, got '3'"),
    E("nn.Linear", "forward-in-features", lambda: nn.Linear(3, 2)(t(4, 5)), ValueError,
      r"\binput\b shape \(4, 5\) and \bweight\b shape \(2, 3\).*in_features=3"),
    E("nn.Linear", "forward-int", lambda: nn.Linear(3, 2)(t(4, 3, dtype=np.int64)), TypeError,
      r"float32 \binput\b and \bweight\b, got int64 and float32"),
    E("nn.Linear", "forward-ndarray", lambda: nn.Linear(3, 2)(np.ones((1, 3), np.float32)),
      TypeError, r"argument '\binput\b' must be a Tensor"),
    E("nn.Linear", "forward-0d", lambda: nn.Linear(1, 2)(tn.tensor(1.0)), ValueError,
      r"\binput\b shape \(\)"),
]

CONV2D = [
    E("nn.Conv2d", "in-channels-zero", lambda: nn.Conv2d(0, 4, 3), ValueError,
      r"\bin_channels\b must be a positive int, got 0"),
    E("nn.Conv2d", "out-channels-negative", lambda: nn.Conv2d(3, -4, 3), ValueError,
      r"\bout_channels\b must be a positive int, got -4"),
    E("nn.Conv2d", "groups-not-dividing", lambda: nn.Conv2d(4, 6, 3, groups=4), ValueError,
      r"\bin_channels\b \(4\) and \bout_channels\b \(6\) must both be divisible by \bgroups\b "
      r"\(4\)"),
    E("nn.Conv2d", "kernel-zero", lambda: nn.Conv2d(3, 4, 0), ValueError,
      r"\bkernel_size\b must be positive, got \(0, 0\)"),
    E("nn.Conv2d", "stride-negative", lambda: nn.Conv2d(3, 4, 3, stride=(1, -1)), ValueError,
      r"\bstride\b must be positive, got \(1, -1\)"),
    E("nn.Conv2d", "dilation-zero", lambda: nn.Conv2d(3, 4, 3, dilation=0), ValueError,
      r"\bdilation\b must be positive, got \(0, 0\)"),
    E("nn.Conv2d", "padding-negative", lambda: nn.Conv2d(3, 4, 3, padding=-1), ValueError,
      r"\bpadding\b must be non-negative, got \(-1, -1\)"),
    E("nn.Conv2d", "padding-bad-string", lambda: nn.Conv2d(3, 4, 3, padding="full"), ValueError,
      r"\bpadding\b must be an int, a pair, 'valid' or 'same', got 'full'"),
    E("nn.Conv2d", "padding-same-strided", lambda: nn.Conv2d(3, 4, 3, 2, padding="same"),
      ValueError, r"\bpadding\b='same' needs \bstride\b 1"),
    E("nn.Conv2d", "padding-mode", lambda: nn.Conv2d(3, 4, 3, padding_mode="reflect"),
      ValueError, r"only \bpadding_mode\b='zeros' is supported, got 'reflect'"),
    E("nn.Conv2d", "kernel-triple", lambda: nn.Conv2d(3, 4, (3, 3, 3)), TypeError,
      r"\bkernel_size\b must be an int or a pair of ints, got \(3, 3, 3\)"),
    E("nn.Conv2d", "forward-channels", lambda: nn.Conv2d(3, 4, 3)(t(1, 2, 8, 8)), ValueError,
      r"\binput\b \(1, 2, 8, 8\) has 2 channels but \bweight\b \(4, 3, 3, 3\)"),
    E("nn.Conv2d", "forward-2d", lambda: nn.Conv2d(3, 4, 3)(t(8, 8)), ValueError,
      r"\binput\b must be 3-D \(C, H, W\) or 4-D \(N, C, H, W\), got shape \(8, 8\)"),
]

POOL = [
    E("nn.pool", "maxpool-kernel-zero", lambda: nn.MaxPool2d(0)(t(1, 1, 4, 4)), ValueError,
      r"\bkernel_size\b must be greater than zero, got \(0, 0\)"),
    E("nn.pool", "maxpool-padding-over-half", lambda: nn.MaxPool2d(2, padding=2)(
        t(1, 1, 4, 4)), ValueError, r"\bpadding\b should be at most half of kernel_size"),
    E("nn.pool", "maxpool-input-2d", lambda: nn.MaxPool2d(2)(t(4, 4)), ValueError,
      r"max_pool2d\(\): \binput\b must be 3-D.*got shape \(4, 4\)"),
    E("nn.pool", "maxpool-int-input", lambda: nn.MaxPool2d(2)(t(1, 1, 4, 4, dtype=np.int64)),
      TypeError, r"float32 tensor for '\binput\b', got int64"),
    E("nn.pool", "avgpool-stride-zero", lambda: nn.AvgPool2d(2, stride=0)(t(1, 1, 4, 4)),
      ValueError, r"\bstride\b must be greater than zero, got \(0, 0\)"),
    E("nn.pool", "avgpool-divisor-zero", lambda: nn.AvgPool2d(2, divisor_override=0)(
        t(1, 1, 4, 4)), ValueError, r"\bdivisor_override\b must be non-zero"),
    E("nn.pool", "avgpool-input-5d", lambda: nn.AvgPool2d(2)(t(1, 1, 1, 4, 4)), ValueError,
      r"avg_pool2d\(\): \binput\b must be 3-D.*got shape \(1, 1, 1, 4, 4\)"),
]

EMBEDDING = [
    E("nn.Embedding", "num-embeddings-negative", lambda: nn.Embedding(-1, 3), ValueError,
      r"\bnum_embeddings\b must be a non-negative int, got -1"),
    E("nn.Embedding", "embedding-dim-float", lambda: nn.Embedding(5, 2.5), TypeError,
      r"\bembedding_dim\b must be a non-negative int, got 2\.5"),
    E("nn.Embedding", "padding-idx-out-of-range", lambda: nn.Embedding(5, 3, padding_idx=5),
      ValueError, r"Padding_idx must be within num_embeddings: expected in \[-5, 5\), got 5"),
    E("nn.Embedding", "max-norm", lambda: nn.Embedding(5, 3, max_norm=1.0), NotImplementedError,
      r"\bmax_norm\b=1\.0 is not supported"),
    E("nn.Embedding", "weight-shape", lambda: nn.Embedding(5, 3, _weight=np.zeros((5, 4))),
      ValueError, r"Shape of \bweight\b does not match num_embeddings and embedding_dim: "
      r"expected \(5, 3\), got \(5, 4\)"),
    E("nn.Embedding", "dtype-float64", lambda: nn.Embedding(5, 3, dtype=np.float64), TypeError,
      r"\bdtype\b must be None or float32"),
    E("nn.Embedding", "device-cuda", lambda: nn.Embedding(5, 3, device="cuda"), ValueError,
      r"\bdevice\b must be None or 'cpu', got 'cuda'"),
    E("nn.Embedding", "from-pretrained-1d", lambda: nn.Embedding.from_pretrained(np.zeros(5)),
      ValueError, r"\bEmbeddings\b parameter is expected to be 2-dimensional, got shape \(5,\)"),
    E("nn.Embedding", "forward-index-out-of-range",
      lambda: nn.Embedding(5, 3)(tn.tensor(np.array([5], np.int64))), IndexError,
      r"\[0, 5\), got 5"),
    E("nn.Embedding", "forward-float-indices", lambda: nn.Embedding(5, 3)(t(2)), TypeError,
      r"'\bindices\b'.*float32"),
]

LAYER_NORM = [
    E("nn.LayerNorm", "normalized-shape-empty", lambda: nn.LayerNorm(()), ValueError,
      r"\bnormalized_shape\b to be at least 1-dimensional"),
    E("nn.LayerNorm", "normalized-shape-negative", lambda: nn.LayerNorm((4, -1)), ValueError,
      r"\bnormalized_shape\b must be non-negative, got \(4, -1\)"),
    E("nn.LayerNorm", "normalized-shape-float", lambda: nn.LayerNorm(4.0), TypeError,
      r"argument '\bnormalized_shape\b' must be an int or a tuple of ints, not float"),
    E("nn.LayerNorm", "dtype-float64", lambda: nn.LayerNorm(4, dtype=np.float64), TypeError,
      r"\bdtype\b must be None or float32"),
    E("nn.LayerNorm", "device-cuda", lambda: nn.LayerNorm(4, device="cuda"), ValueError,
      r"\bdevice\b must be None or 'cpu'"),
    E("nn.LayerNorm", "eps-negative", lambda: nn.LayerNorm(4, eps=-1e-5), ValueError,
      r"LayerNorm\(\): \beps\b must be >= 0, got -1e-05"),
    E("nn.LayerNorm", "forward-shape", lambda: nn.LayerNorm(4)(t(2, 5)), ValueError,
      r"Given \bnormalized_shape\b=\[4\], expected input with shape \[\*, 4\], but got input of "
      r"size\[2, 5\]"),
    E("nn.LayerNorm", "forward-int", lambda: nn.LayerNorm(4)(t(2, 4, dtype=np.int64)), TypeError,
      r"float32 tensor for '\binput\b', got int64"),
]


def _mha(**kw):
    return nn.MultiheadAttention(8, 2, **kw)


Q = t(5, 2, 8)  # (L, N, E)

MULTIHEAD_ATTENTION = [
    E("nn.MultiheadAttention", "embed-dim-not-divisible", lambda: nn.MultiheadAttention(8, 3),
      ValueError, r"\bembed_dim\b must be divisible by \bnum_heads\b, got embed_dim=8 and "
      r"num_heads=3"),
    E("nn.MultiheadAttention", "num-heads-zero", lambda: nn.MultiheadAttention(8, 0), ValueError,
      r"\bnum_heads\b must be an int >= 1, got 0"),
    E("nn.MultiheadAttention", "embed-dim-float", lambda: nn.MultiheadAttention(8.0, 2),
      TypeError, r"\bembed_dim\b must be an int >= 1, got 8\.0"),
    E("nn.MultiheadAttention", "dropout-one", lambda: _mha(dropout=1.0), ValueError,
      r"\bdropout\b must be in \[0, 1\), got 1\.0"),
    E("nn.MultiheadAttention", "dropout-string", lambda: _mha(dropout="x"), TypeError,
      r"\bdropout\b must be a float, got 'x'"),
    E("nn.MultiheadAttention", "kdim", lambda: _mha(kdim=4), NotImplementedError,
      r"\bkdim\b/vdim other than embed_dim are not supported"),
    E("nn.MultiheadAttention", "dtype-float64", lambda: _mha(dtype=np.float64), TypeError,
      r"\bdtype\b must be None or float32"),
    E("nn.MultiheadAttention", "query-embed-dim", lambda: _mha()(t(5, 2, 6), Q, Q), ValueError,
      r"\bquery\b must be \(L, N, E=8\).*got \(5, 2, 6\)"),
    E("nn.MultiheadAttention", "key-value-length", lambda: _mha()(Q, t(4, 2, 8), t(3, 2, 8)),
      ValueError, r"\bkey\b and \bvalue\b must have the same batch and length.*\(2, 4, 8\), "
      r"\(2, 3, 8\)"),
    E("nn.MultiheadAttention", "key-batch", lambda: _mha()(Q, t(5, 3, 8), t(5, 3, 8)),
      ValueError, r"\bkey\b and \bvalue\b.*batch as query"),
    E("nn.MultiheadAttention", "attn-mask-shape", lambda: _mha()(Q, Q, Q, attn_mask=t(5, 4)),
      ValueError, r"\battn_mask\b must have shape \(5, 5\) or \(4, 5, 5\), got \(5, 4\)"),
    E("nn.MultiheadAttention", "attn-mask-int",
      lambda: _mha()(Q, Q, Q, attn_mask=t(5, 5, dtype=np.int64)), TypeError,
      r"\battn_mask\b must be a bool or float tensor, got dtype int64"),
    E("nn.MultiheadAttention", "key-padding-mask-shape",
      lambda: _mha()(Q, Q, Q, key_padding_mask=t(5, 2).bool()), ValueError,
      r"\bkey_padding_mask\b must have shape \(2, 5\), got \(5, 2\)"),
    E("nn.MultiheadAttention", "query-4d", lambda: _mha()(t(1, 5, 2, 8), Q, Q), ValueError,
      r"\bquery\b must be \(L, N, E=8\).*got \(1, 5, 2, 8\)"),
    E("nn.MultiheadAttention", "key-2d-with-batched-query", lambda: _mha()(Q, t(5, 8), t(5, 8)),
      ValueError, r"\bquery\b, \bkey\b and \bvalue\b must all be 3-D \(batched\) or all 2-D "
      r"\(unbatched\), got query \(5, 2, 8\), key \(5, 8\) and value \(5, 8\)"),
    E("nn.MultiheadAttention", "value-ndarray",
      lambda: _mha()(Q, Q, np.zeros((5, 2, 8), np.float32)), TypeError,
      r"\bvalue\b must be a Tensor, got ndarray"),
]

TRANSFORMER = [
    E("nn.TransformerEncoderLayer", "nhead-not-dividing",
      lambda: nn.TransformerEncoderLayer(8, 3), ValueError,
      r"\bembed_dim\b must be divisible by \bnum_heads\b, got embed_dim=8 and num_heads=3"),
    E("nn.TransformerEncoderLayer", "activation-unknown",
      lambda: nn.TransformerEncoderLayer(8, 2, activation="swish"), ValueError,
      r"\bactivation\b must be 'relu' or a callable, got 'swish'"),
    E("nn.TransformerEncoderLayer", "dropout-above-one",
      lambda: nn.TransformerEncoderLayer(8, 2, dropout=1.5), ValueError,
      r"\bdropout\b must be in \[0, 1\), got 1\.5"),
    E("nn.TransformerEncoderLayer", "dim-feedforward-negative",
      lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=-1), ValueError,
      r"\bdim_feedforward\b must be an int >= 1, got -1"),
    E("nn.TransformerEncoderLayer", "dim-feedforward-float",
      lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16.0), TypeError,
      r"\bdim_feedforward\b must be an int >= 1, got 16\.0"),
    E("nn.TransformerEncoderLayer", "layer-norm-eps-string",
      lambda: nn.TransformerEncoderLayer(8, 2, layer_norm_eps="x"), TypeError,
      r"argument '\beps\b' must be a float, not str"),
    E("nn.TransformerEncoderLayer", "forward-d-model",
      lambda: nn.TransformerEncoderLayer(8, 2, 16)(t(5, 2, 6)), ValueError,
      r"\bquery\b must be \(L, N, E=8\).*got \(5, 2, 6\)"),
    E("nn.TransformerEncoderLayer", "forward-mask-shape",
      lambda: nn.TransformerEncoderLayer(8, 2, 16)(Q, src_mask=t(4, 4)), ValueError,
      r"\battn_mask\b must have shape \(5, 5\)"),
    E("nn.TransformerEncoderLayer", "forward-padding-mask-shape",
      lambda: nn.TransformerEncoderLayer(8, 2, 16)(Q, src_key_padding_mask=t(2, 4).bool()),
      ValueError, r"\bkey_padding_mask\b must have shape \(2, 5\), got \(2, 4\)"),
]


def _rnn(**kw):
    return nn.RNN(3, 4, **kw)


POSITIONAL_ENCODING = [
    E("nn.SinusoidalPositionalEncoding", "dim-zero", lambda: nn.SinusoidalPositionalEncoding(0),
      ValueError, r"\bdim\b must be an int >= 1, got 0"),
    E("nn.SinusoidalPositionalEncoding", "dim-string",
      lambda: nn.SinusoidalPositionalEncoding("8"), TypeError,
      r"\bdim\b must be an int >= 1, got '8'"),
    E("nn.SinusoidalPositionalEncoding", "max-len-negative",
      lambda: nn.SinusoidalPositionalEncoding(8, max_len=-1), ValueError,
      r"\bmax_len\b must be an int >= 0, got -1"),
    E("nn.SinusoidalPositionalEncoding", "max-len-float",
      lambda: nn.SinusoidalPositionalEncoding(8, max_len=10.0), TypeError,
      r"\bmax_len\b must be an int >= 0, got 10\.0"),
    E("nn.SinusoidalPositionalEncoding", "dropout-above-one",
      lambda: nn.SinusoidalPositionalEncoding(8, dropout=2.0), ValueError,
      r"dropout probability \bp\b has to be between 0 and 1, but got 2\.0"),
    E("nn.SinusoidalPositionalEncoding", "forward-longer-than-max-len",
      lambda: nn.SinusoidalPositionalEncoding(8, max_len=4)(t(1, 5, 8)), ValueError,
      r"expected \(\.\.\., T <= 4, 8\) \binput\b, got \(1, 5, 8\)"),
    E("nn.SinusoidalPositionalEncoding", "forward-dim-mismatch",
      lambda: nn.SinusoidalPositionalEncoding(8)(t(1, 5, 6)), ValueError,
      r"expected \(\.\.\., T <= 4096, 8\) \binput\b, got \(1, 5, 6\)"),
]

RNN = [
    E("nn.RNN", "nonlinearity-unknown", lambda: _rnn(nonlinearity="sigmoid"), ValueError,
      r"Unknown \bnonlinearity\b 'sigmoid'"),
    E("nn.RNN", "num-layers-zero", lambda: _rnn(num_layers=0), ValueError,
      r"\bnum_layers\b must be an int >= 1, got 0"),
    E("nn.RNN", "hidden-size-zero", lambda: nn.RNN(3, 0), ValueError,
      r"\bhidden_size\b must be an int >= 1, got 0"),
    E("nn.RNN", "input-size-float", lambda: nn.RNN(3.0, 4), TypeError,
      r"\binput_size\b must be an int >= 1, got 3\.0"),
    E("nn.RNN", "dropout-above-one", lambda: _rnn(dropout=1.5), ValueError,
      r"\bdropout\b should be a number in range \[0, 1\].*got 1\.5"),
    E("nn.RNN", "dropout-string", lambda: _rnn(dropout="0.1"), ValueError,
      r"\bdropout\b should be a number in range \[0, 1\].*got '0\.1'"),
    E("nn.RNN", "bidirectional", lambda: _rnn(bidirectional=True), NotImplementedError,
      r"\bbidirectional\b=True is not supported"),
    E("nn.RNN", "forward-input-size", lambda: _rnn()(t(5, 2, 4)), ValueError,
      r"\binput\b\.size\(-1\) must be equal to input_size\. Expected 3, got 4"),
    E("nn.RNN", "forward-input-4d", lambda: _rnn()(t(5, 2, 3, 1)), ValueError,
      r"Expected \binput\b to be 2D or 3D, got 4D instead"),
    E("nn.RNN", "forward-input-int", lambda: _rnn()(t(5, 2, 3, dtype=np.int64)), TypeError,
      r"\binput\b must be float32.*int64"),
    E("nn.RNN", "forward-hidden-shape", lambda: _rnn()(t(5, 2, 3), t(1, 3, 4)), ValueError,
      r"Expected \bhidden\b size \(1, 2, 4\), got \[1, 3, 4\]"),
    E("nn.RNN", "forward-hidden-unbatched-shape", lambda: _rnn()(t(5, 3), t(1, 2, 4)),
      ValueError, r"Expected \bhidden\b size \(1, 4\), got \[1, 2, 4\]"),
    E("nn.RNN", "forward-hidden-ndarray", lambda: _rnn()(t(5, 2, 3), np.zeros((1, 2, 4))),
      TypeError, r"\bhidden\b must be a Tensor, got ndarray"),
    E("nn.LSTM", "num-layers-negative", lambda: nn.LSTM(3, 4, num_layers=-1), ValueError,
      r"\bnum_layers\b must be an int >= 1, got -1"),
    E("nn.LSTM", "proj-size", lambda: nn.LSTM(3, 4, proj_size=2), NotImplementedError,
      r"\bproj_size\b is not supported"),
    E("nn.LSTM", "dropout-negative", lambda: nn.LSTM(3, 4, dropout=-0.1), ValueError,
      r"\bdropout\b should be a number in range \[0, 1\]"),
    E("nn.LSTM", "forward-hx-not-tuple", lambda: nn.LSTM(3, 4)(t(5, 2, 3), t(1, 2, 4)),
      TypeError, r"\bhx\b must be a tuple \(h_0, c_0\), got Tensor"),
    E("nn.LSTM", "forward-hx-triple",
      lambda: nn.LSTM(3, 4)(t(5, 2, 3), (t(1, 2, 4), t(1, 2, 4), t(1, 2, 4))), TypeError,
      r"\bhx\b must be a tuple \(h_0, c_0\), got a tuple of 3"),
    E("nn.LSTM", "forward-cell-shape",
      lambda: nn.LSTM(3, 4)(t(5, 2, 3), (t(1, 2, 4), t(1, 2, 5))), ValueError,
      r"Expected \bhidden\[1\] size \(1, 2, 4\), got \[1, 2, 5\]"),
    E("nn.LSTM", "forward-hidden-shape",
      lambda: nn.LSTM(3, 4, num_layers=2)(t(5, 2, 3), (t(1, 2, 4), t(2, 2, 4))), ValueError,
      r"Expected \bhidden\[0\] size \(2, 2, 4\), got \[1, 2, 4\]"),
    E("nn.LSTM", "forward-input-size", lambda: nn.LSTM(3, 4, batch_first=True)(t(2, 5, 2)),
      ValueError, r"\binput\b\.size\(-1\) must be equal to input_size\. Expected 3, got 2"),
    E("nn.LSTM", "dtype-float64", lambda: nn.LSTM(3, 4, dtype=np.float64), TypeError,
      r"\bdtype\b must be None or float32"),
]

MODULE = [
    E("nn.Module", "register-parameter-dotted-name",
      lambda: _register_parameter("a.b", nn.Parameter(np.ones(1))), KeyError,
      r"parameter \bname\b can't contain \".\" and can't be empty, got 'a\.b'"),
    E("nn.Module", "register-parameter-empty-name",
      lambda: _register_parameter("", nn.Parameter(np.ones(1))), KeyError,
      r"parameter \bname\b can't contain \".\" and can't be empty, got ''"),
    E("nn.Module", "register-parameter-int-name",
      lambda: _register_parameter(3, nn.Parameter(np.ones(1))), TypeError,
      r"parameter \bname\b should be a string, got int"),
    E("nn.Module", "register-parameter-tensor", lambda: _register_parameter("w", t(2)),
      TypeError, r"cannot assign 'Tensor' object to \bparameter\b 'w'"),
    E("nn.Module", "register-buffer-dotted-name", lambda: _register_buffer("a.b", t(1)),
      KeyError, r"buffer \bname\b can't contain \".\" and can't be empty, got 'a\.b'"),
    E("nn.Module", "register-buffer-list", lambda: _register_buffer("b", [1.0]), TypeError,
      r"cannot assign 'list' object to \bbuffer\b 'b'"),
    E("nn.Module", "register-buffer-existing-attribute", lambda: _register_buffer("training",
      t(1)), KeyError, r"attribute 'training' already exists"),
    E("nn.Module", "add-module-not-module", lambda: nn.Module().add_module("m", lambda x: x),
      TypeError, r"function is not a Module subclass"),
    E("nn.Module", "assign-array-to-parameter", _assign_to_parameter, TypeError,
      r"cannot assign 'ndarray' as \bparameter\b 'weight'"),
    E("nn.Module", "parameter-string-data", lambda: nn.Parameter(np.array(["a"])), TypeError,
      r"Parameter \bdata\b must be numeric, got dtype <U1"),
    E("nn.Module", "train-mode-string", lambda: nn.Linear(2, 2).train("yes"), ValueError,
      r"training \bmode\b is expected to be boolean"),
    E("nn.Module", "forward-missing", lambda: nn.Module()(t(1)), NotImplementedError,
      r"missing the required \"forward\" function"),
    E("nn.Module", "load-state-dict-not-mapping", lambda: _load(nn.Linear(3, 2), [1, 2]),
      TypeError, r"Expected \bstate_dict\b to be dict-like, got list"),
    E("nn.Module", "load-state-dict-missing-key",
      lambda: _load(nn.Linear(3, 2), _linear_state(bias=None)), RuntimeError,
      r"Missing key\(s\) in \bstate_dict\b: \"bias\""),
    E("nn.Module", "load-state-dict-unexpected-key",
      lambda: _load(nn.Linear(3, 2), _linear_state(extra=np.zeros(1, np.float32))),
      RuntimeError, r"Unexpected key\(s\) in \bstate_dict\b: \"extra\""),
    E("nn.Module", "load-state-dict-wrong-shape",
      lambda: _load(nn.Linear(3, 2), _linear_state(weight=np.zeros((3, 2), np.float32))),
      RuntimeError, r"size mismatch for \bweight\b: copying a param with shape \(3, 2\) from "
      r"checkpoint, the shape in current model is \(2, 3\)"),
    E("nn.Module", "load-state-dict-wrong-shape-non-strict",
      lambda: _load(nn.Linear(3, 2), _linear_state(bias=np.zeros(3, np.float32)), strict=False),
      RuntimeError, r"size mismatch for \bbias\b"),
    E("nn.Module", "load-state-dict-string-value",
      lambda: _load(nn.Linear(3, 2), _linear_state(bias=np.array(["a", "b"]))), TypeError,
      r"state_dict entry '\bbias\b': expected a numeric array, got dtype <U1"),
    E("nn.containers", "index-out-of-range", lambda: nn.Sequential(nn.ReLU())[3], IndexError,
      r"\bindex\b 3 is out of range"),
    E("nn.containers", "index-string", lambda: nn.Sequential(nn.ReLU())["0"], TypeError,
      r"Sequential \bindices\b must be integers or slices, not str"),
    E("nn.containers", "add-non-module", lambda: nn.Sequential(nn.ReLU(), "relu"), TypeError,
      r"str is not a Module subclass"),
    E("nn.containers", "module-list-index", lambda: nn.ModuleList([nn.ReLU()])[-2], IndexError,
      r"\bindex\b -2 is out of range"),
    E("nn.containers", "module-list-append-int", lambda: nn.ModuleList().append(3), TypeError,
      r"int is not a Module subclass"),
    E("nn.containers", "flatten-start-after-end", lambda: nn.Flatten(2, 1)(t(2, 3, 4)),
      ValueError, r"\bstart_dim\b cannot come after \bend_dim\b"),
    E("nn.containers", "flatten-dim-out-of-range", lambda: nn.Flatten(1, 5)(t(2, 3)), IndexError,
      r"Dimension out of range.*got 5"),
]

INIT = [
    E("nn.init", "xavier-1d", lambda: nn.init.xavier_uniform_(t(3)), ValueError,
      r"Fan in and fan out can not be computed for \btensor\b with fewer than 2 dimensions"),
    E("nn.init", "kaiming-mode", lambda: nn.init.kaiming_uniform_(t(3, 3), mode="fan_avg"),
      ValueError, r"\bMode\b fan_avg not supported"),
    E("nn.init", "kaiming-nonlinearity", lambda: nn.init.kaiming_normal_(
        t(3, 3), nonlinearity="swish"), ValueError, r"Unsupported \bnonlinearity\b swish"),
    E("nn.init", "kaiming-mode-int", lambda: nn.init.kaiming_uniform_(t(3, 3), mode=3),
      ValueError, r"\bMode\b 3 not supported"),
    E("nn.init", "eye-3d", lambda: nn.init.eye_(t(2, 2, 2)), ValueError,
      r"Only \btensors\b with 2 dimensions are supported"),
    E("nn.init", "normal-int-tensor", lambda: nn.init.normal_(t(3, dtype=np.int64)), TypeError,
      r"normal_: expected a float32 \btensor\b, got int64"),
    E("nn.init", "uniform-list", lambda: nn.init.uniform_([0.0, 0.0]), TypeError,
      r"uniform_: expected a Tensor, got list"),
    E("nn.init", "gain-leaky-relu-param", lambda: nn.init.calculate_gain("leaky_relu", "x"),
      ValueError, r"\bnegative_slope\b x not a valid number"),
    E("nn.init", "normal-std-negative", lambda: nn.init.normal_(t(3), std=-1.0), ValueError,
      r"normal_ expects \bstd\b >= 0\.0, but found std -1\.0"),
    E("nn.init", "uniform-bounds-reversed", lambda: nn.init.uniform_(t(3), a=1.0, b=0.0),
      ValueError, r"uniform_ expects to return a \[a, b\) range, but found \ba\b=1\.0 > "
      r"\bb\b=0\.0"),
]

CLIP = [
    E("nn.utils", "clip-nonfinite", lambda: _clip(1.0, error_if_nonfinite=True), RuntimeError,
      r"The total norm of order 2\.0 for gradients from `\bparameters\b` is non-finite"),
    E("nn.utils", "clip-max-norm-string", lambda: _clip("big"), TypeError,
      r"clip_grad_norm_: \bmax_norm\b must be a float, got str"),
    E("nn.utils", "clip-max-norm-negative", lambda: _clip(-1.0), ValueError,
      r"clip_grad_norm_: \bmax_norm\b must be >= 0\.0, got -1\.0"),
    E("nn.utils", "clip-max-norm-nan", lambda: _clip(float("nan")), ValueError,
      r"clip_grad_norm_: \bmax_norm\b must be >= 0\.0, got nan"),
    E("nn.utils", "clip-norm-type-string", lambda: _clip(1.0, "fro"), ValueError,
      r"clip_grad_norm_: \bnorm_type\b must be a float or 'inf', got 'fro'"),
    E("nn.utils", "clip-norm-type-none", lambda: _clip(1.0, None), TypeError,
      r"clip_grad_norm_: \bnorm_type\b must be a float, got NoneType"),
    E("nn.utils", "clip-parameters-not-tensors",
      lambda: nn.utils.clip_grad_norm_([1.0, 2.0], 1.0), TypeError,
      r"\bparameters\b must be Tensors \(or one Tensor\), got an element of type float"),
    E("nn.utils", "clip-value-string",
      lambda: nn.utils.clip_grad_value_([nn.Parameter(np.ones(2))], "x"), TypeError,
      r"clip_grad_value_: \bclip_value\b must be a float, got str"),
    E("nn.utils", "clip-value-negative",
      lambda: nn.utils.clip_grad_value_([nn.Parameter(np.ones(2))], -1.0), ValueError,
      r"clip_grad_value_: \bclip_value\b must be >= 0\.0, got -1\.0"),
]

CASES = (LINEAR + CONV2D + POOL + EMBEDDING + LAYER_NORM + MULTIHEAD_ATTENTION + TRANSFORMER
         + POSITIONAL_ENCODING + RNN + MODULE + INIT + CLIP)


@pytest.mark.parametrize("case", params(CASES))
def test_error_input(case):
    check(case)


def test_every_family_has_enough_error_inputs():
    check_family_sizes(CASES)
