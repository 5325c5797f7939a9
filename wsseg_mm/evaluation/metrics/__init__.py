from .a2d_metric import A2DMetric
from .instance_ap_metric import InstanceAPMetric
from .object_iou_metric import ObjectIoUMetric
from .ric_metric import RICMetric

__all__ = ['A2DMetric', 'InstanceAPMetric', 'ObjectIoUMetric', 'RICMetric']
