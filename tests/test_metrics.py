"""Metrics against values worked out by hand on tiny inputs, and the registered metric wrappers."""
import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData, PixelData
from mmseg.evaluation import IoUMetric
from mmseg.structures import SegDataSample

import wsseg_mm.evaluation  # noqa: F401  (registers the metrics)
from wsseg_mm.functional.metrics import (
    A2D_LABEL_TO_ACTION,
    A2D_LABEL_TO_ACTOR,
    a2d_scores,
    average_best_overlap,
    confusion_matrix,
    instance_ap,
    iou_from_confusion,
    mask_iou,
    mean_class_accuracy,
    miou,
    pixel_accuracy,
)
from wsseg_mm.metainfo import A2D_PAIR_IDS, A2D_SEG_CLASSES


def m(*rows):
    """Bool mask from rows of 0/1."""
    return np.array(rows, dtype=bool)


# ------------------------------------------------------------------------------------------------ semantic
def _seg_sample(pred: np.ndarray, gt: np.ndarray) -> SegDataSample:
    return SegDataSample(pred_sem_seg=PixelData(data=torch.from_numpy(np.ascontiguousarray(pred))[None]),
                         gt_sem_seg=PixelData(data=torch.from_numpy(np.ascontiguousarray(gt))[None]))


GT = np.array([[0, 0, 1], [1, 2, 255]])
PRED = np.array([[0, 1, 1], [1, 1, 0]])
# Pixels (gt -> pred): 0->0, 0->1, 1->1, 1->1, 2->1, and the 255 pixel is skipped.
#          pred 0  1  2
# gt 0        [1, 1, 0]
# gt 1        [0, 2, 0]
# gt 2        [0, 1, 0]
CM = np.array([[1, 1, 0], [0, 2, 0], [0, 1, 0]])


def test_confusion_matrix_by_hand():
    cm = confusion_matrix(PRED, GT, 3)
    assert cm.dtype == np.int64 and cm.shape == (3, 3)
    np.testing.assert_array_equal(cm, CM)
    # A ground-truth label outside [0, C) is skipped like the ignore value.
    np.testing.assert_array_equal(confusion_matrix(PRED, np.where(GT == 255, 7, GT), 3), CM)
    # A prediction of 255 ("no class") cannot be a (C, C) cell: the pixel 0->0 is dropped entirely.
    pred = PRED.copy()
    pred[0, 0] = 255
    np.testing.assert_array_equal(confusion_matrix(pred, GT, 3), [[0, 1, 0], [0, 2, 0], [0, 1, 0]])


def test_scores_from_confusion_by_hand():
    # IoU = TP / (row + col - TP): class 0: 1 / (2 + 1 - 1) = 1/2, class 1: 2 / (2 + 4 - 2) = 1/2,
    # class 2: 0 / (1 + 0 - 0) = 0; class 3 (C = 4) is absent from gt and prediction -> nan.
    cm = np.zeros((4, 4), dtype=np.int64)
    cm[:3, :3] = CM
    np.testing.assert_allclose(iou_from_confusion(cm), [0.5, 0.5, 0.0, np.nan])
    assert miou(cm) == pytest.approx(1 / 3)
    assert pixel_accuracy(cm) == pytest.approx(3 / 5)  # 3 correct of 5 counted pixels
    assert mean_class_accuracy(cm) == pytest.approx((1 / 2 + 2 / 2 + 0 / 1) / 3)  # class 3 has no gt
    assert np.isnan(miou(np.zeros((2, 2)))) and np.isnan(pixel_accuracy(np.zeros((2, 2))))


def test_miou_matches_mmseg_iou_metric():
    rng = np.random.default_rng(0)
    num_classes = 5
    mmseg_metric = IoUMetric(iou_metrics=['mIoU'])
    mmseg_metric.dataset_meta = dict(classes=[str(i) for i in range(num_classes)])
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    for _ in range(3):
        gt = rng.integers(0, num_classes, (12, 10))
        gt[rng.random(gt.shape) < 0.1] = 255
        pred = rng.integers(0, num_classes, (12, 10))
        mmseg_metric.process({}, [_seg_sample(pred, gt).to_dict()])
        cm += confusion_matrix(pred, gt, num_classes)
    ref = mmseg_metric.compute_metrics(mmseg_metric.results)  # percent, rounded to 2 decimals
    assert 100 * miou(cm) == pytest.approx(ref['mIoU'], abs=0.006)
    assert 100 * mean_class_accuracy(cm) == pytest.approx(ref['mAcc'], abs=0.006)
    assert 100 * pixel_accuracy(cm) == pytest.approx(ref['aAcc'], abs=0.006)


