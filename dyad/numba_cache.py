"""Whether numba will load compiled kernels from its on-disk cache or compile them first.

Compiling takes seconds on a first run after installing (the mirror layer's loop about 6 s on
2 cores, the rank test about 0.5 s); loading takes a fraction of that. A command that knows which
is coming can say so before the pause instead of after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def kernels_cached(*kernels: Any) -> bool:
    """Whether this process will load every one of ``kernels`` rather than compile it.

    True for a kernel compiled in this process already, or one whose index is in numba's
    on-disk cache (``cache=True``: ``__pycache__`` beside its module, or
    ``$NUMBA_CACHE_DIR``). An index whose source has changed since counts as cached (numba then
    compiles after all), and so does anything this check cannot read of numba's cache: the
    answer only decides whether a line is shown.
    """
    for kernel in kernels:
        if kernel.signatures:
            continue
        try:
            index = Path(kernel.stats.cache_path) / kernel._cache._cache_file._index_name
        except (AttributeError, TypeError):
            return True
        if not index.exists():
            return False
    return True
