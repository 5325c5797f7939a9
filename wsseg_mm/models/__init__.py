"""Registered models (mmseg scope for IRNet)."""
from .cam_classifier import CAMClassifier
from .irnet import IRNet
from .irnet_head import IRNetHead

__all__ = ['CAMClassifier', 'IRNet', 'IRNetHead']
