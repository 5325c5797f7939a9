"""The annotated frames of the YouTube-Objects test shots, with per-pixel ground truth, for evaluation (mmseg
scope)."""
import os.path as osp
from typing import List

from mmengine.registry import DefaultScope
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from wsseg_mm.fileio.youtube_objects import YTO_FRAME_TMPL, scan_youtube_objects
from wsseg_mm.metainfo import VOC_PALETTE, YTO_CLASSES, YTO_SEG_CLASSES

from .a2d_frame import a2d_frame_id
from .seg_base import NamesFileOnError


@DATASETS.register_module()
class YouTubeObjectsFrameDataset(NamesFileOnError, BaseSegDataset):
    """One sample per masked frame of the YouTube-Objects test shots (Jain & Grauman's ground truth, every 10th
    frame of 126 shots): ``img_path`` the frame (``.../shots/<shot>/frame<NNNN>.jpg``), ``seg_map_path`` its mask
    (``youtube_masks/.../labels/<NNNNN>.jpg``) and ``mask_label``, the class of the shot in ``YTO_SEG_CLASSES``
    (1..10; 0 is background), which :class:`~wsseg_mm.datasets.transforms.LoadBinaryMaskAnnotation` paints where
    the mask is above its threshold. Also ``video_id`` (the shot id), ``frame_index`` (1-based) and ``frame_id``
    (``'<shot_id>/<frame:05d>'``).

    Args:
        data_root (str): the YouTube-Objects folder.
        frames_dir, masks_dir (str): the frames and masks folders under ``data_root``.
    """
    METAINFO = dict(classes=YTO_SEG_CLASSES, palette=VOC_PALETTE[:len(YTO_SEG_CLASSES)])

    def __init__(self, frames_dir: str = 'v1', masks_dir: str = 'youtube_masks', **kwargs) -> None:
        self.frames_dir = frames_dir
        self.masks_dir = masks_dir
        # the pipeline holds mmseg transforms: build it in that scope whatever the caller's default
        with DefaultScope.overwrite_default_scope('mmseg'):
            super().__init__(img_suffix='.jpg', seg_map_suffix='.jpg', **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = []
        for shot in scan_youtube_objects(self.data_root, YTO_CLASSES, self.frames_dir, self.masks_dir):
            for frame, mask_path in shot['masks']:
                data_list.append(dict(img_path=osp.join(shot['frame_dir'], YTO_FRAME_TMPL.format(frame)),
                                      seg_map_path=mask_path, mask_label=shot['label'] + 1,
                                      video_id=shot['shot_id'], frame_index=frame,
                                      frame_id=a2d_frame_id(shot['shot_id'], frame), label_map=self.label_map,
                                      reduce_zero_label=False, seg_fields=[]))
        if not data_list:
            raise ValueError(f'YouTubeObjectsFrameDataset: no masked frame under {self.data_root} (masks in '
                             f'{self.masks_dir}/<class>/data/<video>/shots/<shot>/labels/<NNNNN>.jpg): extract '
                             'the segmentation ground truth there')
        return data_list
