"""WS^2's Otsu masks, SLIC superpixels, Alg. 2 refinement, RII / RIC and the registered RICMetric, by hand."""
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import wsseg_mm  # noqa: F401  (registers RICMetric)
from wsseg_mm.functional.superpixel import (
    keep_superpixels,
    otsu_mask,
    refine_with_superpixels,
    region_integrity,
    ric,
    ric_confusions,
    ric_scores,
    slic_superpixels,
    superpixel_overlap,
)

# A 4x6 frame (24 pixels) cut into five superpixels of 4, 4, 4, 6 and 6 pixels.
SP = np.array([[0, 0, 1, 1, 2, 2],
               [0, 0, 1, 1, 2, 2],
               [3, 3, 3, 4, 4, 4],
               [3, 3, 3, 4, 4, 4]])
# M_init: coverage of superpixels 0..4 = 4/4, 2/4, 3/4, 1/6, 5/6; |M| = 15.
M_INIT = np.array([[1, 1, 1, 1, 0, 1],
                   [1, 1, 0, 0, 1, 1],
                   [0, 1, 0, 1, 1, 0],
                   [0, 0, 0, 1, 1, 1]], dtype=bool)


def _from_superpixels(kept):
    return np.isin(SP, kept)


# ---------------------------------------------------------------------------------------------------------------
# Otsu and SLIC
# ---------------------------------------------------------------------------------------------------------------
def test_otsu_splits_a_bimodal_map():
    rng = np.random.default_rng(0)
    score = np.where(np.arange(12)[None, :] >= 5, 0.9, 0.1) + rng.uniform(-0.05, 0.05, (8, 12))
    mask, constant = otsu_mask(score)
    assert not constant
    assert mask.dtype == bool
    np.testing.assert_array_equal(mask, np.broadcast_to(np.arange(12)[None, :] >= 5, (8, 12)))


def test_otsu_splits_at_bin_edges_not_at_skimages_bin_centre():
    from skimage.filters import threshold_otsu
    score = np.array([[0.0, 0.1, 0.8, 1.0]])
    assert (score > threshold_otsu(score)).tolist() == [[False, True, True, True]]  # skimage's bin centre
    mask, constant = otsu_mask(score)
    assert not constant and mask.tolist() == [[False, False, True, True]]


@pytest.mark.parametrize('value', [0.0, 0.7])
def test_otsu_of_a_constant_map_is_empty_and_flagged(value):
    mask, constant = otsu_mask(np.full((5, 7), value))
    assert constant and mask.shape == (5, 7) and not mask.any()


def test_otsu_rejects_bad_maps():
    with pytest.raises(ValueError, match='nan'):
        otsu_mask(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match=r'\(H, W\)'):
        otsu_mask(np.zeros((2, 3, 4)))


def test_slic_is_deterministic_from_zero_and_follows_colour_edges():
    frame = np.zeros((24, 32, 3), np.uint8)
    frame[:, :16] = (220, 30, 30)
    frame[:, 16:] = (30, 30, 220)
    labels = slic_superpixels(frame, n_segments=4)
    assert labels.dtype == np.int32 and labels.shape == (24, 32)
    np.testing.assert_array_equal(np.unique(labels), np.arange(labels.max() + 1))
    assert labels.max() >= 1
    for p in np.unique(labels):  # no superpixel straddles the colour edge
        assert len(np.unique(frame[labels == p], axis=0)) == 1
    np.testing.assert_array_equal(labels, slic_superpixels(frame, n_segments=4))
    np.testing.assert_array_equal(slic_superpixels(frame[..., ::-1], n_segments=4, channel_order='bgr'), labels)
    with pytest.raises(ValueError, match='colour frame'):
        slic_superpixels(frame[..., 0])


# ---------------------------------------------------------------------------------------------------------------
# Alg. 2
# ---------------------------------------------------------------------------------------------------------------
def test_alg2_coverage_keeps_exactly_the_covered_superpixels():
    overlap, sizes = superpixel_overlap(SP, M_INIT)
    np.testing.assert_array_equal(sizes, [4, 4, 4, 6, 6])
    np.testing.assert_allclose(overlap[:, 1], [1, 0.5, 0.75, 1 / 6, 5 / 6])
    np.testing.assert_array_equal(overlap[:, 0], 0)
    keep, classes = keep_superpixels(SP, M_INIT)
    np.testing.assert_array_equal(keep, [True, False, True, False, True])  # 0.5 is not > alpha = 0.5
    np.testing.assert_array_equal(classes, [1, 0, 1, 0, 1])
    refined = refine_with_superpixels(SP, M_INIT)
    assert refined.dtype == bool
    np.testing.assert_array_equal(refined, _from_superpixels([0, 2, 4]))
    # a lower alpha also takes superpixel 1 (coverage 0.5)
    np.testing.assert_array_equal(refine_with_superpixels(SP, M_INIT, alpha=0.4), _from_superpixels([0, 1, 2, 4]))


