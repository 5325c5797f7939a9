"""Toy objects: the six shape classes (plus the videos' hexagon), their texture families, rasterisation."""
import colorsys
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

# A class is a shape plus a texture family; 'hexagon' only exists in the videos (the A2D 'dog').
SHAPE_TEXTURES: Dict[str, str] = {
    'disc': 'stripes', 'square': 'checker', 'triangle': 'dots', 'star': 'rings', 'cross': 'grid',
    'ring': 'noise', 'hexagon': 'zigzag'}
# Range of the free shape parameter (fraction of the radius): ring hole, star inner radius, cross arm half-width.
SHAPE_INNER: Dict[str, Tuple[float, float]] = {'ring': (0.5, 0.62), 'star': (0.4, 0.5), 'cross': (0.26, 0.36)}


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


def random_colors(rng: np.random.Generator) -> np.ndarray:
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
        colors=random_colors(rng), period=max(3.0, rng.uniform(0.035, 0.07) * size), phase=rng.random(2),
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


def paint_object(canvas: np.ndarray, obj: ToyShape, mask: np.ndarray) -> None:
    """Draw the object's texture into ``canvas`` (H, W, 3) float32 where ``mask`` (H, W) is set."""
    canvas[mask] = _texture(obj, canvas.shape[0])[mask]
