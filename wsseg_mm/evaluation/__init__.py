from .metrics import A2DMetric, InstanceAPMetric
from .pseudo_label_quality import (
    PseudoLabelScorer,
    as_prediction,
    gt_instances,
    instance_figures,
    touching_same_class,
    voc_ground_truth,
)

__all__ = ['A2DMetric', 'InstanceAPMetric', 'PseudoLabelScorer', 'as_prediction', 'gt_instances',
           'instance_figures', 'touching_same_class', 'voc_ground_truth']