# ------------------------------------------------------------------------------------------------ instance
def test_mask_iou_by_hand():
    a = np.stack([m([1, 1, 0], [0, 0, 0]), m([0, 0, 0], [0, 1, 1]), m([0, 0, 0], [0, 0, 0])])
    b = np.stack([m([1, 1, 1], [0, 0, 0]), m([0, 0, 0], [0, 0, 0])])
    # a0 vs b0: 2 common pixels, 3 in the union; a1 is disjoint from b0; empty unions give 0.
    np.testing.assert_allclose(mask_iou(a, b), [[2 / 3, 0], [0, 0], [0, 0]])
    # Ignoring the pixel (0, 2) removes it from the union of a0 and b0: 2 / 2.
    ignore = m([0, 0, 1], [0, 0, 0])
    np.testing.assert_allclose(mask_iou(a, b, ignore)[0, 0], 1.0)
    assert mask_iou(a[:0], b).shape == (0, 2)


# Two 2x3 images, class 0 has one ground truth per image, class 1 none.
AP_GTS = [
    dict(masks=m([1, 1, 1], [0, 0, 0])[None], labels=np.array([0])),
    dict(masks=m([0, 0, 0], [1, 1, 1])[None], labels=np.array([0])),
]
AP_PREDS = [
    # a: score 0.9, IoU 1 with the gt; b: score 0.8, IoU 2/3 with the same, already matched gt.
    dict(masks=np.stack([m([1, 1, 1], [0, 0, 0]), m([1, 1, 0], [0, 0, 0])]), labels=np.array([0, 0]),
         scores=np.array([0.9, 0.8])),
    # c: score 0.7, IoU 2/3 with the gt; a class-1 prediction (no class-1 gt anywhere), IoU 0.
    dict(masks=np.stack([m([0, 0, 0], [0, 1, 1]), m([1, 0, 0], [0, 0, 0])]), labels=np.array([0, 1]),
         scores=np.array([0.7, 0.95])),
]


def test_instance_ap_all_point_by_hand():
    # Class 0 at IoU 0.5, by decreasing score:
    #   rank  pred  TP/FP  precision  recall
    #   1     a     TP     1/1        1/2
    #   2     b     FP     1/2        1/2     (its only gt is taken by a)
    #   3     c     TP     2/3        2/2
    # Monotone precision: 1 on recall (0, 1/2], 2/3 on (1/2, 1] -> area 1/2 * 1 + 1/2 * 2/3 = 5/6.
    result = instance_ap(AP_PREDS, AP_GTS, num_classes=2, iou_thr=0.5)
    np.testing.assert_allclose(result['per_class'], [5 / 6, np.nan])
    assert result['ap'] == pytest.approx(5 / 6)  # class 1 has no gt and is left out of the mean
    # At IoU 0.7 only a is a TP: precision 1, 1/2, 1/3 at recall 1/2 -> area 1/2.
    assert instance_ap(AP_PREDS, AP_GTS, 2, iou_thr=0.7)['ap'] == pytest.approx(0.5)


def test_instance_ap_11_point_by_hand():
    # Same table; interpolated precision is 1 at recall 0, 0.1, ..., 0.5 (6 points) and 2/3 at 0.6, ..., 1.0
    # (5 points) -> (6 + 5 * 2/3) / 11 = 28/33.
    assert instance_ap(AP_PREDS, AP_GTS, 2, use_07_metric=True)['ap'] == pytest.approx(28 / 33)
    # At IoU 0.7: precision 1 up to recall 0.5 (6 points), nothing beyond -> 6/11.
    assert instance_ap(AP_PREDS, AP_GTS, 2, iou_thr=0.7, use_07_metric=True)['ap'] == pytest.approx(6 / 11)


