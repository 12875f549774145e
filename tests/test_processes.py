"""turbonn in child processes: the spawn start method works after the parent has used OpenMP
(children compute bit-identical results); fork before any OpenMP use works; fork after OpenMP use
is libgomp's known limitation (the child's first parallel kernel hangs), checked in a throw-away
interpreter with a timeout and marked xfail as such (README: Fork safety)."""
from __future__ import annotations

import multiprocessing as mp
import textwrap

import numpy as np
import pytest

import turbonn as tn
from conftest import run_python
from turbonn import _core


def child_work(seed: int):
    """Runs in a spawned child: a GEMM, an attention forward and a small training step."""
    import numpy as np
    import turbonn as tn
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((300, 200), np.float32), rng.standard_normal((200, 100), np.float32)
    q = rng.standard_normal((2, 2, 64, 16), np.float32)
    out = [tn.ops.gemm(a, b), tn.ops.attention_forward(q, q, q)[0]]
    tn.manual_seed(seed)
    model = tn.nn.Linear(20, 5)
    opt = tn.optim.Adam(model.parameters(), lr=0.1)
    x = tn.tensor(rng.standard_normal((16, 20), np.float32))
    for _ in range(3):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
    out.append(model.weight.detach().numpy().copy())
    return out


def test_spawned_children_after_openmp_use():
    tn.set_num_threads(2)
    parent = child_work(0)  # the parent has now run OpenMP kernels
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        results = pool.map(child_work, [0, 0, 1])
    for r in results[:2]:
        for got, want in zip(r, parent):
            np.testing.assert_array_equal(got, want)
    assert not np.array_equal(results[2][0], parent[0])


# The child runs one 2-thread kernel after the fork (milliseconds); the parent waits 5 s for it.
FORK = textwrap.dedent("""
    import os, sys, time
    import numpy as np, turbonn as tn
    tn.set_num_threads(2)
    a = np.ones((256, 256), np.float32)
    if {warm}:
        tn.ops.gemm(a, a)  # the parent's OpenMP thread pool now exists
    pid = os.fork()
    if pid == 0:
        tn.ops.gemm(a, a)
        os._exit(0)
    t_end = time.time() + 5
    while time.time() < t_end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            print("child finished", status)
            sys.exit(0)
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    print("child hung")
""")


def fork_outcome(warm: bool) -> str:
    res = run_python(FORK.format(warm=warm), timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_fork_before_any_openmp_use_works():
    assert fork_outcome(warm=False) == "child finished 0"


@pytest.mark.xfail(_core.build_info()["openmp"], strict=False,
                   reason="known libgomp limitation: a child forked after the parent used "
                          "OpenMP hangs in its first parallel region; use the spawn start method")
def test_fork_after_openmp_use():
    assert fork_outcome(warm=True) == "child finished 0"
