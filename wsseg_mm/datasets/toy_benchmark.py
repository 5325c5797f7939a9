"""The embedded toy benchmark: a small synthetic stand-in for PASCAL VOC 2012 (+ ScribbleSup scribbles) and A2D.

Images (VOC 2012 layout under ``<out>/VOCdevkit/VOC2012``) show 1-4 objects of the six
:data:`~wsseg_mm.datasets.metainfo.TOY_CLASSES`. A class is defined by its shape *and* a texture family; colour,
size, rotation, aspect and texture period/phase vary freely within a class, and the backgrounds are textured and
cluttered with distractors that belong to no class, so weak labels (image tags, boxes, scribbles) leave a real
segmentation problem. Videos (A2D layout under ``<out>/A2D/Release``) show the seven A2D actors as textured shapes
whose action can only be told from their motion.

Everything is deterministic: each sample draws from its own generator seeded by ``(seed, split, index)`` and the
JPEG/PNG/HDF5 writers use fixed parameters, so the same arguments give byte-identical files.
"""
import colorsys
import csv
import os
import os.path as osp
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import h5py
import numpy as np
from PIL import Image
from tqdm import tqdm

from .metainfo import A2D_ACTIONS, A2D_ACTORS, A2D_VALID_PAIRS, TOY_CLASSES, VOC_PALETTE, a2d_id_to_label

# A class is a shape plus a texture family; 'hexagon' only exists in the videos (the A2D 'dog').
SHAPE_TEXTURES: Dict[str, str] = {
    'disc': 'stripes', 'square': 'checker', 'triangle': 'dots', 'star': 'rings', 'cross': 'grid',
    'ring': 'noise', 'hexagon': 'zigzag'}
# Range of the free shape parameter (fraction of the radius): ring hole, star inner radius, cross arm half-width.
SHAPE_INNER: Dict[str, Tuple[float, float]] = {'ring': (0.5, 0.62), 'star': (0.4, 0.5), 'cross': (0.26, 0.36)}
A2D_ACTOR_SHAPES: Dict[str, str] = {
    'adult': 'cross', 'baby': 'ring', 'ball': 'disc', 'bird': 'triangle', 'car': 'square', 'cat': 'star',
    'dog': 'hexagon'}
# The actions rendered as motion patterns; the first actor of video i does VIDEO_ACTIONS[i % 6].
VIDEO_ACTIONS: Tuple[str, ...] = ('none', 'walking', 'running', 'jumping', 'rolling', 'flying')

MIN_VISIBLE = 0.3  # objects showing less than this fraction of their full area are not drawn
TOUCHING_PROB = 0.25  # images whose last two objects are same-class instances sharing a boundary
TWO_ACTOR_PROB = 0.3
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


# ----------------------------------------------------------------------------------------------- shapes & textures
@dataclass(frozen=True, eq=False)
class ToyShape:
    """One textured object. Pixel coordinates: x right, y down, integer values at pixel centres.

    Attributes:
        shape: key of :data:`SHAPE_TEXTURES`.
        center: (2,) x, y of the centre.
        radius: circumradius in pixels (before the aspect stretch).
        angle: rotation in radians; the texture turns with the shape.
        aspect: stretch of the shape's own x axis (its y axis is divided by it).
        inner: the shape's free parameter, see :data:`SHAPE_INNER`.
        colors: (2, 3) float32 RGB 0..255, the two colours the texture mixes.
        period: texture period in pixels.
        phase: (2,) texture offsets in periods.
        shading: (2,) linear brightness gradient per radius along the shape's own axes.
        noise_seed: seed of the 'noise' texture.
    """
    shape: str
    center: np.ndarray
    radius: float
    angle: float
    aspect: float
    inner: float
    colors: np.ndarray
    period: float
    phase: np.ndarray
    shading: np.ndarray
    noise_seed: int


def _random_colors(rng: np.random.Generator) -> np.ndarray:
    """Two RGB colours (2, 3) float32 0..255 of nearby random hue and clearly different brightness; used alike for
    objects, background and distractors so that colour says nothing about the class."""
    value = rng.uniform(0.3, 0.95)
    delta = rng.uniform(0.25, 0.5)
    value2 = value - delta if value - delta >= 0.08 else min(1.0, value + delta)
    hue = rng.random()
    hues = (hue, (hue + rng.uniform(-0.12, 0.12)) % 1.0)
    sats = rng.uniform(0.15, 0.9, 2)
    rgb = [colorsys.hsv_to_rgb(h, s, v) for h, s, v in zip(hues, sats, (value, value2))]
    return np.array(rgb, np.float32) * 255


