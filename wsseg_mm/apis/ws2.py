"""WS^2 (Chen, Li, Luo, Xu, CVPR 2020) Stage 1: the initial pseudo annotations PA.v0 from video-level actor and
action tags, as the library API that ``tools/ws2/make_pa.py``, ``tools/ws2/gradcam.py``, the benchmark and the
pictures call.

Per video (:func:`ws2_video_maps`), on full frames (no crop; Sec. 3.1):

* actor maps: Grad-CAM (Eq. 4-5) of the 2D actor recognizer for every tagged actor, each annotated frame its own
  clip of one segment (the paper's ``t' = 1``);
* action maps: Grad-CAM of the 3D action recognizer for every tagged action. The video is cut into clips of
  ``clip_len`` frames at ``frame_interval`` (:func:`plan_clips`). With ``temporal='slice'`` (default) slice ``k`` of
  a clip's (t', h', w') map stands for its input frame ``k s + slice_offset`` (``s = t / t'``,
  :func:`~wsseg_mm.functional.gradcam.slice_frames`), i.e. the video frame ``start + (k s + slice_offset)
  frame_interval``; each clip is placed so that an annotated frame is one of those frames, the slice nearest the
  clip's centre where the clip fits in the video, and it then serves every annotated frame that another of its
  slices stands for. With ``temporal='interpolate'`` the map is upsampled trilinearly over time to all t input
  frames (as ``mmaction.utils.GradCAM``), so any input frame of a clip is served;
* both upsampled bilinearly to the frame and divided by their maximum (:func:`~wsseg_mm.functional.gradcam.
  normalize_maps`; an all-zero map stays zero).

Per annotated frame (:func:`pa_frame_labels`): Otsu per map, ``M_init`` = union over the tagged actors and actions,
SLIC superpixels, Alg. 2 (keep p if overlap(p, M_init) > alpha and |p| / |frame| < beta), and each kept superpixel
labelled with the tagged pair maximising the mean of its normalised actor + action maps; 0 = background, the pairs
are indices of :data:`~wsseg_mm.metainfo.A2D_SEG_CLASSES`.

Actor maps only (``with_action=False``; WS^2 on YouTube-Objects, Table 5, whose shots have one class tag and no
action): no action recognizer, ``M_init`` = the union of the tagged actors' Otsu masks, Alg. 2 as above, and each
kept superpixel labelled with the tagged actor (class) maximising the mean of its normalised actor map; the labels
are then the class index + 1 (:func:`tagged_actors`; 0 = background, 255 = ignore), e.g. 1..10 of
:data:`~wsseg_mm.metainfo.YTO_SEG_CLASSES`, or 1..7 for the A2D actors.

Over a dataset (:func:`generate_pa`): resumable and split over ranks (per video,
:func:`~wsseg_mm.apis.common.run_per_image`), writing ``<out_dir>/<video_id>/<frame:05d>.png`` (what
:class:`~wsseg_mm.datasets.A2DPseudoFrameDataset` reads) and ``<out_dir>/pa_stats/<video_id>.json``; rank 0 sums
the latter into ``<out_dir>/summary.json`` (frames, empty PAs, constant maps). ``manifest.json`` records the two
recognizers' weights and the Grad-CAM settings (stage ``gradcam``: another model or setting is refused unless
``overwrite``) and the Otsu / SLIC / Alg. 2 settings (stage ``pa``: a change redoes every video; the maps are not
stored, so Grad-CAM runs again).

Settings have one home, :data:`WS2_PA_DEFAULTS`, overridden by a config's ``ws2_pa`` dict, then by keyword
arguments (:func:`ws2_pa_settings`).

Stage 2's selection of PA frames (Sec. 3.2; ``tools/ws2/select_pa.py``): :func:`select_pa` gives each PA region
its real and cut-and-paste patches (:func:`video_region_patches`), trains D cross-fitted by video
(:func:`train_discriminator`), asks the actor recognizer (:func:`actor_hits`), and writes the selection file that
:class:`~wsseg_mm.datasets.A2DPseudoFrameDataset` reads; its settings: :data:`WS2_SELECT_DEFAULTS`, a config's
``ws2_select`` dict, keyword arguments (:func:`ws2_select_settings`).
"""
import glob
import json
import logging
import os.path as osp
from collections import OrderedDict
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dist import barrier, get_dist_info
from mmengine.logging import print_log

from wsseg_mm.fileio.labels import atomic_write_bytes, load_json, save_label_png
from wsseg_mm.metainfo import A2D_ACTIONS, A2D_ACTORS, a2d_id_to_label

from ..functional.gradcam import normalize_maps, resize_maps, slice_frames
from ..functional.superpixel import (
    REFINE_ALPHA,
    REFINE_BETA,
    REFINE_MODES,
    SLIC_COMPACTNESS,
    SLIC_SEGMENTS,
    keep_superpixels,
    otsu_mask,
    slic_superpixels,
)
from ..functional.ws2 import (
    D_PATCH_SIZE,
    D_REAL_THRESHOLD,
    assign_pairs,
    crop_box,
    cut_and_paste,
    find_background_box,
    region_boxes,
    resize_patch,
)
from ..models.recognizer_gradcam import RecognizerGradCAM
from .common import (
    Stage,
    checkpoint_info,
    layered_settings,
    model_fingerprint,
    prepare_outputs,
    read_rgb,
    run_per_image,
)

__all__ = [
    'WS2_PA_DEFAULTS', 'TEMPORAL_MODES', 'ws2_pa_settings', 'uniform_frames', 'plan_clips', 'VideoFrames',
    'is_3d', 'recognizer_frame_maps', 'tagged_pairs', 'tagged_actors', 'ws2_video_maps', 'pa_frame_labels',
    'build_pa_dataset', 'unwrap_dataset_cfg', 'check_ws2_recognizers', 'ws2_gradcams', 'generate_pa', 'pa_summary',
    'write_pa_summary',
    'WS2_SELECT_DEFAULTS', 'ws2_select_settings', 'video_region_patches', 'train_discriminator',
    'discriminator_scores', 'actor_hits', 'PA_FRAME_DATASETS', 'pa_frames_kind', 'build_pa_frames_dataset',
    'build_select_dataset', 'pa_label_to_actor', 'select_pa'
]

TEMPORAL_MODES = ('slice', 'interpolate')

# Every Stage-1 setting and its default:
#   frames_per_video: PA frames per video, uniformly sampled (A2D: 56120 frames / 2748 videos ~ 20, Table 2);
#   temporal: how a 3D map's slices reach frames, 'slice' (slice k -> input frame k s + slice_offset) or
#   'interpolate' (trilinear over time, as mmaction's GradCAM); slice_offset: P, 0;
#   clip_len / frame_interval: the action recognizer's clips (None: from its config's test / val SampleFrames);
#   actor_target_layer / action_target_layer: Grad-CAM's layer (None: the input of cls_head, the last features);
#   short_side: frames resized to this short side before the networks (None: as stored; maps come back at the
#   frame's size either way); batch_size: frames (2D) or clips (3D) per forward pass (not recorded: it changes
#   nothing but float rounding);
#   n_segments / compactness: SLIC (P: 100, 10); alpha / beta / mode: Alg. 2 (0.5, 0.4, coverage);
#   with_action: M_init and the labels from the actor and action maps (A2D), or from the actor maps alone (False:
#   no action recognizer; YouTube-Objects, labels = class index + 1).
WS2_PA_DEFAULTS = dict(frames_per_video=20, temporal='slice', slice_offset=0, clip_len=None, frame_interval=None,
                       actor_target_layer=None, action_target_layer=None, short_side=None, batch_size=4,
                       n_segments=SLIC_SEGMENTS, compactness=SLIC_COMPACTNESS, alpha=REFINE_ALPHA, beta=REFINE_BETA,
                       mode=REFINE_MODES[0], with_action=True)
