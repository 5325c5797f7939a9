"""A miniature of the real datasets, in their real layouts: PASCAL VOC 2012 + SBD train_aug (+ ScribbleSup
scribbles and MCG proposals), PASCAL-Context (+ scribbles), MS COCO 2017 and A2D, with real-looking names, real
image sizes and the real class names, at the relative paths the configs for real data read (``VOCdevkit/VOC2012``,
``VOCdevkit/VOC2010``, ``coco``, ``A2D/Release``).

The toy benchmark proves quality; the miniature proves wiring: every config for a real dataset must run end to end
on it with the README's commands (``tests/test_real_configs.py``), which catches wrong paths, splits, keys and
class counts that the toy configs (which override those) cannot. The scenes are the toy's (shapes scaled up to
the real sizes); each object is given a real class name. Deterministic: the same seed gives the same bytes.

    python tools/make_toy_data.py --layout real --out DIR
"""
import csv
import json
import os
import os.path as osp
import xml.etree.ElementTree as ET
from typing import List, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

from wsseg_mm.metainfo import VOC_CLASSES, a2d_id_to_label

from .miniature_yto import generate_yto_miniature
from .scenes import mask_bbox, render_toy_image
from .scribbles import sample_scribbles
from .videos import VIDEO_ACTIONS, render_toy_video
from .writers import _JPEG_PARAMS, _save_png, _scribble_xml, _sub, _write_lines, _write_xml, write_a2d_mat

# ------------------------------------------------------------------------------------------------ names and sizes
# VOC 2012 relations: train.txt is a subset of train_aug.txt (VOC train + SBD), val.txt is disjoint from both.
VOC_TRAIN = ('2007_000032', '2007_000039', '2008_000123', '2010_000038')
VOC_SBD_ONLY = ('2007_000068', '2007_000121', '2008_000008', '2008_000202', '2009_000012', '2009_000248',
                '2011_000003', '2011_000172')
VOC_VAL = ('2007_000033', '2007_000042', '2008_000009', '2009_000021', '2010_000065', '2011_000226')
# PASCAL-Context (VOC 2010 images; mmseg's converter lists): train and val are disjoint
CONTEXT_TRAIN = ('2008_000002', '2008_000007', '2008_000076', '2009_000016', '2010_000018', '2010_000080')
CONTEXT_VAL = ('2008_000019', '2009_000043', '2010_000025', '2010_000061')
# (width, height) as in VOC: mostly 500 x 375 landscape, some portrait and wider frames
VOC_SIZES = ((500, 375), (500, 333), (375, 500), (500, 375), (500, 366), (353, 500), (500, 375), (500, 281))

COCO_CLASSES: Tuple[str, ...] = (
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
    'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
    'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis',
    'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket',
    'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
    'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed',
    'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
    'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier',
    'toothbrush')
# COCO's category ids: 1..90 with the gaps of the 2014 paper's 91-category list
COCO_CATEGORY_IDS: Tuple[int, ...] = tuple(i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83))
COCO_SUPERCATEGORIES = ('person', ) + ('vehicle', ) * 8 + ('outdoor', ) * 5 + ('animal', ) * 10 + \
    ('accessory', ) * 5 + ('sports', ) * 10 + ('kitchen', ) * 7 + ('food', ) * 10 + ('furniture', ) * 6 + \
    ('electronic', ) * 6 + ('appliance', ) * 5 + ('indoor', ) * 7
COCO_IMAGES = {'train2017': ((391895, 640, 360), (522418, 640, 480), (184613, 500, 336), (318219, 640, 427)),
               'val2017': ((397133, 640, 427), (37777, 352, 230), (252219, 640, 428))}
# A2D: YouTube ids, (width) of the 320 px high frames, usage (0 train, 1 test)
A2D_VIDEOS = (('-4wsuPCjDBc', 426, 0), ('0DCR0lyeLM4', 568, 0), ('EbbVUqsy3sU', 426, 0), ('kf8gSjLvr8w', 426, 1))
A2D_HEIGHT = 320
A2D_NUM_FRAMES = 8
A2D_ANNOTATED = (2, 5, 8)  # 1-based annotated frames, a few per clip spread over it as in A2D

