"""WS^2's region integrity criterion (Chen et al., CVPR 2020, Eq. 1-3) as an mmseg metric."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.structures import BaseDataElement
from mmseg.registry import METRICS

from wsseg_mm.functional.superpixel import (
    REFINE_ALPHA,
    REFINE_BETA,
    REFINE_MODES,
    RIC_WEIGHT,
    RII_CLASSES,
    ric_confusions,
    ric_scores,
)


def _label_map(value: Any) -> np.ndarray:
    """(1, H, W) or (H, W) tensor / array -> (H, W) int64 array."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    value = np.asarray(value)
    return (value[0] if value.ndim == 3 else value).astype(np.int64)


def _superpixels(sample: Dict[str, Any]) -> np.ndarray:
    """The frame's superpixels: PixelData ``gt_superpixels`` (its ``data``) or metainfo ``superpixels``."""
    if 'gt_superpixels' in sample:
        value = sample['gt_superpixels']
        return _label_map(value['data'] if isinstance(value, dict) else value)
    if 'superpixels' in sample:
        return _label_map(sample['superpixels'])
    raise KeyError(f'RICMetric: {sample.get("img_path", "a sample")} has no superpixels: add LoadSuperpixels to the '
                   "test pipeline (it sets results['superpixels'], which PackWeakSegInputs packs) or give the data "
                   'sample a `gt_superpixels` PixelData field')


def _nearest_resize(labels: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    """(h, w) labels -> (H, W) labels, each output pixel taking the input pixel under its centre."""
    rows = np.minimum(((np.arange(shape[0]) + 0.5) * labels.shape[0] / shape[0]).astype(np.int64), labels.shape[0] - 1)
    cols = np.minimum(((np.arange(shape[1]) + 0.5) * labels.shape[1] / shape[1]).astype(np.int64), labels.shape[1] - 1)
    return labels[rows[:, None], cols[None, :]]


@METRICS.register_module()
class RICMetric(BaseMetric):
    """mIoU_PA, RII and RIC (Eq. 1-3 of WS^2) of a segmenter on frames with pseudo annotations (PAs).

    For each frame, M_init is the prediction (``pred_sem_seg``), M_refine its superpixel refinement (Alg. 2 with
    ``alpha``, ``beta``, ``mode``) and the PA is ``gt_sem_seg``. Two (C, C) confusion matrices are kept per frame
    and summed over the dataset: mIoU_PA = mIoU(M_refine, PA) (Eq. 1), RII = mIoU(M_init, M_refine) (Eq. 2), RIC =
    mIoU_PA + ``weight`` RII (Eq. 3), background counted as a class, all in percent. ``CheckpointHook(save_best=
    'RIC', rule='greater')`` and ``EarlyStoppingHook(monitor='RIC')`` can use the keys ``mIoU_PA``, ``RII``,
    ``RIC``.

    Superpixels are read from the data sample: a PixelData field ``gt_superpixels`` ((1, H, W) labels) if present,
    else a metainfo key ``superpixels`` ((H, W) labels). ``PackWeakSegInputs`` packs ``LoadSuperpixels``' map as
    ``gt_superpixels``. mmseg predicts at ``ori_shape``; superpixels of another size (a test pipeline that resizes
    them with the frame) are brought to the prediction's size by nearest-neighbour sampling (a superpixel map
    stays a superpixel map; keep the test frames at their original size to avoid it).

    Args:
        num_classes: C, background included; by default the length of the dataset's ``classes``.
        alpha, beta, mode: Alg. 2's settings (see :func:`~wsseg_mm.functional.superpixel.keep_superpixels`).
        weight: weight of RII in RIC (Eq. 3).
        rii_classes: the classes RII averages over: ``'present'`` (Eq. 2: those of M_init or M_refine) or ``'pa'``
            (P: also every class of the PAs, one the prediction never shows counting 0; see
            :func:`~wsseg_mm.functional.superpixel.ric_scores`).
        ignore_index: void value of the PAs.
        collect_device, prefix: as :class:`mmengine.evaluator.BaseMetric`.
    """

    def __init__(self,
                 num_classes: Optional[int] = None,
                 alpha: float = REFINE_ALPHA,
                 beta: float = REFINE_BETA,
                 mode: str = REFINE_MODES[0],
                 weight: float = RIC_WEIGHT,
                 rii_classes: str = RII_CLASSES[0],
                 ignore_index: int = 255,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if mode not in REFINE_MODES:
            raise ValueError(f'RICMetric: mode must be one of {REFINE_MODES}, got {mode!r}')
        if rii_classes not in RII_CLASSES:
            raise ValueError(f'RICMetric: rii_classes must be one of {RII_CLASSES}, got {rii_classes!r}')
        self.rii_classes = rii_classes
        self.num_classes = num_classes
        self.alpha, self.beta, self.mode, self.weight = alpha, beta, mode, weight
        self.ignore_index = ignore_index

    def _num_classes(self) -> int:
        if self.num_classes is not None:
            return self.num_classes
        if self.dataset_meta and self.dataset_meta.get('classes'):
            return len(self.dataset_meta['classes'])
        raise ValueError('RICMetric: set num_classes in the metric config (the dataset gives no `classes`)')

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Keep the (mIoU_PA, RII) confusion matrices of each frame."""
        num_classes = self._num_classes()
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            pred = _label_map(sample['pred_sem_seg']['data'])
            pa = _label_map(sample['gt_sem_seg']['data'])
            superpixels = _superpixels(sample)
            if superpixels.shape != pred.shape:
                superpixels = _nearest_resize(superpixels, pred.shape)
            self.results.append(
                ric_confusions(pred, superpixels, pa, num_classes, self.alpha, self.beta, self.mode,
                               self.ignore_index))

    def compute_metrics(self, results: List[Tuple[np.ndarray, np.ndarray]]) -> Dict[str, float]:
        """``mIoU_PA``, ``RII`` and ``RIC`` (percent) of the summed confusion matrices."""
        cm_pa = np.sum([r[0] for r in results], axis=0)
        cm_ii = np.sum([r[1] for r in results], axis=0)
        scores = ric_scores(cm_pa, cm_ii, self.weight, self.rii_classes)
        return {key: 100 * value for key, value in scores.items()}
