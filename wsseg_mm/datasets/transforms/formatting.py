"""Packing of weak labels into mmseg data samples."""
import numpy as np
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

WEAK_META_KEYS = ('img_labels', 'a2d_ids')


@TRANSFORMS.register_module()
class PackWeakSegInputs(PackSegInputs):
    """:class:`mmseg.datasets.transforms.PackSegInputs` that also packs weak labels.

    Besides mmseg's meta keys, ``img_labels`` (foreground class indices of the image) and ``a2d_ids`` go to the
    metainfo when present, and a multi-hot ``gt_img_labels`` tensor of length ``num_classes`` (index 0 =
    background, always 0) is added to the data sample when ``img_labels`` and ``num_classes`` are known.

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
        return packed
