"""Registered weak-label datasets and transforms (each in the registry of the library it extends)."""
from . import transforms  # noqa: F401
from .a2d_frame import A2DFrameDataset
from .a2d_video import A2DVideoDataset
from .pseudo_coco import PseudoCocoDataset
from .voc_box import WeakVOCDataset
from .voc_image_label import VOCImageLabelDataset
from .voc_scribble import VOCScribbleDataset

__all__ = ['VOCImageLabelDataset', 'VOCScribbleDataset', 'WeakVOCDataset', 'A2DVideoDataset', 'A2DFrameDataset',
           'PseudoCocoDataset']