def random_shape(rng: np.random.Generator, shape: str, size: int, center: Optional[Sequence[float]] = None,
                 radius: Optional[float] = None) -> ToyShape:
    """A :class:`ToyShape` of the given ``shape`` with random appearance for an image of side ``size``.

    ``center`` defaults to a uniform position in the middle 80% of the image, ``radius`` to 7.5-22.5% of ``size``
    (the object spans 15-45% of the image side).
    """
    center = rng.uniform(0.1, 0.9, 2) * size if center is None else center
    radius = rng.uniform(0.075, 0.225) * size if radius is None else radius
    return ToyShape(
        shape=shape, center=np.asarray(center, np.float64), radius=float(radius), angle=rng.uniform(0, 2 * np.pi),
        aspect=rng.uniform(0.9, 1.1), inner=rng.uniform(*SHAPE_INNER.get(shape, (0.5, 0.5))),
        colors=_random_colors(rng), period=max(3.0, rng.uniform(0.035, 0.07) * size), phase=rng.random(2),
        shading=rng.uniform(-0.25, 0.25, 2), noise_seed=int(rng.integers(2**31)))


def _circle(radius: float, num: int, start: float = 0.0) -> np.ndarray:
    """(num, 2) vertices of a regular polygon of circumradius ``radius``, first vertex at angle ``start``."""
    angles = start + np.arange(num) * (2 * np.pi / num)
    return radius * np.stack([np.cos(angles), np.sin(angles)], 1)


def _unit_outlines(shape: str, inner: float) -> List[np.ndarray]:
    """Outline(s) (P, 2) of a shape of circumradius ~1 in its own frame; a second outline is a hole."""
    if shape == 'disc':
        return [_circle(1, 48)]
    if shape == 'ring':
        return [_circle(1, 48), _circle(inner, 48)]
    if shape in ('square', 'triangle', 'hexagon'):
        num = dict(square=4, triangle=3, hexagon=6)[shape]
        return [_circle(1, num, dict(square=np.pi / 4, triangle=-np.pi / 2, hexagon=0.0)[shape])]
    if shape == 'star':
        points = _circle(1, 10, -np.pi / 2)
        points[1::2] *= inner
        return [points]
    if shape == 'cross':
        w = inner
        return [np.array([[w, -1], [w, -w], [1, -w], [1, w], [w, w], [w, 1], [-w, 1], [-w, w], [-1, w], [-1, -w],
                          [-w, -w], [-w, -1]])]
    raise ValueError(f'unknown toy shape {shape!r}')


def _outlines(obj: ToyShape) -> List[np.ndarray]:
    """The object's outline(s) (P, 2) in image pixel coordinates."""
    cos, sin = np.cos(obj.angle), np.sin(obj.angle)
    rotation = np.array([[cos, -sin], [sin, cos]])
    stretch = np.array([obj.aspect, 1 / obj.aspect])
    return [(pts * stretch) @ rotation.T * obj.radius + obj.center for pts in _unit_outlines(obj.shape, obj.inner)]


def _fill(shape_hw: Tuple[int, int], outlines: List[np.ndarray], offset: float = 0.0) -> np.ndarray:
    """Bool mask of ``shape_hw`` inside the first outline and outside the others (sub-pixel accurate)."""
    mask = np.zeros(shape_hw, np.uint8)
    for i, pts in enumerate(outlines):
        cv2.fillPoly(mask, [np.round((pts + offset) * 16).astype(np.int32)], 0 if i else 1, cv2.LINE_8, 4)
    return mask.astype(bool)


def shape_mask(obj: ToyShape, size: int) -> Tuple[np.ndarray, int]:
    """The (size, size) bool mask of the object inside the image and its full area in pixels (counting the part
    outside the image, so that ``mask.sum() < area`` means truncated). The centre must lie in the image."""
    pad = int(np.ceil(obj.radius * 1.2)) + 2
    full = _fill((size + 2 * pad, size + 2 * pad), _outlines(obj), pad)
    return full[pad:pad + size, pad:pad + size], int(full.sum())


def _lattice_noise(iu: np.ndarray, iv: np.ndarray, seed: int) -> np.ndarray:
    """A random value in [0, 1] per integer lattice point (iu, iv), a fixed hash of the point and ``seed``."""
    h = ((iu.astype(np.int64) * 73856093) ^ (iv.astype(np.int64) * 19349663) ^ seed) & 0xFFFFFFFF
    for _ in range(2):
        h = (((h >> 16) ^ h) * 0x45D9F3B) & 0xFFFFFFFF
    return (((h >> 16) ^ h) & 0xFFFF) / 65535.0


