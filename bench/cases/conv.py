"""Convolution and pooling cases, float32 NCHW, through each library's autograd: conv2d forward +
backward (input, weight and bias gradients; loss = out.sum()) on issue 4's layer shapes, and
max_pool2d 2x2 forward + backward. Conv rated in GFLOP/s over the three products (6*N*O*OH*OW*C*k*k).
"""
from __future__ import annotations

import numpy as np

from . import Case

# (N, C, H=W, O, k, pad): an MNIST first layer, LeNet's, and three ResNet-ish middle layers.
CONV_SHAPES = [(64, 1, 28, 32, 3, 1), (64, 1, 28, 6, 5, 0), (64, 32, 14, 64, 3, 1),
               (16, 128, 28, 128, 3, 1), (32, 64, 56, 64, 3, 1)]


def _conv_inputs(seed, N, C, H, O, k):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, C, H, H), dtype=np.float32),
            rng.standard_normal((O, C, k, k), dtype=np.float32) * 0.1,
            rng.standard_normal(O, dtype=np.float32))


def conv_case(N, C, H, O, k, pad, quick=False):
    OH = H + 2 * pad - k + 1
    case = Case(name=f"conv2d_fwd_bwd_{N}x{C}x{H}_{O}k{k}p{pad}", setup={},
                flops=6.0 * N * O * OH * OH * C * k * k, quick=quick,
                note=f"conv2d ({N}, {C}, {H}, {H}) -> {O} channels, {k}x{k}, padding {pad}")

    def setup(lib_name):
        def run_setup():
            lib = __import__(lib_name)
            x0, w0, b0 = _conv_inputs(case.seed(), N, C, H, O, k)
            wrap = (lambda a: lib.from_numpy(a.copy())) if lib_name == "torch" else lib.tensor
            x, w, b = (wrap(a).requires_grad_(True) for a in (x0, w0, b0))
            conv2d = lib.nn.functional.conv2d

            def run():
                x.grad = w.grad = b.grad = None
                conv2d(x, w, b, padding=pad).sum().backward()
                return w.grad.numpy()
            return run
        return run_setup

    case.setup = {"turbonn": setup("turbonn"), "torch": setup("torch")}
    return case


def max_pool_case(N, C, H, quick=False):
    case = Case(name=f"max_pool2d_2x2_fwd_bwd_{N}x{C}x{H}", setup={},
                bytes=4.0 * N * C * H * H * 2.5, quick=quick,
                note=f"max_pool2d 2x2 stride 2 forward + backward, ({N}, {C}, {H}, {H})")

    def setup(lib_name):
        def run_setup():
            lib = __import__(lib_name)
            x0 = np.random.default_rng(case.seed()).standard_normal((N, C, H, H),
                                                                   dtype=np.float32)
            wrap = (lambda a: lib.from_numpy(a.copy())) if lib_name == "torch" else lib.tensor
            x = wrap(x0).requires_grad_(True)
            pool = lib.nn.functional.max_pool2d

            def run():
                x.grad = None
                pool(x, 2).sum().backward()
                return x.grad.numpy()
            return run
        return run_setup

    case.setup = {"turbonn": setup("turbonn"), "torch": setup("torch")}
    return case


CASES = [conv_case(*s, quick=(i == 0)) for i, s in enumerate(CONV_SHAPES)] + \
        [max_pool_case(64, 32, 28, quick=True)]
