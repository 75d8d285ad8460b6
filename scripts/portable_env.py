"""Another CPU's kernels on this one: the environment for `make test-portable`.

Prints NAME=VALUE words for `env`: every NumPy SIMD target above the baseline switched off
(NPY_DISABLE_CPU_FEATURES), OpenBLAS on an older x86 core type than the one it picked (only one
that this CPU can run), and one BLAS thread. The suite must pass the same way under them: what
it asserts are requirements, not this machine's float path.
"""

from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

# OpenBLAS's x86 core types, newest first, with the CPU flag each one needs
OLDER_CORES = [("SkylakeX", "avx512f"), ("Haswell", "avx2"), ("Sandybridge", "avx"),
               ("Nehalem", "sse4_2")]


def numpy_targets():
    """The SIMD targets this NumPy dispatches to beyond its baseline."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__ as dispatch
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_dispatch__ as dispatch
    return list(dispatch)


def cpu_flags():
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return set()
    line = next((line for line in cpuinfo.read_text().splitlines()
                 if line.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def older_core(current, flags):
    """The next older OpenBLAS core type that this CPU can run, or None."""
    names = [name for name, _ in OLDER_CORES]
    start = names.index(current) + 1 if current in names else 0
    for name, flag in OLDER_CORES[start:]:
        if flag in flags and name != current:
            return name
    return None


def main():
    assert np  # NumPy loaded: its dispatch list is read from the running module
    words = [f"NPY_DISABLE_CPU_FEATURES={' '.join(numpy_targets())}", "OPENBLAS_NUM_THREADS=1"]
    blas = [pool for pool in threadpool_info() if pool.get("internal_api") == "openblas"]
    core = older_core(blas[0].get("architecture"), cpu_flags()) if blas else None
    if core:
        words.append(f"OPENBLAS_CORETYPE={core}")
    print(" ".join(f"'{word}'" for word in words))


if __name__ == "__main__":
    main()
