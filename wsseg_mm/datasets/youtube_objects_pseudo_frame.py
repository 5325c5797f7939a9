"""The frames of one WS^2 pseudo-annotation (PA) version of YouTube-Objects, with their PA label PNGs (mmseg
scope)."""
import os.path as osp
from typing import List

from mmseg.registry import DATASETS

from wsseg_mm.fileio.youtube_objects import YTO_FRAME_TMPL
from wsseg_mm.metainfo import VOC_PALETTE, YTO_SEG_CLASSES

from .pseudo_frame_base import PseudoFrameDataset
from .youtube_objects_video import check_yto_split, yto_split_shots


@DATASETS.register_module()
class YouTubeObjectsPseudoFrameDataset(PseudoFrameDataset):
    """One sample per frame of a PA version of YouTube-Objects (WS^2, Table 5): the shot's frame and its pseudo
    label, for training and scoring the WS^2 segmenter; the YouTube-Objects counterpart of
    :class:`~wsseg_mm.datasets.A2DPseudoFrameDataset`, with the same data-info keys (see
    :class:`~wsseg_mm.datasets.pseudo_frame_base.PseudoFrameDataset`).

    A PA version is a folder ``pa_dir`` of label PNGs ``<pa_dir>/<shot_id>/<frame:05d>.png`` (what
    ``tools/ws2/make_pa.py`` writes with ``ws2_pa.with_action=False``: class indices of ``YTO_SEG_CLASSES``,
    0 = background, 1..10 = the class index + 1; 255 = ignore). The frames are read from
    ``<shot folder>/frame<NNNN>.jpg``; ``video_id`` is the shot id ``'<class>_<video>_<shot>'``, ``video_labels``
    the shot's tag (its class folder) as ``[class index + 1]`` and ``yto_mask_path`` the frame's ground-truth mask
    (a masked frame of a test shot) or None.

    Args:
        pa_dir (str): the PA version's folder, relative to ``data_root`` unless absolute.
        split (str): ``'train'`` (shots without masks), ``'test'`` (shots with masks) or ``'all'``.
        video_list (str | Sequence[str] | dict, optional): restrict the split's shots (shot ids, or e.g.
            ``dict(every=10, part='val')``).
        selection (str | Sequence[str], optional): frame ids to keep (``'<shot_id>/<frame:05d>'``), or a file of
            them; None keeps every frame.
        frames_dir, masks_dir (str): the frames and masks folders under ``data_root``.
    """
    METAINFO = dict(classes=YTO_SEG_CLASSES, palette=VOC_PALETTE[:len(YTO_SEG_CLASSES)])
    GT_KEY = 'yto_mask_path'
    VIDEOS = 'shots'

    def __init__(self, pa_dir: str, split: str = 'train', frames_dir: str = 'v1', masks_dir: str = 'youtube_masks',
                 **kwargs) -> None:
        check_yto_split(split, 'YouTubeObjectsPseudoFrameDataset')
        self.frames_dir = frames_dir
        self.masks_dir = masks_dir
        super().__init__(pa_dir=pa_dir, split=split, img_suffix='.jpg', **kwargs)

    def videos(self) -> List[dict]:
        shots = yto_split_shots(self.data_root, self.split, self.video_list, self.frames_dir, self.masks_dir)
        return [dict(video_id=s['video_id'], tags=[s['label'] + 1], ground_truth=dict(s['masks']),
                     frame_path=lambda frame, d=s['frame_dir']: osp.join(d, YTO_FRAME_TMPL.format(frame)))
                for s in shots]
