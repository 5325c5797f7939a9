"""Toy scenes: cluttered textured backgrounds, object layouts (occlusion, touching same-class pairs), and the
rendered multi-object and object-centred images with their ground truth."""
from dataclasses import replace
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from wsseg_mm.functional.instance import same_class_masks_touch
from wsseg_mm.metainfo import TOY_CLASSES

from .shapes import ToyShape, paint_object, random_colors, random_shape, shape_mask

MIN_VISIBLE = 0.3  # objects showing less than this fraction of their full area are not drawn
TOUCHING_PROB = 0.25  # images whose last two objects are same-class instances sharing a boundary


# ------------------------------------------------------------------------------------------------------ background
def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """(size, size) float32 in [0, 1]: a random ``cells`` x ``cells`` grid upsampled bicubically."""
    noise = cv2.resize(rng.random((cells, cells)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    return (noise - noise.min()) / max(float(noise.max() - noise.min()), 1e-6)


def irregular_ellipse(rng: np.random.Generator, size: int) -> np.ndarray:
    """Outline (40, 2) of a random elongated, wobbly ellipse (never round enough to pass for a disc or ring)."""
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    a = rng.uniform(0.05, 0.2) * size
    b = a * rng.uniform(0.3, 0.65)
    wobble = 1 + sum(rng.uniform(0, 0.12) * np.cos(k * t + rng.uniform(0, 2 * np.pi)) for k in (2, 3, 5))
    angle = rng.uniform(0, np.pi)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return (np.stack([a * np.cos(t), b * np.sin(t)], 1) * wobble[:, None]) @ rotation.T + rng.uniform(0, size, 2)


def fill_polygon(canvas: np.ndarray, outline: np.ndarray, color: np.ndarray) -> None:
    """Fill the polygon ``outline`` (P, 2) of ``canvas`` (H, W, 3) float32 with ``color`` (3,)."""
    cv2.fillPoly(canvas, [np.round(outline).astype(np.int32)], tuple(map(float, color)))


def _draw_blob(rng: np.random.Generator, canvas: np.ndarray) -> None:
    """Distractor: an irregular ellipse with a smoothly mottled fill."""
    size = canvas.shape[0]
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(irregular_ellipse(rng, size)).astype(np.int32)], 1)
    mottle = 0.75 + 0.5 * _smooth_noise(rng, size, max(4, size // 10))
    mask = mask.astype(bool)
    canvas[mask] = random_colors(rng)[0] * mottle[mask][:, None]


def _draw_line(rng: np.random.Generator, canvas: np.ndarray) -> None:
    """Distractor: a bent line of 1-3 px."""
    size = canvas.shape[0]
    points = np.cumsum(rng.uniform(-0.3, 0.3, (int(rng.integers(2, 5)), 2)) * size, 0) + rng.uniform(0, size, 2)
    color = tuple(map(float, random_colors(rng)[0]))
    cv2.polylines(canvas, [np.round(points).astype(np.int32)], False, color, int(rng.integers(1, 4)))


def _draw_spot(rng: np.random.Generator, canvas: np.ndarray) -> None:
    """Distractor: a soft, blurred spot (no edge, no texture)."""
    size = canvas.shape[0]
    radius = rng.uniform(0.05, 0.15) * size
    alpha = np.zeros(canvas.shape[:2], np.float32)
    cv2.circle(alpha, tuple(int(c) for c in rng.integers(0, size, 2)), int(radius), 1.0, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), radius / 2)[..., None] * rng.uniform(0.4, 0.9)
    canvas += (random_colors(rng)[0] - canvas) * alpha


_DISTRACTORS = (_draw_blob, _draw_line, _draw_spot)


def render_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A cluttered background (size, size, 3) float32: two-colour smooth noise, a brightness gradient, 4-9
    distractors (blobs, lines, soft spots) and fine grain."""
    colors = random_colors(rng)
    mix = _smooth_noise(rng, size, int(rng.integers(2, 6)))[..., None]
    canvas = colors[0] * (1 - mix) + colors[1] * mix
    ys, xs = np.mgrid[:size, :size] / size - 0.5
    gx, gy = rng.uniform(-0.4, 0.4, 2)
    canvas = (canvas * (1 + gx * xs + gy * ys)[..., None]).astype(np.float32)
    for _ in range(int(rng.integers(4, 10))):
        _DISTRACTORS[int(rng.integers(len(_DISTRACTORS)))](rng, canvas)
    grain = _smooth_noise(rng, size, max(4, size // 3))
    return canvas * (0.85 + 0.3 * grain)[..., None]


def finish_image(rng: np.random.Generator, canvas: np.ndarray) -> np.ndarray:
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


def visible_masks(masks: Sequence[np.ndarray]) -> List[np.ndarray]:
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
        fractions = [v.sum() / max(areas[i], 1) for v, i in zip(visible_masks([masks[i] for i in keep]), keep)]
        worst = int(np.argmin(fractions))
        if fractions[worst] >= MIN_VISIBLE:
            break
        keep.pop(worst)
    return keep


def mask_bbox(mask: np.ndarray) -> List[int]:
    """[x1, y1, x2, y2] 0-based inclusive pixel bounds of a non-empty (H, W) mask."""
    ys, xs = np.nonzero(mask)
    return [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]


def _boundary_band(instance: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels with a differently labelled 8-neighbour, a 2 px band along every boundary."""
    kernel = np.ones((3, 3), np.uint8)
    return cv2.dilate(instance, kernel) != cv2.erode(instance, kernel)


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
    canvas = render_background(rng, size)
    layout, masks, areas = _layout_masks(rng, size)
    for (_, obj), mask in zip(layout, masks):
        paint_object(canvas, obj, mask)
    visible = visible_masks(masks)
    labels = [label for label, _ in layout]
    instance = np.zeros((size, size), np.uint8)
    semantic = np.zeros((size, size), np.uint8)
    for k, (mask, label) in enumerate(zip(visible, labels), 1):
        instance[mask], semantic[mask] = k, label
    band = _boundary_band(instance)
    instance[band], semantic[band] = 255, 255
    objects = [dict(label=label, bbox=mask_bbox(vis), instance_id=k, truncated=bool(mask.sum() < area),
                    occluded=bool(vis.sum() < 0.95 * mask.sum()))
               for k, (label, mask, vis, area) in enumerate(zip(labels, masks, visible, areas), 1)]
    return dict(image=finish_image(rng, canvas), semantic=semantic, instance=instance, objects=objects,
                touching=same_class_masks_touch(visible, labels))


def render_object_image(rng: np.random.Generator, size: int = 128, classes: Sequence[str] = TOY_CLASSES,
                        radius: Tuple[float, float] = (0.12, 0.3)) -> dict:
    """One object-centred toy image for classification pretraining, the toy's stand-in for ImageNet: a cluttered
    background (as in the benchmark images) and a single textured object of a random class, centred in the middle
    40% of the image.

    Args:
        rng: the image's generator.
        size: image side in pixels.
        classes: ``('background', shape, ...)``: the shapes to draw from (the default: the six image classes).
        radius: range of the object's radius as a fraction of ``size``.

    Returns:
        dict with ``image`` (size, size, 3) uint8 RGB, ``semantic`` (size, size) uint8 (the object's class index in
        ``classes`` on its pixels, 0 elsewhere) and ``objects``: one dict with ``label``, ``bbox`` (0-based
        inclusive), ``instance_id`` 1, ``truncated`` and ``occluded`` False, in the layout of
        :func:`render_toy_image`.
    """
    canvas = render_background(rng, size)
    label = int(rng.integers(1, len(classes)))
    obj = random_shape(rng, classes[label], size, center=rng.uniform(0.3, 0.7, 2) * size,
                       radius=rng.uniform(*radius) * size)
    mask, _ = shape_mask(obj, size)
    paint_object(canvas, obj, mask)
    semantic = np.where(mask, label, 0).astype(np.uint8)
    return dict(image=finish_image(rng, canvas), semantic=semantic,
                objects=[dict(label=label, bbox=mask_bbox(mask), instance_id=1, truncated=False, occluded=False)])
