"""Readers for the published annotation formats (VOC XML, ScribbleSup XML, A2D HDF5 .mat, A2D videoset.csv).

Plain functions with no registry so that datasets, transforms, tools and tests share one parser per format.
Every reader names the offending file in its errors.
"""
import csv
import os
import os.path as osp
import xml.etree.ElementTree as ET
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .matlab import read_mat


def read_image_list(path: str) -> List[str]:
    """Names listed one per line in an ImageSets-style file (blank lines skipped); a list naming nothing is a
    ``ValueError`` naming the file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'image list not found: {path}')
    with open(path) as f:
        names = [line.split()[0] for line in f if line.strip()]
    if not names:
        raise ValueError(f'list {path} names nothing (an empty file): write one image (or video) name per line')
    return names


def _parse_xml(path: str) -> ET.Element:
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation not found: {path}')
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as err:
        raise ValueError(f'corrupt XML annotation {path}: {err}') from None


def _number(element: ET.Element, tag: str, path: str, where: str) -> float:
    """The number in ``element``'s child ``tag``; a missing, empty or non-numeric one is a ``ValueError`` naming
    the file, the entry and the text found."""
    text = element.findtext(tag)
    try:
        value = float(text.strip())
    except (AttributeError, ValueError):
        value = None
    if value is None or not np.isfinite(value):
        found = 'missing' if text is None else ('empty' if not text.strip() else f'{text.strip()!r}, not a number')
        raise ValueError(f'{path}: {where}: <{tag}> is {found}; fix or remove the entry')
    return value


def _difficult(obj: ET.Element, path: str, where: str) -> bool:
    return bool(_number(obj, 'difficult', path, where)) if (obj.findtext('difficult') or '').strip() else False


def read_voc_object_names(path: str, skip_difficult: bool = False) -> List[str]:
    """Class names of the ``object`` entries of a PASCAL VOC XML annotation, in file order."""
    names = []
    for i, obj in enumerate(_parse_xml(path).iter('object')):
        if skip_difficult and _difficult(obj, path, f'object {i}'):
            continue
        names.append(obj.findtext('name', '').strip())
    return names


def read_voc_objects(path: str) -> dict:
    """A PASCAL VOC XML annotation: image size and objects as written (1-based pixel corners, not checked).

    Returns:
        dict with ``width`` and ``height`` (int, None when the file has no ``<size>``) and ``objects``: one dict per
        ``object`` entry in file order with ``name`` (str, stripped), ``difficult`` (bool) and ``bbox``
        ``[xmin, ymin, xmax, ymax]`` floats. A missing, empty or non-numeric number is a ``ValueError`` naming the
        file, the object and the field.
    """
    root = _parse_xml(path)
    size = root.find('size')
    width = height = None
    if size is not None:
        width, height = (int(_number(size, tag, path, '<size>')) for tag in ('width', 'height'))
    objects = []
    for i, obj in enumerate(root.iter('object')):
        name = obj.findtext('name', '').strip()
        where = f'object {i} ({name!r})'
        box = obj.find('bndbox')
        if box is None:
            raise ValueError(f'{path}: {where} has no <bndbox>; fix or remove the entry')
        objects.append(dict(name=name, difficult=_difficult(obj, path, where),
                            bbox=[_number(box, tag, path, where) for tag in ('xmin', 'ymin', 'xmax', 'ymax')]))
    return dict(width=width, height=height, objects=objects)


def read_scribbles(path: str) -> List[Tuple[str, np.ndarray]]:
    """Strokes of a ScribbleSup XML file: a list of ``(tag, points)`` with points (P, 2) float x, y (0-based).
    A missing, empty or non-numeric coordinate is a ``ValueError`` naming the file, the stroke and the point."""
    strokes = []
    for s, polygon in enumerate(_parse_xml(path).iter('polygon')):
        tag = (polygon.findtext('tag') or '').strip()
        points = []
        for i, point in enumerate(polygon.iter('point')):
            where = f'stroke {s} ({tag!r}), point {i}'
            points.append((_number(point, 'X', path, where), _number(point, 'Y', path, where)))
        if points:
            strokes.append((tag, np.asarray(points, dtype=np.float32)))
    return strokes


def read_a2d_mat(path: str) -> Dict[str, np.ndarray]:
    """An A2D annotation (MATLAB v7.3 = HDF5) as ``masks`` (N, H, W) bool, ``boxes`` (N, 4) x1y1x2y2 0-based
    float32 and ``ids`` (N,) int64 (actor * 10 + action).

    In MATLAB's orientation ``reMask`` is (H, W, N) or (H, W) for one instance, ``reBBox`` (4, N) and ``id``
    (1, N) or (N, 1).
    """
    try:
        mat = read_mat(path, ('reMask', 'reBBox', 'id'))
    except KeyError as err:
        raise ValueError(f'corrupt A2D annotation {path}: {err}') from None
    masks = np.asarray(mat['reMask'])
    masks = (masks[None] if masks.ndim == 2 else masks.transpose(2, 0, 1)) > 0
    boxes = np.asarray(mat['reBBox'], dtype=np.float32).T
    ids = np.asarray(mat['id']).reshape(-1).astype(np.int64)
    boxes = boxes.reshape(-1, 4) - np.array([1, 1, 0, 0], dtype=np.float32)  # MATLAB 1-based -> 0-based corners
    if not len(masks) == len(boxes) == len(ids):
        raise ValueError(f'A2D annotation {path}: {len(masks)} masks, {len(boxes)} boxes, {len(ids)} ids')
    return dict(masks=masks, boxes=boxes, ids=ids)


A2D_VIDEOSET_COLUMNS: Sequence[str] = ('video_id', 'label', 'start_time', 'end_time', 'height', 'width',
                                       'num_frames', 'num_annotated_frames', 'usage')


def read_a2d_videoset(path: str) -> List[dict]:
    """Rows of A2D's ``videoset.csv`` (no header) as dicts; ``usage`` 0 = train, 1 = test."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'A2D video list not found: {path}')
    rows = []
    with open(path, newline='') as f:
        for line_no, row in enumerate(csv.reader(f), 1):
            if not row:
                continue
            if len(row) != len(A2D_VIDEOSET_COLUMNS):
                raise ValueError(f'{path}:{line_no}: expected {len(A2D_VIDEOSET_COLUMNS)} columns, got {len(row)}')
            info = dict(zip(A2D_VIDEOSET_COLUMNS, row))
            for key in ('label', 'height', 'width', 'num_frames', 'num_annotated_frames', 'usage'):
                info[key] = int(float(info[key]))
            rows.append(info)
    return rows


