"""Vigil: an open-source trust & safety engine."""

import os

__version__ = "0.1.0"

# Native thread pools (OpenBLAS, OpenMP, MKL, numexpr) default to one thread per core in every
# process. With several Vigil processes on one machine those threads fight for the same cores (two
# `vigil serve` processes decided fewer items than one), so each process runs them on
# VIGIL_NATIVE_THREADS threads (default 1) and Vigil scales by processes, not threads. This must run
# before numpy is first imported, which is why it is here; a value the operator set wins.
_NATIVE_THREADS = os.environ.get("VIGIL_NATIVE_THREADS", "1")
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_variable, _NATIVE_THREADS)
