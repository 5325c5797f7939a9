"""PseudoLabelScorer keeps per-image statistics only, and its figures are those of the dense masks."""
import numpy as np
import pytest

from wsseg_mm.evaluation import PseudoLabelScorer, as_prediction, instance_figures
from wsseg_mm.functional.metrics import confusion_matrix, iou_from_confusion

H, W = 23, 29  # no (K, G) IoU matrix below can have this shape: K <= 7, G <= 5
NUM_CLASSES = 4  # 0 = background, instances of classes 1..3


def _random_image(rng):
    """Ground truth of one image: semantic map, instances (masks, labels, 255 band as ignore)."""
    num_gt = int(rng.integers(0, 6))
    objects = np.zeros((H, W), np.uint8)
    semantic = np.zeros((H, W), np.uint8)
    labels = rng.integers(1, NUM_CLASSES, num_gt)
    for i, label in enumerate(labels):
        y, x = rng.integers(0, H - 4), rng.integers(0, W - 4)
        h, w = rng.integers(3, H - y + 1), rng.integers(3, W - x + 1)
        objects[y:y + h, x:x + w] = i + 1
        semantic[y:y + h, x:x + w] = label
    void = rng.random((H, W)) < 0.05
    objects[void], semantic[void] = 255, 255
    ids = [i for i in range(1, num_gt + 1) if (objects == i).any()]
    masks = np.stack([objects == i for i in ids]) if ids else np.zeros((0, H, W), bool)
    return semantic, dict(masks=masks, labels=labels[[i - 1 for i in ids]].astype(np.int64), ignore=objects == 255)


def _random_method(rng, gt_inst):
    """A pseudo label: semantic map (some 255) and instances, partly overlapping the ground truth, with ties in
    the scores."""
    instances = []
    for mask, label in zip(gt_inst['masks'], gt_inst['labels']):
        if rng.random() < 0.8:
            noisy = mask ^ (rng.random((H, W)) < rng.uniform(0, 0.08))
            instances.append(dict(mask=noisy, label=int(label if rng.random() < 0.8 else rng.integers(1, NUM_CLASSES)),
                                  score=float(rng.choice([0.5, 0.7, 0.9, rng.random()]))))
    for _ in range(int(rng.integers(0, 3))):
        instances.append(dict(mask=rng.random((H, W)) < 0.2, label=int(rng.integers(1, NUM_CLASSES)),
                              score=float(rng.choice([0.5, rng.random()]))))
    semantic = rng.integers(0, NUM_CLASSES, (H, W)).astype(np.uint8)
    semantic[rng.random((H, W)) < 0.1] = 255
    return semantic, instances


class DenseScorer:
    """The former PseudoLabelScorer: every dense mask of every method kept, everything computed at the end."""

    def __init__(self, num_classes, iou_thrs=(0.5, 0.7)):
        self.num_classes, self.iou_thrs = num_classes, iou_thrs
        self.gts, self.cms, self.preds, self.labelled = [], {}, {}, {}

    def add_image(self, gt_semantic, gt_inst):
        self.gts.append(dict(gt_inst, semantic=gt_semantic))

    def add(self, method, semantic, instances):
        gt = self.gts[-1]
        cm = self.cms.setdefault(method, np.zeros((self.num_classes, self.num_classes), np.int64))
        cm += confusion_matrix(semantic, gt['semantic'], self.num_classes)
        self.preds.setdefault(method, []).append(as_prediction(instances, semantic.shape))
        counts = self.labelled.setdefault(method, [0, 0])
        counts[0] += int((semantic != 255).sum())
        counts[1] += semantic.size

    def results(self):
        out = {}
        for method, preds in self.preds.items():
            row = dict(mIoU=100 * float(np.nanmean(iou_from_confusion(self.cms[method]))),
                       **instance_figures(preds, self.gts, self.num_classes, self.iou_thrs))
            labelled, total = self.labelled[method]
            row['labelled'] = 100 * labelled / max(total, 1)
            row['instances'] = int(sum(len(p['labels']) for p in preds))
            out[method] = row
        return out


def _slow_figures(preds, gts, iou_thr):
    """AP^r (VOC2010+ all-point area) and ABO by explicit loops over pixels, predictions and ground truths."""

    def iou(a, b, ignore):
        keep = ~ignore
        inter = np.logical_and(a, b)[keep].sum()
        union = np.logical_or(a, b)[keep].sum()
        return inter / union if union else 0.0

    aps = []
    for cls in range(NUM_CLASSES):
        num_gt = sum(int((g['labels'] == cls).sum()) for g in gts)
        if num_gt == 0:
            continue
        dets = [(s, i, k) for i, p in enumerate(preds) for k, (s, c) in enumerate(zip(p['scores'], p['labels']))
                if c == cls]
        dets.sort(key=lambda d: -d[0])  # stable: ties keep image / index order
        taken = [set() for _ in gts]
        tp = []
        for _, i, k in dets:
            best, best_j = -1.0, None
            for j, (mask, label) in enumerate(zip(gts[i]['masks'], gts[i]['labels'])):
                if label == cls and j not in taken[i]:
                    v = iou(preds[i]['masks'][k], mask, gts[i]['ignore'])
                    if v > best:
                        best, best_j = v, j
            tp.append(best >= iou_thr)
            if best >= iou_thr:
                taken[i].add(best_j)
        tp_cum = np.cumsum(tp)
        recall = np.concatenate([[0.0], tp_cum / num_gt, [1.0]])
        precision = np.concatenate([[0.0], tp_cum / np.arange(1, len(tp) + 1), [0.0]])
        ap = 0.0
        for r in range(1, len(recall)):
            ap += (recall[r] - recall[r - 1]) * precision[r:].max()
        aps.append(ap)
    best = [max([iou(p, g, gt['ignore']) for p in pred['masks']], default=0.0)
            for pred, gt in zip(preds, gts) for g in gt['masks']]
    return 100 * np.mean(aps), 100 * np.mean(best)


