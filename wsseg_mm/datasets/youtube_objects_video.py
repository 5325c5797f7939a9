"""YouTube-Objects shots with their video-level class tag (mmaction scope), for WS^2's class classifier."""
from typing import List

from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS
from mmengine.registry import DefaultScope

from wsseg_mm.fileio.youtube_objects import YTO_FRAME_TMPL, scan_youtube_objects
from wsseg_mm.metainfo import YTO_CLASSES

from .a2d_video import VideoList, select_videos

YTO_SPLITS = ('train', 'test', 'all')


def check_yto_split(split: str, owner: str) -> None:
    """A ``ValueError`` naming ``owner`` unless ``split`` is one of :data:`YTO_SPLITS`."""
    if split not in YTO_SPLITS:
        raise ValueError(f'{owner}: split must be one of {YTO_SPLITS}, got {split!r}')


def yto_split_shots(data_root: str, split: str, video_list: VideoList = None, frames_dir: str = 'v1',
                    masks_dir: str = 'youtube_masks') -> List[dict]:
    """The shots of ``split`` (``'train'``: without masks, ``'test'``: with masks, ``'all'``) of
    :func:`~wsseg_mm.fileio.youtube_objects.scan_youtube_objects`, each with ``video_id`` = its shot id, restricted
    to ``video_list`` (:func:`~wsseg_mm.datasets.select_videos`)."""
    wanted = dict(train=lambda s: not s['masks'], test=lambda s: bool(s['masks']), all=lambda s: True)[split]
    shots = [dict(s, video_id=s['shot_id'])
             for s in scan_youtube_objects(data_root, YTO_CLASSES, frames_dir, masks_dir) if wanted(s)]
    return select_videos(shots, video_list, data_root)


@DATASETS.register_module()
class YouTubeObjectsVideoDataset(BaseActionDataset):
    """YouTube-Objects v1.0 shots as extracted frames, one sample per shot, labelled with its class (the folder it
    lies in: YouTube-Objects' video-level tag), for weakly supervised training (WS^2, Chen et al., CVPR 2020,
    Table 5: actor maps only).

    Each data info has ``frame_dir``, ``total_frames``, ``filename_tmpl`` (``'frame{:04d}.jpg'``), ``start_index``
    1, ``label`` (the class index into ``YTO_CLASSES``, 0..9), ``video_id`` (the shot id,
    ``'<class>_<video>_<shot>'``, the PA folder of the shot), ``class_name``, ``video``, ``shot``, ``masks``
    (``[(frame, mask_path)]``, the annotated frames of a test shot) and, for WS^2's Stage 1
    (:func:`~wsseg_mm.apis.ws2.generate_pa` with ``with_action=False``), ``actor_labels`` ``[label]``.

    Args:
        data_root (str): the YouTube-Objects folder (``v1/`` and ``youtube_masks/`` inside, see
            :func:`~wsseg_mm.fileio.youtube_objects.scan_youtube_objects`).
        split (str): ``'train'`` (the shots without masks), ``'test'`` (the shots with masks: the 126 shots of
            Jain & Grauman's ground truth) or ``'all'``.
        video_list (str | Sequence[str] | dict, optional): restrict the split to these shots (shot ids; see
            :func:`~wsseg_mm.datasets.select_videos`: a file, ids, or ``dict(every=10, part='val')``).
        frames_dir, masks_dir (str): the frames and masks folders under ``data_root``.
    """

    def __init__(self, data_root: str, pipeline: List, split: str = 'train', video_list: VideoList = None,
                 frames_dir: str = 'v1', masks_dir: str = 'youtube_masks', **kwargs) -> None:
        check_yto_split(split, 'YouTubeObjectsVideoDataset')
        self.split = split
        self.video_list = video_list
        self.frames_dir = frames_dir
        self.masks_dir = masks_dir
        # the pipeline holds mmaction transforms: build it in that scope whatever the caller's default
        with DefaultScope.overwrite_default_scope('mmaction'):
            super().__init__(ann_file='', pipeline=pipeline, data_root=data_root, multi_class=False,
                             num_classes=len(YTO_CLASSES), start_index=1, **kwargs)
        # actors: the classes of WS^2's actor maps (here the object classes)
        self._metainfo.update(classes=YTO_CLASSES, actors=YTO_CLASSES)

    def load_data_list(self) -> List[dict]:
        shots = yto_split_shots(self.data_root, self.split, self.video_list, self.frames_dir, self.masks_dir)
        if not shots:
            raise ValueError(f'YouTubeObjectsVideoDataset: no {self.split} shot under {self.data_root} '
                             f'({self.frames_dir}/<class>/data/<video>/shots/<shot>; test shots are those with masks '
                             f'in {self.masks_dir}/): check data_root, split and video_list')
        return [dict(frame_dir=s['frame_dir'], total_frames=s['total_frames'], filename_tmpl=YTO_FRAME_TMPL,
                     video_id=s['video_id'], label=s['label'], actor_labels=[s['label']],
                     class_name=s['class_name'], video=s['video'], shot=s['shot'], masks=s['masks'])
                for s in shots]
