"""Registered models (mmseg scope for IRNet, mmdet scope for BBAM's mask head)."""
from .bbam_explainer import BBAMExplainer
from .cam_classifier import CAMClassifier
from .ignore_mask_head import IgnoreFCNMaskHead
from .irnet import IRNet
from .irnet_head import IRNetHead

__all__ = ['BBAMExplainer', 'CAMClassifier', 'IRNet', 'IRNetHead', 'IgnoreFCNMaskHead']
