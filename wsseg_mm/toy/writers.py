"""Writing the toy benchmark to disk in the published layouts (VOC 2012 + ScribbleSup, A2D), deterministically:
each sample draws from its own generator seeded by ``(seed, split, index)`` and the JPEG / PNG / HDF5 writers use
fixed parameters, so the same arguments give byte-identical files."""
import csv
import os
import os.path as osp
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Dict, List, Sequence, Tuple

import cv2
import h5py
import numpy as np
from PIL import Image
from tqdm import tqdm

from wsseg_mm.metainfo import TOY_CLASSES, TOY_VIDEO_OBJECT_CLASSES, VOC_PALETTE, a2d_id_to_label

from .scenes import mask_bbox, render_object_image, render_toy_image
from .scribbles import sample_scribbles
from .videos import VIDEO_ACTIONS, render_toy_video

ANNOTATION_STRIDE = 4  # A2D-style sparse annotation: frames 1, 5, 9, ...
VIDEO_FPS = 24
PREVIEW_COUNT = 8

_SPLIT_CODES = {'train': 0, 'val': 1, 'video_train': 2, 'video_test': 3, 'objects': 4}
_PNG_PARAMS = dict(format='PNG', compress_level=6, optimize=False)
_JPEG_PARAMS = dict(format='JPEG', quality=95, subsampling=2, optimize=False, progressive=False)
_MAT_HEADER = (b'MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Jan  1 00:00:00 2015 '
               b'HDF5 schema 1.00 .').ljust(116) + bytes(8) + b'\x00\x02IM'
_PALETTE = np.array(VOC_PALETTE, np.uint8)
_VOC_DIRS = ('JPEGImages', 'Annotations', 'SegmentationClass', 'SegmentationObject', 'ImageSets/Segmentation',
             'ImageSets/Main', 'ScribbleAnnotation/pascal_2012')




def sample_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of one sample, a function of ``(seed, split, index)`` only (``seed`` >= 0; ``split`` one
    of 'train', 'val', 'video_train', 'video_test', 'objects')."""
    return np.random.default_rng([seed, _SPLIT_CODES[split], index])



# ---------------------------------------------------------------------------------------------------- VOC writing
def _save_png(path: str, array: np.ndarray, palette: bool = False) -> None:
    """Save (H, W, 3) uint8 RGB, or (H, W) uint8 indices as a palette PNG with the VOC palette."""
    image = Image.fromarray(array)
    if palette:
        image.putpalette(_PALETTE.ravel().tolist())  # 'L' -> 'P', indices unchanged
    image.save(path, **_PNG_PARAMS)


def _sub(parent: ET.Element, tag: str, text=None) -> ET.Element:
    """Append a child ``tag`` to ``parent``, with ``str(text)`` as its text unless None."""
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = str(text)
    return element


def _write_xml(root: ET.Element, path: str) -> None:
    """Write an element tree as tab-indented UTF-8 XML without declaration, as VOC's files are."""
    ET.indent(root, space='\t')
    ET.ElementTree(root).write(path, encoding='utf-8')


def _voc_xml(name: str, sample: dict, classes: Sequence[str] = TOY_CLASSES) -> ET.Element:
    """PASCAL VOC annotation: size, then one object per instance (named by ``classes``) with its 1-based visible
    bbox."""
    height, width = sample['semantic'].shape
    root = ET.Element('annotation')
    _sub(root, 'folder', 'VOC2012')
    _sub(root, 'filename', f'{name}.jpg')
    _sub(_sub(root, 'source'), 'database', 'wsseg_mm toy benchmark')
    size = _sub(root, 'size')
    for tag, value in (('width', width), ('height', height), ('depth', 3)):
        _sub(size, tag, value)
    _sub(root, 'segmented', 1)
    for obj in sample['objects']:
        node = _sub(root, 'object')
        for tag, value in (('name', classes[obj['label']]), ('pose', 'Unspecified'),
                           ('truncated', int(obj['truncated'])), ('occluded', int(obj['occluded'])), ('difficult', 0)):
            _sub(node, tag, value)
        box = _sub(node, 'bndbox')
        for tag, value in zip(('xmin', 'ymin', 'xmax', 'ymax'), obj['bbox']):
            _sub(box, tag, value + 1)
    return root


def _scribble_xml(name: str, shape_hw: Tuple[int, int], strokes: List[Tuple[str, np.ndarray]]) -> ET.Element:
    """ScribbleSup annotation: filename, folder, size, then one polygon (tag + points) per stroke."""
    root = ET.Element('annotation')
    _sub(root, 'filename', f'{name}.jpg')
    _sub(root, 'folder', 'VOC2012')
    size = _sub(root, 'size')
    _sub(size, 'width', shape_hw[1])
    _sub(size, 'height', shape_hw[0])
    for tag, points in strokes:
        polygon = _sub(root, 'polygon')
        _sub(polygon, 'tag', tag)
        for x, y in points:
            point = _sub(polygon, 'point')
            _sub(point, 'X', x)
            _sub(point, 'Y', y)
    return root


