"""Registered weak-label datasets and transforms (each in the registry of the library it extends)."""
from . import transforms  # noqa: F401
from .a2d_frame import A2DFrameDataset, a2d_frame_id
from .a2d_pseudo_frame import A2DPseudoFrameDataset
from .a2d_video import A2DVideoDataset, select_videos
from .context_scribble import ContextScribbleDataset
from .pseudo_coco import PseudoCocoDataset
from .voc_box import WeakVOCDataset
from .voc_image_label import VOCImageLabelDataset
from .voc_scribble import VOCScribbleDataset
from .youtube_objects_frame import YouTubeObjectsFrameDataset
from .youtube_objects_pseudo_frame import YouTubeObjectsPseudoFrameDataset
from .youtube_objects_video import YouTubeObjectsVideoDataset

__all__ = ['VOCImageLabelDataset', 'VOCScribbleDataset', 'WeakVOCDataset', 'A2DVideoDataset', 'A2DFrameDataset',
           'PseudoCocoDataset', 'ContextScribbleDataset',
           'A2DPseudoFrameDataset', 'a2d_frame_id', 'select_videos',
           'YouTubeObjectsVideoDataset', 'YouTubeObjectsFrameDataset', 'YouTubeObjectsPseudoFrameDataset']