def _hand_voc_ap(recall, precision, use_07_metric):
    """The former hand-written VOC AP of functional/metrics.py, now mmdet's ``average_precision``."""
    if use_07_metric:
        points = [precision[recall >= t].max() if np.any(recall >= t) else 0.0 for t in np.linspace(0, 1, 11)]
        return float(np.mean(points))
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    step = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[step + 1] - mrec[step]) * mpre[step + 1]))


@pytest.mark.parametrize('use_07_metric', [False, True])
def test_instance_ap_is_the_hand_written_voc_ap(use_07_metric):
    """mmdet's 'area' / '11points' AP is the VOC2010+ / VOC2007 AP this module computed by hand before: the same
    numbers up to float32 rounding (mmdet returns float32), on random TP/FP sequences, on num_gt = 10 where the
    recalls fall exactly on the 11 points (their thresholds, np.arange(0, 1.001, 0.1), are bitwise
    np.linspace(0, 1, 11)), and without any detection."""
    from mmdet.evaluation.functional import average_precision
    np.testing.assert_array_equal(np.arange(0, 1 + 1e-3, 0.1), np.linspace(0, 1, 11))
    rng = np.random.default_rng(0)
    mode = '11points' if use_07_metric else 'area'
    for trial in range(200):
        num_gt = 10 if trial % 2 else int(rng.integers(1, 30))
        tp = rng.random(int(rng.integers(0, 40))) < rng.random()
        tp[np.flatnonzero(tp)[num_gt:]] = False  # at most num_gt true positives
        tp_cum = np.cumsum(tp)
        recall, precision = tp_cum / num_gt, tp_cum / np.arange(1, len(tp) + 1)
        expected = _hand_voc_ap(recall, precision, use_07_metric)
        assert float(average_precision(recall, precision, mode)) == pytest.approx(expected, rel=1e-6, abs=1e-7)
        # instance_ap on one image whose IoU matrix makes this very TP/FP sequence (one gt per TP, IoU 1).
        ious = np.zeros((len(tp), num_gt))
        ious[np.flatnonzero(tp), np.arange(tp.sum())] = 1
        preds = [dict(labels=np.zeros(len(tp), np.int64), scores=-np.arange(len(tp), dtype=np.float64))]
        gts = [dict(labels=np.zeros(num_gt, np.int64))]
        result = instance_ap(preds, gts, 1, use_07_metric=use_07_metric, ious=[ious])
        assert result['ap'] == pytest.approx(expected, rel=1e-6, abs=1e-7)


def test_instance_ap_matches_best_unmatched_gt():
    # 1x4 image, gts g0 = 1110 and g1 = 0111; two identical predictions 1110 (IoU 1 with g0, 2/4 with g1).
    # The first takes g0, the second falls back on the unmatched g1 (IoU 0.5 >= 0.5): both TP, AP = 1.
    gts = [dict(masks=np.stack([m([1, 1, 1, 0]), m([0, 1, 1, 1])]), labels=np.array([0, 0]))]
    preds = [dict(masks=np.stack([m([1, 1, 1, 0])] * 2), labels=np.array([0, 0]), scores=np.array([0.9, 0.8]))]
    assert instance_ap(preds, gts, 1)['ap'] == pytest.approx(1.0)
    # A class with gt but no prediction scores 0.
    assert instance_ap([dict(masks=np.zeros((0, 1, 4), bool), labels=[], scores=[])], gts, 1)['ap'] == 0


def test_instance_ap_ignore_pixels():
    # gt 110/000, prediction 111/100: IoU 2/4 -> FP at 0.7 (AP 0). Marking the two extra pixels void
    # leaves IoU 2/2 -> TP (AP 1).
    gt = dict(masks=m([1, 1, 0], [0, 0, 0])[None], labels=np.array([0]))
    pred = dict(masks=m([1, 1, 1], [1, 0, 0])[None], labels=np.array([0]), scores=np.array([1.0]))
    assert instance_ap([pred], [gt], 1, iou_thr=0.7)['ap'] == 0
    gt['ignore'] = m([0, 0, 1], [1, 0, 0])
    assert instance_ap([pred], [gt], 1, iou_thr=0.7)['ap'] == 1


