from .metrics import A2DMetric, InstanceAPMetric

__all__ = ['A2DMetric', 'InstanceAPMetric']
