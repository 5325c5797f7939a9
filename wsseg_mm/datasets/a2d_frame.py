"""Annotated A2D frames with per-pixel actor-action ground truth, for evaluation (mmseg scope)."""
import os.path as osp
from typing import List

from mmengine.registry import DefaultScope
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from wsseg_mm.fileio.annotations import scan_a2d
from wsseg_mm.metainfo import A2D_SEG_CLASSES, VOC_PALETTE


def a2d_frame_id(video_id: str, frame: int) -> str:
    """The id of one A2D frame, as selection lists name it: ``'<video_id>/<frame:05d>'`` (1-based frame)."""
    return f'{video_id}/{frame:05d}'


@DATASETS.register_module()
class A2DFrameDataset(BaseSegDataset):
    """One sample per annotated A2D frame: ``img_path`` (the extracted frame) and ``a2d_mat_path``, read by
    :class:`LoadA2DAnnotation` into labels of ``A2D_SEG_CLASSES`` (0 = background, 1..43 the valid pairs), with
    ``video_id``, ``frame_index`` (1-based) and ``frame_id`` (``'<video_id>/<frame:05d>'``, the key of
    :class:`LoadSuperpixels`' cache).

    Args:
        data_root (str): the ``Release`` folder.
        split (str): ``'train'`` or ``'test'``.
        frame_dir (str): folder of extracted frames under ``data_root``.
        img_suffix (str): frame file suffix.
    """
    METAINFO = dict(classes=A2D_SEG_CLASSES, palette=VOC_PALETTE[:len(A2D_SEG_CLASSES)])

    def __init__(self, split: str = 'test', frame_dir: str = 'pngs320H', img_suffix: str = '.png', **kwargs):
        self.split = split
        self.frame_dir = frame_dir
        # the pipeline holds mmseg transforms: build it in that scope whatever the caller's default
        with DefaultScope.overwrite_default_scope('mmseg'):
            super().__init__(img_suffix=img_suffix, **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = []
        for video in scan_a2d(self.data_root, self.split, frame_dir=self.frame_dir):
            for frame, mat_path in video['annotations']:
                data_list.append(dict(img_path=osp.join(video['frame_dir'], f'{frame:05d}{self.img_suffix}'),
                                      a2d_mat_path=mat_path, video_id=video['video_id'], frame_index=frame,
                                      frame_id=a2d_frame_id(video['video_id'], frame), label_map=self.label_map,
                                      reduce_zero_label=False, seg_fields=[]))
        return data_list
