"""Packing of weak labels into mmseg data samples."""
import numpy as np
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

WEAK_META_KEYS = ('img_labels', 'a2d_ids', 'video_id', 'frame_index', 'frame_id')


@TRANSFORMS.register_module()
class PackWeakSegInputs(PackSegInputs):
    """:class:`mmseg.datasets.transforms.PackSegInputs` that also packs weak labels.

    Besides mmseg's meta keys, ``img_labels`` (foreground class indices of the image) and ``a2d_ids`` go to the
    metainfo when present, and a multi-hot ``gt_img_labels`` tensor of length ``num_classes`` (index 0 =
    background, always 0) is added to the data sample when ``img_labels`` and ``num_classes`` are known. The A2D
    frame keys ``video_id``, ``frame_index`` and ``frame_id`` go to the metainfo too, and the superpixels of
    :class:`LoadSuperpixels` become the data sample's ``gt_superpixels``, a ``PixelData`` whose ``data`` is a
    (1, H, W) int64 tensor of superpixel labels (``data_sample.gt_superpixels.data``; in a metric's
    ``data_sample`` dict: ``data_sample['gt_superpixels']['data']``).

    Args:
        num_classes (int, optional): length of the multi-hot vector, background included (21 for VOC); without it
            only the metainfo is packed, and a model that trains on image-level labels (``CAMClassifier``) stops
            with an error naming this key.
    """

    def __init__(self, num_classes: int = None, meta_keys=PackSegInputs().meta_keys + WEAK_META_KEYS) -> None:
        super().__init__(meta_keys=meta_keys)
        self.num_classes = num_classes

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        if self.num_classes is not None and 'img_labels' in results:
            import torch
            labels = np.asarray(results['img_labels'], dtype=np.int64)
            if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
                raise ValueError(f'PackWeakSegInputs(num_classes={self.num_classes}): image label {labels.max()} of '
                                 f'{results.get("img_path", "an image")} is out of range: set num_classes to the '
                                 "dataset's number of classes, background included")
            multi_hot = torch.zeros(self.num_classes)
            multi_hot[labels] = 1
            packed['data_samples'].set_data(dict(gt_img_labels=multi_hot))
        if results.get('superpixels') is not None:
            import torch
            superpixels = np.ascontiguousarray(results['superpixels'], dtype=np.int64)[None]
            packed['data_samples'].set_data(dict(gt_superpixels=PixelData(data=torch.from_numpy(superpixels))))
        return packed
