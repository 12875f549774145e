"""Experiment 02: A/B runs of GEMM builds (blocking, prefetch, LTO, ...) against each other and torch.

Each variant is a snapshot of the installed package; runs alternate between variants, one process
at a time, and report medians. Usage:
    python bench/dev/02_gemm_ab.py snapshot NAME          # after `pip install -e .` of a variant
    python bench/dev/02_gemm_ab.py run M,N,K[,ta,tb] THREADS NAME [NAME|torch ...]
Findings that shaped csrc/cpu (2 threads unless said, this machine, medians of 5 alternations):
    prefetch of packed B 8 rows ahead: +4-5% at 256x1024x1024 (4 and 16 rows: same);
    KC 256/512 or NC 960 instead of 384/480: within noise or worse;
    B read in place for <= 6 micro-panels when it fits L2: +6% at 64x128x784;
    LTO build: the 13-row tile spilled a B vector, -30% at 64x128x784 (now built without LTO);
    M split with one shared packed B per block (BLIS style, two barriers per block): 2-10% slower
    than each thread packing its own B, at 512^3 .. 2048^3 and 256x1024x1024 (not kept);
    dynamic claiming of 2x more shares than threads: -5% quiet, mixed under load (not kept);
    prefetching the next B block's source into L2 during the micro-kernels: no gain (not kept);
    K blocks of 32 when one A micro-panel streams rows of >= 1024 floats of B in place:
    8x4096x1024 513 -> 409 us;
    tile 8x48 (3 B vectors, 8 rows: C rows at a 4 KiB stride fit one L1 set) vs 14x32: -8% at
    1024^3, -14% at 64x128x784 (+3% at 8x4096x1024); 12x32: -1..-3% at 1024^3 and 256x1024^2.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(os.environ.get("TURBONN_AB_DIR", "/tmp/turbonn_ab"))

CHILD = r"""
import sys, time
sys.meta_path = [f for f in sys.meta_path if "ScikitBuild" not in type(f).__name__]
import numpy as np
p = [int(x) for x in sys.argv[1].split(",")]
M, N, K = p[:3]
ta, tb = (bool(p[3]), bool(p[4])) if len(p) > 4 else (False, False)
nt = int(sys.argv[2])
rng = np.random.default_rng(0)
a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
c = np.empty((M, N), np.float32)
if sys.argv[3] == "torch":
    import torch
    torch.set_num_threads(nt)
    A, B, C = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c)
    A, B = (A.t() if ta else A), (B.t() if tb else B)
    f = lambda: torch.mm(A, B, out=C)
else:
    import turbonn as tn
    assert sys.argv[3] in tn._core.__file__, tn._core.__file__
    tn.set_num_threads(nt)
    f = lambda: tn.ops.gemm(a, b, trans_a=ta, trans_b=tb, out=c)
for _ in range(5):
    f()
t, n = time.perf_counter(), 0
while time.perf_counter() - t < 0.02:
    f(); n += 1
ts = []
for _ in range(7):
    t = time.perf_counter()
    for _ in range(n):
        f()
    ts.append((time.perf_counter() - t) / n)
print(sorted(ts)[3])
"""


def snapshot(name: str) -> None:
    import turbonn._core as core

    dest = ROOT / name
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(Path(__file__).resolve().parents[2] / "python" / "turbonn", dest / "turbonn")
    shutil.copy(core.__file__, dest / "turbonn")
    print(f"snapshot {name}: {dest}")


def run(shape: str, threads: str, names: list[str], rounds: int = 5) -> None:
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS="1",
                       MKL_NUM_THREADS=threads)
            if name != "torch":
                env["PYTHONPATH"] = str(ROOT / name)
            tag = name if name == "torch" else str(ROOT / name)
            out = subprocess.run([sys.executable, "-c", CHILD, shape, threads, tag], env=env,
                                 capture_output=True, text=True, check=True)
            times[name].append(float(out.stdout))
    p = [int(x) for x in shape.split(",")]
    flops = 2.0 * p[0] * p[1] * p[2]
    cols = [f"{n}: {statistics.median(t) * 1e6:8.1f} us {flops / statistics.median(t) / 1e9:6.1f} GF"
            for n, t in times.items()]
    print(f"{shape} threads={threads}  " + "  ".join(cols))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "snapshot":
        snapshot(sys.argv[2])
    elif len(sys.argv) >= 5 and sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(__doc__)
