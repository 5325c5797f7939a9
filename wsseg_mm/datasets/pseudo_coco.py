"""COCO-format instance pseudo labels whose instances may carry an ignore region (BBAM), mmdet scope.

The JSON is the one :class:`wsseg_mm.fileio.labels.CocoInstanceWriter` writes: every annotation has a
``segmentation`` (compressed RLE) and optionally an ``ignore_rle`` (same format) marking the pixels that the pseudo
label of that instance leaves undecided. Stock ``CocoDataset`` drops unknown annotation keys; this dataset keeps
``ignore_rle`` so that :class:`~wsseg_mm.datasets.transforms.LoadPseudoInstanceMasks` can fold it into ``gt_masks``.
"""
from typing import List, Union

from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS


@DATASETS.register_module()
class PseudoCocoDataset(CocoDataset):
    """``CocoDataset`` that keeps each annotation's ``ignore_rle`` as ``instance['ignore_mask']``.

    Everything else (filtering of crowd / empty / out-of-image boxes, category mapping, image fields) is
    ``CocoDataset``'s. An instance dict looks like::

        dict(bbox=[x1, y1, x2, y2], bbox_label=int, ignore_flag=0 | 1,
             mask=<RLE dict>, ignore_mask=<RLE dict>)   # ignore_mask only when the annotation has ignore_rle
    """

    def parse_data_info(self, raw_data_info: dict) -> Union[dict, List[dict]]:
        """Parse one image's raw info (``raw_img_info``, ``raw_ann_info``) into mmdet's data-info dict."""
        anns = raw_data_info['raw_ann_info']
        # Image-level fields come from the parent with no annotations at all.
        data_info = super().parse_data_info(dict(raw_data_info, raw_ann_info=[]))
        # The parent's per-annotation filter may skip annotations, so its instance list cannot be zipped with
        # ``anns``; parsing each annotation on its own keeps the pairing exact whatever that filter decides.
        instances = []
        for ann in anns:
            parsed = super().parse_data_info(dict(raw_data_info, raw_ann_info=[ann]))['instances']
            if not parsed:
                continue
            instance = parsed[0]
            if ann.get('ignore_rle'):
                instance['ignore_mask'] = ann['ignore_rle']
            instances.append(instance)
        data_info['instances'] = instances
        return data_info
