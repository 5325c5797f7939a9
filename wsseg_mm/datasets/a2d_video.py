"""A2D videos with video-level actor and action labels (mmaction scope)."""
import warnings
from typing import List

from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS
from mmengine.registry import DefaultScope

from wsseg_mm.fileio.annotations import read_a2d_mat, scan_a2d
from wsseg_mm.metainfo import A2D_ACTIONS, A2D_ACTORS

LABEL_TYPES = ('actor', 'action', 'both')


@DATASETS.register_module()
class A2DVideoDataset(BaseActionDataset):
    """A2D clips as extracted frames with video-level labels, for weakly supervised training (WS^2).

    The labels of a video are the union of the actor-action ids over its annotated frames. Each data info has
    ``frame_dir``, ``total_frames``, ``filename_tmpl`` (``'{:05d}.png'``), ``start_index`` 1, ``label`` (class
    indices, made multi-hot by mmaction since ``multi_class=True``), ``actor_labels``, ``action_labels`` (0-based
    indices into ``A2D_ACTORS`` / ``A2D_ACTIONS``) and ``a2d_ids``. Videos with no annotated object are skipped
    and counted in one warning.

    Args:
        data_root (str): the ``Release`` folder.
        split (str): ``'train'`` or ``'test'`` (the usage column of ``videoset.csv``).
        label_type (str): ``'actor'`` (7 classes), ``'action'`` (9) or ``'both'`` (7 actors then 9 actions).
        frame_dir (str): folder of extracted frames under ``data_root``.
        filename_tmpl (str): frame file names.
    """

    def __init__(self, data_root: str, pipeline: List, split: str = 'train', label_type: str = 'both',
                 frame_dir: str = 'pngs320H', filename_tmpl: str = '{:05d}.png', **kwargs) -> None:
        if label_type not in LABEL_TYPES:
            raise ValueError(f'label_type must be one of {LABEL_TYPES}, got {label_type!r}')
        self.split = split
        self.label_type = label_type
        self.frame_dir = frame_dir
        self.filename_tmpl = filename_tmpl
        self.num_skipped = 0
        num_classes = dict(actor=len(A2D_ACTORS), action=len(A2D_ACTIONS), both=len(A2D_ACTORS) + len(A2D_ACTIONS))
        # the pipeline holds mmaction transforms: build it in that scope whatever the caller's default
        with DefaultScope.overwrite_default_scope('mmaction'):
            super().__init__(ann_file='videoset.csv', pipeline=pipeline, data_root=data_root, multi_class=True,
                             num_classes=num_classes[label_type], start_index=1, **kwargs)
        self._metainfo.update(actors=A2D_ACTORS, actions=A2D_ACTIONS, label_type=label_type)

    def load_data_list(self) -> List[dict]:
        data_list = []
        videos = scan_a2d(self.data_root, self.split, frame_dir=self.frame_dir)
        for video in videos:
            ids = sorted({int(i) for _, path in video['annotations'] for i in read_a2d_mat(path)['ids']})
            if not ids:
                self.num_skipped += 1
                continue
            actors = sorted({i // 10 - 1 for i in ids})
            actions = sorted({i % 10 - 1 for i in ids})
            label = dict(actor=actors, action=actions, both=actors + [len(A2D_ACTORS) + a for a in actions])
            data_list.append(dict(frame_dir=video['frame_dir'], total_frames=video['total_frames'],
                                  filename_tmpl=self.filename_tmpl, video_id=video['video_id'],
                                  label=label[self.label_type], actor_labels=actors, action_labels=actions,
                                  a2d_ids=ids))
        if self.num_skipped:
            warnings.warn(f'A2DVideoDataset: skipped {self.num_skipped} of {len(videos)} {self.split} videos '
                          f'with no annotated object ({self.data_root})')
        return data_list
