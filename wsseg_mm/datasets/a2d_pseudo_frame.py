"""The frames of one WS^2 pseudo-annotation (PA) version of A2D, with their PA label PNGs (mmseg scope)."""
import os.path as osp
from typing import List

from mmseg.registry import DATASETS

from wsseg_mm.fileio.annotations import scan_a2d
from wsseg_mm.metainfo import A2D_SEG_CLASSES, VOC_PALETTE, a2d_id_to_label

from .a2d_video import select_videos, video_a2d_ids
from .pseudo_frame_base import PseudoFrameDataset


@DATASETS.register_module()
class A2DPseudoFrameDataset(PseudoFrameDataset):
    """One sample per frame of a PA version: the A2D frame and its pseudo label, for training and scoring the
    WS^2 segmenter.

    A PA version is a folder ``pa_dir`` of label PNGs ``<pa_dir>/<video_id>/<frame:05d>.png`` (class indices of
    ``A2D_SEG_CLASSES``: 0 = background, 1..43 the actor-action pairs; 255 = ignore), read by mmseg's
    ``LoadAnnotations``. The frames are those of the split's videos with a PNG there, read from
    ``<data_root>/<frame_dir>/<video_id>/<frame:05d><img_suffix>``; ``selection`` keeps a subset (WS^2's selected
    frames). Each data info has ``img_path``, ``seg_map_path``, ``video_id``, ``frame_index`` (1-based),
    ``frame_id`` (``'<video_id>/<frame:05d>'``, the key of :class:`LoadSuperpixels`' cache) and
    ``a2d_mat_path``: the frame's ground truth ``.mat`` or None (scoring a PA against the ground truth is a
    diagnostic only), and ``video_labels``: the video's tags (its weak label, the union of the actor-action
    pairs of its annotated frames) as sorted indices of ``A2D_SEG_CLASSES``
    (:class:`~wsseg_mm.datasets.pseudo_frame_base.PseudoFrameDataset`).

    Args:
        pa_dir (str): the PA version's folder, relative to ``data_root`` unless absolute.
        split (str): ``'train'``, ``'test'`` or ``'all'`` (the usage column of ``videoset.csv``).
        video_list (str | Sequence[str] | dict, optional): restrict the split's videos (see
            :func:`~wsseg_mm.datasets.a2d_video.select_videos`, e.g. ``dict(every=10, part='val')``).
        selection (str | Sequence[str], optional): frame ids to keep, or a file of them one per line (relative
            to ``data_root`` unless absolute); each must have a PNG in ``pa_dir``. None keeps every frame.
        frame_dir (str): folder of extracted frames under ``data_root``.
        img_suffix (str): frame file suffix.
    """
    METAINFO = dict(classes=A2D_SEG_CLASSES, palette=VOC_PALETTE[:len(A2D_SEG_CLASSES)])
    GT_KEY = 'a2d_mat_path'

    def __init__(self, pa_dir: str, split: str = 'train', frame_dir: str = 'pngs320H', img_suffix: str = '.png',
                 **kwargs) -> None:
        self.frame_dir = frame_dir
        super().__init__(pa_dir=pa_dir, split=split, img_suffix=img_suffix, **kwargs)

    def videos(self) -> List[dict]:
        videos = select_videos(scan_a2d(self.data_root, self.split, frame_dir=self.frame_dir), self.video_list,
                               self.data_root)
        return [dict(video_id=v['video_id'], tags=sorted(a2d_id_to_label(i) for i in video_a2d_ids(v)),
                     ground_truth=dict(v['annotations']),
                     frame_path=lambda frame, d=v['frame_dir']: osp.join(d, f'{frame:05d}{self.img_suffix}'))
                for v in videos]
