"""A2D videos with video-level actor and action labels (mmaction scope)."""
import os.path as osp
import warnings
from typing import List, Sequence, Union

from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS
from mmengine.registry import DefaultScope

from wsseg_mm.fileio.annotations import read_a2d_mat, read_image_list, scan_a2d
from wsseg_mm.metainfo import A2D_ACTIONS, A2D_ACTORS

LABEL_TYPES = ('actor', 'action', 'both')
SPLIT_PARTS = ('train', 'val')
VideoList = Union[None, str, Sequence[str], dict]


def select_videos(videos: List[dict], video_list: VideoList, data_root: str = '') -> List[dict]:
    """The videos of ``videos`` (``scan_a2d`` dicts, in ``videoset.csv`` order) that ``video_list`` names.

    Args:
        videos: one dict per video with ``video_id``.
        video_list: None (all of them); a file of video ids, one per line (relative to ``data_root`` unless
            absolute); a sequence of video ids; or ``dict(every=N, part='val' | 'train')``, a regular split: the
            N-th, 2N-th, ... video of ``videos`` (positions N-1, 2N-1, ...) form ``'val'``, the others
            ``'train'``. The split depends on the order only, so every label type and dataset built on the same
            ``videoset.csv`` split agrees on it (e.g. WS^2's 3036 A2D train videos as 2748 train + 288 val).
        data_root: folder a relative list file is read from.

    Returns:
        The selected dicts, in the order of ``videos``. A listed id that ``videos`` lacks is a ``ValueError``.
    """
    if video_list is None:
        return list(videos)
    if isinstance(video_list, dict):
        every, part = video_list.get('every'), video_list.get('part')
        if set(video_list) != {'every', 'part'} or not isinstance(every, int) or every < 2 or part not in SPLIT_PARTS:
            raise ValueError(f"video_list as a dict is dict(every=N, part='val' | 'train') with N >= 2, got "
                             f'{video_list!r}')
        return [v for i, v in enumerate(videos) if (i % every == every - 1) == (part == 'val')]
    if isinstance(video_list, str):
        path = osp.join(data_root, video_list)
        wanted, source = read_image_list(path), path
    else:
        wanted, source = [str(v) for v in video_list], 'video_list'
    known = {v['video_id'] for v in videos}
    missing = [v for v in wanted if v not in known]
    if missing:
        raise ValueError(f'{source}: {len(missing)} listed videos are not in this split of {data_root or "A2D"} '
                         f'(e.g. {", ".join(missing[:3])}): list video ids of the split only')
    keep = set(wanted)
    return [v for v in videos if v['video_id'] in keep]


def video_a2d_ids(video: dict) -> List[int]:
    """A video's tags: the sorted A2D ids (actor * 10 + action) over the ``.mat`` files of its annotated frames
    (``video['annotations']``, ``(frame, path)`` pairs of :func:`~wsseg_mm.fileio.annotations.scan_a2d`)."""
    return sorted({int(i) for _, path in video['annotations'] for i in read_a2d_mat(path)['ids']})


@DATASETS.register_module()
class A2DVideoDataset(BaseActionDataset):
    """A2D clips as extracted frames with video-level labels, for weakly supervised training (WS^2).

    The labels of a video are the union of the actor-action ids over its annotated frames. Each data info has
    ``frame_dir``, ``total_frames``, ``filename_tmpl`` (``'{:05d}.png'``), ``start_index`` 1, ``label``,
    ``actor_labels``, ``action_labels`` (0-based indices into ``A2D_ACTORS`` / ``A2D_ACTIONS``) and ``a2d_ids``.
    ``label`` holds class indices, made multi-hot by mmaction (``multi_class=True``); with ``single_label`` it is
    the one class index (``multi_class=False``), so that stock heads with cross-entropy (``TSNHead``,
    ``I3DHead``) and ``AccMetric`` work unchanged. Videos with no annotated object are skipped and counted in
    one warning.

    Args:
        data_root (str): the ``Release`` folder.
        split (str): ``'train'`` or ``'test'`` (the usage column of ``videoset.csv``).
        label_type (str): ``'actor'`` (7 classes), ``'action'`` (9) or ``'both'`` (7 actors then 9 actions).
        single_label (bool): keep only the videos with exactly one class of ``label_type`` (one actor, or one
            action) over their annotated frames, as WS^2 trains its classifiers (2794 actor / 2639 action
            videos); not with ``'both'``.
        video_list (str | Sequence[str] | dict, optional): restrict the split to these videos, applied first,
            before any video is skipped (see :func:`select_videos`: a file, ids, or ``dict(every=10,
            part='val')``).
        frame_dir (str): folder of extracted frames under ``data_root``.
        filename_tmpl (str): frame file names.
    """

    def __init__(self, data_root: str, pipeline: List, split: str = 'train', label_type: str = 'both',
                 single_label: bool = False, video_list: VideoList = None, frame_dir: str = 'pngs320H',
                 filename_tmpl: str = '{:05d}.png', **kwargs) -> None:
        if label_type not in LABEL_TYPES:
            raise ValueError(f'label_type must be one of {LABEL_TYPES}, got {label_type!r}')
        if single_label and label_type == 'both':
            raise ValueError("single_label needs label_type='actor' or 'action' (one class per video), got 'both'")
        self.split = split
        self.label_type = label_type
        self.single_label = single_label
        self.video_list = video_list
        self.frame_dir = frame_dir
        self.filename_tmpl = filename_tmpl
        self.num_skipped = 0
        self.num_multi_label = 0
        num_classes = dict(actor=len(A2D_ACTORS), action=len(A2D_ACTIONS), both=len(A2D_ACTORS) + len(A2D_ACTIONS))
        # the pipeline holds mmaction transforms: build it in that scope whatever the caller's default
        with DefaultScope.overwrite_default_scope('mmaction'):
            super().__init__(ann_file='videoset.csv', pipeline=pipeline, data_root=data_root,
                             multi_class=not single_label, num_classes=num_classes[label_type], start_index=1,
                             **kwargs)
        self._metainfo.update(actors=A2D_ACTORS, actions=A2D_ACTIONS, label_type=label_type)

    def load_data_list(self) -> List[dict]:
        data_list = []
        videos = select_videos(scan_a2d(self.data_root, self.split, frame_dir=self.frame_dir), self.video_list,
                               self.data_root)
        for video in videos:
            ids = video_a2d_ids(video)
            if not ids:
                self.num_skipped += 1
                continue
            actors = sorted({i // 10 - 1 for i in ids})
            actions = sorted({i % 10 - 1 for i in ids})
            label = dict(actor=actors, action=actions, both=actors + [len(A2D_ACTORS) + a for a in actions])
            label = label[self.label_type]
            if self.single_label:
                if len(label) != 1:
                    self.num_multi_label += 1
                    continue
                label = label[0]
            data_list.append(dict(frame_dir=video['frame_dir'], total_frames=video['total_frames'],
                                  filename_tmpl=self.filename_tmpl, video_id=video['video_id'], label=label,
                                  actor_labels=actors, action_labels=actions, a2d_ids=ids))
        if self.num_skipped:
            warnings.warn(f'A2DVideoDataset: skipped {self.num_skipped} of {len(videos)} {self.split} videos '
                          f'with no annotated object ({self.data_root})')
        if not data_list:
            raise ValueError(f'A2DVideoDataset: no video left of the {len(videos)} selected {self.split} videos of '
                             f'{self.data_root} ({self.num_skipped} without annotated object, '
                             f'{self.num_multi_label} with several {self.label_type}s under single_label): check '
                             'split, video_list and single_label')
        return data_list