def _write_voc_sample(root: str, name: str, sample: dict, strokes: List[Tuple[str, np.ndarray]]) -> None:
    """Write the image, XML, both segmentation PNGs and the scribble XML of one sample under the VOC2012 root."""
    Image.fromarray(sample['image']).save(osp.join(root, 'JPEGImages', f'{name}.jpg'), **_JPEG_PARAMS)
    _write_xml(_voc_xml(name, sample), osp.join(root, 'Annotations', f'{name}.xml'))
    _save_png(osp.join(root, 'SegmentationClass', f'{name}.png'), sample['semantic'], palette=True)
    _save_png(osp.join(root, 'SegmentationObject', f'{name}.png'), sample['instance'], palette=True)
    scribble_path = osp.join(root, 'ScribbleAnnotation', 'pascal_2012', f'{name}.xml')
    _write_xml(_scribble_xml(name, sample['semantic'].shape, strokes), scribble_path)


def _write_lines(path: str, lines: Sequence[str]) -> None:
    """Write one line per entry (ImageSets lists)."""
    with open(path, 'w', newline='\n') as f:
        f.writelines(f'{line}\n' for line in lines)


def _preview_pair(sample: dict, strokes: List[Tuple[str, np.ndarray]], scale: int) -> np.ndarray:
    """(S, 2S + 4, 3) uint8 tile, S = scale * size: the image with its scribbles (class colours, background in
    white), and the image under its SegmentationClass colours."""
    image = cv2.resize(sample['image'], None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    labels = cv2.resize(sample['semantic'], None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    overlay = (0.4 * image + 0.6 * _PALETTE[labels]).astype(np.uint8)
    drawn = image.copy()
    for tag, points in strokes:
        color = (255, 255, 255) if tag == 'background' else tuple(int(c) for c in _PALETTE[TOY_CLASSES.index(tag)])
        line = [(points * scale + scale // 2).astype(np.int32)]
        cv2.polylines(drawn, line, False, (0, 0, 0), scale + 2)
        cv2.polylines(drawn, line, False, color, scale)
    gap = np.full((image.shape[0], 4, 3), 255, np.uint8)
    return np.concatenate([drawn, gap, overlay], 1)


def _contact_sheet(tiles: Sequence[np.ndarray], columns: int = 2, gap: int = 12) -> np.ndarray:
    """Tiles of equal shape laid out row by row on a white sheet."""
    h, w = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = np.full((rows * (h + gap) + gap, columns * (w + gap) + gap, 3), 255, np.uint8)
    for i, tile in enumerate(tiles):
        y, x = gap + (i // columns) * (h + gap), gap + (i % columns) * (w + gap)
        sheet[y:y + h, x:x + w] = tile
    return sheet


def generate_voc_images(out_dir: str, seed: int = 0, image_size: int = 128, num_train: int = 400,
                        num_val: int = 100, progress: bool = True) -> dict:
    """Write the toy images in the VOC 2012 layout under ``<out_dir>/VOCdevkit/VOC2012`` (see module doc).

    Train images are ``toy_000000`` .. and val images follow them; sample ``i`` of a split depends only on
    ``(seed, split, i)``. Also writes ``preview.jpg``, a contact sheet of the first 8 train images.

    Returns:
        dict with ``num_train_images``, ``num_val_images``, ``num_objects``, ``num_touching_images`` and
        ``class_counts`` (instances per class name).
    """
    root = osp.join(out_dir, 'VOCdevkit', 'VOC2012')
    for sub in _VOC_DIRS:
        os.makedirs(osp.join(root, sub), exist_ok=True)
    jobs = [('train', i) for i in range(num_train)] + [('val', i) for i in range(num_val)]
    names: Dict[str, List[str]] = {'train': [], 'val': []}
    classes, touching, tiles = Counter(), 0, []
    for number, (split, index) in enumerate(tqdm(jobs, desc='toy images', disable=not progress)):
        name = f'toy_{number:06d}'
        rng = sample_rng(seed, split, index)
        sample = render_toy_image(rng, image_size)
        strokes = sample_scribbles(rng, sample)
        _write_voc_sample(root, name, sample, strokes)
        names[split].append(name)
        classes.update(TOY_CLASSES[obj['label']] for obj in sample['objects'])
        touching += sample['touching']
        if split == 'train' and len(tiles) < PREVIEW_COUNT:
            tiles.append(_preview_pair(sample, strokes, max(1, 256 // image_size)))
    for split, split_names in names.items():
        for image_set in ('Segmentation', 'Main'):
            _write_lines(osp.join(root, 'ImageSets', image_set, f'{split}.txt'), split_names)
    if tiles:
        Image.fromarray(_contact_sheet(tiles)).save(osp.join(root, 'preview.jpg'), **_JPEG_PARAMS)
    return dict(num_train_images=num_train, num_val_images=num_val, num_objects=sum(classes.values()),
                num_touching_images=touching, class_counts={c: classes[c] for c in TOY_CLASSES[1:]})


# make_toy_data.py --object-classes: the classes of the object-centred images and their radius range (fraction of
# the side). 'videos' adds the videos' hexagon and reaches down to their smallest actors (radius 8-18% of a frame).
OBJECT_IMAGE_SETS: Dict[str, Tuple[Tuple[str, ...], Tuple[float, float]]] = {
    'images': (TOY_CLASSES, (0.12, 0.3)), 'videos': (TOY_VIDEO_OBJECT_CLASSES, (0.08, 0.3))}


def generate_object_images(out_dir: str, seed: int = 0, image_size: int = 128, num_images: int = 3000,
                           progress: bool = True, object_classes: str = 'images') -> dict:
    """Write object-centred classification images (:func:`render_object_image`) under ``<out_dir>/ToyObjects``
    in the VOC layout (``JPEGImages``, ``Annotations`` with one object each, ``ImageSets/Main/train.txt``), so that
    :class:`VOCImageLabelDataset` reads their image labels. The toy IRNet pipeline pretrains its backbone on them
    where the real one starts from ImageNet (``object_classes='images'``: the six image classes); the WS^2 toy's
    actor classifier on ``'videos'`` (the seven shapes of the videos' actors, at their sizes too; see
    :data:`OBJECT_IMAGE_SETS`). Image ``i`` depends only on ``(seed, i, object_classes)``.

    Returns:
        dict with ``num_object_images`` and ``object_class_counts`` (images per class name).
    """
    if object_classes not in OBJECT_IMAGE_SETS:
        raise ValueError(f'object_classes must be one of {sorted(OBJECT_IMAGE_SETS)}, got {object_classes!r}')
    classes, radius = OBJECT_IMAGE_SETS[object_classes]
    root = osp.join(out_dir, 'ToyObjects')
    for sub in ('JPEGImages', 'Annotations', 'ImageSets/Main'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    names, counts = [], Counter()
    for index in tqdm(range(num_images), desc='toy object images', disable=not progress):
        name = f'obj_{index:06d}'
        sample = render_object_image(sample_rng(seed, 'objects', index), image_size, classes, radius)
        Image.fromarray(sample['image']).save(osp.join(root, 'JPEGImages', f'{name}.jpg'), **_JPEG_PARAMS)
        _write_xml(_voc_xml(name, sample, classes), osp.join(root, 'Annotations', f'{name}.xml'))
        names.append(name)
        counts[classes[sample['objects'][0]['label']]] += 1
    _write_lines(osp.join(root, 'ImageSets', 'Main', 'train.txt'), names)
    return dict(num_object_images=num_images, object_class_counts={c: counts[c] for c in classes[1:]})


def write_a2d_mat(path: str, masks: np.ndarray, ids: Sequence[int]) -> None:
    """Write one A2D frame annotation as MATLAB v7.3 does: HDF5 behind a 512-byte userblock holding the MATLAB
    header. ``masks`` (N, H, W) bool/uint8 with N >= 1, ``ids`` (N,) A2D ids. h5py sees MATLAB's arrays
    transposed: ``reMask`` uint8 (N, W, H) ((W, H) when N == 1), ``reBBox`` float64 (N, 4) rows of 1-based
    [x1, y1, x2, y2], ``id`` float64 (N, 1)."""
    masks = np.asarray(masks, np.uint8)
    stored = masks.transpose(0, 2, 1)
    datasets = (('reMask', stored[0] if len(masks) == 1 else stored, 'uint8'),
                ('reBBox', np.array([mask_bbox(m) for m in masks], np.float64) + 1, 'double'),
                ('id', np.asarray(ids, np.float64).reshape(-1, 1), 'double'))
    with h5py.File(path, 'w', userblock_size=512) as f:
        for name, data, matlab_class in datasets:
            f.create_dataset(name, data=data).attrs['MATLAB_class'] = np.bytes_(matlab_class)
    with open(path, 'r+b') as f:
        f.write(_MAT_HEADER)


def _write_a2d_video(root: str, video_id: str, video: dict) -> int:
    """Write the frames and the annotations of every ANNOTATION_STRIDE-th frame (from frame 1) of one clip under
    the A2D ``Release`` root; returns the number of annotated frames."""
    for sub in ('pngs320H', 'Annotations/mat', 'Annotations/col'):
        os.makedirs(osp.join(root, sub, video_id), exist_ok=True)
    for t, frame in enumerate(video['frames'], 1):
        _save_png(osp.join(root, 'pngs320H', video_id, f'{t:05d}.png'), frame)
    annotated = range(0, len(video['frames']), ANNOTATION_STRIDE)
    for t in annotated:
        present = video['masks'][t].any(axis=(1, 2))
        masks, ids = video['masks'][t][present], video['ids'][present]
        write_a2d_mat(osp.join(root, 'Annotations', 'mat', video_id, f'{t + 1:05d}.mat'), masks, ids)
        colour = np.zeros(masks.shape[1:], np.uint8)
        for mask, a2d_id in zip(masks, ids):
            colour[mask] = a2d_id_to_label(a2d_id)
        _save_png(osp.join(root, 'Annotations', 'col', video_id, f'{t + 1:05d}.png'), colour, palette=True)
    return len(annotated)


def generate_a2d_videos(out_dir: str, seed: int = 0, image_size: int = 128, num_train_videos: int = 60,
                        num_test_videos: int = 20, num_frames: int = 16, progress: bool = True) -> dict:
    """Write the toy clips in the A2D layout under ``<out_dir>/A2D/Release`` (see module doc).

    Train clips are ``toyv_00000`` .. and test clips follow them; clip ``i`` of a split depends only on
    ``(seed, split, i)`` and its first actor does ``VIDEO_ACTIONS[i % 6]``, so every action appears.

    Returns:
        dict with ``num_train_videos``, ``num_test_videos``, ``num_video_frames``, ``num_annotated_frames`` and
        ``pair_counts`` (actors per actor-action pair name).
    """
    root = osp.join(out_dir, 'A2D', 'Release')
    os.makedirs(root, exist_ok=True)
    jobs = [('video_train', i, 0) for i in range(num_train_videos)] + \
        [('video_test', i, 1) for i in range(num_test_videos)]
    rows, pairs, annotated = [], Counter(), 0
    for number, (split, index, usage) in enumerate(tqdm(jobs, desc='toy videos', disable=not progress)):
        video_id = f'toyv_{number:05d}'
        action = VIDEO_ACTIONS[index % len(VIDEO_ACTIONS)]
        video = render_toy_video(sample_rng(seed, split, index), image_size, num_frames, action)
        count = _write_a2d_video(root, video_id, video)
        annotated += count
        rows.append([video_id, int(video['ids'][0]), 0.0, round(num_frames / VIDEO_FPS, 4), image_size, image_size,
                     num_frames, count, usage])
        pairs.update(f'{actor}-{act}' for actor, act in video['actors'])
    with open(osp.join(root, 'videoset.csv'), 'w', newline='') as f:
        csv.writer(f, lineterminator='\n').writerows(rows)
    return dict(num_train_videos=num_train_videos, num_test_videos=num_test_videos,
                num_video_frames=len(jobs) * num_frames, num_annotated_frames=annotated,
                pair_counts=dict(sorted(pairs.items())))


def generate_toy_benchmark(out_dir: str, seed: int = 0, image_size: int = 128, num_train: int = 400,
                           num_val: int = 100, num_train_videos: int = 60, num_test_videos: int = 20,
                           num_frames: int = 16, images: bool = True, videos: bool = True,
                           num_object_images: int = 0, progress: bool = True,
                           object_classes: str = 'images') -> dict:
    """Write the whole toy benchmark under ``out_dir``: VOC-style images (``VOCdevkit/VOC2012``, see
    :func:`generate_voc_images`) and A2D-style clips (``A2D/Release``, see :func:`generate_a2d_videos`).

    Args:
        out_dir: output root (created if missing).
        seed: non-negative base seed; the same arguments always give byte-identical files.
        image_size: side of the square images and frames.
        num_train, num_val: number of train / val images.
        num_train_videos, num_test_videos: number of train / test clips.
        num_frames: frames per clip.
        images, videos: whether to write each part.
        num_object_images: object-centred pretraining images (``ToyObjects``, see
            :func:`generate_object_images`); 0 writes none.
        object_classes: their class set, ``'images'`` or ``'videos'`` (see :data:`OBJECT_IMAGE_SETS`).
        progress: show tqdm progress bars.

    Returns:
        dict of counts: the union of the generators' summaries, plus ``out_dir``, ``seed``, ``image_size``.
    """
    summary = dict(out_dir=out_dir, seed=seed, image_size=image_size)
    if images:
        summary.update(generate_voc_images(out_dir, seed, image_size, num_train, num_val, progress))
    if videos:
        summary.update(generate_a2d_videos(out_dir, seed, image_size, num_train_videos, num_test_videos,
                                           num_frames, progress))
    if num_object_images:
        summary.update(generate_object_images(out_dir, seed, image_size, num_object_images, progress, object_classes))
    return summary
