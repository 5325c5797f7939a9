"""Loading a one-object greyscale mask image (YouTube-Objects' ground truth) as a label map (mmseg scope)."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from wsseg_mm.fileio.youtube_objects import YTO_MASK_THRESHOLD, read_yto_mask


def load_binary_label_map(path: str, label: int, threshold: int = YTO_MASK_THRESHOLD) -> np.ndarray:
    """(H, W) uint8 label map of a one-object greyscale mask image: ``label`` where a pixel is above
    ``threshold``, 0 (background) elsewhere (:func:`~wsseg_mm.fileio.youtube_objects.read_yto_mask`)."""
    return np.where(read_yto_mask(path, threshold), label, 0).astype(np.uint8)


@TRANSFORMS.register_module()
class LoadBinaryMaskAnnotation(BaseTransform):
    """Read the mask image ``seg_map_path`` (greyscale, e.g. a JPEG written as 0 / 255) into ``gt_seg_map``:
    ``mask_label`` where a pixel is above ``threshold``, 0 (background) elsewhere
    (:func:`~wsseg_mm.fileio.youtube_objects.read_yto_mask`; YouTube-Objects: > 15).

    Required keys: ``seg_map_path``, ``mask_label`` (the class of the object, e.g. of the shot;
    :class:`~wsseg_mm.datasets.YouTubeObjectsFrameDataset` gives it). Added keys: ``gt_seg_map`` (H, W) uint8,
    appended to ``seg_fields``. When ``img_shape`` is known (after ``LoadImageFromFile``) the mask must have the
    image's size, else a ``ValueError`` names the mask.

    Args:
        threshold (int): a mask pixel ``> threshold`` is the object.
    """

    def __init__(self, threshold: int = YTO_MASK_THRESHOLD) -> None:
        if not 0 <= threshold < 255:
            raise ValueError(f'threshold must be in [0, 255), got {threshold}')
        self.threshold = threshold

    def transform(self, results: dict) -> dict:
        path = results['seg_map_path']
        label = int(results['mask_label'])
        if not 0 < label < 255:
            raise ValueError(f'{path}: mask_label must be a class index in 1..254 (0 is background), got {label}')
        label_map = load_binary_label_map(path, label, self.threshold)
        shape = results.get('img_shape')
        if shape is not None and tuple(shape[:2]) != label_map.shape:
            raise ValueError(f'mask {path} is {label_map.shape[0]}x{label_map.shape[1]} (HxW), its image '
                             f'{results.get("img_path")} {shape[0]}x{shape[1]}: the ground truth must be at the '
                             'frame\'s size')
        results['gt_seg_map'] = label_map
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(threshold={self.threshold})'