def scan_a2d(data_root: str, split: str, videoset: str = 'videoset.csv', frame_dir: str = 'pngs320H',
             ann_dir: str = 'Annotations/mat') -> List[dict]:
    """Videos of one A2D split with their annotated frames.

    Args:
        data_root: the A2D ``Release`` folder.
        split: ``'train'`` (usage 0), ``'test'`` (usage 1) or ``'all'``.

    Returns:
        One dict per video: ``video_id``, ``frame_dir`` (extracted frames, ``%05d`` 1-based),
        ``total_frames``, ``height``, ``width`` and ``annotations``: a sorted list of ``(frame_index, mat_path)``.
    """
    usage = {'train': (0, ), 'test': (1, ), 'all': (0, 1)}
    if split not in usage:
        raise ValueError(f"split must be one of {sorted(usage)}, got {split!r}")
    videos = []
    for row in read_a2d_videoset(osp.join(data_root, videoset)):
        if row['usage'] not in usage[split]:
            continue
        vid = row['video_id']
        mat_dir = osp.join(data_root, ann_dir, vid)
        frames = sorted(int(f[:-4]) for f in os.listdir(mat_dir) if f.endswith('.mat')) if osp.isdir(mat_dir) else []
        videos.append(dict(video_id=vid, frame_dir=osp.join(data_root, frame_dir, vid),
                           total_frames=row['num_frames'], height=row['height'], width=row['width'],
                           annotations=[(i, osp.join(mat_dir, f'{i:05d}.mat')) for i in frames]))
    return videos
