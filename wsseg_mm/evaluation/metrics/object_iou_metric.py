"""Object segmentation scores (YouTube-Objects, WS^2's Table 5) for mmseg models."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.registry import METRICS
from prettytable import PrettyTable

from wsseg_mm.functional.metrics import iou_from_confusion
from wsseg_mm.functional.object_iou import object_scores

from .a2d_metric import sample_confusions


@METRICS.register_module()
class ObjectIoUMetric(BaseMetric):
    """The per-class IoU of the dataset's classes (class 0 = background) from one summed confusion matrix, and its
    mean over the object classes: ``object_mIoU``, the figure of WS^2's Table 5 on YouTube-Objects (the mean IoU of
    its 10 classes; :func:`~wsseg_mm.functional.object_iou.object_scores`). Also ``mIoU`` (background included),
    ``class_acc`` and ``global_acc``, in percent; the per-class IoU is logged.

    Expects mmseg ``SegDataSample`` s (or their ``to_dict()``) with (1, H, W) ``pred_sem_seg.data`` and
    ``gt_sem_seg.data``; the classes are the dataset's ``classes`` (``dataset_meta``).

    Args:
        ignore_index: ground-truth value of unlabelled pixels.
        collect_device: device used to gather results across processes.
        prefix: metric name prefix.
    """

    def __init__(self, ignore_index: int = 255, collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ignore_index = ignore_index

    def _classes(self) -> Sequence[str]:
        classes = (self.dataset_meta or {}).get('classes')
        if not classes:
            raise ValueError('ObjectIoUMetric: the dataset gives no classes (metainfo.classes): evaluate it on a '
                             'segmentation dataset such as YouTubeObjectsFrameDataset')
        return classes

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Accumulate the (C, C) confusion matrix of each sample."""
        self.results.extend(sample_confusions(data_samples, len(self._classes()), self.ignore_index))

    def compute_metrics(self, results: List[np.ndarray]) -> Dict[str, float]:
        cm = np.sum(results, axis=0)
        table = PrettyTable(field_names=['class', 'IoU'])
        for cls, iou in zip(self._classes(), 100 * iou_from_confusion(cm)):
            table.add_row([cls, f'{iou:.2f}'])
        print_log('\nper-class IoU:\n' + table.get_string(), logger='current')
        return object_scores(cm)
