"""Registered models (mmseg scope for IRNet and PSI, mmdet scope for BBAM's mask head, mmaction scope for WS^2's
recognizer backbone adapter)."""
from .bbam_explainer import BBAMExplainer
from .cam_classifier import CAMClassifier
from .cpp_neck import CPPNeck
from .cpp_sep_aspp_head import CPPSepASPPHead
from .cut_paste_discriminator import CutPasteDiscriminator
from .deeplabv2_head import DeepLabV2Head
from .ignore_mask_head import IgnoreFCNMaskHead
from .irnet import IRNet
from .irnet_head import IRNetHead
from .last_feature_backbone import LastFeatureBackbone
from .psi_segmentor import PSISegmentor
from .recognizer_gradcam import RecognizerGradCAM
from .sld_decision import SLDDecision
from .smoothness_loss import SmoothnessLoss

__all__ = ['RecognizerGradCAM',
           'BBAMExplainer', 'CAMClassifier', 'IRNet', 'IRNetHead', 'IgnoreFCNMaskHead', 'CPPNeck', 'CPPSepASPPHead',
           'SmoothnessLoss', 'SLDDecision', 'PSISegmentor', 'CutPasteDiscriminator', 'DeepLabV2Head',
           'LastFeatureBackbone']
