"""Registered hooks."""
from .bbam_hook import BBAMHook
from .checks import WeakLabelChecksHook
from .sld_hook import SLDHook

__all__ = ['BBAMHook', 'WeakLabelChecksHook', 'SLDHook']
