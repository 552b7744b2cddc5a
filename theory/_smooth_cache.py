"""Load or build the smoothing tables of ``_smooth`` (private, plain Python).

A table is built once per activation (~1-3 s) and kept as ``.npy`` in the Numba
cache folder of ``_cachedir`` (keyed by a hash of the kernel sources, so an edit
rebuilds it); later processes load it in milliseconds.
"""

from __future__ import annotations

import functools
import os
import tempfile

import numpy as np

from theory import _cachedir, _smooth
from theory._gauss import SIGMOID, TANH


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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npy", delete=False) as fh:
            np.save(fh, tab)
        os.replace(fh.name, path)
    except OSError:  # read-only cache folder: keep the table in memory only
        pass
    return tab
