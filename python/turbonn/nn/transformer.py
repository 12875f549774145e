"""Transformer building blocks: ``TransformerEncoderLayer`` with torch's signature and parameter
names (``self_attn``, ``linear1``, ``linear2``, ``norm1``, ``norm2``), so a torch state_dict
loads 1:1 — with ``norm_first=True`` and a causal mask it is the pre-norm decoder-only block of
GPT-style models — and ``SinusoidalPositionalEncoding`` ("Attention Is All You Need", 3.5).
"""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from . import functional as F
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["TransformerEncoderLayer", "SinusoidalPositionalEncoding", "sinusoidal_encoding"]


def sinusoidal_encoding(length: int, dim: int) -> np.ndarray:
    """(length, dim) float32: PE[t, 2i] = sin(t / 10000^(2i/dim)), PE[t, 2i+1] = cos(...)."""
    if length < 0 or dim < 1:
        raise ValueError(f"sinusoidal_encoding: length must be >= 0 and dim >= 1, got "
                         f"{length}, {dim}")
    pos = np.arange(length, dtype=np.float64)[:, None]
    freq = np.exp(-math.log(10000.0) * np.arange(0, dim, 2, dtype=np.float64) / dim)
    pe = np.zeros((length, dim), np.float64)
    pe[:, 0::2] = np.sin(pos * freq)
    pe[:, 1::2] = np.cos(pos * freq[:dim // 2])
    return pe.astype(np.float32)


class SinusoidalPositionalEncoding(Module):
    """Adds the fixed sinusoidal encoding of each position to (N, T, dim) (batch_first) or
    (T, N, dim) input, then dropout. Positions beyond max_len raise ValueError."""

    def __init__(self, dim: int, max_len: int = 4096, dropout: float = 0.0,
                 batch_first: bool = True):
        super().__init__()
        for name, n, lo in (("dim", dim, 1), ("max_len", max_len, 0)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
                raise TypeError(f"SinusoidalPositionalEncoding: {name} must be an int >= {lo}, "
                                f"got {n!r}")
            if n < lo:
                raise ValueError(f"SinusoidalPositionalEncoding: {name} must be an int >= {lo}, "
                                 f"got {n!r}")
        self.dim, self.max_len, self.batch_first = int(dim), int(max_len), bool(batch_first)
        self._pe = sinusoidal_encoding(self.max_len, self.dim)
        self.drop = Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        T = x.shape[1] if self.batch_first else x.shape[0]
        if x.shape[-1] != self.dim or T > self.max_len:
            raise ValueError(f"SinusoidalPositionalEncoding: expected (..., T <= {self.max_len}, "
                             f"{self.dim}) input, got {x.shape}")
        pe = self._pe[:T] if self.batch_first else self._pe[:T, None, :]
        return self.drop(x + Tensor(pe))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, max_len={self.max_len}"


class TransformerEncoderLayer(Module):
    """torch's ``nn.TransformerEncoderLayer``: self-attention and a 2-layer MLP
    (``linear1`` -> activation -> dropout -> ``linear2``), each with a residual connection and
    LayerNorm, after each sub-block (post-norm) or before it (``norm_first=True``, pre-norm).
    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``; with
    ``is_causal=True`` and no mask each position attends to itself and the past only (a decoder-
    only block). Attention runs the flash kernel. ``activation``: "relu" or a callable (no
    GELU kernel exists yet)."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        if not isinstance(dim_feedforward, (int, np.integer)) or isinstance(dim_feedforward, bool):
            raise TypeError(f"TransformerEncoderLayer: dim_feedforward must be an int >= 1, got "
                            f"{dim_feedforward!r}")
        if dim_feedforward < 1:
            raise ValueError(f"TransformerEncoderLayer: dim_feedforward must be an int >= 1, got "
                             f"{dim_feedforward!r}")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if activation == "relu":
            self.activation = F.relu
        elif callable(activation):
            self.activation = activation
        else:
            raise ValueError(f"TransformerEncoderLayer: activation must be 'relu' or a callable, "
                             f"got {activation!r}")

    def _sa(self, x, mask, key_padding_mask, is_causal):
        y, _ = self.self_attn(x, x, x, key_padding_mask=key_padding_mask, need_weights=False,
                              attn_mask=mask, is_causal=is_causal)
        return self.dropout1(y)

    def _ff(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src: Tensor, src_mask=None, src_key_padding_mask=None,
                is_causal: bool = False) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff(self.norm2(x))
        x = self.norm1(x + self._sa(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff(x))
