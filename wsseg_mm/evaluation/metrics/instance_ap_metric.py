"""Instance mask AP (SDS AP^r, VOC style) and average best overlap for mmdet models."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pycocotools.mask as mask_util
import torch
from mmdet.datasets.api_wrappers import COCO
from mmdet.registry import METRICS
from mmdet.structures.mask import BaseInstanceMasks
from mmengine.evaluator import BaseMetric
from mmengine.fileio import get_local_path
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement
from prettytable import PrettyTable

from wsseg_mm.functional.metrics import average_best_overlap, instance_ap, mask_iou


def _to_numpy(value: Any) -> np.ndarray:
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def _masks_to_numpy(masks: Any) -> np.ndarray:
    """mmdet BitmapMasks / PolygonMasks, a tensor, an array or a list of COCO RLEs -> (N, H, W) bool."""
    if isinstance(masks, BaseInstanceMasks):
        return masks.to_ndarray().astype(bool)
    if isinstance(masks, (list, tuple)) and len(masks) > 0 and isinstance(masks[0], dict):
        return mask_util.decode(list(masks)).transpose(2, 0, 1).astype(bool)
    return _to_numpy(masks).astype(bool)


@METRICS.register_module()
class InstanceAPMetric(BaseMetric):
    """Instance segmentation AP at several mask-IoU thresholds plus average best overlap (ABO).

    Expects mmdet ``DetDataSample`` s (or their ``to_dict()``) with ``pred_instances.masks`` (K, H, W),
    ``pred_instances.labels`` (K,), ``pred_instances.scores`` (K,), ``gt_instances.masks`` (G, H, W)
    (BitmapMasks, PolygonMasks or tensor) and ``gt_instances.labels`` (G,), all at the same resolution.
    Void pixels, excluded from every IoU, are the union of ``gt_ignore_mask`` (H, W) in the metainfo and the
    masks of ``ignored_instances`` when present.

    Samples without ``gt_instances`` (the compact pickle mmdet's ``DumpDetResults`` writes, as ``tools/test.py
    --out x.pkl`` does for mmdet models: predictions only, masks as RLE) take their ground truth from ``ann_file``,
    a COCO instance JSON, by ``img_id``, read as mmdet's ``CocoDataset`` + ``LoadAnnotations`` read it (crowd
    instances are void), so that the offline score of a dumped pickle equals the online one, as with mmdet's
    ``CocoMetric``: ``Evaluator(cfg.test_evaluator).offline_evaluate(mmengine.load(pkl))`` (mmdet's
    ``tools/analysis_tools/eval_metric.py``).

    Only the (K, G) IoU matrix, labels and scores of each image are kept between ``process`` and
    ``compute_metrics``, so the memory used does not grow with the image size.

    Args:
        iou_thrs: mask IoU thresholds; one ``AP{round(100 * thr)}`` key each.
        use_07_metric: VOC2007 11-point AP instead of the all-point area.
        ann_file: COCO instance JSON of the ground truth, read for samples that carry none (offline scoring).
        backend_args: mmengine file backend arguments for reading ``ann_file``.
        collect_device: device used to gather results across processes.
        prefix: metric name prefix.
    """

    def __init__(self,
                 iou_thrs: Sequence[float] = (0.5, 0.7),
                 use_07_metric: bool = False,
                 ann_file: Optional[str] = None,
                 backend_args: Optional[dict] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = 'ins') -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.iou_thrs = tuple(float(t) for t in iou_thrs)
        self.use_07_metric = use_07_metric
        self.ann_file = ann_file
        self._coco = None
        if ann_file is not None:
            with get_local_path(ann_file, backend_args=backend_args) as local_path:
                self._coco = COCO(local_path)

    def _gt_from_ann_file(self, sample: dict) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
        """The ground truth of ``sample`` (by its ``img_id``) in ``ann_file``: masks (G, H, W) bool, labels (G,)
        and the (H, W) bool void (crowd instances) or None, filtered as mmdet's ``CocoDataset`` filters."""
        if self._coco is None:
            raise ValueError(f'InstanceAPMetric: {sample.get("img_path", "a sample")} carries no gt_instances (a '
                             'pickle dumped by DumpDetResults / tools/test.py --out?): set ann_file= to the COCO '
                             'JSON of its ground truth in the InstanceAPMetric entry of the evaluator, as for '
                             'CocoMetric')
        if sample.get('img_id') not in self._coco.imgs:
            raise KeyError(f'InstanceAPMetric: img_id {sample.get("img_id")!r} of {sample.get("img_path")} is not '
                           f'an image of ann_file {self.ann_file}')
        info = self._coco.imgs[sample['img_id']]
        height, width = info['height'], info['width']
        classes = (self.dataset_meta or {}).get('classes')
        cat_ids = self._coco.get_cat_ids(cat_names=classes) if classes is not None else sorted(self._coco.cats)
        masks, labels, crowd = [], [], np.zeros((height, width), dtype=bool)
        for ann in self._coco.load_anns(self._coco.get_ann_ids(img_ids=[sample['img_id']])):
            x1, y1, w, h = ann['bbox']
            inside = (max(0, min(x1 + w, width) - max(x1, 0)) * max(0, min(y1 + h, height) - max(y1, 0))) > 0
            if (ann.get('ignore', False) or not inside or ann['area'] <= 0 or w < 1 or h < 1
                    or ann['category_id'] not in cat_ids or not ann.get('segmentation')):
                continue
            mask = self._coco.annToMask(ann).astype(bool)
            if ann.get('iscrowd', False):
                crowd |= mask
            else:
                masks.append(mask)
                labels.append(cat_ids.index(ann['category_id']))
        gt_masks = np.stack(masks) if masks else np.zeros((0, height, width), dtype=bool)
        return gt_masks, np.asarray(labels, dtype=np.int64), crowd if crowd.any() else None

    @staticmethod
    def _ignore_mask(sample: dict, shape: Sequence[int]) -> Optional[np.ndarray]:
        """(H, W) bool union of the void sources of ``sample``, or None when it has none."""
        ignore = None
        if sample.get('gt_ignore_mask') is not None:
            ignore = _to_numpy(sample['gt_ignore_mask']).astype(bool).reshape(shape)
        ignored = sample.get('ignored_instances')
        if ignored is not None and ignored.get('masks') is not None:
            ignored_masks = _masks_to_numpy(ignored['masks'])
            if len(ignored_masks):
                crowd = ignored_masks.any(axis=0)
                ignore = crowd if ignore is None else ignore | crowd
        return ignore

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Compare the predicted and ground-truth masks of each sample and keep the IoUs, labels, scores."""
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            pred = sample['pred_instances']
            pred_masks = _masks_to_numpy(pred['masks'])
            if sample.get('gt_instances') is None:  # a dumped pickle scored offline
                gt_masks, gt_labels, ignore = self._gt_from_ann_file(sample)
                shape = gt_masks.shape[1:]
            else:
                gt_masks = _masks_to_numpy(sample['gt_instances']['masks'])
                gt_labels = _to_numpy(sample['gt_instances']['labels']).astype(np.int64).reshape(-1)
                shape = gt_masks.shape[1:] if len(gt_masks) else pred_masks.shape[1:]
                ignore = None
            if len(gt_masks) == 0:
                # An image without instances still counts its predictions as false positives.
                gt_masks = np.zeros((0, *shape), dtype=bool)
            if len(pred_masks) == 0:
                pred_masks = np.zeros((0, *shape), dtype=bool)
            if pred_masks.shape[1:] != gt_masks.shape[1:]:
                raise ValueError(f'predicted masks {pred_masks.shape[1:]} and ground-truth masks '
                                 f'{gt_masks.shape[1:]} differ in size; rescale the predictions to the '
                                 'annotation size (e.g. `rescale=True` in the test loop)')
            self.results.append(
                dict(
                    ious=mask_iou(pred_masks, gt_masks, self._ignore_mask(sample, shape) if ignore is None else ignore),
                    pred_labels=_to_numpy(pred['labels']).astype(np.int64).reshape(-1),
                    scores=_to_numpy(pred['scores']).astype(np.float64).reshape(-1),
                    gt_labels=gt_labels))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """AP at every threshold and ABO, in percent."""
        preds = [dict(labels=r['pred_labels'], scores=r['scores']) for r in results]
        gts = [dict(labels=r['gt_labels']) for r in results]
        ious = [r['ious'] for r in results]
        classes = (self.dataset_meta or {}).get('classes')
        if classes is not None:
            num_classes = len(classes)
        else:
            num_classes = 1 + max([int(r['gt_labels'].max()) for r in results if r['gt_labels'].size] +
                                  [int(r['pred_labels'].max()) for r in results if r['pred_labels'].size] + [-1])

        metrics: Dict[str, float] = {}
        table = PrettyTable(field_names=['class'] + [f'AP{round(100 * t)}' for t in self.iou_thrs])
        per_class = []
        for thr in self.iou_thrs:
            result = instance_ap(preds, gts, num_classes, thr, self.use_07_metric, ious=ious)
            metrics[f'AP{round(100 * thr)}'] = 100 * result['ap']
            per_class.append(100 * result['per_class'])
        metrics['ABO'] = 100 * average_best_overlap(preds, gts, ious=ious)

        for cls in range(num_classes):
            name = classes[cls] if classes is not None else str(cls)
            table.add_row([name] + [f'{aps[cls]:.2f}' for aps in per_class])
        print_log('\n' + table.get_string(), logger='current')
        return metrics
