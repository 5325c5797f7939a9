"""A miniature of YouTube-Objects in its real layout (v1.0 frames + Jain & Grauman's segmentation ground truth), the
toy's textured shapes standing in for the 10 classes (see :mod:`.miniature` for the miniature's purpose)::

    YouTube-Objects/v1/<class>/data/<video>/shots/<shot>/frame<NNNN>.jpg
    YouTube-Objects/youtube_masks/<class>/data/<video>/shots/<shot>/labels/<NNNNN>.jpg   (test shots only)

Each shot shows one object of its class moving over a cluttered background, at 160 x 120 (YouTube-Objects' frames
are small). Masks are greyscale JPEGs written as 0 / 255, so JPEG's ringing is what the loaders' ``> 15`` threshold
removes, and cover every 10th frame (1, 11, 21, ...) of the test shots. Deterministic in the seed.
"""
import os
import os.path as osp
from typing import Dict, Tuple

import cv2
import numpy as np
from PIL import Image

from wsseg_mm.metainfo import YTO_CLASSES

from .scenes import irregular_ellipse, render_background
from .shapes import random_colors, random_shape
from .videos import _MOTIONS, VIDEO_ACTIONS, _fit_track, _render_frame
from .writers import _JPEG_PARAMS

# class -> toy shape (the A2D toy's where the class is an A2D actor too); only 7 shapes exist, so horse, motorbike
# and train repeat one: the miniature proves wiring, the classes it uses have shapes of their own
YTO_SHAPES: Dict[str, str] = {
    'aeroplane': 'cross', 'bird': 'triangle', 'boat': 'ring', 'car': 'square', 'cat': 'star', 'cow': 'disc',
    'dog': 'hexagon', 'horse': 'star', 'motorbike': 'disc', 'train': 'square'}
assert set(YTO_SHAPES) == set(YTO_CLASSES)
# (class, video, shot, frames, masked): 2 train shots for each of 4 classes and 3 test shots (one in a video with
# train shots, as in YouTube-Objects)
YTO_MINIATURE_SHOTS: Tuple[Tuple[str, str, str, int, bool], ...] = (
    ('aeroplane', '0001', '001', 20, False), ('aeroplane', '0001', '002', 18, False),
    ('aeroplane', '0002', '001', 21, True),
    ('bird', '0001', '001', 19, False), ('bird', '0003', '002', 20, False),
    ('car', '0001', '001', 20, False), ('car', '0001', '003', 22, False), ('car', '0001', '004', 20, True),
    ('dog', '0002', '001', 18, False), ('dog', '0002', '002', 20, False), ('dog', '0004', '001', 12, True))
YTO_WIDTH, YTO_HEIGHT = 160, 120
YTO_MASK_STRIDE = 10  # masks on frames 1, 11, 21, ...


def render_yto_shot(rng: np.random.Generator, cls: str, num_frames: int, width: int = YTO_WIDTH,
                    height: int = YTO_HEIGHT) -> dict:
    """One shot: an object of ``cls`` (its :data:`YTO_SHAPES` shape) moving by one of the toy's motion patterns
    over a background with 0-2 drifting distractor blobs, kept inside the frame.

    Returns:
        dict: ``frames`` (T, height, width, 3) uint8 RGB, ``masks`` (T, height, width) bool.
    """
    side = max(width, height)
    background = render_background(rng, side)
    movers = [(irregular_ellipse(rng, side), rng.uniform(-0.004, 0.004, 2) * side, random_colors(rng)[0])
              for _ in range(int(rng.integers(0, 3)))]
    short = min(width, height)
    shape = random_shape(rng, YTO_SHAPES[cls], side, (0.0, 0.0), rng.uniform(0.14, 0.22) * short)
    offsets, spin = _MOTIONS[str(rng.choice(VIDEO_ACTIONS))](rng, short, np.arange(num_frames, dtype=np.float64))
    centers = _fit_track(rng, offsets, short, 0.22 * short) + np.array([rng.uniform(0, width - short),
                                                                        rng.uniform(0, height - short)])
    frames, masks = [], []
    for t in range(num_frames):
        obj = type(shape)(**dict(vars(shape), center=centers[t], angle=shape.angle + spin[t]))
        frame, visible = _render_frame(rng, background, movers, [obj], t)
        frames.append(frame[:height, :width])
        masks.append(visible[0, :height, :width])
    return dict(frames=np.stack(frames), masks=np.stack(masks))


def generate_yto_miniature(out_dir: str, seed: int = 0) -> dict:
    """Write ``<out_dir>/YouTube-Objects/{v1, youtube_masks}`` for :data:`YTO_MINIATURE_SHOTS` (see the module
    docstring).

    Returns:
        dict: ``yto_train_shots``, ``yto_test_shots``, ``yto_frames``, ``yto_masked_frames``.
    """
    if seed < 0:
        raise ValueError(f'seed must be non-negative, got {seed}')
    root = osp.join(out_dir, 'YouTube-Objects')
    counts = dict(yto_train_shots=0, yto_test_shots=0, yto_frames=0, yto_masked_frames=0)
    for index, (cls, video, shot, num_frames, masked) in enumerate(YTO_MINIATURE_SHOTS):
        clip = render_yto_shot(np.random.default_rng([seed, 200, index]), cls, num_frames)
        frame_dir = osp.join(root, 'v1', cls, 'data', video, 'shots', shot)
        os.makedirs(frame_dir, exist_ok=True)
        for t, frame in enumerate(clip['frames'], 1):
            Image.fromarray(frame).save(osp.join(frame_dir, f'frame{t:04d}.jpg'), **_JPEG_PARAMS)
        counts['yto_frames'] += num_frames
        counts['yto_test_shots' if masked else 'yto_train_shots'] += 1
        if not masked:
            continue
        label_dir = osp.join(root, 'youtube_masks', cls, 'data', video, 'shots', shot, 'labels')
        os.makedirs(label_dir, exist_ok=True)
        for t in range(1, num_frames + 1, YTO_MASK_STRIDE):
            ok, data = cv2.imencode('.jpg', clip['masks'][t - 1].astype(np.uint8) * 255,
                                    [cv2.IMWRITE_JPEG_QUALITY, 90])
            assert ok
            with open(osp.join(label_dir, f'{t:05d}.jpg'), 'wb') as f:
                f.write(data.tobytes())
            counts['yto_masked_frames'] += 1
    return counts
