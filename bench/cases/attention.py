"""Attention cases, float32 (B, heads, T, d), through each library's autograd:
F.scaled_dot_product_attention forward + backward (dq, dk, dv; the output's gradient a fixed
random tensor), full and causal, on issue 6's shapes. Torch runs its CPU flash kernel. Rated in
GFLOP/s over the products a full (non-causal) pass needs: 2 forward + 5 backward (L x S x d)
products, 14 * B * H * L * S * d; causal cases count half of that."""
from __future__ import annotations

import numpy as np

from . import Case

# (B, H, T, d, causal)
SDPA_SHAPES = [(8, 8, 256, 64, False), (4, 12, 512, 64, False), (8, 8, 256, 64, True),
               (1, 8, 1024, 64, True)]


def sdpa_case(B, H, T, d, causal, quick=False):
    flops = 14.0 * B * H * T * T * d * (0.5 if causal else 1.0)
    kind = "causal" if causal else "full"
    case = Case(name=f"sdpa_fwd_bwd_{kind}_{B}x{H}x{T}x{d}", setup={}, flops=flops, quick=quick,
                note=f"scaled_dot_product_attention ({B}, {H}, {T}, {d}), {kind}, fwd + bwd")

    def setup(lib_name):
        def run_setup():
            lib = __import__(lib_name)
            rng = np.random.default_rng(case.seed())
            arrays = [rng.standard_normal((B, H, T, d), dtype=np.float32) for _ in range(4)]
            wrap = (lambda a: lib.from_numpy(a.copy())) if lib_name == "torch" else lib.tensor
            q, k, v = (wrap(a).requires_grad_(True) for a in arrays[:3])
            g = wrap(arrays[3])
            sdpa = lib.nn.functional.scaled_dot_product_attention

            def run():
                q.grad = k.grad = v.grad = None
                sdpa(q, k, v, is_causal=causal).backward(g)
                return q.grad.numpy()
            return run
        return run_setup

    case.setup = {"turbonn": setup("turbonn"), "torch": setup("torch")}
    return case


CASES = [sdpa_case(*s, quick=(i == 0)) for i, s in enumerate(SDPA_SHAPES)]
