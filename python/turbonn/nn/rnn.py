"""``RNN`` and ``LSTM`` with torch's signatures, parameter names and layouts
(``weight_ih_l{k}`` (G*hidden, in), ``weight_hh_l{k}`` (G*hidden, hidden), ``bias_ih_l{k}``,
``bias_hh_l{k}``; the LSTM's gates in the order i, f, g, o), init U(-1/sqrt(hidden),
1/sqrt(hidden)), ``batch_first``, ``dropout`` between layers and unbatched input. A torch
``state_dict`` loads 1:1. One direction only (``bidirectional=True`` and ``proj_size`` are
refused). For the identity initialisation of recurrent weights (an IRNN), see
``init.eye_`` / :meth:`RNNBase.init_recurrent_identity_`.
"""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from . import init
from ._rnn_functional import rnn_layers
from .module import Module, Parameter

__all__ = ["RNNBase", "RNN", "LSTM"]


def _positive_int(cls: str, name: str, n, minimum: int = 1) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"{cls}: {name} must be an int >= {minimum}, got {n!r}")
    if n < minimum:
        raise ValueError(f"{cls}: {name} must be an int >= {minimum}, got {n!r}")
    return int(n)


class RNNBase(Module):
    """The shared machinery of RNN and LSTM (torch's ``nn.RNNBase``); ``mode`` is
    ``'RNN_TANH'``, ``'RNN_RELU'`` or ``'LSTM'``."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        cls = "LSTM" if mode == "LSTM" else "RNN"
        if device is not None and str(device) != "cpu":
            raise ValueError(f"{cls}: device must be None or 'cpu', got {device!r}")
        if dtype is not None and np.dtype(dtype) != np.float32:
            raise TypeError(f"{cls}: dtype must be None or float32, got {dtype!r}")
        if bidirectional:
            raise NotImplementedError(f"{cls}: bidirectional=True is not supported yet")
        if proj_size:
            raise NotImplementedError(f"{cls}: proj_size is not supported yet")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{cls}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        self.mode = mode
        self.input_size = _positive_int(cls, "input_size", input_size)
        self.hidden_size = _positive_int(cls, "hidden_size", hidden_size)
        self.num_layers = _positive_int(cls, "num_layers", num_layers)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = False
        self.proj_size = 0
        gates = 4 if mode == "LSTM" else 1
        H = self.hidden_size
        for k in range(self.num_layers):
            fan_in = self.input_size if k == 0 else H
            setattr(self, f"weight_ih_l{k}", Parameter(np.empty((gates * H, fan_in), np.float32)))
            setattr(self, f"weight_hh_l{k}", Parameter(np.empty((gates * H, H), np.float32)))
            if self.bias:
                setattr(self, f"bias_ih_l{k}", Parameter(np.empty(gates * H, np.float32)))
                setattr(self, f"bias_hh_l{k}", Parameter(np.empty(gates * H, np.float32)))
        self.reset_parameters()

    @property
    def _flat_weights_names(self) -> list[str]:
        names = []
        for k in range(self.num_layers):
            names += [f"weight_ih_l{k}", f"weight_hh_l{k}"]
            if self.bias:
                names += [f"bias_ih_l{k}", f"bias_hh_l{k}"]
        return names

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for name in self._flat_weights_names:
            init.uniform_(getattr(self, name), -bound, bound)

    def init_recurrent_identity_(self, gain: float = 1.0) -> "RNNBase":
        """The identity initialisation against vanishing gradients (Le, Jaitly & Hinton's IRNN):
        every ``weight_hh_l{k}`` gate block becomes ``gain`` * I and the biases 0 (for the LSTM,
        the forget gate's bias becomes 1 so the cell carries its state). Returns self."""
        H = self.hidden_size
        for k in range(self.num_layers):
            w = getattr(self, f"weight_hh_l{k}").data
            w[...] = np.tile(np.eye(H, dtype=np.float32) * np.float32(gain), (w.shape[0] // H, 1))
            if self.bias:
                for name in (f"bias_ih_l{k}", f"bias_hh_l{k}"):
                    getattr(self, name).data[...] = 0.0
                if self.mode == "LSTM":
                    getattr(self, f"bias_hh_l{k}").data[H:2 * H] = 1.0
        return self

    def flatten_parameters(self) -> None:
        """Accepted for compatibility (torch's cuDNN weight packing): nothing to do here."""

    def _weights(self) -> list:
        out = []
        for k in range(self.num_layers):
            b = (getattr(self, f"bias_ih_l{k}"), getattr(self, f"bias_hh_l{k}")) if self.bias \
                else (None, None)
            out.append((getattr(self, f"weight_ih_l{k}"), getattr(self, f"weight_hh_l{k}")) + b)
        return out

    def _check_input(self, input) -> tuple[Tensor, bool]:
        cls = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{cls}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(f"{cls}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        if input.dtype != np.float32:
            raise TypeError(f"{cls}: input must be float32 (the weights' dtype), got "
                            f"{input.dtype}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{cls}: input.size(-1) must be equal to input_size. Expected "
                             f"{self.input_size}, got {input.shape[-1]}")
        return input, input.ndim == 3

    def _check_state(self, h, name: str, batched: bool, batch: int) -> Tensor:
        cls = type(self).__name__
        if not isinstance(h, Tensor):
            raise TypeError(f"{cls}: {name} must be a Tensor, got {type(h).__name__}")
        if h.dtype != np.float32:
            raise TypeError(f"{cls}: {name} must be float32, got {h.dtype}")
        want = (self.num_layers, batch, self.hidden_size) if batched \
            else (self.num_layers, self.hidden_size)
        if tuple(h.shape) != want:
            raise ValueError(f"{cls}: Expected {name} size {want}, got {list(h.shape)}")
        return h if batched else h.reshape(self.num_layers, 1, self.hidden_size)

    def _run(self, input, hx, cx):
        """(output, h_n, c_n or None) with the input and states checked and laid out."""
        x, batched = self._check_input(input)
        if not batched:
            x = x.reshape(x.shape[0], 1, x.shape[1])
        elif self.batch_first:
            x = x.transpose(0, 1)
        B = x.shape[1]
        lstm = self.mode == "LSTM"
        zeros = np.zeros((self.num_layers, B, self.hidden_size), np.float32)
        h0 = Tensor(zeros) if hx is None else self._check_state(hx, "hidden[0]" if lstm else
                                                                "hidden", batched, B)
        c0 = None
        if lstm:
            c0 = Tensor(zeros.copy()) if cx is None else self._check_state(cx, "hidden[1]",
                                                                           batched, B)
        y, h_n, c_n = rnn_layers(x, h0, c0, self._weights(), self.mode, self.dropout,
                                 self.training)
        if not batched:
            y = y.reshape(y.shape[0], y.shape[2])
            h_n = h_n.reshape(self.num_layers, self.hidden_size)
            c_n = None if c_n is None else c_n.reshape(self.num_layers, self.hidden_size)
        elif self.batch_first:
            y = y.transpose(0, 1)
        return y, h_n, c_n

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        return s


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, act tanh or relu.
    ``forward(input, hx=None)`` -> ``(output, h_n)``; input (T, B, in) ((B, T, in) with
    batch_first, (T, in) unbatched), hx (num_layers, B, hidden), zeros when None."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    def forward(self, input, hx=None):
        y, h_n, _ = self._run(input, hx, None)
        return y, h_n

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (", nonlinearity='relu'" if self.nonlinearity == "relu" else "")


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o = sigma, sigma, tanh, sigma of
    ``x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh``; ``c_t = f c_{t-1} + i g``,
    ``h_t = o tanh(c_t)``. ``forward(input, (h0, c0)=None)`` -> ``(output, (h_n, c_n))``,
    shapes as RNN's."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)

    def forward(self, input, hx=None):
        if hx is None:
            h0 = c0 = None
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                got = f"a {type(hx).__name__} of {len(hx)}" if isinstance(hx, (tuple, list)) \
                    else type(hx).__name__
                raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0), got {got}")
            h0, c0 = hx
        y, h_n, c_n = self._run(input, h0, c0)
        return y, (h_n, c_n)