def test_alg2_beta_drops_large_superpixels():
    # |p| / |frame| = 4/24 or 6/24 = 0.25; beta is strict as well
    np.testing.assert_array_equal(refine_with_superpixels(SP, M_INIT, beta=0.2), _from_superpixels([0, 2]))
    np.testing.assert_array_equal(refine_with_superpixels(SP, M_INIT, beta=0.25), _from_superpixels([0, 2]))
    np.testing.assert_array_equal(refine_with_superpixels(SP, M_INIT, beta=0.26), _from_superpixels([0, 2, 4]))


def test_alg2_iou_mode_by_hand():
    # with |M| = 15 every IoU is small: 4/15, 2/17, 3/16, 1/20, 5/16 -> nothing is kept
    overlap, _ = superpixel_overlap(SP, M_INIT, mode='iou')
    np.testing.assert_allclose(overlap[:, 1], [4 / 15, 2 / 17, 3 / 16, 1 / 20, 5 / 16])
    assert not refine_with_superpixels(SP, M_INIT, mode='iou').any()
    # a small mask: superpixel 4 with 5 of its 6 pixels plus one pixel of superpixel 3, |M| = 6
    small = (SP == 4) & M_INIT
    small[2, 0] = True
    overlap, _ = superpixel_overlap(SP, small, mode='iou')
    np.testing.assert_allclose(overlap[:, 1], [0, 0, 0, 1 / 11, 5 / 7])
    np.testing.assert_array_equal(refine_with_superpixels(SP, small, mode='iou'), SP == 4)
    with pytest.raises(ValueError, match='mode'):
        refine_with_superpixels(SP, M_INIT, mode='dice')


def test_the_papers_iou_rejects_a_small_superpixel_inside_a_large_mask():
    superpixels = np.zeros((10, 10), np.int64)
    superpixels[4:6, 4:6] = 1  # a 2x2 superpixel ...
    mask = np.zeros((10, 10), bool)
    mask[2:8, 2:8] = True  # ... inside a 6x6 mask: coverage 1, IoU 4/36
    superpixels[0, :] = 2  # more superpixels so that none is over beta of the frame
    superpixels[1:, :2] = 3
    assert (refine_with_superpixels(superpixels, mask) == (superpixels == 1)).all()
    assert not refine_with_superpixels(superpixels, mask, mode='iou').any()


def test_alg2_multi_class_takes_each_superpixels_class():
    labels = np.array([[1, 1, 2, 2, 0, 0],
                       [1, 2, 2, 0, 0, 0],
                       [0, 0, 0, 1, 1, 2],
                       [0, 0, 0, 1, 2, 255]])
    # superpixel 0: class 1 on 3/4; superpixel 1: class 2 on 3/4; superpixel 4: class 1 on 3/6, class 2 on 2/6
    refined = refine_with_superpixels(SP, labels)
    assert refined.dtype == labels.dtype
    np.testing.assert_array_equal(refined, np.where(SP == 0, 1, np.where(SP == 1, 2, 0)))
    # with alpha < 0.5 superpixel 4 goes to its largest class (void pixels belong to none)
    np.testing.assert_array_equal(refine_with_superpixels(SP, labels, alpha=0.4),
                                  np.where(SP == 0, 1, np.where(SP == 1, 2, np.where(SP == 4, 1, 0))))


@pytest.mark.parametrize('mode', ['coverage', 'iou'])
@pytest.mark.parametrize('alpha', [0.5, 0.6])
def test_alg2_class_is_unique_when_alpha_is_at_least_half(mode, alpha):
    rng = np.random.default_rng(1)
    for _ in range(50):
        superpixels = rng.integers(0, 6, (7, 9))
        labels = rng.integers(0, 4, (7, 9))
        overlap, _ = superpixel_overlap(superpixels, labels, mode=mode)
        assert ((overlap > alpha).sum(axis=1) <= 1).all()
        keep, classes = keep_superpixels(superpixels, labels, alpha=alpha, beta=1.1, mode=mode)
        passing = (overlap > alpha).any(axis=1)
        np.testing.assert_array_equal(keep, passing)
        np.testing.assert_array_equal(classes[keep], np.argmax(overlap > alpha, axis=1)[keep])


