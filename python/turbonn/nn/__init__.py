"""``turbonn.nn``: modules with PyTorch's names, parameter layouts and defaults.

A torch ``state_dict`` converted to NumPy loads 1:1 with ``load_state_dict``.
"""
from __future__ import annotations

from . import functional, init, utils
from .activation import Flatten, Identity, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleList, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .pooling import AvgPool2d, MaxPool2d
from .sparse import Embedding
from .rnn import LSTM, RNN, RNNBase
from .attention import MultiheadAttention
from .transformer import SinusoidalPositionalEncoding, TransformerEncoderLayer
from .module import Module, Parameter

__all__ = [
    "functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList",
    "Linear", "ReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Flatten", "Identity",
    "Dropout", "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "Conv2d",
    "MaxPool2d", "AvgPool2d", "Embedding", "RNNBase", "RNN", "LSTM", "LayerNorm",
    "MultiheadAttention", "TransformerEncoderLayer", "SinusoidalPositionalEncoding",
]