def test_average_best_overlap_by_hand():
    # Image 0: g0 = 111/000, g1 = 000/111; predictions (labels ignored) p0 = 110/000 (2/3 with g0, 0 with g1),
    # p1 = 000/001 (0, 1/3), p2 = 111/111 (1/2, 1/2). Best: g0 -> 2/3, g1 -> 1/2.
    gts = [dict(masks=np.stack([m([1, 1, 1], [0, 0, 0]), m([0, 0, 0], [1, 1, 1])]), labels=np.array([0, 1]))]
    preds = [dict(masks=np.stack([m([1, 1, 0], [0, 0, 0]), m([0, 0, 0], [0, 0, 1]), m([1, 1, 1], [1, 1, 1])]),
                  labels=np.array([1, 1, 1]), scores=np.ones(3))]
    assert average_best_overlap(preds, gts) == pytest.approx((2 / 3 + 1 / 2) / 2)
    # A second image with one gt and no prediction adds a 0: (2/3 + 1/2 + 0) / 3.
    gts.append(dict(masks=m([1, 0, 0], [0, 0, 0])[None], labels=np.array([0])))
    preds.append(dict(masks=np.zeros((0, 2, 3), bool), labels=np.zeros(0), scores=np.zeros(0)))
    assert average_best_overlap(preds, gts) == pytest.approx((2 / 3 + 1 / 2) / 3)


def _det_sample(pred: dict, gt: dict, **metainfo) -> DetDataSample:
    sample = DetDataSample(metainfo=metainfo)
    sample.pred_instances = InstanceData(
        masks=torch.from_numpy(pred['masks']), labels=torch.as_tensor(pred['labels']),
        scores=torch.as_tensor(pred['scores'], dtype=torch.float32))
    masks = gt['masks']
    sample.gt_instances = InstanceData(masks=BitmapMasks(masks, *masks.shape[1:]), labels=torch.as_tensor(gt['labels']))
    return sample


def test_instance_ap_metric_through_registry():
    from mmdet.registry import METRICS
    metric = METRICS.build(dict(type='InstanceAPMetric', _scope_='mmdet'))
    metric.dataset_meta = dict(classes=('a', 'b'))
    metric.process({}, [_det_sample(p, g) for p, g in zip(AP_PREDS, AP_GTS)])
    # ABO: gt of image 0 is covered exactly by a, gt of image 1 best by c (2/3).
    assert metric.evaluate(2) == pytest.approx({'ins/AP50': 100 * 5 / 6, 'ins/AP70': 50.0, 'ins/ABO': 100 * 5 / 6})


def test_instance_ap_metric_void_sources():
    from mmdet.registry import METRICS
    gt = dict(masks=m([1, 1, 0], [0, 0, 0])[None], labels=np.array([0]))
    pred = dict(masks=m([1, 1, 1], [1, 0, 0])[None], labels=np.array([0]), scores=np.array([1.0]))
    void = m([0, 0, 1], [1, 0, 0])
    # Without void the IoU is 2/4; with it 2/2 (see test_instance_ap_ignore_pixels).
    plain = _det_sample(pred, gt)
    from_metainfo = _det_sample(pred, gt, gt_ignore_mask=void)
    from_instances = _det_sample(pred, gt)
    from_instances.ignored_instances = InstanceData(masks=BitmapMasks(void[None], 2, 3), labels=torch.zeros(1))
    for sample, expected in ((plain, 0.0), (from_metainfo, 100.0), (from_instances, 100.0)):
        metric = METRICS.build(dict(type='InstanceAPMetric', _scope_='mmdet', iou_thrs=(0.7, ), use_07_metric=True))
        metric.process({}, [sample.to_dict()])
        assert metric.compute_metrics(metric.results)['AP70'] == pytest.approx(expected)


# ------------------------------------------------------------------------------------------------ A2D
def test_a2d_label_maps():
    assert A2D_LABEL_TO_ACTOR.shape == A2D_LABEL_TO_ACTION.shape == (len(A2D_SEG_CLASSES), )
    assert A2D_LABEL_TO_ACTOR[0] == A2D_LABEL_TO_ACTION[0] == 0
    # Label 1 = adult-climbing (11), 2 = adult-crawling (12), 9 = baby-climbing (21).
    assert A2D_PAIR_IDS[0] == 11 and A2D_PAIR_IDS[1] == 12 and A2D_PAIR_IDS[8] == 21
    assert (A2D_LABEL_TO_ACTOR[[1, 2, 9]] == [1, 1, 2]).all() and (A2D_LABEL_TO_ACTION[[1, 2, 9]] == [1, 2, 1]).all()