def test_alg2_checks_its_inputs():
    with pytest.raises(ValueError, match='same size|one size'):
        refine_with_superpixels(SP, M_INIT[:, :5])
    with pytest.raises(ValueError, match='non-negative'):
        refine_with_superpixels(SP - 1, M_INIT)


# ---------------------------------------------------------------------------------------------------------------
# RII and RIC
# ---------------------------------------------------------------------------------------------------------------
PRED = np.array([[1, 1, 0], [0, 2, 2]])  # M_init
SP_2X3 = np.array([[0, 1, 1], [2, 3, 3]])  # refined: superpixel 1 has class 1 on 1/2 only -> background
REFINED = np.array([[1, 0, 0], [0, 2, 2]])
PA = np.array([[1, 1, 255], [0, 0, 2]])
# IoU(init, refined): background 2/3, class 1 1/2, class 2 1 -> RII = 13/18
# IoU(refined, PA), void pixel skipped: background 1/3, class 1 1/2, class 2 1/2 -> mIoU_PA = 4/9
RII, MIOU_PA = 13 / 18, 4 / 9


def test_rii_and_ric_by_hand():
    np.testing.assert_array_equal(refine_with_superpixels(SP_2X3, PRED), REFINED)
    assert region_integrity(PRED, REFINED, 3) == pytest.approx(RII)
    assert region_integrity(REFINED, PRED, 3) == pytest.approx(RII)
    assert ric(MIOU_PA, RII) == pytest.approx(4 / 9 + 13 / 36)
    assert ric(MIOU_PA, RII, weight=1.0) == pytest.approx(4 / 9 + 13 / 18)
    cm_pa, cm_ii = ric_confusions(PRED, SP_2X3, PA, 3)
    assert cm_pa.sum() == 5 and cm_ii.sum() == 6
    assert ric_scores(cm_pa, cm_ii) == pytest.approx(dict(mIoU_PA=MIOU_PA, RII=RII, RIC=29 / 36))


# frame 2: all background predicted; the PA has one pixel of class 1
PRED_2, SP_2, PA_2 = np.zeros((2, 2), np.int64), np.array([[0, 1], [2, 3]]), np.array([[0, 1], [0, 0]])
# summed over the two frames: RII = (6/7 + 1/2 + 1) / 3 = 11/14, mIoU_PA = (4/7 + 1/3 + 1/2) / 3 = 59/126
RII_SUM, MIOU_PA_SUM = 11 / 14, 59 / 126


def test_rii_sums_confusions_over_frames_of_different_sizes():
    assert region_integrity([PRED, PRED_2], [REFINED, PRED_2], 3) == pytest.approx(RII_SUM)


def test_rii_over_the_pa_classes():
    """rii_classes='pa' (P): a PA class the prediction never shows counts 0, so predicting only background no longer
    scores RII 100; with every PA class predicted it equals Eq. 2."""
    cm_pa, cm_ii = ric_confusions(PRED_2, SP_2, PA_2, 3)
    # M_init = M_refine = all background; PA: background 3 pixels, class 1 one -> mIoU_PA = (3/4 + 0) / 2
    assert ric_scores(cm_pa, cm_ii) == pytest.approx(dict(mIoU_PA=3 / 8, RII=1.0, RIC=3 / 8 + 1 / 2))
    assert ric_scores(cm_pa, cm_ii, rii_classes='pa') == pytest.approx(dict(mIoU_PA=3 / 8, RII=1 / 2,
                                                                             RIC=3 / 8 + 1 / 4))
    cm_pa, cm_ii = ric_confusions(PRED, SP_2X3, PA, 3)
    assert ric_scores(cm_pa, cm_ii, rii_classes='pa') == ric_scores(cm_pa, cm_ii)
    with pytest.raises(ValueError, match='rii_classes'):
        ric_scores(cm_pa, cm_ii, rii_classes='gt')