# which settings shape the Grad-CAM maps (manifest stage 'gradcam') and which the labels from them (stage 'pa')
_GRADCAM_KEYS = ('frames_per_video', 'temporal', 'slice_offset', 'clip_len', 'frame_interval', 'actor_target_layer',
                 'action_target_layer', 'short_side')
_PA_KEYS = ('n_segments', 'compactness', 'alpha', 'beta', 'mode')


def _sample_frames(cfg) -> Optional[dict]:
    """The first ``SampleFrames`` of a config's test, else val, else train pipeline."""
    for split in ('test', 'val', 'train'):
        loader = cfg.get(f'{split}_dataloader', None) if cfg is not None else None
        pipeline = ((loader or {}).get('dataset') or {}).get('pipeline') or []
        for transform in pipeline:
            if str(transform.get('type', '')).split('.')[-1] == 'SampleFrames':
                return transform
    return None


def ws2_pa_settings(cfg=None, **overrides) -> dict:
    """:data:`WS2_PA_DEFAULTS`, then the config's ``ws2_pa`` dict, then the ``overrides`` that are not None; a
    ``clip_len`` / ``frame_interval`` left None comes from the config's test (else val, train) ``SampleFrames``
    (give the action recognizer's config). Unknown keys raise a ``KeyError``, bad values a ``ValueError``, each
    naming the key."""
    settings = layered_settings('ws2_pa', WS2_PA_DEFAULTS, cfg, overrides)
    sample = _sample_frames(cfg)
    for key, source in (('clip_len', 'clip_len'), ('frame_interval', 'frame_interval')):
        if settings[key] is None and sample is not None:
            settings[key] = int(sample.get(source, 1))
    if settings['temporal'] not in TEMPORAL_MODES:
        raise ValueError(f'ws2_pa.temporal must be one of {TEMPORAL_MODES}, got {settings["temporal"]!r}')
    if settings['mode'] not in REFINE_MODES:
        raise ValueError(f'ws2_pa.mode must be one of {REFINE_MODES}, got {settings["mode"]!r}')
    if not isinstance(settings['with_action'], bool):
        raise ValueError(f'ws2_pa.with_action must be True or False, got {settings["with_action"]!r}')
    for key in ('frames_per_video', 'batch_size', 'n_segments', 'clip_len', 'frame_interval', 'short_side'):
        value = settings[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f'ws2_pa.{key} must be a positive integer, got {value!r}')
    if not 0 <= settings['alpha'] <= 1 or not 0 < settings['beta'] <= 1:
        raise ValueError(f'ws2_pa: need 0 <= alpha <= 1 and 0 < beta <= 1, got alpha={settings["alpha"]}, '
                         f'beta={settings["beta"]}')
    return settings


def _require_clips(settings: dict) -> Tuple[int, int]:
    if settings['clip_len'] is None or settings['frame_interval'] is None:
        raise ValueError('ws2_pa: clip_len and frame_interval are not set: give them (ws2_pa dict, keyword '
                         'arguments) or pass the action recognizer\'s config, whose test SampleFrames has them, to '
                         'ws2_pa_settings')
    return settings['clip_len'], settings['frame_interval']


