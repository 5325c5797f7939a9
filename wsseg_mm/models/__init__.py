"""Registered models (mmseg scope for IRNet and PSI, mmdet scope for BBAM's mask head)."""
from .bbam_explainer import BBAMExplainer
from .cam_classifier import CAMClassifier
from .cpp_neck import CPPNeck
from .cpp_sep_aspp_head import CPPSepASPPHead
from .ignore_mask_head import IgnoreFCNMaskHead
from .irnet import IRNet
from .irnet_head import IRNetHead
from .psi_segmentor import PSISegmentor
from .sld_decision import SLDDecision
from .smoothness_loss import SmoothnessLoss

__all__ = ['BBAMExplainer', 'CAMClassifier', 'IRNet', 'IRNetHead', 'IgnoreFCNMaskHead', 'CPPNeck', 'CPPSepASPPHead',
           'SmoothnessLoss', 'SLDDecision', 'PSISegmentor']
