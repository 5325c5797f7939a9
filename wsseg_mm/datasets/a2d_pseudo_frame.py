"""The frames of one WS^2 pseudo-annotation (PA) version of A2D, with their PA label PNGs (mmseg scope)."""
import os
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmengine.registry import DefaultScope
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from wsseg_mm.fileio.annotations import read_image_list, scan_a2d
from wsseg_mm.metainfo import A2D_SEG_CLASSES, VOC_PALETTE, a2d_id_to_label

from .a2d_frame import a2d_frame_id
from .a2d_video import VideoList, select_videos, video_a2d_ids


@DATASETS.register_module()
class A2DPseudoFrameDataset(BaseSegDataset):
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
    pairs of its annotated frames) as sorted indices of ``A2D_SEG_CLASSES``.

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

    def __init__(self, pa_dir: str, split: str = 'train', video_list: VideoList = None,
                 selection: Union[None, str, Sequence[str]] = None, frame_dir: str = 'pngs320H',
                 img_suffix: str = '.png', **kwargs) -> None:
        self.pa_dir = pa_dir
        self.split = split
        self.video_list = video_list
        self.selection = selection
        self.frame_dir = frame_dir
        # the pipeline holds mmseg transforms: build it in that scope whatever the caller's default
        with DefaultScope.overwrite_default_scope('mmseg'):
            super().__init__(img_suffix=img_suffix, seg_map_suffix='.png', **kwargs)

    def _selected(self) -> Optional[set]:
        if self.selection is None:
            return None
        if isinstance(self.selection, str):
            return set(read_image_list(osp.join(self.data_root, self.selection)))
        return {str(s) for s in self.selection}

    def load_data_list(self) -> List[dict]:
        pa_dir = osp.join(self.data_root, self.pa_dir)
        if not osp.isdir(pa_dir):
            raise FileNotFoundError(f'A2DPseudoFrameDataset: PA folder {pa_dir} (pa_dir) not found: write the PA '
                                    'version first (<pa_dir>/<video_id>/<frame:05d>.png)')
        selected = self._selected()
        videos = select_videos(scan_a2d(self.data_root, self.split, frame_dir=self.frame_dir), self.video_list,
                               self.data_root)
        data_list, listed = [], set()
        for video in videos:
            label_dir = osp.join(pa_dir, video['video_id'])
            if not osp.isdir(label_dir):
                continue
            annotated = dict(video['annotations'])
            tags = sorted(a2d_id_to_label(i) for i in video_a2d_ids(video))
            frames = sorted(int(f[:-4]) for f in os.listdir(label_dir) if f.endswith('.png') and f[:-4].isdigit())
            for frame in frames:
                frame_id = a2d_frame_id(video['video_id'], frame)
                listed.add(frame_id)
                if selected is not None and frame_id not in selected:
                    continue
                img_path = osp.join(video['frame_dir'], f'{frame:05d}{self.img_suffix}')
                if not osp.isfile(img_path):
                    raise FileNotFoundError(f'A2DPseudoFrameDataset: {osp.join(label_dir, f"{frame:05d}.png")} '
                                            f'labels frame {img_path}, which does not exist (frame_dir, '
                                            'img_suffix)')
                data_list.append(dict(img_path=img_path, seg_map_path=osp.join(label_dir, f'{frame:05d}.png'),
                                      video_id=video['video_id'], frame_index=frame, frame_id=frame_id,
                                      a2d_mat_path=annotated.get(frame), video_labels=tags,
                                      label_map=self.label_map,
                                      reduce_zero_label=False, seg_fields=[]))
        if selected is not None and selected - listed:
            missing = sorted(selected - listed)
            raise ValueError(f'A2DPseudoFrameDataset: {len(missing)} selected frames have no PA label in {pa_dir} '
                             f'for the {self.split} videos chosen (e.g. {", ".join(missing[:3])}): selection names '
                             'frames <video_id>/<frame:05d> of this PA version')
        if not data_list:
            raise ValueError(f'A2DPseudoFrameDataset: no frame of the {len(videos)} {self.split} videos selected '
                             f'has a PA label in {pa_dir}')
        return data_list