def _sample(pred, pa, superpixels=None, as_metainfo=False):
    sample = SegDataSample(metainfo=dict(img_path='f.jpg'))
    sample.pred_sem_seg = PixelData(data=torch.as_tensor(pred)[None])
    sample.gt_sem_seg = PixelData(data=torch.as_tensor(pa)[None])
    if superpixels is not None:
        if as_metainfo:
            sample.set_metainfo(dict(superpixels=superpixels))
        else:
            sample.gt_superpixels = PixelData(data=torch.as_tensor(superpixels)[None])
    return sample


def test_ric_metric_through_registry():
    from mmseg.registry import METRICS
    metric = METRICS.build(dict(type='RICMetric', _scope_='mmseg'))
    metric.dataset_meta = dict(classes=('background', 'a', 'b'))  # num_classes from the dataset
    metric.process(None, [_sample(PRED, PA, SP_2X3), _sample(PRED_2, PA_2, SP_2, as_metainfo=True)])
    scores = metric.compute_metrics(metric.results)
    assert scores == pytest.approx(dict(mIoU_PA=100 * MIOU_PA_SUM, RII=100 * RII_SUM, RIC=100 * 31 / 36))
    # evaluate() (what the val loop calls) gives the same keys, for CheckpointHook(save_best='RIC')
    metric.results.clear()
    metric.process(None, [_sample(PRED, PA, SP_2X3).to_dict()])
    assert metric.evaluate(1) == pytest.approx(dict(mIoU_PA=100 * MIOU_PA, RII=100 * RII, RIC=100 * 29 / 36))
    # rii_classes='pa' from the config: the all-background frame's RII counts its PA's class 1 as 0
    metric = METRICS.build(dict(type='RICMetric', _scope_='mmseg', num_classes=3, rii_classes='pa'))
    metric.process(None, [_sample(PRED_2, PA_2, SP_2)])
    assert metric.evaluate(1) == pytest.approx(dict(mIoU_PA=100 * 3 / 8, RII=50.0, RIC=100 * (3 / 8 + 1 / 4)))


def test_ric_metric_brings_resized_superpixels_to_the_prediction_size():
    from mmseg.registry import METRICS
    metric = METRICS.build(dict(type='RICMetric', _scope_='mmseg', num_classes=3))
    pred, pa = np.kron(PRED, np.ones((2, 2), np.int64)), np.kron(PA, np.ones((2, 2), np.int64))
    metric.process(None, [_sample(pred, pa, SP_2X3)])  # superpixels at half the prediction's size
    assert metric.evaluate(1) == pytest.approx(dict(mIoU_PA=100 * MIOU_PA, RII=100 * RII, RIC=100 * 29 / 36))


def test_ric_metric_errors_name_the_fix():
    from mmseg.registry import METRICS
    metric = METRICS.build(dict(type='RICMetric', _scope_='mmseg', num_classes=3))
    with pytest.raises(KeyError, match='LoadSuperpixels'):
        metric.process(None, [_sample(PRED, PA)])
    with pytest.raises(ValueError, match='num_classes'):
        METRICS.build(dict(type='RICMetric', _scope_='mmseg')).process(None, [_sample(PRED, PA, SP_2X3)])
    with pytest.raises(ValueError, match='mode'):
        METRICS.build(dict(type='RICMetric', _scope_='mmseg', mode='dice'))
    with pytest.raises(ValueError, match='rii_classes'):
        METRICS.build(dict(type='RICMetric', _scope_='mmseg', rii_classes='gt'))


def test_ric_metric_reads_what_pack_weak_seg_inputs_packs():
    from mmseg.registry import METRICS, TRANSFORMS
    pack = TRANSFORMS.build(dict(type='PackWeakSegInputs', _scope_='mmseg'))
    packed = pack(dict(img=np.zeros((2, 3, 3), np.uint8), gt_seg_map=PA.astype(np.uint8), superpixels=SP_2X3,
                       img_path='f.jpg', seg_fields=['gt_seg_map', 'superpixels']))
    sample = packed['data_samples']
    sample.pred_sem_seg = PixelData(data=torch.as_tensor(PRED)[None])
    metric = METRICS.build(dict(type='RICMetric', _scope_='mmseg', num_classes=3))
    metric.process(None, [sample])
    assert metric.evaluate(1) == pytest.approx(dict(mIoU_PA=100 * MIOU_PA, RII=100 * RII, RIC=100 * 29 / 36))
