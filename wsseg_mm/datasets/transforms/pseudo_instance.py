"""Loading of instance pseudo masks with an ignore region (BBAM), mmdet scope."""
import numpy as np
from mmdet.datasets.transforms import LoadAnnotations
from mmdet.registry import TRANSFORMS
from mmdet.structures.mask import BitmapMasks

# Values of the per-instance label maps in ``gt_masks``.
MASK_BACKGROUND, MASK_FOREGROUND, MASK_IGNORE = 0, 1, 2


@TRANSFORMS.register_module()
class LoadPseudoInstanceMasks(LoadAnnotations):
    """mmdet's ``LoadAnnotations`` whose ``gt_masks`` also encode each instance's ignore region.

    ``gt_masks`` is a ``BitmapMasks`` of N (H, W) uint8 maps with 0 = background, 1 = foreground, 2 = ignore
    (the instance's ``ignore_mask`` from :class:`~wsseg_mm.datasets.PseudoCocoDataset`). Where a pixel is both in
    the mask and in the ignore region the mask wins: the pseudo label decided it.

    The three values survive the geometric transforms that only move or copy pixels (``Resize``, whose masks use
    nearest interpolation, ``RandomFlip``, ``Pad``), so
    :class:`~wsseg_mm.models.IgnoreFCNMaskHead` can read the ignore region after augmentation. Operations that
    read the maps as binary (``BitmapMasks.areas``, ``get_bboxes`` when a crop recomputes boxes, bilinear
    warps) would count ignore pixels as foreground or blend the values; keep them out of such pipelines.

    Args:
        with_bbox, with_label, with_mask: as ``LoadAnnotations``, all True by default.
        **kwargs: the other ``LoadAnnotations`` arguments; ``poly2mask`` must stay True (bitmaps carry the
            three values, polygons cannot).
    """

    def __init__(self, with_bbox: bool = True, with_label: bool = True, with_mask: bool = True,
                 **kwargs) -> None:
        if not kwargs.get('poly2mask', True):
            raise ValueError('LoadPseudoInstanceMasks needs poly2mask=True: the 0/1/2 maps are bitmaps')
        super().__init__(with_bbox=with_bbox, with_label=with_label, with_mask=with_mask, **kwargs)

    def _load_masks(self, results: dict) -> None:
        """Set ``results['gt_masks']`` to the (N, H, W) uint8 0/1/2 maps (``H, W = results['ori_shape']``)."""
        h, w = results['ori_shape']
        # _process_masks also refreshes gt_ignore_flags for unreadable masks, as in the parent.
        mask_anns = self._process_masks(results)
        maps = np.zeros((len(mask_anns), h, w), dtype=np.uint8)
        for i, (mask_ann, instance) in enumerate(zip(mask_anns, results.get('instances', []))):
            foreground = self._poly2mask(mask_ann, h, w).astype(bool)
            if instance.get('ignore_mask') is not None:
                ignore = self._poly2mask(instance['ignore_mask'], h, w).astype(bool)
                maps[i][ignore & ~foreground] = MASK_IGNORE
            maps[i][foreground] = MASK_FOREGROUND
        results['gt_masks'] = BitmapMasks(maps, h, w)