def _value_noise(fu: np.ndarray, fv: np.ndarray, seed: int) -> np.ndarray:
    """Smooth value noise in [0, 1] with one random value per unit cell of the (fu, fv) plane."""
    iu, iv = np.floor(fu), np.floor(fv)
    su, sv = [f * f * (3 - 2 * f) for f in (fu - iu, fv - iv)]
    top = _lattice_noise(iu, iv, seed) * (1 - su) + _lattice_noise(iu + 1, iv, seed) * su
    bottom = _lattice_noise(iu, iv + 1, seed) * (1 - su) + _lattice_noise(iu + 1, iv + 1, seed) * su
    return top * (1 - sv) + bottom * sv


def _centred_fraction(x: np.ndarray) -> np.ndarray:
    """Offset of ``x`` from the nearest half-integer, in [-0.5, 0.5): 0 mid-cell, +-0.5 on the integers."""
    return x - np.floor(x) - 0.5


# Texture families: a signed pattern of the texture coordinates fu, fv (in periods), the radius r (in periods)
# and the noise seed; positive selects the second colour.
_PATTERNS = {
    'stripes': lambda fu, fv, r, seed: np.sin(2 * np.pi * fu),
    'checker': lambda fu, fv, r, seed: 2 * np.sin(np.pi * fu) * np.sin(np.pi * fv),
    'dots': lambda fu, fv, r, seed: 8 * (0.3 - np.hypot(_centred_fraction(fu), _centred_fraction(fv))),
    'rings': lambda fu, fv, r, seed: np.sin(2 * np.pi * r),
    'grid': lambda fu, fv, r, seed: 8 * (np.maximum(abs(_centred_fraction(fu)), abs(_centred_fraction(fv))) - 0.36),
    'noise': lambda fu, fv, r, seed: 4 * (_value_noise(1.2 * fu, 1.2 * fv, seed) - 0.5),
    'zigzag': lambda fu, fv, r, seed: np.sin(2 * np.pi * (fu + 0.8 * np.abs(_centred_fraction(fv)))),
}


def _texture(obj: ToyShape, size: int) -> np.ndarray:
    """The object's shaded texture (size, size, 3) float32 over the whole image grid, in its own rotated frame."""
    ys, xs = np.mgrid[:size, :size].astype(np.float32)
    dx, dy = xs - obj.center[0], ys - obj.center[1]
    cos, sin = np.cos(obj.angle), np.sin(obj.angle)
    u, v = cos * dx + sin * dy, cos * dy - sin * dx
    fu, fv = u / obj.period + obj.phase[0], v / obj.period + obj.phase[1]
    pattern = _PATTERNS[SHAPE_TEXTURES[obj.shape]](fu, fv, np.hypot(u, v) / obj.period + obj.phase[0], obj.noise_seed)
    mix = np.clip(0.5 + 1.5 * pattern, 0, 1)[..., None]
    light = 1 + (obj.shading[0] * u + obj.shading[1] * v) / obj.radius
    return ((obj.colors[0] * (1 - mix) + obj.colors[1] * mix) * light[..., None]).astype(np.float32)


def _paint(canvas: np.ndarray, obj: ToyShape, mask: np.ndarray) -> None:
    """Draw the object's texture into ``canvas`` (H, W, 3) float32 where ``mask`` (H, W) is set."""
    canvas[mask] = _texture(obj, canvas.shape[0])[mask]


