"""Recurrent layers, float32, through each library's autograd: an LSTM layer's forward +
backward (input, weight and bias gradients; loss = output.sum()) on issue 5's shapes, time-major
(T, B, I). Rated in GFLOP/s over the products (the forward's two and the backward's four:
6 * T * B * 4H * (I + H))."""
from __future__ import annotations

import numpy as np

from . import Case

# (T, B, I, H): the music model's layer and a wider-batch, smaller one.
LSTM_SHAPES = [(100, 8, 256, 1024), (50, 64, 128, 256)]


def lstm_case(T, B, I, H, quick=False):
    case = Case(name=f"lstm_fwd_bwd_T{T}_B{B}_I{I}_H{H}", setup={},
                flops=6.0 * T * B * 4 * H * (I + H), quick=quick,
                note=f"nn.LSTM({I}, {H}) forward + backward over (T, B) = ({T}, {B})")

    def setup(lib_name):
        def run_setup():
            lib = __import__(lib_name)
            rng = np.random.default_rng(case.seed())
            bound = 1 / np.sqrt(H)
            m = lib.nn.LSTM(I, H)
            state = {k: rng.uniform(-bound, bound, tuple(v.shape)).astype(np.float32)
                     for k, v in m.state_dict().items()}
            x0 = rng.standard_normal((T, B, I), dtype=np.float32)
            if lib_name == "torch":
                m.load_state_dict({k: lib.from_numpy(v) for k, v in state.items()})
                x = lib.from_numpy(x0).requires_grad_(True)
            else:
                m.load_state_dict(state)
                x = lib.tensor(x0, requires_grad=True)

            def run():
                m.zero_grad()
                x.grad = None
                out, _ = m(x)
                out.sum().backward()
                return m.weight_hh_l0.grad.numpy()
            return run
        return run_setup

    case.setup = {"turbonn": setup("turbonn"), "torch": setup("torch")}
    return case


CASES = [lstm_case(*s, quick=(i == 1)) for i, s in enumerate(LSTM_SHAPES)]