# Pixels gt -> pred: 0->0, 1->1, 1->2, 2->2, 9->1 and one void pixel.
A2D_GT = np.array([[0, 1, 1], [2, 9, 255]])
A2D_PRED = np.array([[0, 1, 2], [2, 1, 0]])
A2D_EXPECTED = {
    # Pairs 0, 1, 2, 9: IoU 1/1, 1/(2+2-1), 1/(1+2-1), 0/1; recall 1, 1/2, 1, 0; 3 of 5 correct.
    'actor_action_mIoU': 100 * (1 + 1 / 3 + 1 / 2 + 0) / 4,
    'actor_action_class_acc': 100 * (1 + 1 / 2 + 1 + 0) / 4,
    'actor_action_global_acc': 60.0,
    # Actors gt -> pred: bg->bg, adult->adult x3, baby->adult. IoU bg 1, adult 3/4, baby 0; recall 1, 1, 0.
    'actor_mIoU': 100 * (1 + 3 / 4 + 0) / 3,
    'actor_class_acc': 100 * (1 + 1 + 0) / 3,
    'actor_global_acc': 80.0,
    # Actions gt -> pred: bg->bg, climbing->climbing x2, climbing->crawling, crawling->crawling.
    # IoU bg 1, climbing 2/(3+2-2), crawling 1/(1+2-1); recall 1, 2/3, 1.
    'action_mIoU': 100 * (1 + 2 / 3 + 1 / 2) / 3,
    'action_class_acc': 100 * (1 + 2 / 3 + 1) / 3,
    'action_global_acc': 80.0,
}


def test_a2d_scores_by_hand():
    scores = a2d_scores(confusion_matrix(A2D_PRED, A2D_GT, len(A2D_SEG_CLASSES)))
    for level in ('actor', 'action', 'actor_action'):
        for name in ('mIoU', 'class_acc', 'global_acc'):
            assert scores[level][name] == pytest.approx(A2D_EXPECTED[f'{level}_{name}']), (level, name)
    assert scores['actor']['per_class_iou'].shape == (8, )
    np.testing.assert_allclose(scores['action']['per_class_iou'][:3], [100, 200 / 3, 50])
    assert np.isnan(scores['action']['per_class_iou'][3:]).all()


def test_a2d_metric_through_registry():
    from mmseg.registry import METRICS
    metric = METRICS.build(dict(type='A2DMetric', _scope_='mmseg'))
    # The map split over two samples (one as a dict, as the Evaluator passes them) checks the summing.
    left = _seg_sample(A2D_PRED[:, :1], A2D_GT[:, :1]).to_dict()
    right = _seg_sample(A2D_PRED[:, 1:], A2D_GT[:, 1:])
    metric.process({}, [left, right])
    assert metric.compute_metrics(metric.results) == pytest.approx(A2D_EXPECTED)


def test_touching_same_class_instances():
    from wsseg_mm.evaluation import gt_instances, touching_same_class
    objects = np.zeros((12, 12), np.uint8)
    semantic = np.zeros((12, 12), np.uint8)
    objects[2:6, 2:6], semantic[2:6, 2:6] = 1, 3
    objects[2:6, 8:11], semantic[2:6, 8:11] = 2, 3  # same class, 2 px of void between: touching
    objects[2:6, 6:8] = semantic[2:6, 6:8] = 255
    assert touching_same_class(gt_instances(objects, semantic))
    semantic[2:6, 8:11] = 4  # another class
    assert not touching_same_class(gt_instances(objects, semantic))
    semantic[2:6, 8:11] = 3
    objects[2:6, 8:11], objects[2:6, 9:12] = 0, 2  # 4 px apart: not within the default gap of 3
    semantic[2:6, 8:12] = 0
    semantic[2:6, 9:12] = 3
    assert not touching_same_class(gt_instances(objects, semantic))
    assert touching_same_class(gt_instances(objects, semantic), gap=4)
    assert not touching_same_class(gt_instances(np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8)))
