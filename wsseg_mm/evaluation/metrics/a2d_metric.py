"""A2D actor / action / actor-action semantic segmentation scores for mmseg models."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement
from mmseg.registry import METRICS
from prettytable import PrettyTable

from wsseg_mm.functional.metrics import a2d_scores, confusion_matrix, flat_a2d_scores
from wsseg_mm.metainfo import A2D_ACTIONS, A2D_ACTORS, A2D_SEG_CLASSES

_LEVEL_CLASSES = dict(
    actor=('background', ) + A2D_ACTORS,
    action=('background', ) + A2D_ACTIONS,
    actor_action=A2D_SEG_CLASSES)


def _label_map(value: Any) -> np.ndarray:
    """(1, H, W) tensor or array -> (H, W) int64 array."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value).squeeze().astype(np.int64)


def sample_confusions(data_samples: Sequence[Any], num_classes: int, ignore_index: int) -> List[np.ndarray]:
    """The (num_classes, num_classes) confusion matrix of each mmseg ``SegDataSample`` (or its ``to_dict()``) with
    (1, H, W) ``pred_sem_seg.data`` and ``gt_sem_seg.data``."""
    matrices = []
    for sample in data_samples:
        if isinstance(sample, BaseDataElement):
            sample = sample.to_dict()
        pred = _label_map(sample['pred_sem_seg']['data'])
        gt = _label_map(sample['gt_sem_seg']['data'])
        matrices.append(confusion_matrix(pred, gt, num_classes, ignore_index))
    return matrices


@METRICS.register_module()
class A2DMetric(BaseMetric):
    """Actor, action and joint actor-action segmentation scores on A2D (Xu et al., CVPR 2015).

    Expects mmseg ``SegDataSample`` s (or their ``to_dict()``) whose ``pred_sem_seg.data`` and
    ``gt_sem_seg.data`` are (1, H, W) labels in :data:`A2D_SEG_CLASSES` (0 = background, 44 classes). A
    (44, 44) confusion matrix is kept per sample; the actor (8 classes) and action (10 classes) matrices are
    derived from their sum, so every level counts background as a class.

    ``compute_metrics`` returns, in percent, ``{level}_mIoU``, ``{level}_class_acc`` (mean per-class
    accuracy) and ``{level}_global_acc`` (pixel accuracy) for level in actor, action, actor_action, and logs
    the per-class IoU of each level.

    Args:
        ignore_index: ground-truth value of unlabelled pixels.
        collect_device: device used to gather results across processes.
        prefix: metric name prefix.
    """

    def __init__(self, ignore_index: int = 255, collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ignore_index = ignore_index

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Accumulate the (44, 44) confusion matrix of each sample."""
        self.results.extend(sample_confusions(data_samples, len(A2D_SEG_CLASSES), self.ignore_index))

    def compute_metrics(self, results: List[np.ndarray]) -> Dict[str, float]:
        """Scores of the summed confusion matrix, flattened to ``{level}_{score}`` keys."""
        scores = a2d_scores(np.sum(results, axis=0))
        for level, level_scores in scores.items():
            table = PrettyTable(field_names=[level, 'IoU'])
            for cls, iou in zip(_LEVEL_CLASSES[level], level_scores['per_class_iou']):
                table.add_row([cls, f'{iou:.2f}'])
            print_log(f'\nper-class {level} IoU:\n' + table.get_string(), logger='current')
        return flat_a2d_scores(scores)