# ----------------------------------------------------------------------------------------------- frames and clips
def uniform_frames(num_frames: int, count: int) -> List[int]:
    """``min(count, num_frames)`` frames spread uniformly over a video: 0-based ``floor(i T / n)``, i < n (the
    start of each of n equal segments; T = 16, n = 4 gives 0, 4, 8, 12, the toy's annotated frames 1 / 5 / 9 / 13
    counted from 1)."""
    if num_frames < 1:
        raise ValueError(f'a video without frames ({num_frames}): nothing to annotate')
    count = min(int(count), num_frames)
    return [i * num_frames // count for i in range(count)]


def plan_clips(num_frames: int, wanted: Sequence[int], clip_len: int, frame_interval: int,
               positions: Sequence[int]) -> List[dict]:
    """Clips of the 3D recognizer that give a map to each wanted frame.

    A clip starting at video frame ``start`` reads frames ``start + i frame_interval`` (i < clip_len; indices
    outside the video are clamped to its first / last frame, as a short video is padded). Its map reaches the
    input frames ``positions`` (``slice_frames(t, t', offset)`` for ``'slice'``; ``range(t)`` for
    ``'interpolate'``), i.e. the video frames ``start + p frame_interval``. For the first wanted frame f not yet
    served, the clip puts f at the position nearest the clip's centre (ties: the earlier one) among those that keep
    the clip inside the video (any position if none does); it serves every wanted frame one of its positions stands
    for. Repeated until every wanted frame is served.

    Args:
        num_frames: T, frames of the video.
        wanted: 0-based frames that need a map.
        clip_len, frame_interval: the clips' sampling.
        positions: input frames (0-based, < clip_len) that carry a map, in map order.

    Returns:
        ``[dict(start, frames, serves), ...]``: ``frames`` the clip_len 0-based video frames to read, ``serves``
        ``{video frame: index into positions}`` for the wanted frames it serves.
    """
    centre = (len(positions) - 1) / 2
    order = sorted(range(len(positions)), key=lambda k: (abs(k - centre), k))
    span = (clip_len - 1) * frame_interval
    remaining = sorted(set(int(f) for f in wanted))
    clips = []
    while remaining:
        first = remaining[0]
        fits = [k for k in order if 0 <= first - positions[k] * frame_interval <= num_frames - 1 - span]
        start = first - positions[(fits or order)[0]] * frame_interval
        stands_for = {start + p * frame_interval: j for j, p in enumerate(positions)}
        serves = {f: stands_for[f] for f in remaining if f in stands_for}
        clips.append(dict(start=start, serves=serves,
                          frames=[min(max(start + i * frame_interval, 0), num_frames - 1) for i in range(clip_len)]))
        remaining = [f for f in remaining if f not in serves]
    return clips


class VideoFrames:
    """The frames of one video, read on demand (RGB uint8 (H, W, 3)) and kept in a small cache: ``frames[i]`` is
    0-based frame i, the file ``frame_dir/filename_tmpl.format(i + start_index)``.

    Args:
        frame_dir: folder of the frames; num_frames: T; filename_tmpl: file names; start_index: number of the
        first frame file; cache: frames kept (clips reread neighbouring frames).
    """

    def __init__(self, frame_dir: str, num_frames: int, filename_tmpl: str = '{:05d}.png', start_index: int = 1,
                 cache: int = 64) -> None:
        if num_frames < 1 or not osp.isdir(frame_dir):
            raise FileNotFoundError(f'video {frame_dir}: no frames ({num_frames} listed, folder '
                                    f'{"exists" if osp.isdir(frame_dir) else "missing"}); extract its frames first')
        self.frame_dir, self.num_frames = frame_dir, int(num_frames)
        self.filename_tmpl, self.start_index, self.cache = filename_tmpl, start_index, cache
        self._frames: 'OrderedDict[int, np.ndarray]' = OrderedDict()

    @classmethod
    def of(cls, info: dict) -> 'VideoFrames':
        """The frames of a video's data info (``frame_dir``, ``total_frames``, ``filename_tmpl``, ``start_index``)."""
        return cls(info['frame_dir'], int(info['total_frames']), info.get('filename_tmpl', '{:05d}.png'),
                   info.get('start_index', 1))

    def __len__(self) -> int:
        return self.num_frames

    def path(self, index: int) -> str:
        return osp.join(self.frame_dir, self.filename_tmpl.format(index + self.start_index))

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < self.num_frames:
            raise IndexError(f'frame {index} of a {self.num_frames}-frame video ({self.frame_dir})')
        if index not in self._frames:
            self._frames[index] = read_rgb(self.path(index))
            while len(self._frames) > self.cache:
                self._frames.popitem(last=False)
        self._frames.move_to_end(index)
        return self._frames[index]


# ---------------------------------------------------------------------------------------------- Grad-CAM maps
def is_3d(cam: RecognizerGradCAM) -> bool:
    """Whether the wrapped recognizer takes clips (N, V, C, T, H, W) (``format_shape`` NCTHW) rather than
    segments (N, S, C, H, W)."""
    return getattr(cam.recognizer.data_preprocessor, 'format_shape', 'NCHW') != 'NCHW'


def _network_input(frames: Sequence[np.ndarray], short_side: Optional[int]) -> torch.Tensor:
    """(T, H, W, 3) uint8 frames -> (T, 3, H', W') float tensor, resized to ``short_side`` if given."""
    if short_side is not None:
        import mmcv
        height, width = frames[0].shape[:2]
        scale = short_side / min(height, width)
        size = (max(int(round(width * scale)), 1), max(int(round(height * scale)), 1))
        frames = [mmcv.imresize(f, size, interpolation='bilinear') for f in frames]
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float()


def _batches(items: Sequence, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def recognizer_frame_maps(cam: RecognizerGradCAM, frames, indices: Sequence[int], targets: Optional[Sequence[int]],
                          settings: dict) -> dict:
    """Grad-CAM maps of one recognizer on given frames of one video, at the frame's size, each divided by its
    maximum.

    A 2D recognizer sees each frame as a clip of one segment (t' = 1). A 3D recognizer sees the clips of
    :func:`plan_clips` (``clip_len``, ``frame_interval``; ``temporal``: which frames a map reaches, see the module
    docstring).

    Args:
        cam: the recognizer's :class:`RecognizerGradCAM`.
        frames: the video's frames, ``frames[i]`` (H, W, 3) uint8 RGB, ``len(frames)`` = T (e.g.
            :class:`VideoFrames`).
        indices: F 0-based frames to map.
        targets: K class indices (the same for every frame), or None: each clip's top class (K = 1).
        settings: :func:`ws2_pa_settings` (``batch_size``, ``short_side``; for 3D also ``clip_len``,
            ``frame_interval``, ``temporal``, ``slice_offset``).

    Returns:
        dict: ``maps`` (F, K, H, W) float32 tensor in [0, 1] (CPU); ``targets`` (F, K) and ``scores`` (F, C) of the
        clip each frame's map comes from; ``clips`` the 3D clips (:func:`plan_clips`, ``[]`` for 2D).
    """
    indices = [int(i) for i in indices]
    height, width = frames[indices[0]].shape[:2] if indices else (0, 0)
    per_frame: Dict[int, tuple] = {}

    def run(inputs: List[torch.Tensor]):
        from mmaction.structures import ActionDataSample
        batch = dict(inputs=inputs, data_samples=[ActionDataSample() for _ in inputs])
        with _frozen(cam):
            return cam(batch, targets=None if targets is None else list(targets))

    clips: List[dict] = []
    if not is_3d(cam):
        for chunk in _batches(indices, settings['batch_size']):
            out = run([_network_input([frames[i]], settings['short_side']) for i in chunk])
            maps = resize_maps(out.maps[:, :, 0].float(), (height, width))  # (R, K, H, W)
            for row, index in enumerate(chunk):
                per_frame[index] = (maps[row], out.targets[row], out.scores[row])
    else:
        clip_len, interval = _require_clips(settings)
        num_slices = _num_slices(cam, clip_len, frames[indices[0]].shape[:2], settings['short_side']) \
            if indices else 1
        positions = slice_frames(clip_len, num_slices, settings['slice_offset']) \
            if settings['temporal'] == 'slice' else list(range(clip_len))
        clips = plan_clips(len(frames), indices, clip_len, interval, positions)
        for chunk in _batches(clips, settings['batch_size']):
            inputs = [_network_input([frames[i] for i in clip['frames']], settings['short_side'])
                      .permute(1, 0, 2, 3)[None] for clip in chunk]  # (1 view, C, T, H, W)
            out = run(inputs)
            for row, clip in enumerate(chunk):
                maps = out.maps[row].float()  # (K, T', h', w')
                if settings['temporal'] == 'interpolate':  # trilinear over time; separable, so space follows
                    maps = resize_maps(maps, (clip_len, *maps.shape[-2:]))
                picked = sorted(clip['serves'].items())
                resized = resize_maps(maps[:, [j for _, j in picked]], (height, width))  # (K, n, H, W)
                for n, (index, _) in enumerate(picked):
                    per_frame[index] = (resized[:, n], out.targets[row], out.scores[row])
    maps = torch.stack([per_frame[i][0] for i in indices]) if indices else torch.zeros(0, 0, height, width)
    return dict(maps=normalize_maps(maps.cpu(), num_dims=2, mode='max'),
                targets=torch.stack([per_frame[i][1] for i in indices]).cpu() if indices else None,
                scores=torch.stack([per_frame[i][2] for i in indices]).cpu() if indices else None, clips=clips)


@contextmanager
def _frozen(module: torch.nn.Module):
    """Parameters set not to require gradients while Grad-CAM runs (restored after): Grad-CAM differentiates with
    respect to the captured features only, so no autograd graph is kept for the layers before them (on full A2D
    frames with an I3D ResNet-50, most of the memory)."""
    flags = [(p, p.requires_grad) for p in module.parameters()]
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


def _num_slices(cam: RecognizerGradCAM, clip_len: int, frame_size: Tuple[int, int], short_side) -> int:
    """t' of the 3D recognizer's map for clips of ``clip_len`` frames (one forward pass on a zero clip of the
    frames' size; cached per wrapper and clip length)."""
    key = (clip_len, tuple(frame_size), short_side)
    cache = cam.__dict__.setdefault('_ws2_num_slices', {})
    if key not in cache:
        zeros = [np.zeros((*frame_size, 3), np.uint8)] * clip_len
        clip = _network_input(zeros, short_side).permute(1, 0, 2, 3)[None, None]
        device = next(cam.recognizer.parameters()).device
        with _frozen(cam):
            cache[key] = int(cam(clip.to(device), targets=0).maps.shape[2])
    return cache[key]


def tagged_pairs(actors: Sequence[int], actions: Sequence[int], a2d_ids: Sequence[int]) -> List[Tuple[int, int, int]]:
    """The tagged actor-action pairs of a video as ``(actor map index, action map index, class)``.

    Args:
        actors: A tagged actors, 0-based indices of ``A2D_ACTORS`` (the order of the actor maps).
        actions: B tagged actions, 0-based indices of ``A2D_ACTIONS``.
        a2d_ids: the video's A2D ids (actor * 10 + action, 1-based parts).

    Returns:
        K triples; the class is the index in :data:`~wsseg_mm.metainfo.A2D_SEG_CLASSES` (1 .. 43).
    """
    pairs = []
    for a2d_id in a2d_ids:
        actor, action = int(a2d_id) // 10 - 1, int(a2d_id) % 10 - 1
        if actor not in actors or action not in actions:
            raise ValueError(f'pair {a2d_id}: actor {actor} / action {action} is not among the tagged actors '
                             f'{list(actors)} / actions {list(actions)}')
        pairs.append((list(actors).index(actor), list(actions).index(action), a2d_id_to_label(a2d_id)))
    return pairs


def tagged_actors(actors: Sequence[int]) -> List[Tuple[int, None, int]]:
    """The tagged classes of a video when there are no actions (``with_action=False``), in the shape of
    :func:`tagged_pairs`: ``(actor map index, None, class)`` with class = the 0-based class index + 1 (0 is
    background), e.g. ``[3]`` (YouTube-Objects' car) -> ``[(0, None, 4)]``."""
    if not len(actors):
        raise ValueError('a video needs at least one tagged class, got none')
    return [(i, None, int(actor) + 1) for i, actor in enumerate(actors)]


def ws2_video_maps(actor_cam: RecognizerGradCAM, action_cam: Optional[RecognizerGradCAM], frames,
                   actors: Sequence[int], actions: Sequence[int], indices: Sequence[int], settings: dict) -> dict:
    """Actor and action Grad-CAM maps of the annotated frames of one video (full frames).

    Args:
        actor_cam: :class:`RecognizerGradCAM` of the 2D actor recognizer (classes ``A2D_ACTORS``).
        action_cam: :class:`RecognizerGradCAM` of the 3D action recognizer (classes ``A2D_ACTIONS``); None: actor
            maps only (``with_action=False``: ``actions`` must be empty, B = 0).
        frames: the video's frames (``frames[i]`` (H, W, 3) uint8 RGB, 0-based; e.g. :class:`VideoFrames`).
        actors: A tagged actor classes; actions: B tagged action classes.
        indices: F 0-based annotated frames (e.g. :func:`uniform_frames`).
        settings: :func:`ws2_pa_settings`.

    Returns:
        dict: ``actor_maps`` (F, A, H, W) and ``action_maps`` (F, B, H, W) float32 numpy arrays in [0, 1], each map
        divided by its maximum (an all-zero map stays zero); ``clips``: the action clips (:func:`plan_clips`).
    """
    if action_cam is None:
        if not len(actors) or len(actions):
            raise ValueError(f'actor maps only (no action recognizer): a video needs at least one tagged actor and '
                             f'no action, got {list(actors)} / {list(actions)}')
        actor = recognizer_frame_maps(actor_cam, frames, indices, list(actors), settings)
        maps = actor['maps'].numpy()
        return dict(actor_maps=maps, action_maps=np.zeros((maps.shape[0], 0, *maps.shape[2:]), maps.dtype), clips=[])
    if not len(actors) or not len(actions):
        raise ValueError(f'a video needs at least one tagged actor and one tagged action, got {list(actors)} / '
                         f'{list(actions)}')
    actor = recognizer_frame_maps(actor_cam, frames, indices, list(actors), settings)
    action = recognizer_frame_maps(action_cam, frames, indices, list(actions), settings)
    return dict(actor_maps=actor['maps'].numpy(), action_maps=action['maps'].numpy(), clips=action['clips'])


# --------------------------------------------------------------------------------------------------- PA labels
def pa_frame_labels(frame: np.ndarray, actor_maps: np.ndarray, action_maps: np.ndarray,
                    pairs: Sequence[Tuple[int, int, int]], settings: dict) -> dict:
    """PA.v0 of one frame (Sec. 3.1, Alg. 2).

    Args:
        frame: (H, W, 3) uint8 RGB frame (for SLIC).
        actor_maps: (A, H, W) Grad-CAM maps of the tagged actors; action_maps: (B, H, W) of the tagged actions;
            B = 0: actor maps only (``with_action=False``): M_init is the actors' union and each kept superpixel
            takes the tagged actor maximising the mean of its normalised actor map.
        pairs: K tagged pairs ``(actor map index, action map index, class)`` (:func:`tagged_pairs`; with B = 0
            the action index is not read, :func:`tagged_actors`).
        settings: :func:`ws2_pa_settings` (``n_segments``, ``compactness``, ``alpha``, ``beta``, ``mode``).

    Returns:
        dict: ``labels`` (H, W) uint8 PA (0 background, else a pair's class); ``actor_masks`` (A, H, W) and
        ``action_masks`` (B, H, W) bool Otsu masks; ``constant_actor_maps`` / ``constant_action_maps`` how many maps
        were constant (no threshold: empty mask); ``init`` (H, W) bool M_init (union of the masks);
        ``superpixels`` (H, W) int32; ``keep`` (P,) bool; ``refined`` (H, W) bool M_refine.
    """
    actor_maps, action_maps = np.asarray(actor_maps), np.asarray(action_maps)
    size = np.asarray(frame).shape[:2]
    masks, constants = {}, {}
    for name, maps in (('actor', actor_maps), ('action', action_maps)):
        if maps.ndim != 3 or maps.shape[1:] != size:
            raise ValueError(f'{name}_maps must be (N, H, W) with (H, W) = the frame\'s {size}, got {maps.shape}')
        found = [otsu_mask(m) for m in maps]
        masks[name] = np.stack([m for m, _ in found]) if found else np.zeros((0, *size), bool)
        constants[name] = sum(c for _, c in found)
    init = masks['actor'].any(axis=0) | masks['action'].any(axis=0)
    superpixels = slic_superpixels(frame, settings['n_segments'], settings['compactness'])
    keep, _ = keep_superpixels(superpixels, init, settings['alpha'], settings['beta'], settings['mode'])
    if len(action_maps):
        labels = assign_pairs(superpixels, keep, actor_maps, action_maps, [(a, b) for a, b, _ in pairs],
                              [c for _, _, c in pairs])
    else:  # actor maps only: an all-zero action map adds nothing to any pair's score
        labels = assign_pairs(superpixels, keep, actor_maps, np.zeros((1, *size)), [(a, 0) for a, _, _ in pairs],
                              [c for _, _, c in pairs])
    return dict(labels=labels.astype(np.uint8), actor_masks=masks['actor'], action_masks=masks['action'],
                constant_actor_maps=int(constants['actor']), constant_action_maps=int(constants['action']),
                init=init, superpixels=superpixels, keep=keep, refined=keep[superpixels])


# ---------------------------------------------------------------------------------------------------- datasets
def build_pa_dataset(cfg, split: str = 'train', video_list=None):
    """The videos to annotate: the config's training ``A2DVideoDataset`` (its ``data_root``, ``frame_dir``,
    ``filename_tmpl``) with every video of ``split`` (``label_type='both'``, no ``single_label``, no pipeline: the
    frames are read whole), restricted to ``video_list`` if given; or its ``YouTubeObjectsVideoDataset`` (its
    ``data_root``, ``frames_dir``, ``masks_dir``) with every shot of ``split`` (``'train'``, ``'test'``, ``'all'``;
    one class tag per shot, no actions: ``with_action=False``)."""
    from mmengine.registry import DefaultScope

    from wsseg_mm.datasets import A2DVideoDataset, YouTubeObjectsVideoDataset
    dataset_cfg = _train_dataset_cfg(cfg)
    kind = str(dataset_cfg.get('type', '')).split('.')[-1]
    if kind == 'YouTubeObjectsVideoDataset':
        kept = {k: dataset_cfg[k] for k in ('data_root', 'frames_dir', 'masks_dir') if k in dataset_cfg}
        with DefaultScope.overwrite_default_scope('mmaction'):
            return YouTubeObjectsVideoDataset(pipeline=[], split=split, video_list=video_list, **kept)
    if kind != 'A2DVideoDataset':
        raise ValueError(f'WS^2 PA: train_dataloader.dataset of the config is a {dataset_cfg.get("type")}, not an '
                         'A2DVideoDataset (or YouTubeObjectsVideoDataset): give the action (or actor) recognizer\'s '
                         'WS^2 config')
    kept = {k: dataset_cfg[k] for k in ('data_root', 'frame_dir', 'filename_tmpl') if k in dataset_cfg}
    with DefaultScope.overwrite_default_scope('mmaction'):
        return A2DVideoDataset(pipeline=[], split=split, label_type='both', video_list=video_list, **kept)


def check_ws2_recognizers(actor_model, action_model, actor_classes: Sequence[str] = A2D_ACTORS) -> None:
    """The actor recognizer must score the ``actor_classes`` (the 7 A2D actors; YouTube-Objects: its 10 classes)
    with 2D inputs, the action recognizer (None: none, ``with_action=False``) the 9 actions with 3D clips;
    otherwise a ``ValueError`` names the config key to fix."""
    for role, model, classes, want_3d in (('actor', actor_model, tuple(actor_classes), False),
                                          ('action', action_model, A2D_ACTIONS, True)):
        if model is None and role == 'action':
            continue
        shape = getattr(getattr(model, 'data_preprocessor', None), 'format_shape', 'NCHW')
        if (shape != 'NCHW') != want_3d:
            raise ValueError(f'WS^2 PA: the {role} recognizer takes {shape} inputs; the {role} recognizer must be '
                             f'a {"3D (NCTHW, e.g. I3D)" if want_3d else "2D (NCHW, e.g. TSN)"} recognizer: check '
                             'the order of the configs (actor first, action second)')
        head = getattr(model, 'cls_head', None)
        num = getattr(head, 'num_classes', None)
        if num != len(classes):
            raise ValueError(f'WS^2 PA: the {role} recognizer scores {num} classes, the videos have {len(classes)} '
                             f'{role}s ({", ".join(classes)}): set model.cls_head.num_classes = {len(classes)} in its '
                             'config (and give a checkpoint trained with it)')


def ws2_gradcams(actor_model, action_model,
                 settings: dict) -> Tuple[RecognizerGradCAM, Optional[RecognizerGradCAM]]:
    """The Grad-CAM wrappers of the two Stage-1 recognizers at the layers of ``settings`` (:func:`ws2_pa_settings`);
    no action recognizer (None): None."""
    return (RecognizerGradCAM(actor_model, target_layer=settings['actor_target_layer']),
            None if action_model is None else RecognizerGradCAM(action_model,
                                                                target_layer=settings['action_target_layer']))


def _model_settings(model, target_layer) -> dict:
    return dict(model=model_fingerprint(model), model_type=type(model).__name__, target_layer=target_layer)


def generate_pa(actor_model, action_model, dataset, out_dir: str, settings: dict, overwrite: bool = False,
                limit: Optional[int] = None) -> dict:
    """Write PA.v0 for this rank's share of the videos of ``dataset`` (an ``A2DVideoDataset``, see
    :func:`build_pa_dataset`): ``<out_dir>/<video_id>/<frame:05d>.png`` for :func:`uniform_frames` of each video,
    and ``<out_dir>/pa_stats/<video_id>.json``; resumable (a video with all its files is skipped; one PNG missing
    or unreadable redoes the video), see the module docstring for the manifest. After all ranks finish, rank 0
    writes ``<out_dir>/summary.json``.

    Args:
        actor_model, action_model: trained mmaction ``Recognizer2D`` (actors) and ``Recognizer3D`` (actions);
            with ``settings['with_action']`` False, no action model (None): PA from the actor maps alone, labels =
            class index + 1 (:func:`tagged_actors`).
        dataset: the videos (data infos with ``video_id``, ``frame_dir``, ``total_frames``, ``actor_labels``, and
            unless ``with_action`` is False ``action_labels``, ``a2d_ids``); its ``metainfo['actors']`` (default
            ``A2D_ACTORS``) are the actor recognizer's classes.
        out_dir: the PA folder.
        settings: :func:`ws2_pa_settings`.
        overwrite: delete the folder's PAs and start over.
        limit: only the first ``limit`` videos (quick looks).

    Returns:
        ``dict(summary=..., counts=...)``: the summary of every video in the folder (``pa_stats/``, also of earlier
        runs with other videos or ``limit``; as ``summary.json``) and this rank's counts
        (:func:`~wsseg_mm.apis.common.run_per_image`).
    """
    with_action = settings.get('with_action', True)
    if with_action == (action_model is None):
        raise ValueError('WS^2 PA: ' + ('ws2_pa.with_action is True but no action recognizer was given: give its '
                                        'config and checkpoint, or set ws2_pa.with_action=False (actor maps only)'
                                        if with_action else 'ws2_pa.with_action is False (actor maps only) but an '
                                        'action recognizer was given: leave it out, or set ws2_pa.with_action=True'))
    check_ws2_recognizers(actor_model, action_model, getattr(dataset, 'metainfo', {}).get('actors', A2D_ACTORS))
    if with_action:
        _require_clips(settings)
    infos = {}
    for i in range(len(dataset) if limit is None else min(limit, len(dataset))):
        info = dataset.get_data_info(i)
        if with_action and 'action_labels' not in info:
            raise ValueError(f'WS^2 PA: the videos of {type(dataset).__name__} have no action tags (video '
                             f'{info["video_id"]}): set ws2_pa.with_action=False (actor maps only)')
        infos[info['video_id']] = info
    gradcam = dict({k: settings[k] for k in _GRADCAM_KEYS}, actor=_model_settings(actor_model,
                                                                                  settings['actor_target_layer']),
                   action=None if action_model is None else _model_settings(action_model,
                                                                            settings['action_target_layer']),
                   data_root=getattr(dataset, 'data_root', None), frame_dir=getattr(dataset, 'frame_dir', None))
    stages = [Stage('gradcam', gradcam), Stage('pa', {k: settings[k] for k in _PA_KEYS},
                                                ('*/[0-9]*.png', 'pa_stats/*.json', 'summary.json'), redo=True)]
    prepare_outputs(out_dir, 'ws2_pa', stages, overwrite,
                    info=dict(actor_checkpoint=checkpoint_info(actor_model),
                              action_checkpoint=None if action_model is None else checkpoint_info(action_model)))
    actor_cam, action_cam = ws2_gradcams(actor_model, action_model, settings)

    def frames_of(video_id: str) -> List[int]:
        return uniform_frames(int(infos[video_id]['total_frames']), settings['frames_per_video'])

    def png(video_id: str, index: int) -> str:
        return osp.join(out_dir, video_id, f'{index + infos[video_id].get("start_index", 1):05d}.png')

    def stats_path(video_id: str) -> str:
        return osp.join(out_dir, 'pa_stats', video_id + '.json')

    def outputs(video_id: str) -> List[str]:
        # the PNGs exist only when the video is finished if the JSON comes last; a missing PNG redoes the video
        return [png(video_id, i) for i in frames_of(video_id)] + [stats_path(video_id)]

    def process(video_id: str) -> None:
        info = infos[video_id]
        frames = VideoFrames.of(info)
        indices = frames_of(video_id)
        if with_action:
            maps = ws2_video_maps(actor_cam, action_cam, frames, info['actor_labels'], info['action_labels'],
                                  indices, settings)
            pairs = tagged_pairs(info['actor_labels'], info['action_labels'], info['a2d_ids'])
        else:
            maps = ws2_video_maps(actor_cam, None, frames, info['actor_labels'], [], indices, settings)
            pairs = tagged_actors(info['actor_labels'])
        stats = dict(frames=[], empty=[], foreground=[], constant_actor_maps=0, constant_action_maps=0,
                     clips=len(maps['clips']))
        for n, index in enumerate(indices):
            result = pa_frame_labels(frames[index], maps['actor_maps'][n], maps['action_maps'][n], pairs, settings)
            save_label_png(png(video_id, index), result['labels'])
            number = index + info.get('start_index', 1)
            stats['frames'].append(number)
            stats['foreground'].append(float((result['labels'] > 0).mean()))
            if not result['labels'].any():
                stats['empty'].append(number)
            stats['constant_actor_maps'] += result['constant_actor_maps']
            stats['constant_action_maps'] += result['constant_action_maps']
        atomic_write_bytes(stats_path(video_id), json.dumps(stats, sort_keys=True).encode())

    counts = run_per_image(sorted(infos), process, outputs, desc='WS^2 PA.v0')
    stats = [load_json(path) for path in sorted(glob.glob(osp.join(glob.escape(out_dir), 'pa_stats', '*.json')))]
    summary = dict(pa_summary(stats), constant_actor_maps=sum(s['constant_actor_maps'] for s in stats),
                   constant_action_maps=sum(s['constant_action_maps'] for s in stats),
                   action_clips=sum(s['clips'] for s in stats))
    write_pa_summary(out_dir, summary)
    return dict(summary=summary, counts=counts)


def pa_summary(stats: Sequence[dict]) -> dict:
    """Totals over the videos' PA stats (``frames``, ``empty``, ``foreground`` lists): videos, frames, empty PAs (no
    foreground pixel) and the mean foreground share of a PA frame."""
    foreground = [v for s in stats for v in s['foreground']]
    return dict(videos=len(stats), frames=sum(len(s['frames']) for s in stats),
                empty_frames=sum(len(s['empty']) for s in stats),
                mean_foreground=float(np.mean(foreground)) if foreground else 0.0)


def write_pa_summary(out_dir: str, summary: dict) -> None:
    """``<out_dir>/summary.json`` written by rank 0, after which all ranks meet."""
    rank, world_size = get_dist_info()
    if rank == 0:
        atomic_write_bytes(osp.join(out_dir, 'summary.json'), json.dumps(summary, indent=1, sort_keys=True).encode())
    if world_size > 1:
        barrier()



# ----------------------------------------------------------------------------------------------------------
# Stage 2: the selection of PA frames (Sec. 3.2, Alg. 1)
# ----------------------------------------------------------------------------------------------------------
# Every selection setting and its default (all proposals where the paper is silent):
#   patch_size: side of D's patches (64); box_scale: the square patch's side relative to the region's longer box
#   side (1: the tightest square); folds: D is trained on the videos of all folds but one and scores the cut-and-paste
#   patches of the held-out fold (2-fold cross-fitting by video: no patch is scored by a D that trained on it);
#   epochs / batch_size / lr / betas: D's Adam training (lr 2e-4, betas of DCGAN-style discriminators);
#   base_channels: D's first width; threshold: D calls a patch real at probability >= threshold;
#   actor_patch_size: side at which the actor classifier (test mode) sees a cut-and-paste patch (its 224 px crops);
#   batch_frames: patches per forward pass of the classifier; seed: background patches, D's init and data order.
WS2_SELECT_DEFAULTS = dict(patch_size=D_PATCH_SIZE, box_scale=1.0, folds=2, epochs=20, batch_size=64, lr=2e-4,
                           betas=(0.5, 0.999), base_channels=64, threshold=D_REAL_THRESHOLD, actor_patch_size=224,
                           batch_frames=32, seed=0)


def ws2_select_settings(cfg=None, **overrides) -> dict:
    """:data:`WS2_SELECT_DEFAULTS`, then the config's ``ws2_select`` dict, then the ``overrides`` that are not None;
    unknown keys raise a ``KeyError``, bad values a ``ValueError``, each naming the key."""
    settings = layered_settings('ws2_select', WS2_SELECT_DEFAULTS, cfg, overrides)
    for key in ('patch_size', 'folds', 'epochs', 'batch_size', 'base_channels', 'actor_patch_size', 'batch_frames'):
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f'ws2_select.{key} must be a positive integer, got {value!r}')
    if settings['folds'] < 2:
        raise ValueError(f'ws2_select.folds must be >= 2 (cross-fitting by video), got {settings["folds"]}')
    if settings['box_scale'] < 1 or not 0 <= settings['threshold'] <= 1:
        raise ValueError(f'ws2_select: need box_scale >= 1 and 0 <= threshold <= 1, got {settings["box_scale"]}, '
                         f'{settings["threshold"]}')
    return settings


def video_region_patches(frames: Sequence[np.ndarray], labels: Sequence[np.ndarray], settings: dict,
                         seed: int = 0, ignore_index: int = 255) -> dict:
    """The PA regions of one video's PA frames and their patches (Sec. 3.2).

    Each region (one foreground class of one frame, :func:`~wsseg_mm.functional.ws2.region_boxes`) gets its square
    patch (the real patch) and its cut-and-paste patch: the region's PA pixels pasted onto a same-size patch with no
    PA pixel, from any PA frame of the video (:func:`~wsseg_mm.functional.ws2.find_background_box`, seeded by
    ``seed`` and the region's index). A region without such a background (PAs everywhere) has no cut-and-paste
    patch (``has_fake`` False); its fake and actor patches are then its real patch.

    Args:
        frames: F (H_f, W_f, 3) uint8 RGB PA frames of one video.
        labels: F (H_f, W_f) int PA label maps.
        settings: :func:`ws2_select_settings` (``patch_size``, ``actor_patch_size``, ``box_scale``).
        seed: the video's seed.
        ignore_index: void value of the PAs.

    Returns:
        dict of R regions: ``frames`` (R,) int64 frame index, ``classes`` (R,) int64, ``has_fake`` (R,) bool,
        ``real`` / ``fake`` (R, p, p, 3) uint8 at ``patch_size``, ``actor`` (R, q, q, 3) uint8: the cut-and-paste
        patch at ``actor_patch_size``.
    """
    if len(frames) != len(labels):
        raise ValueError(f'{len(frames)} frames for {len(labels)} PA label maps')
    p, q = settings['patch_size'], settings['actor_patch_size']
    out = dict(frames=[], classes=[], has_fake=[], real=[], fake=[], actor=[])
    for index, (frame, label) in enumerate(zip(frames, labels)):
        if frame.shape[:2] != label.shape:
            raise ValueError(f'PA frame {index}: image {frame.shape[:2]} and PA {label.shape} differ in size')
        for cls, box in region_boxes(label, settings['box_scale'], ignore_index):
            region_seed = int(np.random.default_rng([seed, len(out['frames'])]).integers(2 ** 31))
            size = (box[3] - box[1], box[2] - box[0])
            background = find_background_box(labels, size, region_seed, ignore_index)
            real = crop_box(frame, box)
            fake = real if background is None else cut_and_paste(frame, label == cls, box, frames[background[0]],
                                                                  background[1])
            out['frames'].append(index)
            out['classes'].append(cls)
            out['has_fake'].append(background is not None)
            out['real'].append(resize_patch(real, p))
            out['fake'].append(resize_patch(fake, p))
            out['actor'].append(resize_patch(fake, q))
    result = dict(frames=np.asarray(out['frames'], np.int64), classes=np.asarray(out['classes'], np.int64),
                  has_fake=np.asarray(out['has_fake'], bool))
    for key, side in (('real', p), ('fake', p), ('actor', q)):
        result[key] = np.stack(out[key]) if out[key] else np.zeros((0, side, side, 3), np.uint8)
    return result


def _patch_tensor(patches: np.ndarray, device) -> torch.Tensor:
    """(N, p, p, 3) uint8 RGB -> (N, 3, p, p) float in [-1, 1] (D's input)."""
    return torch.from_numpy(np.ascontiguousarray(patches)).to(device).permute(0, 3, 1, 2).float() / 127.5 - 1


def train_discriminator(real: np.ndarray, fake: np.ndarray, settings: dict, device='cpu'):
    """D (:class:`~wsseg_mm.models.CutPasteDiscriminator`) trained from scratch with Adam on real patches (1)
    against cut-and-paste patches (0), ``epochs`` passes of mini-batches of ``batch_size`` patches of each kind,
    seeded by ``seed``.

    Args:
        real: (N, p, p, 3) uint8 real patches; fake: (M, p, p, 3) uint8 cut-and-paste patches (N, M >= 1).
        settings: :func:`ws2_select_settings`.

    Returns:
        ``(model in eval mode, losses)``: ``losses`` the mean loss of each epoch.
    """
    from ..models.cut_paste_discriminator import CutPasteDiscriminator
    if not len(real) or not len(fake):
        raise ValueError(f'D needs real and cut-and-paste patches to train on, got {len(real)} and {len(fake)}')
    generator = torch.Generator().manual_seed(settings['seed'])
    torch.manual_seed(settings['seed'])
    model = CutPasteDiscriminator(base_channels=settings['base_channels']).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings['lr'], betas=tuple(settings['betas']))
    real_t, fake_t = _patch_tensor(real, device), _patch_tensor(fake, device)
    size, losses = settings['batch_size'], []
    model.train()
    for _ in range(settings['epochs']):
        real_order = torch.randperm(len(real_t), generator=generator)
        fake_order = torch.randperm(len(fake_t), generator=generator)
        steps = max(-(-len(real_t) // size), -(-len(fake_t) // size))
        epoch = []
        for step in range(steps):
            r = real_order[(torch.arange(size) + step * size) % len(real_t)][:min(size, len(real_t))]
            f = fake_order[(torch.arange(size) + step * size) % len(fake_t)][:min(size, len(fake_t))]
            loss = sum(model.loss(real_t[r.to(device)], fake_t[f.to(device)]).values())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch.append(loss.item())
        losses.append(float(np.mean(epoch)))
    model.eval()
    return model, losses


def discriminator_scores(model, patches: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """(N, p, p, 3) uint8 patches -> (N,) float64 probability that D calls each real."""
    device = next(model.parameters()).device
    probs = [model.predict(_patch_tensor(chunk, device)).cpu() for chunk in _batches(patches, batch_size)]
    return torch.cat(probs).double().numpy() if probs else np.zeros(0)


def actor_hits(actor_model, patches: np.ndarray, actors: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Whether the 2D actor recognizer, in test mode, predicts each patch's actor (its top class).

    Args:
        actor_model: the Stage-1 actor ``Recognizer2D`` (each patch is a clip of one segment).
        patches: (N, q, q, 3) uint8 RGB patches; actors: (N,) actor class indices of the recognizer.

    Returns:
        (N,) bool.
    """
    from mmaction.structures import ActionDataSample
    if getattr(actor_model.data_preprocessor, 'format_shape', 'NCHW') != 'NCHW':
        raise ValueError('the actor recognizer must be a 2D recognizer (format_shape NCHW): give the WS^2 actor '
                         'config and checkpoint')
    predicted = []
    was_training = actor_model.training
    actor_model.eval()
    try:
        with torch.no_grad():
            for chunk in _batches(patches, batch_size):
                inputs = [_network_input([patch], None) for patch in chunk]  # (1 segment, 3, q, q)
                data = actor_model.data_preprocessor(
                    dict(inputs=inputs, data_samples=[ActionDataSample() for _ in inputs]), False)
                scores, _ = actor_model.extract_feat(data['inputs'], stage='head')
                predicted.append(scores.argmax(dim=1).cpu())
    finally:
        actor_model.train(was_training)
    predicted = torch.cat(predicted).numpy() if predicted else np.zeros(0, np.int64)
    return predicted == np.asarray(actors, np.int64)


# The PA frame datasets of the WS^2 segmenter configs (their training dataset's type): the keys of the config a copy
# of it keeps (the frames, the split, the PA version) and the map from a PA label to the Stage-1 actor (class)
# classifier's label + 1 (0 = background): A2D's actor-action pairs to their actor; YouTube-Objects' class + 1 is
# itself (PA.v0 of tools/ws2/make_pa.py with ws2_pa.with_action=False).
PA_FRAME_DATASETS = {
    'A2DPseudoFrameDataset': ('data_root', 'pa_dir', 'split', 'video_list', 'frame_dir', 'img_suffix'),
    'YouTubeObjectsPseudoFrameDataset': ('data_root', 'pa_dir', 'split', 'video_list', 'frames_dir', 'masks_dir'),
}


def unwrap_dataset_cfg(dataset_cfg):
    """The dataset config inside any ``RepeatDataset`` / ``ClassBalancedDataset`` wrappers (the object itself, not a
    copy)."""
    while dataset_cfg.get('type') in ('RepeatDataset', 'ClassBalancedDataset'):
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg


def _train_dataset_cfg(cfg):
    return unwrap_dataset_cfg(cfg.train_dataloader.dataset)


def pa_frames_kind(cfg, what: str = 'WS^2') -> str:
    """The type of the segmenter config's training dataset (inside any ``RepeatDataset`` /
    ``ClassBalancedDataset``): a key of :data:`PA_FRAME_DATASETS`, else a ``ValueError`` (``what`` names the step)."""
    dataset_cfg = _train_dataset_cfg(cfg)
    kind = str(dataset_cfg.get('type', '')).split('.')[-1]
    if kind not in PA_FRAME_DATASETS:
        raise ValueError(f'{what}: train_dataloader.dataset of the config is a {dataset_cfg.get("type")}, not an '
                         f'{" or a ".join(PA_FRAME_DATASETS)}: give the WS^2 segmenter config')
    return kind


def build_pa_frames_dataset(cfg, what: str = 'WS^2', **overrides):
    """A copy of the segmenter config's training PA frame dataset (:data:`PA_FRAME_DATASETS`: its frames, split, PA
    version, ``video_list``), with no ``selection`` and no pipeline unless ``overrides`` give them, built in the
    mmseg scope."""
    from mmengine.registry import DefaultScope

    import wsseg_mm.datasets as datasets
    kind = pa_frames_kind(cfg, what)
    dataset_cfg = _train_dataset_cfg(cfg)
    kept = {k: dataset_cfg[k] for k in PA_FRAME_DATASETS[kind] if k in dataset_cfg}
    kept.update(dict(pipeline=[]), **overrides)
    with DefaultScope.overwrite_default_scope('mmseg'):
        return getattr(datasets, kind)(**kept)


def build_select_dataset(cfg):
    """The PA frames to select from: the segmenter config's training ``A2DPseudoFrameDataset`` (its ``data_root``,
    ``pa_dir``, ``split``, ``video_list``, ``frame_dir``) or ``YouTubeObjectsPseudoFrameDataset`` (``frames_dir``,
    ``masks_dir`` in place of ``frame_dir``) with every frame (no ``selection``, no pipeline)."""
    return build_pa_frames_dataset(cfg, 'WS^2 selection')


def pa_label_to_actor(dataset) -> np.ndarray:
    """(C,) int64 map from a PA label of ``dataset`` (its ``classes``, background first) to the actor classifier's
    class + 1 (0 = background): A2D's 44 actor-action classes -> their actor (``A2D_LABEL_TO_ACTOR``); the 11 of
    YouTube-Objects (background + the classes of the class classifier) -> themselves."""
    from wsseg_mm.metainfo import A2D_SEG_CLASSES, YTO_SEG_CLASSES

    from ..functional.metrics import A2D_LABEL_TO_ACTOR
    classes = tuple(dataset.metainfo.get('classes', ()))
    if classes == A2D_SEG_CLASSES:
        return A2D_LABEL_TO_ACTOR
    if classes == YTO_SEG_CLASSES:
        return np.arange(len(YTO_SEG_CLASSES), dtype=np.int64)
    raise ValueError(f'WS^2 selection: {type(dataset).__name__} has the classes {classes[:3]}... ({len(classes)}), '
                     'neither A2D_SEG_CLASSES nor YTO_SEG_CLASSES: no map from its PA labels to the actor classifier')


def select_pa(dataset, actor_model, out_file: str, settings: dict, device='cpu') -> dict:
    """WS^2's selection of PA frames (Sec. 3.2): D on cut-and-paste patches, cross-fitted by video, or the actor
    classifier, per region; a frame is kept when all its regions pass (never an empty PA).

    The videos of ``dataset`` (in its order) are dealt to ``folds`` folds (video i to fold i mod folds); for each
    fold, D is trained on the real and cut-and-paste patches of the other folds' videos
    (:func:`train_discriminator`) and scores the held-out fold's cut-and-paste patches. A region with no
    cut-and-paste patch gets probability 0 (only the classifier can pass it). Votes:
    :func:`~wsseg_mm.functional.ws2.region_passes`, frames: :func:`~wsseg_mm.functional.ws2.select_frames`.

    Args:
        dataset: the PA frames (:func:`build_select_dataset`): data infos with ``img_path``, ``seg_map_path``,
            ``video_id``, ``frame_id``.
        actor_model: the Stage-1 actor ``Recognizer2D`` (:func:`~wsseg_mm.apis.common.init_model`).
        out_file: the selection file to write: selected frame ids (``<video_id>/<frame:05d>``), one per line, in
            the dataset's order (``selection`` of :class:`~wsseg_mm.datasets.A2DPseudoFrameDataset`); a summary
            goes to ``<out_file>.json``.
        settings: :func:`ws2_select_settings`.
        device: D's device.

    Returns:
        the summary: frames, selected, fraction, regions, regions passed by D / by the classifier / by either,
        regions without cut-and-paste patch, D's final training loss per fold, the folds whose training videos
        gave D no cut-and-paste patch to learn from (no D: only the classifier votes there, with a warning).
    """
    from wsseg_mm.fileio.labels import load_label_png

    from ..functional.ws2 import region_passes, select_frames
    label_to_actor = pa_label_to_actor(dataset)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    videos: Dict[str, List[int]] = OrderedDict()
    for index, info in enumerate(infos):
        videos.setdefault(info['video_id'], []).append(index)
    if len(videos) < settings['folds']:
        raise ValueError(f'WS^2 selection: {len(videos)} videos cannot be split into ws2_select.folds = '
                         f'{settings["folds"]} folds; lower folds or add videos')
    regions = []  # per video: video_region_patches, the classifier's votes in place of the large actor patches
    for number, indices in enumerate(videos.values()):
        frames = [read_rgb(infos[i]['img_path']) for i in indices]
        labels = [load_label_png(infos[i]['seg_map_path']) for i in indices]
        r = video_region_patches(frames, labels, settings, seed=settings['seed'] + number)
        if len(r['classes']) and r['classes'].max() >= len(label_to_actor):
            raise ValueError(f'WS^2 selection: a PA of video {list(videos)[number]} has label {r["classes"].max()}; '
                             f'PAs hold {type(dataset).__name__} class indices 0..{len(label_to_actor) - 1} or 255')
        r['hits'] = actor_hits(actor_model, r.pop('actor'), label_to_actor[r['classes']] - 1,
                               settings['batch_frames'])
        regions.append(r)
    folds = np.arange(len(regions)) % settings['folds']
    probs = [np.zeros(len(r['frames'])) for r in regions]
    final_losses, folds_without_d = [], []
    for fold in range(settings['folds']):
        train = [r for r, f in zip(regions, folds) if f != fold]
        real = np.concatenate([r['real'] for r in train])
        fake = np.concatenate([r['fake'][r['has_fake']] for r in train])
        if not len(real) or not len(fake):
            # no D for this fold: its held-out regions keep probability 0 (only the classifier can pass them)
            print_log(f'WS^2 selection: fold {fold}\'s training videos have {len(real)} PA regions and {len(fake)} '
                      'cut-and-paste patches (no PA-free background of the region\'s size in their videos); D '
                      'cannot be trained for it, so only the actor classifier votes on the held-out fold',
                      logger='current', level=logging.WARNING)
            folds_without_d.append(fold)
            continue
        model, losses = train_discriminator(real, fake, settings, device)
        final_losses.append(losses[-1])
        for number in np.flatnonzero(folds == fold):
            r = regions[number]
            probs[number] = np.where(r['has_fake'], discriminator_scores(model, r['fake'], settings['batch_size']),
                                     0.0)
    selected_ids, counts = [], dict(regions=0, by_d=0, by_classifier=0, passed=0, without_fake=0)
    for number, (r, indices) in enumerate(zip(regions, videos.values())):
        hits = r['hits']
        passes = region_passes(probs[number], hits, settings['threshold'])
        keep = select_frames(r['frames'], passes, len(indices))
        selected_ids += [infos[i]['frame_id'] for i, k in zip(indices, keep) if k]
        counts['regions'] += len(passes)
        counts['by_d'] += int((probs[number] >= settings['threshold']).sum())
        counts['by_classifier'] += int(hits.sum())
        counts['passed'] += int(passes.sum())
        counts['without_fake'] += int((~r['has_fake']).sum())
    summary = dict(frames=len(infos), selected=len(selected_ids),
                   fraction=len(selected_ids) / len(infos) if infos else 0.0, videos=len(videos),
                   d_final_loss=final_losses, folds_without_d=folds_without_d, **counts)
    atomic_write_bytes(out_file, ''.join(f'{i}\n' for i in selected_ids).encode())
    atomic_write_bytes(out_file + '.json', json.dumps(summary, indent=1, sort_keys=True).encode())
    return summary