def _state_arrays(value, path='scorer'):
    """(path, array) of every numpy array reachable from ``value`` through attributes, dicts, lists, tuples."""
    if isinstance(value, np.ndarray):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _state_arrays(item, f'{path}[{key!r}]')
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _state_arrays(item, f'{path}[{i}]')
    elif hasattr(value, '__dict__'):
        for key, item in vars(value).items():
            yield from _state_arrays(item, f'{path}.{key}')


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_scorer_figures_equal_dense_computation(seed):
    rng = np.random.default_rng(seed)
    scorer, dense = PseudoLabelScorer(NUM_CLASSES), DenseScorer(NUM_CLASSES)
    methods = ('a', 'b', 'empty')
    for _ in range(12):
        gt_semantic, gt_inst = _random_image(rng)
        scorer.add_image(gt_semantic, gt_inst)
        dense.add_image(gt_semantic, gt_inst)
        for method in methods:
            semantic, instances = _random_method(rng, gt_inst)
            if method == 'empty':
                instances = []
            scorer.add(method, semantic, instances)
            dense.add(method, semantic, instances)
        # Only the current image's dense ground truth is held, never an earlier one.
        assert np.array_equal(scorer._image['masks'], gt_inst['masks'])

    # Same numbers as the dense computation, to the last bit.
    assert scorer.results() == dense.results()
    assert scorer.results()['empty']['AP50'] == 0 and scorer.results()['empty']['ABO'] == 0

    # A subset of the images (as the IRNet benchmark's touching instances): the dense figures of those images.
    subset = [0, 3, 4, 9]
    dense_subset = {}
    for m in methods:
        preds = [dense.preds[m][i] for i in subset]
        dense_subset[m] = dict(instance_figures(preds, [dense.gts[i] for i in subset], NUM_CLASSES),
                               instances=sum(len(p['labels']) for p in preds))
    assert scorer.subset_results(subset) == dense_subset

    # And what those numbers mean, by a slow independent computation (mmdet's AP is float32: 1e-5 %).
    for method in methods:
        slow_ap50, slow_abo = _slow_figures(dense.preds[method], dense.gts, 0.5)
        slow_ap70, _ = _slow_figures(dense.preds[method], dense.gts, 0.7)
        row = scorer.results()[method]
        assert row['AP50'] == pytest.approx(slow_ap50, abs=1e-5)
        assert row['AP70'] == pytest.approx(slow_ap70, abs=1e-5)
        assert row['ABO'] == pytest.approx(slow_abo, abs=1e-9)

    # The accumulated state holds no (H, W) array (the current image's ground truth aside).
    arrays = list(_state_arrays({k: v for k, v in vars(scorer).items() if k != '_image'}))
    assert arrays
    for path, array in arrays:
        assert array.ndim <= 2 and array.size < H * W and array.shape[-2:] != (H, W), (path, array.shape)
    ious = [a for path, a in arrays if path.startswith("scorer['ious']")]
    assert len(ious) == len(methods) * 12 and all(a.ndim == 2 for a in ious)


def test_scorer_state_does_not_grow_with_image_size():
    """The same scenes at 1x and 4x resolution: the accumulated state has the same size in bytes."""

    def state_bytes(scale):
        rng = np.random.default_rng(5)
        scorer = PseudoLabelScorer(NUM_CLASSES)
        for _ in range(4):
            gt_semantic, gt_inst = _random_image(rng)
            semantic, instances = _random_method(rng, gt_inst)
            up = lambda a: a.repeat(scale, axis=-2).repeat(scale, axis=-1)  # noqa: E731
            scorer.add_image(up(gt_semantic), dict(gt_inst, masks=up(gt_inst['masks']), ignore=up(gt_inst['ignore'])))
            scorer.add('m', up(semantic), [dict(i, mask=up(i['mask'])) for i in instances])
        del scorer._image
        return sum(a.nbytes for _, a in _state_arrays(scorer)), scorer.results()

    small, large = state_bytes(1), state_bytes(4)
    assert small[0] == large[0]
    assert small[1]['m']['AP50'] == large[1]['m']['AP50'] and small[1]['m']['ABO'] == large[1]['m']['ABO']


def test_scorer_order_checks():
    rng = np.random.default_rng(0)
    gt_semantic, gt_inst = _random_image(rng)
    scorer = PseudoLabelScorer(NUM_CLASSES)
    with pytest.raises(ValueError, match='add_image'):
        scorer.add('m', gt_semantic, [])
    scorer.add_image(gt_semantic, gt_inst)
    scorer.add('m', gt_semantic, [])
    with pytest.raises(ValueError, match='add_image'):
        scorer.add('m', gt_semantic, [])  # twice for one image
    scorer.add_image(gt_semantic, gt_inst)
    with pytest.raises(ValueError, match='add_image'):
        scorer.add('late', gt_semantic, [])  # a method that missed the first image
    with pytest.raises(ValueError, match='1 of the 2 images'):
        scorer.results()  # 'm' missed the second image
    scorer.add('m', gt_semantic, [])
    assert scorer.results()['m']['instances'] == 0
    # tools/bbam_tools/benchmark.py counts the ground-truth instances this way
    assert [len(g['labels']) for g in scorer.gts] == [len(gt_inst['labels'])] * 2