# ------------------------------------------------------------------------------------------------------ background
def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """(size, size) float32 in [0, 1]: a random ``cells`` x ``cells`` grid upsampled bicubically."""
    noise = cv2.resize(rng.random((cells, cells)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    return (noise - noise.min()) / max(float(noise.max() - noise.min()), 1e-6)


def _irregular_ellipse(rng: np.random.Generator, size: int) -> np.ndarray:
    """Outline (40, 2) of a random elongated, wobbly ellipse (never round enough to pass for a disc or ring)."""
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    a = rng.uniform(0.05, 0.2) * size
    b = a * rng.uniform(0.3, 0.65)
    wobble = 1 + sum(rng.uniform(0, 0.12) * np.cos(k * t + rng.uniform(0, 2 * np.pi)) for k in (2, 3, 5))
    angle = rng.uniform(0, np.pi)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return (np.stack([a * np.cos(t), b * np.sin(t)], 1) * wobble[:, None]) @ rotation.T + rng.uniform(0, size, 2)


def _fill_polygon(canvas: np.ndarray, outline: np.ndarray, color: np.ndarray) -> None:
    """Fill the polygon ``outline`` (P, 2) of ``canvas`` (H, W, 3) float32 with ``color`` (3,)."""
    cv2.fillPoly(canvas, [np.round(outline).astype(np.int32)], tuple(map(float, color)))


def _draw_blob(rng: np.random.Generator, canvas: np.ndarray) -> None:
    """Distractor: an irregular ellipse with a smoothly mottled fill."""
    size = canvas.shape[0]
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(_irregular_ellipse(rng, size)).astype(np.int32)], 1)
    mottle = 0.75 + 0.5 * _smooth_noise(rng, size, max(4, size // 10))
    mask = mask.astype(bool)
    canvas[mask] = _random_colors(rng)[0] * mottle[mask][:, None]


def _draw_line(rng: np.random.Generator, canvas: np.ndarray) -> None:
    """Distractor: a bent line of 1-3 px."""
    size = canvas.shape[0]
    points = np.cumsum(rng.uniform(-0.3, 0.3, (int(rng.integers(2, 5)), 2)) * size, 0) + rng.uniform(0, size, 2)
    color = tuple(map(float, _random_colors(rng)[0]))
    cv2.polylines(canvas, [np.round(points).astype(np.int32)], False, color, int(rng.integers(1, 4)))


def _draw_spot(rng: np.random.Generator, canvas: np.ndarray) -> None:
    """Distractor: a soft, blurred spot (no edge, no texture)."""
    size = canvas.shape[0]
    radius = rng.uniform(0.05, 0.15) * size
    alpha = np.zeros(canvas.shape[:2], np.float32)
    cv2.circle(alpha, tuple(int(c) for c in rng.integers(0, size, 2)), int(radius), 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), radius / 2)[..., None] * rng.uniform(0.4, 0.9)
    canvas += (_random_colors(rng)[0] - canvas) * alpha


_DISTRACTORS = (_draw_blob, _draw_line, _draw_spot)


def _render_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A cluttered background (size, size, 3) float32: two-colour smooth noise, a brightness gradient, 4-9
    distractors (blobs, lines, soft spots) and fine grain."""
    colors = _random_colors(rng)
    mix = _smooth_noise(rng, size, int(rng.integers(2, 6)))[..., None]
    canvas = colors[0] * (1 - mix) + colors[1] * mix
    ys, xs = np.mgrid[:size, :size] / size - 0.5
    gx, gy = rng.uniform(-0.4, 0.4, 2)
    canvas = (canvas * (1 + gx * xs + gy * ys)[..., None]).astype(np.float32)
    for _ in range(int(rng.integers(4, 10))):
        _DISTRACTORS[int(rng.integers(len(_DISTRACTORS)))](rng, canvas)
    grain = _smooth_noise(rng, size, max(4, size // 3))
    return canvas * (0.85 + 0.3 * grain)[..., None]


def _finish(rng: np.random.Generator, canvas: np.ndarray) -> np.ndarray:
    """Camera look: slight blur and sensor noise; returns (H, W, 3) uint8."""
    blurred = cv2.GaussianBlur(canvas, (3, 3), 0.6)
    return np.clip(blurred + rng.normal(0, 3, blurred.shape), 0, 255).round().astype(np.uint8)


# ------------------------------------------------------------------------------------------------- image layout
def _touching_pair(rng: np.random.Generator, shape: str, size: int) -> List[ToyShape]:
    """Two shapes of one class, the second pushed against the first until it covers ~4% of it, so that their
    visible parts share a boundary."""
    first = random_shape(rng, shape, size, rng.uniform(0.3, 0.7, 2) * size, rng.uniform(0.075, 0.16) * size)
    second = random_shape(rng, shape, size, radius=rng.uniform(0.075, 0.16) * size)
    towards_middle = size / 2 - first.center
    heading = np.arctan2(towards_middle[1], towards_middle[0]) + rng.uniform(-1, 1)
    direction = np.array([np.cos(heading), np.sin(heading)])
    mask, area = shape_mask(first, size)
    for dist in np.arange(1.25 * (first.radius + second.radius), 0, -0.5):
        second = replace(second, center=first.center + dist * direction)
        if (mask & shape_mask(second, size)[0]).sum() >= 0.04 * area:
            break
    return [first, second]


def _sample_layout(rng: np.random.Generator, size: int) -> List[Tuple[int, ToyShape]]:
    """1-4 objects as (label, shape) in drawing order; with probability TOUCHING_PROB the last two are a
    touching same-class pair."""
    touching = rng.random() < TOUCHING_PROB
    count = int(rng.integers(2 if touching else 1, 5))
    labels = rng.integers(1, len(TOY_CLASSES), count).tolist()
    loose = count - 2 if touching else count
    shapes = [random_shape(rng, TOY_CLASSES[label], size) for label in labels[:loose]]
    if touching:
        labels[-1] = labels[-2]
        shapes += _touching_pair(rng, TOY_CLASSES[labels[-1]], size)
    return list(zip(labels, shapes))


def _visible(masks: Sequence[np.ndarray]) -> List[np.ndarray]:
    """Visible part of each (H, W) bool mask when later masks are drawn over earlier ones."""
    covered = np.zeros_like(masks[0])
    visible = []
    for mask in reversed(masks):
        visible.append(mask & ~covered)
        covered = covered | mask
    return visible[::-1]


def _kept_objects(masks: Sequence[np.ndarray], areas: Sequence[int]) -> List[int]:
    """Indices of the objects left after repeatedly dropping the least visible one while any shows less than
    MIN_VISIBLE of its full area (occlusion and truncation both count)."""
    keep = list(range(len(masks)))
    while keep:
        fractions = [v.sum() / max(areas[i], 1) for v, i in zip(_visible([masks[i] for i in keep]), keep)]
        worst = int(np.argmin(fractions))
        if fractions[worst] >= MIN_VISIBLE:
            break
        keep.pop(worst)
    return keep


def _bbox(mask: np.ndarray) -> List[int]:
    """[x1, y1, x2, y2] 0-based inclusive pixel bounds of a non-empty (H, W) mask."""
    ys, xs = np.nonzero(mask)
    return [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]


def _boundary_band(instance: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels with a differently labelled 8-neighbour, a 2 px band along every boundary."""
    kernel = np.ones((3, 3), np.uint8)
    return cv2.dilate(instance, kernel) != cv2.erode(instance, kernel)


def same_class_masks_touch(masks: Sequence[np.ndarray], labels: Sequence[int], gap: int = 1) -> bool:
    """Whether two (H, W) bool masks of the same label come within ``gap`` pixels (chessboard distance) of each
    other; ``gap=1``: 8-adjacent."""
    kernel = np.ones((2 * gap + 1, 2 * gap + 1), np.uint8)
    for i in range(len(masks)):
        others = [j for j in range(i + 1, len(masks)) if labels[j] == labels[i]]
        if others:
            grown = cv2.dilate(masks[i].astype(np.uint8), kernel).astype(bool)
            if any((grown & masks[j]).any() for j in others):
                return True
    return False


def _layout_masks(rng: np.random.Generator, size: int) -> Tuple[list, list, list]:
    """A layout with at least one object after dropping hidden ones: (label, shape) pairs, their in-image masks
    and their full areas, in drawing order."""
    while True:
        layout = _sample_layout(rng, size)
        masks, areas = zip(*(shape_mask(obj, size) for _, obj in layout))
        keep = _kept_objects(masks, areas)
        if keep:
            return [layout[i] for i in keep], [masks[i] for i in keep], [areas[i] for i in keep]


def render_toy_image(rng: np.random.Generator, size: int = 128) -> dict:
    """Render one toy image with its VOC-style annotation.

    Args:
        rng: the sample's generator (see :func:`sample_rng`).
        size: image side in pixels.

    Returns:
        dict with ``image`` (size, size, 3) uint8 RGB; ``semantic`` (size, size) uint8 class index into
        TOY_CLASSES and ``instance`` (size, size) uint8 instance id 1..K (0 = background), both with 255 on the
        2 px void band along every object boundary, as VOC marks it; ``objects``: K dicts (in instance id order)
        with ``label`` (class index), ``bbox`` [x1, y1, x2, y2] 0-based inclusive bounds of the visible part,
        ``instance_id``, ``truncated`` (cut by the image border) and ``occluded`` (>5% hidden by later objects);
        ``touching``: whether two same-class instances share a boundary.
    """
    canvas = _render_background(rng, size)
    layout, masks, areas = _layout_masks(rng, size)
    for (_, obj), mask in zip(layout, masks):
        _paint(canvas, obj, mask)
    visible = _visible(masks)
    labels = [label for label, _ in layout]
    instance = np.zeros((size, size), np.uint8)
    semantic = np.zeros((size, size), np.uint8)
    for k, (mask, label) in enumerate(zip(visible, labels), 1):
        instance[mask], semantic[mask] = k, label
    band = _boundary_band(instance)
    instance[band], semantic[band] = 255, 255
    objects = [dict(label=label, bbox=_bbox(vis), instance_id=k, truncated=bool(mask.sum() < area),
                    occluded=bool(vis.sum() < 0.95 * mask.sum()))
               for k, (label, mask, vis, area) in enumerate(zip(labels, masks, visible, areas), 1)]
    return dict(image=_finish(rng, canvas), semantic=semantic, instance=instance, objects=objects,
                touching=same_class_masks_touch(visible, labels))


def render_object_image(rng: np.random.Generator, size: int = 128) -> dict:
    """One object-centred toy image for classification pretraining, the toy's stand-in for ImageNet: a cluttered
    background (as in the benchmark images) and a single textured object of a random class, centred in the middle
    40% of the image, radius 12-30% of the side.

    Returns:
        dict with ``image`` (size, size, 3) uint8 RGB, ``semantic`` (size, size) uint8 (the object's class on its
        pixels, 0 elsewhere) and ``objects``: one dict with ``label``, ``bbox`` (0-based inclusive), ``instance_id``
        1, ``truncated`` and ``occluded`` False, in the layout of :func:`render_toy_image`.
    """
    canvas = _render_background(rng, size)
    label = int(rng.integers(1, len(TOY_CLASSES)))
    obj = random_shape(rng, TOY_CLASSES[label], size, center=rng.uniform(0.3, 0.7, 2) * size,
                       radius=rng.uniform(0.12, 0.3) * size)
    mask, _ = shape_mask(obj, size)
    _paint(canvas, obj, mask)
    semantic = np.where(mask, label, 0).astype(np.uint8)
    return dict(image=_finish(rng, canvas), semantic=semantic,
                objects=[dict(label=label, bbox=_bbox(mask), instance_id=1, truncated=False, occluded=False)])


# ------------------------------------------------------------------------------------------------------- scribbles
_TURNS = np.array([0.0] + [sign * k * 0.25 for k in range(1, 9) for sign in (1, -1)])  # preferred first


def _walk(rng: np.random.Generator, allowed: np.ndarray, start: Tuple[int, int], num_points: int,
          step: float) -> List[Tuple[int, int]]:
    """A smooth random walk of up to ``num_points`` distinct integer (x, y) points ``step`` px apart that stays on
    the True pixels of ``allowed`` (H, W); it turns away from the region's edge and stops when cornered."""
    points = [start]
    heading = rng.uniform(0, 2 * np.pi)
    while len(points) < num_points:
        heading += rng.normal(0, 0.3)
        for turn in _TURNS:
            x = int(round(points[-1][0] + step * np.cos(heading + turn)))
            y = int(round(points[-1][1] + step * np.sin(heading + turn)))
            if 0 <= y < allowed.shape[0] and 0 <= x < allowed.shape[1] and allowed[y, x] and (x, y) not in points:
                heading += turn
                points.append((x, y))
                break
        else:
            break
    return points


def _random_stroke(rng: np.random.Generator, region: np.ndarray, num_points: int, step: float) -> np.ndarray:
    """A scribble (P, 2) int x, y on ``region`` (H, W) bool, P <= ``num_points``: the longest of 4 random walks on
    the pixels at least 2 px from the region's border, or 1 or 0 px when that gives fewer than 5 points;
    (0, 2) for an empty region."""
    dist = cv2.distanceTransform(np.pad(region, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    best: List[Tuple[int, int]] = []
    for min_dist in (3, 2, 1):
        allowed = dist >= min_dist
        ys, xs = np.nonzero(allowed)
        for _ in range(4 if len(xs) else 0):
            i = int(rng.integers(len(xs)))
            points = _walk(rng, allowed, (int(xs[i]), int(ys[i])), num_points, min(step, min_dist + 0.5))
            best = points if len(points) > len(best) else best
        if len(best) >= min(5, num_points):
            break
    return np.array(best, np.int64).reshape(-1, 2)


def sample_scribbles(rng: np.random.Generator, sample: dict) -> List[Tuple[str, np.ndarray]]:
    """ScribbleSup-style strokes for a :func:`render_toy_image` sample: one stroke of 5-15 points inside each
    object's visible mask (tag = class name, in object order; skipped if the mask is empty), then 2-4 strokes on
    the background (tag 'background'). Points are (P, 2) int 0-based x, y."""
    semantic, instance = sample['semantic'], sample['instance']
    step = float(np.clip(0.02 * max(semantic.shape), 1.5, 3.0))
    strokes = []
    for obj in sample['objects']:
        points = _random_stroke(rng, instance == obj['instance_id'], int(rng.integers(5, 16)), step)
        if len(points):
            strokes.append((TOY_CLASSES[obj['label']], points))
    for _ in range(int(rng.integers(2, 5))):
        points = _random_stroke(rng, semantic == 0, int(rng.integers(5, 16)), 1.3 * step)
        if len(points):
            strokes.append(('background', points))
    return strokes


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


def _voc_xml(name: str, sample: dict) -> ET.Element:
    """PASCAL VOC annotation: size, then one object per instance with its 1-based visible bbox."""
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
        for tag, value in (('name', TOY_CLASSES[obj['label']]), ('pose', 'Unspecified'),
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


def generate_object_images(out_dir: str, seed: int = 0, image_size: int = 128, num_images: int = 3000,
                           progress: bool = True) -> dict:
    """Write object-centred classification images (:func:`render_object_image`) under ``<out_dir>/ToyObjects``
    in the VOC layout (``JPEGImages``, ``Annotations`` with one object each, ``ImageSets/Main/train.txt``), so that
    :class:`VOCImageLabelDataset` reads their image labels. The toy IRNet pipeline pretrains its backbone on them
    where the real one starts from ImageNet. Image ``i`` depends only on ``(seed, i)``.

    Returns:
        dict with ``num_object_images`` and ``object_class_counts`` (images per class name).
    """
    root = osp.join(out_dir, 'ToyObjects')
    for sub in ('JPEGImages', 'Annotations', 'ImageSets/Main'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    names, classes = [], Counter()
    for index in tqdm(range(num_images), desc='toy object images', disable=not progress):
        name = f'obj_{index:06d}'
        sample = render_object_image(sample_rng(seed, 'objects', index), image_size)
        Image.fromarray(sample['image']).save(osp.join(root, 'JPEGImages', f'{name}.jpg'), **_JPEG_PARAMS)
        _write_xml(_voc_xml(name, sample), osp.join(root, 'Annotations', f'{name}.xml'))
        names.append(name)
        classes[TOY_CLASSES[sample['objects'][0]['label']]] += 1
    _write_lines(osp.join(root, 'ImageSets', 'Main', 'train.txt'), names)
    return dict(num_object_images=num_images, object_class_counts={c: classes[c] for c in TOY_CLASSES[1:]})


# ---------------------------------------------------------------------------------------------------------- videos
def _static(rng: np.random.Generator, size: int, t: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """'none': sub-pixel jitter only."""
    return rng.normal(0, 0.25, (len(t), 2)), np.zeros(len(t))


def _translation(speed: Tuple[float, float]):
    """A straight, constant-velocity motion with speed in ``speed`` (fractions of the image side per frame),
    heading within ~23 degrees of horizontal."""
    def motion(rng: np.random.Generator, size: int, t: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        heading = rng.uniform(-0.4, 0.4) + np.pi * (rng.random() < 0.5)
        velocity = rng.uniform(*speed) * size * np.array([np.cos(heading), np.sin(heading)])
        return (t - t.mean())[:, None] * velocity, np.zeros(len(t))
    return motion


def _jump(rng: np.random.Generator, size: int, t: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """'jumping': bounces (|sin| of height 12-20% of the side, 5-8 frames each) with a slight drift."""
    height, period = rng.uniform(0.12, 0.2) * size, rng.uniform(5, 8)
    drift = rng.uniform(-0.004, 0.004) * size * (t - t.mean())
    return np.stack([drift, -height * np.abs(np.sin(np.pi * t / period + rng.uniform(0, np.pi)))], 1), np.zeros(len(t))


def _roll(rng: np.random.Generator, size: int, t: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """'rolling': spins at 0.2-0.45 rad per frame, in place or while translating slowly."""
    spin = rng.uniform(0.2, 0.45) * rng.choice([-1, 1]) * t
    return _translation((0.0, 0.006))(rng, size, t)[0], spin


def _fly(rng: np.random.Generator, size: int, t: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """'flying': horizontal drift with a sinusoidal vertical sway."""
    speed = rng.uniform(0.012, 0.02) * size * rng.choice([-1, 1])
    amplitude, period = rng.uniform(0.06, 0.1) * size, rng.uniform(8, 14)
    sway = amplitude * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    return np.stack([speed * (t - t.mean()), sway], 1), np.zeros(len(t))


# action -> f(rng, size, frame times (T,)) -> (offsets (T, 2) px, added rotation (T,) rad)
_MOTIONS = {'none': _static, 'walking': _translation((0.005, 0.01)), 'running': _translation((0.022, 0.035)),
            'jumping': _jump, 'rolling': _roll, 'flying': _fly}


def _fit_track(rng: np.random.Generator, offsets: np.ndarray, size: int, margin: float) -> np.ndarray:
    """Centres (T, 2): ``offsets`` (T, 2), shrunk if they do not fit in [margin, size - margin], shifted to a
    random position where they do."""
    span = float((offsets.max(0) - offsets.min(0)).max())
    offsets = offsets * min(1.0, (size - 2 * margin) / max(span, 1e-6))
    return rng.uniform(margin - offsets.min(0), size - margin - offsets.max(0)) + offsets


def _actor_track(rng: np.random.Generator, actor: str, action: str, size: int, num_frames: int) -> List[ToyShape]:
    """The actor's shape in each of ``num_frames`` frames, moved and turned by the action's motion."""
    base = random_shape(rng, A2D_ACTOR_SHAPES[actor], size, (0.0, 0.0), rng.uniform(0.08, 0.18) * size)
    offsets, spin = _MOTIONS[action](rng, size, np.arange(num_frames, dtype=np.float64))
    centers = _fit_track(rng, offsets, size, 0.15 * size)
    return [replace(base, center=c, angle=base.angle + a) for c, a in zip(centers, spin)]


def _video_actors(rng: np.random.Generator, action: Optional[str]) -> List[Tuple[str, str]]:
    """(actor, action) pairs in drawing order: an actor able to do ``action`` (random when None) and, with
    probability TWO_ACTOR_PROB, a second random actor with its own random valid action."""
    action = action or str(rng.choice(VIDEO_ACTIONS))
    actors = [(str(rng.choice([a for a in A2D_ACTORS if action in A2D_VALID_PAIRS[a]])), action)]
    if rng.random() < TWO_ACTOR_PROB:
        actor = str(rng.choice(A2D_ACTORS))
        actors.append((actor, str(rng.choice([m for m in VIDEO_ACTIONS if m in A2D_VALID_PAIRS[actor]]))))
    return actors


def _render_frame(rng: np.random.Generator, background: np.ndarray, movers: list, shapes: List[ToyShape],
                  t: int) -> Tuple[np.ndarray, np.ndarray]:
    """Frame ``t`` (H, W, 3) uint8 and the visible masks (N, H, W) bool of ``shapes`` (drawn in order)."""
    canvas = background.copy()
    for outline, velocity, color in movers:
        _fill_polygon(canvas, outline + t * velocity, color)
    masks = [shape_mask(obj, canvas.shape[0])[0] for obj in shapes]
    for obj, mask in zip(shapes, masks):
        _paint(canvas, obj, mask)
    return _finish(rng, canvas), np.stack(_visible(masks))


def render_toy_video(rng: np.random.Generator, size: int = 128, num_frames: int = 16,
                     action: Optional[str] = None) -> dict:
    """Render one toy clip: 1 or 2 actors (A2D_ACTOR_SHAPES) whose actions are motion patterns, on a textured
    background with 0-2 slowly drifting distractor blobs.

    Args:
        rng: the clip's generator (see :func:`sample_rng`).
        size: frame side in pixels.
        num_frames: clip length T.
        action: the first actor's action (one of VIDEO_ACTIONS); random when None.

    Returns:
        dict with ``frames`` (T, size, size, 3) uint8 RGB, ``masks`` (T, N, size, size) bool visible masks of the
        N actors (later actors occlude earlier ones), ``ids`` (N,) int A2D ids (actor * 10 + action) and
        ``actors`` [(actor, action)] in the same order.
    """
    background = _render_background(rng, size)
    movers = [(_irregular_ellipse(rng, size), rng.uniform(-0.004, 0.004, 2) * size, _random_colors(rng)[0])
              for _ in range(int(rng.integers(0, 3)))]
    actors = _video_actors(rng, action)
    tracks = [_actor_track(rng, actor, act, size, num_frames) for actor, act in actors]
    frames, masks = zip(*(_render_frame(rng, background, movers, [track[t] for track in tracks], t)
                          for t in range(num_frames)))
    ids = [(A2D_ACTORS.index(actor) + 1) * 10 + A2D_ACTIONS.index(act) + 1 for actor, act in actors]
    return dict(frames=np.stack(frames), masks=np.stack(masks), ids=np.array(ids, np.int64), actors=actors)


def write_a2d_mat(path: str, masks: np.ndarray, ids: Sequence[int]) -> None:
    """Write one A2D frame annotation as MATLAB v7.3 does: HDF5 behind a 512-byte userblock holding the MATLAB
    header. ``masks`` (N, H, W) bool/uint8 with N >= 1, ``ids`` (N,) A2D ids. h5py sees MATLAB's arrays
    transposed: ``reMask`` uint8 (N, W, H) ((W, H) when N == 1), ``reBBox`` float64 (N, 4) rows of 1-based
    [x1, y1, x2, y2], ``id`` float64 (N, 1)."""
    masks = np.asarray(masks, np.uint8)
    stored = masks.transpose(0, 2, 1)
    datasets = (('reMask', stored[0] if len(masks) == 1 else stored, 'uint8'),
                ('reBBox', np.array([_bbox(m) for m in masks], np.float64) + 1, 'double'),
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
                           num_object_images: int = 0, progress: bool = True) -> dict:
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
        summary.update(generate_object_images(out_dir, seed, image_size, num_object_images, progress))
    return summary