_FAST_PNG = dict(format='PNG', compress_level=1, optimize=False)  # RGB frames: fast, still deterministic
_MAT5_HEADER = b'MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Thu Jan  1 00:00:00 2015'.ljust(116)


def _rng(seed: int, part: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, 100 + part, index])


# ------------------------------------------------------------------------------------------------ rectangular scenes
def _fill_band(labels: np.ndarray) -> np.ndarray:
    """Replace the 255 boundary band by the largest neighbouring label (masks without VOC's void band)."""
    filled = np.where(labels == 255, 0, labels).astype(np.uint8)
    grown = cv2.dilate(filled, np.ones((5, 5), np.uint8))
    return np.where(labels == 255, grown, labels).astype(np.uint8)


def render_scene(rng: np.random.Generator, width: int, height: int, num_classes: int,
                 min_area: int = 200) -> dict:
    """A toy scene at ``width`` x ``height``: rendered square at half the longer side, upscaled x2, cropped.

    Returns:
        dict with ``image`` (H, W, 3) uint8 RGB, ``semantic`` (class 1..num_classes-1 per object, 0 background)
        and ``instance`` (1..K) maps with the 255 band of VOC, and ``objects``: dicts with ``label`` (the class),
        ``instance_id``, ``bbox`` (0-based inclusive), ``truncated``, ``occluded``. Each toy shape class of the
        image gets a distinct random class in 1..num_classes-1 (touching same-class pairs stay one class).
    """
    side = max(width, height)
    for attempt in range(20):
        sample = render_toy_image(rng, (side + 1) // 2)
        image = cv2.resize(sample['image'], (side, side), interpolation=cv2.INTER_LINEAR)
        instance = cv2.resize(sample['instance'], (side, side), interpolation=cv2.INTER_NEAREST)
        y0 = int(rng.integers(0, side - height + 1))
        x0 = int(rng.integers(0, side - width + 1))
        image, instance = image[y0:y0 + height, x0:x0 + width], instance[y0:y0 + height, x0:x0 + width]
        full_areas = {o['instance_id']: int((sample['instance'] == o['instance_id']).sum()) * 4
                      for o in sample['objects']}
        areas = {k: int((instance == k).sum()) for k in full_areas}
        if all(a >= min_area or a == 0 for a in areas.values()) and any(areas.values()):
            break
    classes = rng.choice(np.arange(1, num_classes), size=6, replace=num_classes - 1 < 6)
    semantic = np.zeros_like(instance)
    new_instance = np.zeros_like(instance)
    objects = []
    for obj in sample['objects']:
        mask = instance == obj['instance_id']
        if areas[obj['instance_id']] < min_area:  # cut by the crop: too small to keep, left void
            semantic[mask], new_instance[mask] = 255, 255
            continue
        k = len(objects) + 1
        label = int(classes[obj['label'] - 1])
        semantic[mask], new_instance[mask] = label, k
        x1, y1, x2, y2 = mask_bbox(mask)
        truncated = obj['truncated'] or areas[obj['instance_id']] < full_areas[obj['instance_id']] * 0.95 or \
            x1 == 0 or y1 == 0 or x2 == width - 1 or y2 == height - 1
        objects.append(dict(label=label, instance_id=k, bbox=[x1, y1, x2, y2], truncated=bool(truncated),
                            occluded=bool(obj['occluded'])))
    band = instance == 255
    semantic[band], new_instance[band] = 255, 255
    return dict(image=np.ascontiguousarray(image), semantic=semantic, instance=new_instance, objects=objects)


# -------------------------------------------------------------------------------------------------------- VOC 2012
def _voc_xml(name: str, scene: dict) -> ET.Element:
    height, width = scene['semantic'].shape
    root = ET.Element('annotation')
    _sub(root, 'folder', 'VOC2012')
    _sub(root, 'filename', f'{name}.jpg')
    source = _sub(root, 'source')
    _sub(source, 'database', 'The VOC2007 Database' if name.startswith('2007') else 'The VOC2008 Database')
    _sub(source, 'annotation', 'PASCAL VOC2007' if name.startswith('2007') else 'PASCAL VOC2008')
    _sub(source, 'image', 'flickr')
    size = _sub(root, 'size')
    for tag, value in (('width', width), ('height', height), ('depth', 3)):
        _sub(size, tag, value)
    _sub(root, 'segmented', 1)
    for obj in scene['objects']:
        node = _sub(root, 'object')
        x1, y1, x2, y2 = obj['bbox']
        # as in VOC: small cut-off objects are 'difficult' (still segmented); people may carry layout parts, whose
        # own <name> a parser must not take for an object
        difficult = int(obj['truncated'] and (x2 - x1 + 1) * (y2 - y1 + 1) < 2500)
        for tag, value in (('name', VOC_CLASSES[obj['label']]), ('pose', 'Unspecified'),
                           ('truncated', int(obj['truncated'])), ('occluded', int(obj['occluded'])),
                           ('difficult', difficult)):
            _sub(node, tag, value)
        box = _sub(node, 'bndbox')
        for tag, value in zip(('xmin', 'ymin', 'xmax', 'ymax'), obj['bbox']):
            _sub(box, tag, value + 1)  # VOC boxes are 1-based
        if VOC_CLASSES[obj['label']] == 'person':
            part = _sub(node, 'part')
            _sub(part, 'name', 'head')
            head = _sub(part, 'bndbox')
            for tag, value in zip(('xmin', 'ymin', 'xmax', 'ymax'), (x1, y1, x2, y1 + (y2 - y1) // 4)):
                _sub(head, tag, value + 1)
    return root


def _voc_scribbles(rng: np.random.Generator, scene: dict,
                   classes: Sequence[str] = VOC_CLASSES) -> List[Tuple[str, np.ndarray]]:
    """ScribbleSup strokes with the dataset's class names (``classes[0]`` is the background): the toy's strokes,
    each tagged with the class under it."""
    # the toy's sampler names its strokes with toy classes: give it toy labels, re-tag from the pixels under them
    toy_scene = dict(scene, objects=[dict(obj, label=1) for obj in scene['objects']])
    strokes = sample_scribbles(rng, toy_scene)
    tagged = []
    for tag, points in strokes:
        if tag != 'background':
            x, y = points[len(points) // 2]
            label = int(scene['semantic'][y, x])
            if not 0 < label < len(classes):
                continue
            tag = classes[label]
        tagged.append((tag, points))
    return tagged


def _savemat_v5(path: str, variables: dict) -> None:
    """``scipy.io.savemat`` (v5, compressed) with a fixed header date, so the bytes depend on the data only."""
    import scipy.io
    scipy.io.savemat(path, variables, format='5', do_compression=True, oned_as='column')
    with open(path, 'r+b') as f:
        f.write(_MAT5_HEADER)


def write_mcg_proposals(path: str, rng: np.random.Generator, instance: np.ndarray, cell: int = 24,
                        num_random: int = 12) -> int:
    """MCG's per-image format: ``superpixels`` (H, W) uint16 1-based ids, ``labels`` a cell array (N, 1) of
    superpixel id vectors, ``scores`` (N, 1) and ``bboxes`` (N, 4) [top left bottom right], 1-based. Superpixels
    are grid cells split along the objects (and the boundary band); proposals are each object's superpixels, the
    same grown / shrunk, and random rectangles of cells. Returns the number of proposals."""
    height, width = instance.shape
    ys, xs = np.mgrid[:height, :width]
    grid = (ys // cell) * ((width + cell - 1) // cell) + xs // cell
    key = grid.astype(np.int64) * 256 + instance
    _, inverse = np.unique(key.ravel(), return_inverse=True)
    superpixels = inverse.reshape(height, width).astype(np.uint16) + 1
    n_sp = int(superpixels.max())
    owner = np.zeros(n_sp + 1, np.int64)  # the instance of each superpixel
    owner[superpixels.ravel()] = instance.ravel()
    proposals = []
    for k in np.unique(instance):
        if k in (0, 255):
            continue
        ids = np.nonzero(owner == k)[0]
        proposals.append((ids, rng.uniform(0.8, 1.0)))
        mask = cv2.dilate((instance == k).astype(np.uint8), np.ones((cell, cell), np.uint8)) > 0
        proposals.append((np.unique(superpixels[mask]), rng.uniform(0.5, 0.8)))
        if len(ids) > 2:
            proposals.append((rng.choice(ids, len(ids) // 2, replace=False), rng.uniform(0.3, 0.6)))
    for _ in range(num_random):
        y1, x1 = int(rng.integers(0, height - 20)), int(rng.integers(0, width - 20))
        y2, x2 = int(rng.integers(y1 + 10, height)), int(rng.integers(x1 + 10, width))
        proposals.append((np.unique(superpixels[y1:y2, x1:x2]), rng.uniform(0.0, 0.5)))
    # per-superpixel extents, for the proposals' boxes
    flat = superpixels.ravel()
    sp_box = np.stack([np.full(n_sp + 1, height), np.full(n_sp + 1, width), np.full(n_sp + 1, -1),
                       np.full(n_sp + 1, -1)], 1)
    np.minimum.at(sp_box[:, 0], flat, ys.ravel())
    np.minimum.at(sp_box[:, 1], flat, xs.ravel())
    np.maximum.at(sp_box[:, 2], flat, ys.ravel())
    np.maximum.at(sp_box[:, 3], flat, xs.ravel())
    labels = np.empty((len(proposals), 1), dtype=object)
    scores = np.zeros((len(proposals), 1))
    bboxes = np.zeros((len(proposals), 4))
    for i, (ids, score) in enumerate(proposals):
        ids = np.sort(np.asarray(ids, np.uint32))
        labels[i, 0] = ids.reshape(1, -1)
        scores[i, 0] = round(float(score), 4)
        box = sp_box[ids.astype(np.int64)]
        bboxes[i] = [box[:, 0].min() + 1, box[:, 1].min() + 1, box[:, 2].max() + 1, box[:, 3].max() + 1]
    _savemat_v5(path, dict(superpixels=superpixels, labels=labels, scores=scores, bboxes=bboxes))
    return len(proposals)


def generate_voc_miniature(out_dir: str, seed: int = 0) -> dict:
    """``VOCdevkit/VOC2012`` with the real lists, files and formats (see module doc and README)."""
    root = osp.join(out_dir, 'VOCdevkit', 'VOC2012')
    for sub in ('JPEGImages', 'Annotations', 'SegmentationClass', 'SegmentationObject', 'SegmentationClassAug',
                'ImageSets/Segmentation', 'ImageSets/Main', 'ScribbleAnnotation/pascal_2012', 'MCG'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    train_aug = sorted(VOC_TRAIN + VOC_SBD_ONLY)
    val = sorted(VOC_VAL)
    voc_annotated = set(VOC_TRAIN) | set(VOC_VAL)  # SegmentationClass / SegmentationObject: VOC's own masks only
    counts = dict(objects=0, proposals=0)
    for index, name in enumerate(sorted(train_aug + val)):
        rng = _rng(seed, 0, index)
        width, height = VOC_SIZES[index % len(VOC_SIZES)]
        scene = render_scene(rng, width, height, len(VOC_CLASSES))
        Image.fromarray(scene['image']).save(osp.join(root, 'JPEGImages', f'{name}.jpg'), **_JPEG_PARAMS)
        _write_xml(_voc_xml(name, scene), osp.join(root, 'Annotations', f'{name}.xml'))
        if name in voc_annotated:
            _save_png(osp.join(root, 'SegmentationClass', f'{name}.png'), scene['semantic'], palette=True)
            _save_png(osp.join(root, 'SegmentationObject', f'{name}.png'), scene['instance'], palette=True)
        if name in train_aug:  # SBD converted to PNG (mmseg's voc_aug.py): plain indices; VOC's own keep the band
            aug = scene['semantic'] if name in voc_annotated else _fill_band(scene['semantic'])
            _save_png(osp.join(root, 'SegmentationClassAug', f'{name}.png'), aug)
        strokes = _voc_scribbles(rng, scene)
        _write_xml(_scribble_xml(name, scene['semantic'].shape, strokes),
                   osp.join(root, 'ScribbleAnnotation', 'pascal_2012', f'{name}.xml'))
        counts['proposals'] += write_mcg_proposals(osp.join(root, 'MCG', f'{name}.mat'), rng, scene['instance'])
        counts['objects'] += len(scene['objects'])
    lists = dict(train=sorted(VOC_TRAIN), val=val, train_aug=train_aug, trainval=sorted(VOC_TRAIN + VOC_VAL))
    for split, names in lists.items():
        _write_lines(osp.join(root, 'ImageSets', 'Segmentation', f'{split}.txt'), names)
    for split in ('train', 'val', 'trainval'):
        _write_lines(osp.join(root, 'ImageSets', 'Main', f'{split}.txt'), lists[split])
    return dict(voc_train_aug=len(train_aug), voc_train=len(VOC_TRAIN), voc_val=len(val),
                voc_objects=counts['objects'], voc_proposals=counts['proposals'])


# ------------------------------------------------------------------------------------------------ PASCAL-Context
def generate_context_miniature(out_dir: str, seed: int = 0) -> dict:
    """``VOCdevkit/VOC2010`` as mmseg's ``pascal_context.py`` converter leaves it, plus ScribbleSup scribbles:
    ``JPEGImages``, ``SegmentationClassContext`` (plain PNGs, 0 = background, 1..59 the 59 classes of mmseg's
    :class:`PascalContextDataset`), ``ImageSets/SegmentationContext/{train,val}.txt`` and
    ``ScribbleAnnotation/pascal_context/<name>.xml`` (scribbles with the Context class names)."""
    from mmseg.datasets import PascalContextDataset
    classes = PascalContextDataset.METAINFO['classes']
    root = osp.join(out_dir, 'VOCdevkit', 'VOC2010')
    for sub in ('JPEGImages', 'SegmentationClassContext', 'ImageSets/SegmentationContext',
                'ScribbleAnnotation/pascal_context'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    for index, name in enumerate(sorted(CONTEXT_TRAIN + CONTEXT_VAL)):
        rng = _rng(seed, 3, index)
        width, height = VOC_SIZES[index % len(VOC_SIZES)]
        scene = render_scene(rng, width, height, len(classes))
        Image.fromarray(scene['image']).save(osp.join(root, 'JPEGImages', f'{name}.jpg'), **_JPEG_PARAMS)
        _save_png(osp.join(root, 'SegmentationClassContext', f'{name}.png'), _fill_band(scene['semantic']))
        _write_xml(_scribble_xml(name, scene['semantic'].shape, _voc_scribbles(rng, scene, classes)),
                   osp.join(root, 'ScribbleAnnotation', 'pascal_context', f'{name}.xml'))
    for split, names in (('train', CONTEXT_TRAIN), ('val', CONTEXT_VAL)):
        _write_lines(osp.join(root, 'ImageSets', 'SegmentationContext', f'{split}.txt'), sorted(names))
    return dict(context_train=len(CONTEXT_TRAIN), context_val=len(CONTEXT_VAL))


# -------------------------------------------------------------------------------------------------------- COCO 2017
def _polygons(mask: np.ndarray) -> List[List[float]]:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [[float(v) for v in c.reshape(-1)] for c in contours if len(c) >= 3]


def generate_coco_miniature(out_dir: str, seed: int = 0) -> dict:
    """``coco/{train2017,val2017}/<12-digit id>.jpg`` and ``coco/annotations/instances_{train,val}2017.json``
    with the 80 COCO categories (real ids), polygon masks, ``[x, y, w, h]`` boxes."""
    root = osp.join(out_dir, 'coco')
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    categories = [dict(supercategory=s, id=i, name=n)
                  for s, i, n in zip(COCO_SUPERCATEGORIES, COCO_CATEGORY_IDS, COCO_CLASSES)]
    summary = {}
    ann_id = 1
    for part, (split, images) in enumerate(COCO_IMAGES.items()):
        os.makedirs(osp.join(root, split), exist_ok=True)
        data = dict(info=dict(description='wsseg_mm miniature of COCO 2017', version='1.0', year=2017),
                    licenses=[dict(url='http://creativecommons.org/licenses/by/2.0/', id=4,
                                   name='Attribution License')],
                    images=[], annotations=[], categories=categories)
        for index, (image_id, width, height) in enumerate(images):
            scene = render_scene(_rng(seed, 1 + part, index), width, height, len(COCO_CLASSES) + 1)
            file_name = f'{image_id:012d}.jpg'
            Image.fromarray(scene['image']).save(osp.join(root, split, file_name), **_JPEG_PARAMS)
            data['images'].append(dict(license=4, file_name=file_name, coco_url='', height=height, width=width,
                                       date_captured='2013-11-14 16:28:13', flickr_url='', id=image_id))
            instance = _fill_band(scene['instance'])
            for obj in scene['objects']:
                mask = instance == obj['instance_id']
                x1, y1, x2, y2 = mask_bbox(mask)
                data['annotations'].append(dict(
                    segmentation=_polygons(mask), area=float(mask.sum()), iscrowd=0, image_id=image_id,
                    bbox=[float(x1), float(y1), float(x2 - x1 + 1), float(y2 - y1 + 1)],
                    category_id=COCO_CATEGORY_IDS[obj['label'] - 1], id=ann_id))
                ann_id += 1
        with open(osp.join(root, 'annotations', f'instances_{split}.json'), 'w') as f:
            json.dump(data, f)
        summary[f'coco_{split}'] = len(images)
    return summary


# ------------------------------------------------------------------------------------------------------------- A2D
def _render_clip(rng: np.random.Generator, width: int, action: str) -> dict:
    """A toy clip cropped to ``width`` x 320 whose annotated frames each show an actor."""
    side = max(width, A2D_HEIGHT)
    for attempt in range(20):
        video = render_toy_video(rng, side // 2, A2D_NUM_FRAMES, action)
        y0 = int(rng.integers(0, side - A2D_HEIGHT + 1))
        frames = np.stack([cv2.resize(f, (side, side), interpolation=cv2.INTER_LINEAR)[y0:y0 + A2D_HEIGHT, :width]
                           for f in video['frames']])
        masks = np.stack([[cv2.resize(m.astype(np.uint8), (side, side), interpolation=cv2.INTER_NEAREST)
                           [y0:y0 + A2D_HEIGHT, :width] for m in frame_masks] for frame_masks in video['masks']])
        if all(masks[t - 1].any() for t in A2D_ANNOTATED):
            break
    return dict(frames=frames, masks=masks.astype(bool), ids=video['ids'])


def generate_a2d_miniature(out_dir: str, seed: int = 0) -> dict:
    """``A2D/Release/{videoset.csv, pngs320H/<vid>/%05d.png, Annotations/mat/<vid>/%05d.mat, Annotations/col}``."""

    root = osp.join(out_dir, 'A2D', 'Release')
    os.makedirs(root, exist_ok=True)
    rows, annotated = [], 0
    for index, (video_id, width, usage) in enumerate(A2D_VIDEOS):
        clip = _render_clip(_rng(seed, 3, index), width, VIDEO_ACTIONS[index % len(VIDEO_ACTIONS)])
        for sub in ('pngs320H', 'Annotations/mat', 'Annotations/col'):
            os.makedirs(osp.join(root, sub, video_id), exist_ok=True)
        for t, frame in enumerate(clip['frames'], 1):
            Image.fromarray(frame).save(osp.join(root, 'pngs320H', video_id, f'{t:05d}.png'), **_FAST_PNG)
        for t in A2D_ANNOTATED:
            present = clip['masks'][t - 1].any(axis=(1, 2))
            if not present.any():
                continue
            masks, ids = clip['masks'][t - 1][present], clip['ids'][present]
            write_a2d_mat(osp.join(root, 'Annotations', 'mat', video_id, f'{t:05d}.mat'), masks, ids)
            colour = np.zeros(masks.shape[1:], np.uint8)
            for mask, a2d_id in zip(masks, ids):
                colour[mask] = a2d_id_to_label(a2d_id)
            _save_png(osp.join(root, 'Annotations', 'col', video_id, f'{t:05d}.png'), colour, palette=True)
            annotated += 1
        count = sum(osp.exists(osp.join(root, 'Annotations', 'mat', video_id, f'{t:05d}.mat')) for t in A2D_ANNOTATED)
        rows.append([video_id, int(clip['ids'][0]), 0.0, round(A2D_NUM_FRAMES / 24, 4), A2D_HEIGHT, width,
                     A2D_NUM_FRAMES, count, usage])
    with open(osp.join(root, 'videoset.csv'), 'w', newline='') as f:
        csv.writer(f, lineterminator='\n').writerows(rows)
    return dict(a2d_train_videos=sum(r[-1] == 0 for r in rows), a2d_test_videos=sum(r[-1] == 1 for r in rows),
                a2d_annotated_frames=annotated)


def generate_real_miniature(out_dir: str, seed: int = 0, voc: bool = True, coco: bool = True,
                            a2d: bool = True, yto: bool = True) -> dict:
    """Write the miniature of the real datasets under ``out_dir`` (deterministic in ``seed``):

    * ``VOCdevkit/VOC2012/``: ``JPEGImages``, ``Annotations`` (VOC XML, the 20 VOC classes, 1-based boxes) and
      ``ScribbleAnnotation/pascal_2012`` + ``MCG`` (per-image proposals, MATLAB v5) for 18 images;
      ``SegmentationClass`` / ``SegmentationObject`` (palette PNGs, 255 band) for train + val only,
      ``SegmentationClassAug`` (plain PNGs) for train_aug, ``ImageSets/Segmentation/{train,val,train_aug,
      trainval}.txt``: 12 train_aug images of which the 4 of train, 6 val images outside train_aug;
    * ``VOCdevkit/VOC2010/``: PASCAL-Context (6 train, 4 val images), see :func:`generate_context_miniature`;
    * ``coco/``: ``train2017`` (4) and ``val2017`` (3) images, ``annotations/instances_{train,val}2017.json``;
    * ``A2D/Release/``: ``videoset.csv``, 4 clips (3 train, 1 test) of 12 frames, 320 px high, in
      ``pngs320H/<vid>/%05d.png``, and their annotated frames in ``Annotations/mat/<vid>/%05d.mat`` (v7.3);
    * ``YouTube-Objects/``: ``v1`` frames of 11 shots and ``youtube_masks`` of the 3 test shots, see
      :func:`~wsseg_mm.toy.miniature_yto.generate_yto_miniature`.

    Returns:
        dict of counts plus ``out_dir`` and ``seed``.
    """
    if seed < 0:
        raise ValueError(f'seed must be non-negative, got {seed}')
    summary = dict(out_dir=out_dir, seed=seed)
    if voc:
        summary.update(generate_voc_miniature(out_dir, seed))
        summary.update(generate_context_miniature(out_dir, seed))
    if coco:
        summary.update(generate_coco_miniature(out_dir, seed))
    if a2d:
        summary.update(generate_a2d_miniature(out_dir, seed))
    if yto:
        summary.update(generate_yto_miniature(out_dir, seed))
    return summary
