"""Loading transforms for weak labels: scribbles (PSI's diffused labels too), A2D actor-action masks and SLIC
superpixels (WS^2) (mmseg scope)."""
import io
import json
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from wsseg_mm.fileio.annotations import read_a2d_mat, read_scribbles
from wsseg_mm.fileio.labels import atomic_write_bytes, load_label_png
from wsseg_mm.functional.psi import encode_sld_labels
from wsseg_mm.functional.superpixel import SLIC_COMPACTNESS, SLIC_SEGMENTS, slic_superpixels
from wsseg_mm.metainfo import a2d_id_to_label


def rasterise_scribbles(strokes, classes: Sequence[str], shape, stroke_width: int = 3, ignore_index: int = 255,
                        source: str = '<scribbles>') -> np.ndarray:
    """Draw ScribbleSup strokes into a label map.

    Args:
        strokes: list of ``(tag, points)`` with points (P, 2) x, y.
        classes: class names; a stroke's tag must be one of them (``'background'`` is label 0).
        shape: (H, W) of the label map.
        stroke_width: line thickness in pixels.
        source: file name used in error messages.

    Returns:
        (H, W) uint8 labels, ``ignore_index`` where no stroke passes. Background strokes are drawn first so
        that an object stroke crossing one keeps its object label.
    """
    label = np.full(shape, ignore_index, dtype=np.uint8)
    indexed = []
    for tag, points in strokes:
        if tag not in classes:
            raise ValueError(f'{source}: unknown scribble class tag {tag!r} (known: {", ".join(classes)})')
        indexed.append((classes.index(tag), points))
    for cls, points in sorted(indexed, key=lambda item: item[0] != 0):
        pts = np.round(points).astype(np.int32).reshape(-1, 1, 2)
        if len(pts) == 1:
            cv2.circle(label, tuple(int(v) for v in pts[0, 0]), max(stroke_width // 2, 0), int(cls), -1)
        else:
            cv2.polylines(label, [pts], isClosed=False, color=int(cls), thickness=stroke_width)
    return label


@TRANSFORMS.register_module()
class LoadScribbleAnnotation(BaseTransform):
    """Rasterise a ScribbleSup XML file into ``gt_seg_map`` (or another key), 255 where there is no scribble.

    Required keys: ``scribble_path``, ``img_shape`` (or ``ori_shape``), ``classes`` (unless given here).
    Added keys: ``key`` (default ``gt_seg_map``), appended to ``seg_fields``.

    Args:
        stroke_width (int): thickness of the rasterised strokes in pixels.
        key (str): where to store the map; keep ``gt_seg_map`` to train a stock mmseg model on scribbles
            (partial cross-entropy through ``ignore_index``), or use e.g. ``gt_scribble`` next to full masks.
        classes (Sequence[str], optional): class names; defaults to the dataset's (``results['classes']``).
        ignore_index (int): label of pixels without scribble.
    """

    def __init__(self, stroke_width: int = 3, key: str = 'gt_seg_map', classes: Optional[Sequence[str]] = None,
                 ignore_index: int = 255) -> None:
        if stroke_width < 1:
            raise ValueError(f'stroke_width must be >= 1, got {stroke_width}')
        self.stroke_width = stroke_width
        self.key = key
        self.classes = tuple(classes) if classes is not None else None
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        classes = self.classes or results.get('classes')
        if classes is None:
            raise KeyError('LoadScribbleAnnotation needs class names (the dataset adds results["classes"])')
        shape = results.get('img_shape') or results['ori_shape']
        path = results['scribble_path']
        results[self.key] = rasterise_scribbles(read_scribbles(path), tuple(classes), shape[:2], self.stroke_width,
                                                self.ignore_index, source=path)
        results.setdefault('seg_fields', []).append(self.key)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(stroke_width={self.stroke_width}, key={self.key!r})'


@TRANSFORMS.register_module()
class LoadSLDLabels(BaseTransform):
    """Scribbles ``y_0`` and PSI's current labels ``y_t`` as ONE ``gt_seg_map`` of label codes.

    mmcv's geometric transforms (resize, crop, flip, rotate) move ``gt_seg_map`` with nearest interpolation and
    pad it with 255, so both label maps travel as one: ``c`` on a scribble, ``c + 128`` on a pixel that only
    the SLD labels give to ``c``, 255 elsewhere (:func:`~wsseg_mm.functional.psi.encode_sld_labels`).
    :class:`~wsseg_mm.models.PSISegmentor` decodes them.

    The SLD labels of step ``t`` are ``{sld_dir}/step_{t}/<name>.png`` (a label PNG, class indices, 255 =
    unlabelled; ``<name>`` is the image's file name without extension); an image without one trains on its
    scribbles alone. ``t`` is ``step`` of ``{sld_dir}/state.json`` (``{"step": t}``), read at every call so
    that a hook may advance it during training, else the ``step`` argument.

    Required keys: ``scribble_path``, ``img_path``, ``img_shape`` (or ``ori_shape``), ``classes`` (unless given
    here). Added keys: ``gt_seg_map`` (appended to ``seg_fields``), ``sld_step`` (pack it with
    ``PackWeakSegInputs(meta_keys=...)`` to set the radius of ``Omega_c`` per image).

    Args:
        sld_dir (str, optional): folder of the SLD steps; None: scribbles only.
        step (int): the step without ``state.json``.
        stroke_width (int): thickness of the rasterised strokes in pixels.
        classes (Sequence[str], optional): class names; defaults to the dataset's (``results['classes']``).
        ignore_index (int): label of unlabelled pixels.
    """

    def __init__(self, sld_dir: Optional[str] = None, step: int = 0, stroke_width: int = 3,
                 classes: Optional[Sequence[str]] = None, ignore_index: int = 255) -> None:
        if stroke_width < 1:
            raise ValueError(f'stroke_width must be >= 1, got {stroke_width}')
        if step < 0:
            raise ValueError(f'step must be >= 0, got {step}')
        self.sld_dir = sld_dir
        self.step = step
        self.stroke_width = stroke_width
        self.classes = tuple(classes) if classes is not None else None
        self.ignore_index = ignore_index

    def current_step(self) -> int:
        """``step`` of ``{sld_dir}/state.json`` when that file exists, else the ``step`` argument."""
        state = osp.join(self.sld_dir, 'state.json') if self.sld_dir else None
        if state is None or not osp.exists(state):
            return self.step
        try:
            with open(state) as f:
                return int(json.load(f)['step'])
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ValueError(f'{state}: cannot read the SLD step ({err!r})') from None

    def transform(self, results: dict) -> dict:
        classes = self.classes or results.get('classes')
        if classes is None:
            raise KeyError('LoadSLDLabels needs class names (the dataset adds results["classes"])')
        shape = results.get('img_shape') or results['ori_shape']
        path = results['scribble_path']
        scribbles = rasterise_scribbles(read_scribbles(path), tuple(classes), shape[:2], self.stroke_width,
                                        self.ignore_index, source=path)
        step, labels = self.current_step(), None
        if self.sld_dir:
            name = osp.splitext(osp.basename(results.get('img_path') or path))[0]
            label_path = osp.join(self.sld_dir, f'step_{step}', name + '.png')
            if osp.exists(label_path):
                labels = load_label_png(label_path)
                if labels.shape != scribbles.shape:
                    raise ValueError(f'{label_path}: label map of shape {labels.shape}, the image is '
                                     f'{scribbles.shape}')
        results['gt_seg_map'] = encode_sld_labels(scribbles, labels, self.ignore_index)
        results['sld_step'] = step
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(sld_dir={self.sld_dir!r}, step={self.step}, stroke_width={self.stroke_width})'


def a2d_label_map(masks: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per-pixel actor-action labels (indices of ``A2D_SEG_CLASSES``, 0 = background) from instance masks.

    Args:
        masks: (N, H, W) bool instance masks; a later instance overwrites an earlier one where they overlap.
        ids: (N,) A2D ids (actor * 10 + action).
    """
    label = np.zeros(masks.shape[1:], dtype=np.uint8)
    for mask, a2d_id in zip(masks, ids):
        label[mask] = a2d_id_to_label(a2d_id)
    return label


def _annotation_labels(ann: dict, path: str) -> np.ndarray:
    try:
        return a2d_label_map(ann['masks'], ann['ids'])
    except ValueError as err:
        raise ValueError(f'{path}: {err}') from None


def load_a2d_label_map(path: str) -> np.ndarray:
    """(H, W) uint8 actor-action labels of an A2D ``.mat`` annotation (an invalid id raises naming the file)."""
    return _annotation_labels(read_a2d_mat(path), path)


@TRANSFORMS.register_module()
class LoadA2DAnnotation(BaseTransform):
    """Read an A2D ``.mat`` annotation into ``gt_seg_map`` (labels of ``A2D_SEG_CLASSES``).

    Required keys: ``a2d_mat_path``. Added keys: ``gt_seg_map``, ``a2d_ids`` (N,), ``gt_bboxes`` (N, 4);
    ``seg_fields`` gains ``gt_seg_map``.
    """

    def transform(self, results: dict) -> dict:
        path = results['a2d_mat_path']
        ann = read_a2d_mat(path)
        results['gt_seg_map'] = _annotation_labels(ann, path)
        results['a2d_ids'] = ann['ids']
        results['gt_bboxes'] = ann['boxes']
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results


@TRANSFORMS.register_module()
class LoadSuperpixels(BaseTransform):
    """SLIC superpixels of the loaded image into ``results['superpixels']``, (H, W) int32 labels ``0 .. P-1``
    (:func:`~wsseg_mm.functional.superpixel.slic_superpixels`; WS^2's Alg. 2 and RIC work on them).

    Place it right after ``LoadImageFromFile``, before any geometric transform: ``superpixels`` joins
    ``seg_fields``, so mmseg's ``Resize`` / ``RandomResize`` / ``RandomCrop`` / ``RandomFlip`` move it with the
    image (nearest interpolation); ``PackWeakSegInputs`` packs it as ``gt_superpixels``.

    With ``cache_dir``, the superpixels of an image are read from ``<cache_dir>/<key>.npy`` (or ``.png``, a
    16-bit label PNG) when that file exists, and otherwise computed and written there as ``.npy`` (atomically, so
    data-loader workers may share the folder). ``<key>`` is ``results['frame_id']`` when the dataset gives one
    (``A2DPseudoFrameDataset``: ``'<video_id>/<frame:05d>'``), else the image's file name without extension.

    Required keys: ``img`` (BGR, as ``LoadImageFromFile`` loads it). Added keys: ``superpixels``
    (appended to ``seg_fields``).

    Args:
        n_segments (int): approximate number of superpixels (SLIC's ``n_segments``).
        compactness (float): SLIC's colour / space trade-off.
        cache_dir (str, optional): folder of cached superpixels; None computes them at every call.
    """

    def __init__(self, n_segments: int = SLIC_SEGMENTS, compactness: float = SLIC_COMPACTNESS,
                 cache_dir: Optional[str] = None) -> None:
        if n_segments < 1:
            raise ValueError(f'n_segments must be >= 1, got {n_segments}')
        self.n_segments = n_segments
        self.compactness = compactness
        self.cache_dir = cache_dir

    def _cache_key(self, results: dict) -> str:
        if results.get('frame_id'):
            return str(results['frame_id'])
        return osp.splitext(osp.basename(results['img_path']))[0]

    def _read_cache(self, key: str, shape) -> Optional[np.ndarray]:
        for suffix in ('.npy', '.png'):
            path = osp.join(self.cache_dir, key + suffix)
            if not osp.exists(path):
                continue
            try:
                superpixels = np.load(path) if suffix == '.npy' else cv2.imread(path, cv2.IMREAD_UNCHANGED)
            except (OSError, ValueError) as err:
                raise ValueError(f'{path}: cannot read the cached superpixels ({err!r}); delete it to recompute') \
                    from None
            if superpixels is None or superpixels.shape != tuple(shape):
                raise ValueError(f'{path}: cached superpixels of shape '
                                 f'{None if superpixels is None else superpixels.shape}, the image is {tuple(shape)}:'
                                 ' delete the stale cache (cache_dir) to recompute')
            return superpixels.astype(np.int32)
        return None

    def transform(self, results: dict) -> dict:
        image = results['img']
        superpixels = None
        if self.cache_dir is not None:
            key = self._cache_key(results)
            superpixels = self._read_cache(key, image.shape[:2])
        if superpixels is None:
            superpixels = slic_superpixels(image, self.n_segments, self.compactness, channel_order='bgr')
            if self.cache_dir is not None:
                buffer = io.BytesIO()
                np.save(buffer, superpixels)
                atomic_write_bytes(osp.join(self.cache_dir, key + '.npy'), buffer.getvalue())
        results['superpixels'] = superpixels
        results.setdefault('seg_fields', []).append('superpixels')
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(n_segments={self.n_segments}, compactness={self.compactness}, '
                f'cache_dir={self.cache_dir!r})')
