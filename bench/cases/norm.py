"""Normalisation layers, float32, through each library's autograd: nn.LayerNorm forward +
backward (input, weight and bias gradients) on transformer-like (tokens, features) shapes, the
upstream gradient a fixed random array (so it is not trivially ones). Rated in GB/s over the
20 bytes per element a forward + backward must move (x in, out out; dout and x in, dx out)."""
from __future__ import annotations

import numpy as np

from . import Case

# (rows, features): batch 8 x 256 tokens at width 512, batch 4 x 512 tokens at width 768.
LAYER_NORM_SHAPES = [(8 * 256, 512), (4 * 512, 768)]


def layer_norm_case(M, N, quick=False):
    case = Case(name=f"layer_norm_fwd_bwd_{M}x{N}", setup={}, bytes=20.0 * M * N, quick=quick,
                note=f"nn.LayerNorm({N}) forward + backward over ({M}, {N})")

    def setup(lib_name):
        def run_setup():
            lib = __import__(lib_name)
            rng = np.random.default_rng(case.seed())
            x0 = rng.standard_normal((M, N), dtype=np.float32)
            g0 = rng.standard_normal((M, N), dtype=np.float32)
            state = {"weight": rng.uniform(0.5, 1.5, N).astype(np.float32),
                     "bias": rng.standard_normal(N, dtype=np.float32)}
            m = lib.nn.LayerNorm(N)
            if lib_name == "torch":
                m.load_state_dict({k: lib.from_numpy(v) for k, v in state.items()})
                x = lib.from_numpy(x0).requires_grad_(True)
                g = lib.from_numpy(g0)
            else:
                m.load_state_dict(state)
                x = lib.tensor(x0, requires_grad=True)
                g = lib.tensor(g0)

            def run():
                m.zero_grad()
                x.grad = None
                m(x).backward(g)
                return x.grad.numpy()
            return run
        return run_setup

    case.setup = {"turbonn": setup("turbonn"), "torch": setup("torch")}
    return case


CASES = [layer_norm_case(*s, quick=(i == 0)) for i, s in enumerate(LAYER_NORM_SHAPES)]
