"""One representative call of every native binding (turbonn._core), scalable in size: CALLS maps
the binding's name to make(rng, n) -> run, where run() calls the binding on inputs built once
(n scales the work, roughly linearly) and returns fresh copies of everything it wrote. Used by the
concurrency tests (bit-identical results from several Python threads; the GIL released inside
every kernel)."""
from __future__ import annotations

import numpy as np

from turbonn import _core


ONE = np.array(1.0, np.float32)  # a reduced loss's gradient


def f32(rng, *shape):
    return rng.standard_normal(shape, dtype=np.float32)


def copies(out):
    """Every array in a binding's result (a tuple/list, one array, or None), copied."""
    items = out if isinstance(out, (tuple, list)) else (out,)
    return [np.array(a, copy=True) for a in items if isinstance(a, np.ndarray)]


def returned(fn, *args, **kw):
    return lambda: copies(fn(*args, **kw))


def elementwise(name):
    fwd, bwd = getattr(_core, name + "_forward"), getattr(_core, name + "_backward")

    def make_fwd(rng, n):
        return returned(fwd, f32(rng, n, 4096))

    def make_bwd(rng, n):
        x = f32(rng, n, 4096)
        return returned(bwd, f32(rng, n, 4096), fwd(x))
    return {name + "_forward": make_fwd, name + "_backward": make_bwd}


def softmaxes(name):
    fwd, bwd = getattr(_core, name + "_forward"), getattr(_core, name + "_backward")
    return {name + "_forward": lambda rng, n: returned(fwd, f32(rng, 4 * n, 1000), 1),
            name + "_backward": lambda rng, n: returned(
                bwd, f32(rng, 4 * n, 1000), fwd(f32(rng, 4 * n, 1000), 1), 1)}


def in_place(fn, arrays, *scalars):
    """An optimizer step updates its arrays in place: each run starts from copies of them."""
    def run():
        work = [None if a is None else a.copy() for a in arrays]
        fn(*work, *scalars)
        return [a for a in work if a is not None]
    return run


def optim_arrays(rng, n, k):
    m = 1 << 16
    p, g = f32(rng, n, m), f32(rng, n, m)
    return [p, g] + [np.abs(f32(rng, n, m)) for _ in range(k)]


def class_batch(rng, n, classes=100):
    x = f32(rng, 64 * n, classes)
    t = rng.integers(0, classes, 64 * n)
    return x, t


def ce_backward(rng, n):
    x, t = class_batch(rng, n)
    loss, lse = _core.cross_entropy_forward(x, t)[:2]
    return returned(_core.cross_entropy_backward, ONE, x, t, lse, float(len(t)))


def nll_backward(rng, n):
    x, t = class_batch(rng, n)
    return returned(_core.nll_loss_backward, ONE, x, t, float(len(t)))


def probs(rng, n):
    return (1.0 / (1.0 + np.exp(-f32(rng, n, 4096)))).astype(np.float32)


def image(rng, n):
    return f32(rng, n, 16, 32, 32), f32(rng, 32, 16, 3, 3), f32(rng, 32)


def conv_backward(rng, n):
    x, w, b = image(rng, n)
    return returned(_core.conv2d_backward, f32(rng, n, 32, 32, 32), x, w, 1, 1)


def pool_input(rng, n):
    return f32(rng, n, 32, 64, 64)


def max_pool_backward(rng, n):
    x = pool_input(rng, n)
    out, idx = _core.max_pool2d_forward(x, 2)[:2]
    return returned(_core.max_pool2d_backward, f32(rng, *out.shape), idx, x.shape)


def heads(rng, n):
    return [f32(rng, n, 4, 128, 32) for _ in range(3)]


def attention_backward(rng, n):
    q, k, v = heads(rng, n)
    out, lse = _core.attention_forward(q, k, v)[:2]
    return returned(_core.attention_backward, f32(rng, *out.shape), q, k, v, out, lse)


def rnn_inputs(rng, n, mode="LSTM", H=64, I=32, B=4):
    G = 4 if mode == "LSTM" else 1
    x = f32(rng, 8 * n, B, I)
    h0, c0 = f32(rng, B, H), (f32(rng, B, H) if mode == "LSTM" else None)
    w = [0.2 * f32(rng, G * H, I), 0.2 * f32(rng, G * H, H), f32(rng, G * H), f32(rng, G * H)]
    return x, h0, c0, w


def rnn_forward(rng, n):
    x, h0, c0, w = rnn_inputs(rng, n)
    return returned(_core.rnn_forward, "LSTM", x, h0, c0, *w)


def rnn_backward(rng, n):
    x, h0, c0, w = rnn_inputs(rng, n)
    out = _core.rnn_forward("LSTM", x, h0, c0, *w)
    output, workspace = out[0], out[-1]
    return returned(_core.rnn_backward, "LSTM", x, h0, c0, w[0], w[1], True, output, workspace,
                    f32(rng, *output.shape))


def layer_norm_backward(rng, n):
    x, w, b = f32(rng, 64 * n, 512), f32(rng, 512), f32(rng, 512)
    y, mean, rstd = _core.layer_norm_forward(x, 1, w, b)[:3]
    return returned(_core.layer_norm_backward, f32(rng, *y.shape), x, mean, rstd, 1, w)


def embedding_backward(rng, n):
    idx = rng.integers(0, 1000, (64 * n, 32))
    return returned(_core.embedding_backward, f32(rng, 64 * n, 32, 64), idx, 1000)


