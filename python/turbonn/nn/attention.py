"""``MultiheadAttention`` with torch's signature, parameter names and layout (``in_proj_weight``
(3E, E), ``in_proj_bias`` (3E,), ``out_proj`` a Linear(E, E)), so a torch state_dict loads 1:1.
With ``need_weights=False`` it runs the flash kernel (``F.scaled_dot_product_attention``);
with ``need_weights=True`` (torch's default) it forms the (L, S) probabilities explicitly, as
torch does, to return them. Not supported: separate kdim/vdim, add_bias_kv, add_zero_attn.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..tensor import Tensor, matmul
from . import functional as F
from . import init
from ._attention_functional import additive_mask
from .linear import Linear
from .module import Module, Parameter

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` -> ``(attn_output, attn_weights or None)``.

    Shapes: (L, N, E) ((N, L, E) with batch_first, (L, E) unbatched). ``key_padding_mask``
    (N, S): True (or -inf) marks keys to ignore. ``attn_mask`` (L, S) or (N * num_heads, L, S):
    True (or -inf) marks pairs that may not attend (the opposite of SDPA's bool convention, as
    in torch). ``is_causal=True`` without a mask applies the causal mask itself.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        for name, n in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
                raise TypeError(f"MultiheadAttention: {name} must be an int >= 1, got {n!r}")
            if n < 1:
                raise ValueError(f"MultiheadAttention: {name} must be an int >= 1, got {n!r}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim must be divisible by num_heads, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are not "
                                      "supported yet")
        if (kdim not in (None, embed_dim)) or (vdim not in (None, embed_dim)):
            raise NotImplementedError("MultiheadAttention: kdim/vdim other than embed_dim are "
                                      "not supported yet")
        if dtype is not None and np.dtype(dtype) != np.float32:
            raise TypeError(f"MultiheadAttention: dtype must be None or float32, got {dtype!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real):
            raise TypeError(f"MultiheadAttention: dropout must be a float, got {dropout!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1), got {dropout!r}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        self.kdim = self.vdim = self.embed_dim
        E = self.embed_dim
        self.in_proj_weight = Parameter(np.empty((3 * E, E), np.float32))
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * E, np.float32))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """torch's: xavier_uniform_ on in_proj_weight, zero biases (out_proj keeps its weight)."""
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _project(self, x: Tensor, k: int) -> Tensor:
        E = self.embed_dim
        w = self.in_proj_weight[k * E:(k + 1) * E]
        b = None if self.in_proj_bias is None else self.in_proj_bias[k * E:(k + 1) * E]
        return F.linear(x, w, b)

    def _mask(self, key_padding_mask, attn_mask, N: int, L: int, S: int):
        """One additive float mask broadcastable to (N, heads, L, S), or None."""
        H = self.num_heads
        mask = None
        if attn_mask is not None:
            m = additive_mask(attn_mask, "attn_mask", true_means_keep=False)
            if m.shape == (L, S):
                mask = m
            elif m.shape == (N * H, L, S):
                mask = m.reshape(N, H, L, S)
            else:
                raise ValueError(f"MultiheadAttention: attn_mask must have shape {(L, S)} or "
                                 f"{(N * H, L, S)}, got {m.shape}")
        if key_padding_mask is not None:
            kp = additive_mask(key_padding_mask, "key_padding_mask", true_means_keep=False)
            if kp.shape != (N, S):
                raise ValueError(f"MultiheadAttention: key_padding_mask must have shape "
                                 f"{(N, S)}, got {kp.shape}")
            kp = kp.reshape(N, 1, 1, S)
            mask = kp if mask is None else mask + kp
        return mask

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"MultiheadAttention: {name} must be a Tensor, got "
                                f"{type(t).__name__}")
            if t.ndim not in (2, 3) or t.shape[-1] != self.embed_dim:
                raise ValueError(f"MultiheadAttention: {name} must be (L, N, E={self.embed_dim})"
                                 f", (N, L, E) with batch_first or (L, E), got {t.shape}")
        batched = query.ndim == 3
        if not query.ndim == key.ndim == value.ndim:
            raise ValueError(f"MultiheadAttention: query, key and value must all be 3-D (batched) "
                             f"or all 2-D (unbatched), got query {query.shape}, key {key.shape} "
                             f"and value {value.shape}")
        if not batched:
            query, key, value = (t.reshape(t.shape[0], 1, t.shape[1]) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = np.asarray(getattr(key_padding_mask, "data",
                                                      key_padding_mask))[None]
        elif not self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        # (N, T, E) from here on
        N, L, S = query.shape[0], query.shape[1], key.shape[1]
        if key.shape[:2] != value.shape[:2] or key.shape[0] != N:
            raise ValueError(f"MultiheadAttention: key and value must have the same batch and "
                             f"length as each other (and batch as query), got {key.shape}, "
                             f"{value.shape}")
        H, d = self.num_heads, self.head_dim
        q, k, v = (self._project(t, i).reshape(N, t.shape[1], H, d).transpose(1, 2)
                   for i, t in enumerate((query, key, value)))
        mask = self._mask(key_padding_mask, attn_mask, N, L, S)
        causal = bool(is_causal) and mask is None
        p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            scores = matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(d))
            if mask is not None:
                scores = scores + Tensor(np.broadcast_to(mask, (N, H, L, S)).astype(np.float32))
            if causal:
                tri = np.triu(np.full((L, S), -np.inf, np.float32), 1)
                scores = scores + Tensor(tri)
            weights = F.softmax(scores, dim=-1)
            o = matmul(F.dropout(weights, p, True) if p > 0 else weights, v)
        else:
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p,
                                               is_causal=causal)
        o = self.out_proj(o.transpose(1, 2).reshape(N, L, self.embed_dim))
        if not batched:
            o = o.reshape(L, self.embed_dim)
        elif not self.batch_first:
            o = o.transpose(0, 1)
        if weights is not None:
            if average_attn_weights:
                weights = weights.mean(dim=1)
            if not batched:
                weights = weights.reshape(*weights.shape[1:])
        return o, weights

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
