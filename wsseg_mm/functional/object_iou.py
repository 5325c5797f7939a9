"""Object segmentation scores of one foreground class per video (YouTube-Objects, Table 5 of WS^2 and the papers it
compares with): the per-class IoU of a summed confusion matrix whose class 0 is background, averaged over the object
classes. Plain numpy; shapes: ``C`` classes (background included)."""
from typing import Dict

import numpy as np

from .metrics import iou_from_confusion, mean_class_accuracy, miou, pixel_accuracy

__all__ = ['object_scores']


def object_scores(cm: np.ndarray) -> Dict[str, float]:
    """Scores of a (C, C) confusion matrix (rows ground truth, columns prediction; class 0 = background), in percent.

    Returns:
        ``object_mIoU``: the mean IoU of the object classes 1..C-1 that occur in ground truth or prediction
        (Table 5's figure: YouTube-Objects' 10 classes, background left out); ``mIoU``: the same with background;
        ``class_acc`` (mean per-class accuracy) and ``global_acc`` (pixel accuracy). nan where nothing is counted.
    """
    cm = np.asarray(cm, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] < 2:
        raise ValueError(f'expected a (C, C) confusion matrix with C >= 2 (background + objects), got {cm.shape}')
    objects = iou_from_confusion(cm)[1:]
    present = ~np.isnan(objects)
    return dict(object_mIoU=100 * float(objects[present].mean()) if present.any() else float('nan'),
                mIoU=100 * miou(cm), class_acc=100 * mean_class_accuracy(cm), global_acc=100 * pixel_accuracy(cm))
