"""Readers for YouTube-Objects (Prest et al., CVPR 2012): the v1.0 frames of its shots and the segmentation ground
truth of Jain & Grauman (ECCV 2014), in their published layouts under one data root::

    <root>/v1/<class>/data/<video>/shots/<shot>/frame<NNNN>.jpg            frames, 1-based, 4 digits
    <root>/youtube_masks/<class>/data/<video>/shots/<shot>/labels/<NNNNN>.jpg   masks of every 10th frame, 5 digits

A shot's class is its class folder (its video-level tag); the shots with masks are the test shots (126 in the real
set), the others train. A mask is a greyscale JPEG: a pixel above :data:`YTO_MASK_THRESHOLD` is the object, the rest
background (JPEG blurs the 0 / 255 edges, hence a threshold rather than ``> 0``).

Plain functions with no registry; every error names the offending file or folder.
"""
import os
import os.path as osp
import re
from typing import List, Sequence

import numpy as np

from wsseg_mm.metainfo import YTO_CLASSES

YTO_MASK_THRESHOLD = 15  # mask pixel > 15: the object (JPEG noise around 0 stays background)
YTO_FRAME_TMPL = 'frame{:04d}.jpg'
_FRAME = re.compile(r'^frame(\d+)\.jpg$')
_MASK = re.compile(r'^(\d+)\.jpg$')


def yto_shot_id(cls: str, video: str, shot: str) -> str:
    """The id of a shot, one path component (PA folders are ``<out_dir>/<shot_id>/<frame:05d>.png``):
    ``'<class>_<video>_<shot>'``, e.g. ``'aeroplane_0001_001'``."""
    return f'{cls}_{video}_{shot}'


def _numbered(folder: str, pattern: re.Pattern) -> List[int]:
    return sorted(int(m.group(1)) for m in map(pattern.match, os.listdir(folder)) if m)


def read_yto_mask(path: str, threshold: int = YTO_MASK_THRESHOLD) -> np.ndarray:
    """(H, W) bool object mask of a YouTube-Objects ground-truth JPEG: pixel (grey, or the mean of a colour
    file's channels) ``> threshold``. A missing file is a ``FileNotFoundError``, an empty or undecodable one an
    ``OSError``, each naming the file."""
    import cv2
    if not osp.isfile(path):
        raise FileNotFoundError(f'YouTube-Objects mask not found: {path}')
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
    if image is None:
        raise OSError(f'cannot read the YouTube-Objects mask {path} ({data.size} bytes): '
                      + ('the file is empty' if not data.size else 'it cannot be decoded as an image')
                      + '; replace it from the ground-truth archive')
    return image > threshold


def scan_youtube_objects(data_root: str, classes: Sequence[str] = YTO_CLASSES, frames_dir: str = 'v1',
                         masks_dir: str = 'youtube_masks') -> List[dict]:
    """Every shot of YouTube-Objects under ``data_root``, class by class (in ``classes`` order), then video and
    shot folder names in sorted order.

    A class without a folder under ``<data_root>/<frames_dir>`` has no shots (a subset of the classes may be
    extracted); no class folder at all is a ``FileNotFoundError``. A shot folder without frames, or whose frames
    are not ``frame0001.jpg`` ... ``frame<T>.jpg`` without gaps (what mmaction's ``RawFrameDecode`` reads with
    ``start_index`` 1), is a ``ValueError`` naming the folder; so is a mask of a shot without frames, or of a frame
    the shot does not have.

    Args:
        data_root: the YouTube-Objects folder (``v1`` and ``youtube_masks`` inside).
        classes: the class folders to read; a shot's ``label`` is the index of its class here.
        frames_dir, masks_dir: the two folders under ``data_root``.

    Returns:
        One dict per shot: ``shot_id`` (:func:`yto_shot_id`), ``class_name``, ``label`` (0-based class index),
        ``video``, ``shot`` (folder names), ``frame_dir``, ``total_frames`` (T, frames ``1..T``) and ``masks``: the
        sorted list of ``(frame, mask_path)`` (1-based frame numbers; empty for a train shot).
    """
    frames_root, masks_root = osp.join(data_root, frames_dir), osp.join(data_root, masks_dir)
    present = [c for c in classes if osp.isdir(osp.join(frames_root, c, 'data'))]
    if not present:
        raise FileNotFoundError(f'YouTube-Objects: no class folder {frames_root}/<class>/data (classes: '
                                f'{", ".join(classes)}): extract the v1.0 frames there (see the README)')
    shots, frame_dirs = [], set()
    for label, cls in enumerate(classes):
        class_dir = osp.join(frames_root, cls, 'data')
        if cls not in present:
            continue
        for video in sorted(os.listdir(class_dir)):
            shots_dir = osp.join(class_dir, video, 'shots')
            if not osp.isdir(shots_dir):
                continue
            for shot in sorted(os.listdir(shots_dir)):
                frame_dir = osp.join(shots_dir, shot)
                if not osp.isdir(frame_dir):
                    continue
                frames = _numbered(frame_dir, _FRAME)
                if not frames:
                    raise ValueError(f'YouTube-Objects shot {frame_dir} has no frames (frame0001.jpg, ...): extract '
                                     'its frames or remove the folder')
                if frames != list(range(1, len(frames) + 1)):
                    gap = next(i for i, f in enumerate(frames, 1) if f != i)
                    raise ValueError(f'YouTube-Objects shot {frame_dir}: frames must be frame0001.jpg ... without '
                                     f'gaps, {YTO_FRAME_TMPL.format(gap)} is missing ({len(frames)} frames)')
                label_dir = osp.join(masks_root, cls, 'data', video, 'shots', shot, 'labels')
                masks = _numbered(label_dir, _MASK) if osp.isdir(label_dir) else []
                if masks and masks[-1] > len(frames):
                    raise ValueError(f'YouTube-Objects: mask {osp.join(label_dir, f"{masks[-1]:05d}.jpg")} is of '
                                     f'frame {masks[-1]}, the shot {frame_dir} has {len(frames)} frames')
                frame_dirs.add(osp.join(cls, video, shot))
                shots.append(dict(shot_id=yto_shot_id(cls, video, shot), class_name=cls, label=label, video=video,
                                  shot=shot, frame_dir=frame_dir, total_frames=len(frames),
                                  masks=[(m, osp.join(label_dir, f'{m:05d}.jpg')) for m in masks]))
    for cls in present:  # masks whose shot has no frames: a wrong or partial extraction
        class_masks = osp.join(masks_root, cls, 'data')
        for video in sorted(os.listdir(class_masks)) if osp.isdir(class_masks) else []:
            shots_dir = osp.join(class_masks, video, 'shots')
            for shot in sorted(os.listdir(shots_dir)) if osp.isdir(shots_dir) else []:
                if osp.join(cls, video, shot) not in frame_dirs and osp.isdir(osp.join(shots_dir, shot, 'labels')):
                    raise ValueError(f'YouTube-Objects: masks {osp.join(shots_dir, shot, "labels")} belong to no '
                                     f'shot with frames ({osp.join(frames_root, cls, "data", video, "shots", shot)} '
                                     'is missing): extract the v1.0 frames of that shot')
    return shots
