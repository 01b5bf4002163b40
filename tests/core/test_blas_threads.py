"""A serving process runs the BLAS library under numpy on one thread (``BLAS_THREADS``): OpenBLAS's
spinning threads held up the embedding of the next query (engines/text/threads.py)."""

import numpy as np

from sciencecity.engines.text.threads import blas_threads, limit_blas_threads


def test_django_started_with_one_blas_thread():
    np.ones((64, 64)) @ np.ones((64, 64))  # BLAS is loaded and has run
    assert blas_threads() and set(blas_threads()) == {1}


def test_the_limit_can_be_raised_and_lowered_again():
    try:
        assert limit_blas_threads(2)
        assert set(blas_threads()) == {2}
    finally:
        assert limit_blas_threads(1)
    assert set(blas_threads()) == {1}
