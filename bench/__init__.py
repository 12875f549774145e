"""turbonn benchmark suite: times our kernels side by side with NumPy and PyTorch.

Run ``python bench/run.py --help``; cases live in ``bench/cases/``, experiments in ``bench/dev/``.
"""
