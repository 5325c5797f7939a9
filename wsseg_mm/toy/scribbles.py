"""ScribbleSup-style scribbles of a toy image: random strokes inside each object and the background."""
from typing import List, Tuple

import cv2
import numpy as np

from wsseg_mm.metainfo import TOY_CLASSES

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
