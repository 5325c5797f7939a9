"""What the datasets of WS^2's pseudo-annotation (PA) frames share (mmseg scope): a PA version's folder of label PNGs
``<pa_dir>/<video_id>/<frame:05d>.png``, the frames they label, a selection of them, and the errors."""
import os
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmengine.registry import DefaultScope
from mmseg.datasets import BaseSegDataset

from wsseg_mm.fileio.annotations import read_image_list

from .a2d_frame import a2d_frame_id
from .a2d_video import VideoList


class PseudoFrameDataset(BaseSegDataset):
    """One sample per frame of a PA version: the video's frame and its pseudo label (read by mmseg's
    ``LoadAnnotations``), for training and scoring the WS^2 segmenter. Not registered: a subclass names the videos
    of its dataset (:meth:`videos`) and the data-info key of a frame's ground truth (:attr:`GT_KEY`).

    The frames are those of the chosen videos with a PNG in ``pa_dir``; ``selection`` keeps a subset (WS^2's selected
    frames). Each data info has ``img_path``, ``seg_map_path``, ``video_id``, ``frame_index`` (1-based, the PNG's
    number), ``frame_id`` (``'<video_id>/<frame:05d>'``, the key of :class:`LoadSuperpixels`' cache and of
    selection files), ``video_labels`` (the video's tags, its weak label, as sorted class indices) and
    ``GT_KEY``: the frame's ground-truth file or None (scoring a PA against it is a diagnostic only).

    Args:
        pa_dir (str): the PA version's folder, relative to ``data_root`` unless absolute.
        split (str): the videos' split (the subclass's).
        video_list (str | Sequence[str] | dict, optional): restrict the split's videos (see
            :func:`~wsseg_mm.datasets.select_videos`, e.g. ``dict(every=10, part='val')``).
        selection (str | Sequence[str], optional): frame ids to keep, or a file of them one per line (relative
            to ``data_root`` unless absolute); each must have a PNG in ``pa_dir``. None keeps every frame.
    """
    GT_KEY = 'gt_path'
    VIDEOS = 'videos'  # what the error messages call the videos

    def __init__(self, pa_dir: str, split: str = 'train', video_list: VideoList = None,
                 selection: Union[None, str, Sequence[str]] = None, **kwargs) -> None:
        self.pa_dir = pa_dir
        self.split = split
        self.video_list = video_list
        self.selection = selection
        # the pipeline holds mmseg transforms: build it in that scope whatever the caller's default
        with DefaultScope.overwrite_default_scope('mmseg'):
            super().__init__(seg_map_suffix='.png', **kwargs)

    def videos(self) -> List[dict]:
        """The chosen videos of the split, in order: dicts with ``video_id``, ``tags`` (sorted class indices),
        ``ground_truth`` (``{frame: path}``) and ``frame_path`` (frame number -> image path)."""
        raise NotImplementedError

    def _selected(self) -> Optional[set]:
        if self.selection is None:
            return None
        if isinstance(self.selection, str):
            return set(read_image_list(osp.join(self.data_root, self.selection)))
        return {str(s) for s in self.selection}

    def load_data_list(self) -> List[dict]:
        name = type(self).__name__
        pa_dir = osp.join(self.data_root, self.pa_dir)
        if not osp.isdir(pa_dir):
            raise FileNotFoundError(f'{name}: PA folder {pa_dir} (pa_dir) not found: write the PA version first '
                                    '(<pa_dir>/<video_id>/<frame:05d>.png)')
        selected = self._selected()
        videos = self.videos()
        data_list, listed = [], set()
        for video in videos:
            label_dir = osp.join(pa_dir, video['video_id'])
            if not osp.isdir(label_dir):
                continue
            frames = sorted(int(f[:-4]) for f in os.listdir(label_dir) if f.endswith('.png') and f[:-4].isdigit())
            for frame in frames:
                frame_id = a2d_frame_id(video['video_id'], frame)
                listed.add(frame_id)
                if selected is not None and frame_id not in selected:
                    continue
                img_path = video['frame_path'](frame)
                if not osp.isfile(img_path):
                    raise FileNotFoundError(f'{name}: {osp.join(label_dir, f"{frame:05d}.png")} labels frame '
                                            f'{img_path}, which does not exist (the frames\' folder and suffix)')
                data_list.append({'img_path': img_path, 'seg_map_path': osp.join(label_dir, f'{frame:05d}.png'),
                                  'video_id': video['video_id'], 'frame_index': frame, 'frame_id': frame_id,
                                  self.GT_KEY: video['ground_truth'].get(frame), 'video_labels': video['tags'],
                                  'label_map': self.label_map, 'reduce_zero_label': False, 'seg_fields': []})
        if selected is not None and selected - listed:
            missing = sorted(selected - listed)
            raise ValueError(f'{name}: {len(missing)} selected frames have no PA label in {pa_dir} for the '
                             f'{self.split} {self.VIDEOS} chosen (e.g. {", ".join(missing[:3])}): selection names '
                             'frames <video_id>/<frame:05d> of this PA version')
        if not data_list:
            raise ValueError(f'{name}: no frame of the {len(videos)} {self.split} {self.VIDEOS} selected has a PA '
                             f'label in {pa_dir}')
        return data_list
