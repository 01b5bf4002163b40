"""A serving process runs the BLAS library under numpy on one thread (``BLAS_THREADS``): OpenBLAS's
spinning threads held up the embedding of the next query (engines/text/threads.py)."""

import numpy as np

from sciencecity.engines.text.threads import limit_blas_threads


def test_django_started_with_one_blas_thread():
    """numpy's and scipy's BLAS (each wheel brings its own OpenBLAS), whether loaded before Django started or
    after. faiss's OpenBLAS is built on OpenMP and follows faiss's OpenMP threads, which the graph build uses;
    a search for one query does not call BLAS."""
    import scipy.linalg  # noqa: F401

    np.ones((64, 64)) @ np.ones((64, 64))  # BLAS is loaded and has run
    assert len(_numpy_and_scipy()) == 2 and set(_numpy_and_scipy().values()) == {1}, _numpy_and_scipy()


def _numpy_and_scipy() -> dict[str, int]:
    from threadpoolctl import threadpool_info

    return {info["filepath"]: info["num_threads"] for info in threadpool_info()
            if info.get("user_api") == "blas" and ("numpy" in info["filepath"] or "scipy" in info["filepath"])}


def test_the_limit_can_be_raised_and_lowered_again():
    try:
        assert limit_blas_threads(2)
        assert set(_numpy_and_scipy().values()) == {2}
    finally:
        assert limit_blas_threads(1)
    assert set(_numpy_and_scipy().values()) == {1}
