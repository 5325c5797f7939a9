"""Toy A2D clips: the seven A2D actors as textured shapes whose action is a motion pattern."""
from dataclasses import replace
from typing import Dict, List, Optional, Tuple

import numpy as np

from wsseg_mm.metainfo import A2D_ACTIONS, A2D_ACTORS, A2D_VALID_PAIRS

from .scenes import fill_polygon, finish_image, irregular_ellipse, render_background, visible_masks
from .shapes import ToyShape, paint_object, random_colors, random_shape, shape_mask

A2D_ACTOR_SHAPES: Dict[str, str] = {
    'adult': 'cross', 'baby': 'ring', 'ball': 'disc', 'bird': 'triangle', 'car': 'square', 'cat': 'star',
    'dog': 'hexagon'}
# The actions rendered as motion patterns; the first actor of video i does VIDEO_ACTIONS[i % 6].
VIDEO_ACTIONS: Tuple[str, ...] = ('none', 'walking', 'running', 'jumping', 'rolling', 'flying')
TWO_ACTOR_PROB = 0.3


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
    low = margin - offsets.min(0)
    # a shrunk track spans exactly size - 2 * margin: keep float rounding from making high < low
    return rng.uniform(low, np.maximum(low, size - margin - offsets.max(0))) + offsets


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
        fill_polygon(canvas, outline + t * velocity, color)
    masks = [shape_mask(obj, canvas.shape[0])[0] for obj in shapes]
    for obj, mask in zip(shapes, masks):
        paint_object(canvas, obj, mask)
    return finish_image(rng, canvas), np.stack(visible_masks(masks))


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
    background = render_background(rng, size)
    movers = [(irregular_ellipse(rng, size), rng.uniform(-0.004, 0.004, 2) * size, random_colors(rng)[0])
              for _ in range(int(rng.integers(0, 3)))]
    actors = _video_actors(rng, action)
    tracks = [_actor_track(rng, actor, act, size, num_frames) for actor, act in actors]
    frames, masks = zip(*(_render_frame(rng, background, movers, [track[t] for track in tracks], t)
                          for t in range(num_frames)))
    ids = [(A2D_ACTORS.index(actor) + 1) * 10 + A2D_ACTIONS.index(act) + 1 for actor, act in actors]
    return dict(frames=np.stack(frames), masks=np.stack(masks), ids=np.array(ids, np.int64), actors=actors)
