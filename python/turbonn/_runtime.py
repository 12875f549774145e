"""Runtime controls: thread count and a printout of how this build was configured."""
from __future__ import annotations

import sys
from typing import TextIO

from . import _core


def set_num_threads(n: int) -> None:
    """Set how many threads the kernels may use (``n >= 1``; starts from ``OMP_NUM_THREADS``)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__}")
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """Threads the kernels may use (1 when built without OpenMP)."""
    return _core.get_num_threads()


def show_config(file: TextIO | None = None) -> None:
    """Print version, compiler, CPU variants, OpenMP and CUDA status of this build."""
    info = _core.build_info()
    out = file if file is not None else sys.stdout
    cuda = "no CUDA kernels built"
    if info["cuda_toolchain"]:
        cuda += " (CUDA toolchain found at build time)"
    lines = [
        f"turbonn {info['version']}",
        f"  compiler:        {info['compiler']}",
        f"  CPU variants:    {', '.join(_core.supported_isas())} (available)",
        f"  CPU variant:     {_core.active_isa()} (chosen; TURBONN_CPU forces one)",
        f"  GEMM kernel:     {info['gemm_kernel']}",
        f"  OpenMP:          {'on' if info['openmp'] else 'off'}, {_core.get_num_threads()} threads",
        f"  CUDA:            {cuda}",
        f"  malloc:          "
        + ("keeps freed memory for reuse (TURBONN_TUNE_MALLOC=0 turns this off)"
           if info["malloc_tuned"] else "C library defaults"),
        f"  sanitizers:      {'ASan+UBSan' if info['sanitize'] else 'off'}",
    ]
    print("\n".join(lines), file=out)
