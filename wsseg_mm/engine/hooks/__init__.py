"""Registered hooks."""
from .bbam_hook import BBAMHook

__all__ = ['BBAMHook']
