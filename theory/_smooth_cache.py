"""Load or build the smoothing tables of ``_smooth`` (private, plain Python).

A table is built once per activation (~1-3 s) and kept as ``.npy`` in the Numba
cache folder of ``_cachedir`` (keyed by a hash of the kernel sources, so an edit
rebuilds it); later processes load it in milliseconds.
"""

from __future__ import annotations

import functools
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from theory import _cachedir, _cross_tables, _gate_roots, _smooth, _tables
from theory._gauss import ERF, GL_W, GL_X, SIGMOID, TANH


@functools.lru_cache(maxsize=4)
def smoothing_table(code: int) -> np.ndarray:
    """The universal smoothing table of ``_smooth`` for tanh or the gate.

    Built once (~1-3 s) and kept as ``.npy`` in the Numba cache folder (which is
    keyed by a hash of the kernel sources, so an edit rebuilds it). Other activations get
    an empty table (their inner integral is closed-form or direct).
    """
    if code not in (TANH, SIGMOID):
        return _smooth.NO_TABLE
    path = _cachedir.CACHE_DIR / f"smooth-table-{code}.npy"  # folder keyed by kernel sources
    try:
        return np.load(path)
    except (OSError, ValueError):
        pass
    tab = _smooth.build(code)
    _save(path, tab)
    return tab


def _save(path, tab: np.ndarray) -> None:
    """Write ``tab`` atomically (two workers may build at once); skip if read-only."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npy", delete=False) as fh:
            np.save(fh, tab)
        os.replace(fh.name, path)
    except OSError:  # read-only cache folder: keep the table in memory only
        pass


@functools.lru_cache(maxsize=4)
def cross_table(code: int) -> np.ndarray:
    """The 3-D cross-moment table of ``_cross_tables`` for tanh, erf or the gate.

    Built once (a few seconds) and kept as ``.npy`` beside the smoothing tables;
    other activations (ReLU, linear: closed forms) get an empty table.
    """
    if code not in (TANH, ERF, SIGMOID):
        return _cross_tables.NO_CROSS_TABLE
    path = _cachedir.CACHE_DIR / f"cross-table-{code}.npy"
    try:
        return np.load(path)
    except (OSError, ValueError):
        pass
    nf = 3 if code == SIGMOID else 2
    tab = np.zeros((nf, _cross_tables.N_MU, _cross_tables.N_U, _cross_tables.N_T))
    stab = smoothing_table(code)
    # the kernel releases the GIL: two threads fill alternate mu rows on 2 cores
    chunks = [(k, k + 1) for k in range(_cross_tables.N_MU)]
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        list(pool.map(lambda ks: _cross_tables.build_mu_rows(code, stab, GL_X, GL_W, *ks, tab),
                      chunks))
    _save(path, tab)
    return tab


@functools.lru_cache(maxsize=4)
def moment_stack(code: int) -> np.ndarray:
    """The 1-D moment tables of ``_tables`` for every mu on a 1/16 grid (tanh, erf, gate).

    Built once (~1-2 s) and kept as ``.npy`` in the cache folder, like the others.
    """
    path = _cachedir.CACHE_DIR / f"moment-stack-{code}.npy"
    try:
        return np.load(path)
    except (OSError, ValueError):
        pass
    stack = np.zeros((_tables.N_MU_TAB, _tables.N_TAB, 6))
    chunks = [(k, k + 1) for k in range(_tables.N_MU_TAB)]
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        list(pool.map(lambda ks: _tables.build_mu_stack(code, *ks, stack), chunks))
    _save(path, stack)
    return stack


@functools.lru_cache(maxsize=1)
def low_profile_stack() -> np.ndarray:
    """The gate's ``_gate_roots.low_profile`` at every mu row of the moment stack.

    ~9,000 direct quadratures (a few ms): built in memory, not saved.
    """
    stack = np.zeros((_tables.N_MU_TAB, _gate_roots.N_LOW))
    _gate_roots.build_low_stack(stack)
    return stack


@functools.lru_cache(maxsize=1)
def tanh0_table() -> np.ndarray:
    """The zero-mean tanh table of ``_tables.build_tanh0_table`` (~0.2 s; kept in memory)."""
    return _tables.build_tanh0_table()
