"""Point Numba's on-disk cache at a folder keyed by the kernels' source (private).

Numba keys a cached kernel on its own file only: after an edit in ``_gauss.py``
a kernel in ``cells/vanilla.py`` that inlines it would be loaded stale from the
cache (seen in development: wrong results after a constant changed). Keying the
cache folder on a hash of every kernel source makes any edit a clean rebuild.
The base folder is ``$NUMBA_CACHE_DIR`` if set (it must be writable, see
``shared/engineering-notes.md``), else ``~/.cache/rnn-phase-explorer``, else the
system temp folder. Imported first by ``theory/__init__.py``, before any kernel.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numba

_HERE = Path(__file__).resolve().parent


def _kernel_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted([*_HERE.glob("_*.py"), *_HERE.glob("cells/*.py"), _HERE / "types.py"]):
        digest.update(str(path.relative_to(_HERE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def configure() -> Path:
    """Set ``numba.config.CACHE_DIR`` to ``<base>/theory-<hash>`` and return it."""
    candidates = [os.environ.get("NUMBA_CACHE_DIR"),
                  os.path.join(os.path.expanduser("~"), ".cache", "rnn-phase-explorer"),
                  os.path.join(tempfile.gettempdir(), "rnn-phase-explorer")]
    for base in filter(None, candidates):
        folder = Path(base) / f"theory-{_kernel_digest()}"
        if _writable(folder):
            numba.config.CACHE_DIR = str(folder)
            return folder
    return Path(numba.config.CACHE_DIR or ".")


CACHE_DIR = configure()
