"""Registered hooks (they stand on :mod:`wsseg_mm.apis`: a hook that runs a whole pipeline calls the API), and the
``last://WORK_DIR`` checkpoint scheme."""
from . import last_checkpoint  # noqa: F401  (registers the last:// scheme)
from .hooks import BBAMHook, SLDHook, WeakLabelChecksHook

__all__ = ['BBAMHook', 'WeakLabelChecksHook', 'SLDHook']