CALLS = {
    "gemm": lambda rng, n: returned(_core.gemm, f32(rng, 64 * n, 256), f32(rng, 256, 256),
                                    False, False, 1.0, 0.0, None),
    "linear_forward": lambda rng, n: returned(_core.linear_forward, f32(rng, 64 * n, 256),
                                              f32(rng, 128, 256), f32(rng, 128)),
    "linear_backward": lambda rng, n: returned(_core.linear_backward, f32(rng, 64 * n, 128),
                                               f32(rng, 64 * n, 256), f32(rng, 128, 256)),
    **elementwise("relu"), **elementwise("sigmoid"), **elementwise("tanh"),
    **softmaxes("softmax"), **softmaxes("log_softmax"),
    "dropout_forward": lambda rng, n: returned(_core.dropout_forward, f32(rng, n, 4096), 0.3, 7),
    "dropout_backward": lambda rng, n: returned(
        _core.dropout_backward, f32(rng, n, 4096),
        _core.dropout_forward(f32(rng, n, 4096), 0.3, 7)[1], 0.3),
    "cross_entropy_forward": lambda rng, n: returned(_core.cross_entropy_forward,
                                                     *class_batch(rng, n)),
    "cross_entropy_backward": ce_backward,
    "nll_loss_forward": lambda rng, n: returned(_core.nll_loss_forward, *class_batch(rng, n)),
    "nll_loss_backward": nll_backward,
    "binary_cross_entropy_forward": lambda rng, n: returned(
        _core.binary_cross_entropy_forward, probs(rng, n), probs(rng, n)),
    "binary_cross_entropy_backward": lambda rng, n: returned(
        _core.binary_cross_entropy_backward, ONE, probs(rng, n),
        probs(rng, n)),
    "binary_cross_entropy_with_logits_forward": lambda rng, n: returned(
        _core.binary_cross_entropy_with_logits_forward, f32(rng, n, 4096), probs(rng, n)),
    "binary_cross_entropy_with_logits_backward": lambda rng, n: returned(
        _core.binary_cross_entropy_with_logits_backward, ONE,
        f32(rng, n, 4096), probs(rng, n)),
    "mse_loss_forward": lambda rng, n: returned(_core.mse_loss_forward, f32(rng, n, 4096),
                                                f32(rng, n, 4096)),
    "mse_loss_backward": lambda rng, n: returned(
        _core.mse_loss_backward, ONE, f32(rng, n, 4096),
        f32(rng, n, 4096), float(n * 4096)),
    "sgd_step": lambda rng, n: in_place(_core.sgd_step, optim_arrays(rng, n, 1),
                                        0.1, 0.9, 0.0, 0.01, True, False, False),
    "adam_step": lambda rng, n: in_place(_core.adam_step, optim_arrays(rng, n, 2) + [None],
                                         1e-3, 0.9, 0.999, 1e-8, 0.01, 3, False, False, True),
    "adagrad_step": lambda rng, n: in_place(_core.adagrad_step, optim_arrays(rng, n, 1),
                                            0.01, 0.0, 0.0, 1e-10, 2, False),
    "rmsprop_step": lambda rng, n: in_place(_core.rmsprop_step, optim_arrays(rng, n, 3),
                                            0.01, 0.99, 1e-8, 0.0, 0.9, True, False),
    "adadelta_step": lambda rng, n: in_place(_core.adadelta_step, optim_arrays(rng, n, 2),
                                             1.0, 0.9, 1e-6, 0.0, False),
    "embedding_forward": lambda rng, n: returned(_core.embedding_forward, f32(rng, 1000, 64),
                                                 rng.integers(0, 1000, (64 * n, 32))),
    "embedding_backward": embedding_backward,
    "conv2d_forward": lambda rng, n: returned(_core.conv2d_forward, *image(rng, n), 1, 1),
    "conv2d_backward": conv_backward,
    "im2col": lambda rng, n: returned(_core.im2col, image(rng, n)[0], 3, 1, 1),
    "col2im": lambda rng, n: returned(_core.col2im, _core.im2col(image(rng, n)[0], 3, 1, 1),
                                      (n, 16, 32, 32), 3, 1, 1),
    "max_pool2d_forward": lambda rng, n: returned(_core.max_pool2d_forward, pool_input(rng, n), 3,
                                                  2, 1),
    "max_pool2d_backward": max_pool_backward,
    "avg_pool2d_forward": lambda rng, n: returned(_core.avg_pool2d_forward, pool_input(rng, n), 3,
                                                  2, 1),
    "avg_pool2d_backward": lambda rng, n: returned(
        _core.avg_pool2d_backward, f32(rng, n, 32, 32, 32), (n, 32, 64, 64), 3, 2, 1),
    "layer_norm_forward": lambda rng, n: returned(_core.layer_norm_forward, f32(rng, 64 * n, 512),
                                                  1, f32(rng, 512), f32(rng, 512)),
    "layer_norm_backward": layer_norm_backward,
    "attention_forward": lambda rng, n: returned(_core.attention_forward, *heads(rng, n)),
    "attention_backward": attention_backward,
    "rnn_forward": rnn_forward,
    "rnn_backward": rnn_backward,
}

# Bindings that run no kernel (runtime queries and settings), so have no GIL to release.
NOT_KERNELS = {"get_num_threads", "set_num_threads", "active_isa", "_set_isa", "supported_isas",
               "build_info", "_gemm_kernel_info"}
