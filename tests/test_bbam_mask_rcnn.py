"""BBAM instance training: pseudo COCO with ignore regions, 0/1/2 mask loading, the ignore-aware mask head with seed
growing, and the BBAM configs (Mask R-CNN and semantic)."""
import math
import os
import os.path as osp
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData
from PIL import Image

import wsseg_mm  # noqa: F401
from wsseg_mm.datasets import PseudoCocoDataset
from wsseg_mm.datasets.transforms import LoadPseudoInstanceMasks
from wsseg_mm.fileio.labels import CocoInstanceWriter
from wsseg_mm.models import IgnoreFCNMaskHead

from conftest import REPO

H, W = 32, 40  # fixture image size (>= the toy config's filter min_size of 32)
# the toy classes without 'background', so that JSON category k + 1 is toy label k
CLASSES = ('disc', 'square', 'triangle', 'star', 'cross', 'ring')


@pytest.fixture(autouse=True)
def mmdet_scope():
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield


def box(rows, cols):
    mask = np.zeros((H, W), bool)
    mask[rows, cols] = True
    return mask


# Image a: a triangle (category 3, dropped by a metainfo of disc + square) listed first, a disc with a ring of
# ignore pixels around it (the ring's box also covers the disc: the disc must stay foreground), a square without
# ignore. Image b: a square with ignore pixels above it.
DISC, DISC_IGNORE = box(slice(4, 12), slice(4, 14)), box(slice(2, 14), slice(2, 16))
SQUARE_A = box(slice(16, 28), slice(20, 36))
TRIANGLE, TRIANGLE_IGNORE = box(slice(20, 30), slice(2, 10)), box(slice(18, 31), slice(0, 12))
SQUARE_B, SQUARE_B_IGNORE = box(slice(8, 24), slice(8, 32)), box(slice(0, 8), slice(8, 32))


@pytest.fixture(scope='module')
def voc_root(tmp_path_factory):
    """``<tmp>/VOCdevkit/VOC2012`` with two JPEGs and ``bbam/instances.json`` from the repo's own COCO writer."""
    root = tmp_path_factory.mktemp('bbam') / 'VOCdevkit' / 'VOC2012'
    os.makedirs(root / 'JPEGImages')
    rng = np.random.default_rng(0)
    writer = CocoInstanceWriter(CLASSES)
    for name in ('a', 'b'):
        Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8)).save(root / 'JPEGImages' / f'{name}.jpg')
    a = writer.add_image('a.jpg', H, W)
    writer.add_instance(a, TRIANGLE, 3, ignore=TRIANGLE_IGNORE)
    writer.add_instance(a, DISC, 1, ignore=DISC_IGNORE)
    writer.add_instance(a, SQUARE_A, 2)
    b = writer.add_image('b.jpg', H, W)
    writer.add_instance(b, SQUARE_B, 2, ignore=SQUARE_B_IGNORE)
    writer.dump(str(root / 'bbam' / 'instances.json'))
    return root


def make_dataset(root, pipeline=()):
    return PseudoCocoDataset(data_root=str(root), ann_file='bbam/instances.json', data_prefix=dict(img='JPEGImages/'),
                             metainfo=dict(classes=('disc', 'square')), pipeline=list(pipeline))


def loaded_image_a(root):
    from mmcv.transforms import LoadImageFromFile
    return make_dataset(root, [LoadImageFromFile(), LoadPseudoInstanceMasks()])[0]


def expected_maps_a():
    disc = np.where(DISC, 1, np.where(DISC_IGNORE, 2, 0))
    square = SQUARE_A.astype(np.uint8)
    return np.stack([disc, square]).astype(np.uint8)


# ----------------------------------------------------------------------------------------------- dataset, transform
def test_dataset_keeps_ignore_rle_next_to_its_own_annotation(voc_root):
    import json
    anns = json.load(open(voc_root / 'bbam' / 'instances.json'))['annotations']
    dataset = make_dataset(voc_root)
    assert len(dataset) == 2
    a, b = dataset.get_data_info(0), dataset.get_data_info(1)
    # the triangle (first in the file) is dropped; its ignore region must not slide onto the disc
    assert [inst['bbox_label'] for inst in a['instances']] == [0, 1]
    assert a['instances'][0]['ignore_mask'] == anns[1]['ignore_rle']
    assert a['instances'][0]['mask'] == anns[1]['segmentation']
    assert 'ignore_mask' not in a['instances'][1]
    assert b['instances'][0]['ignore_mask'] == anns[3]['ignore_rle']
    assert a['img_path'].endswith(osp.join('JPEGImages', 'a.jpg')) and (a['height'], a['width']) == (H, W)


def test_transform_encodes_background_foreground_ignore(voc_root):
    results = loaded_image_a(voc_root)
    masks = results['gt_masks']
    assert masks.masks.dtype == np.uint8 and masks.masks.shape == (2, H, W)
    # foreground wins where the ignore ring's box covers the disc
    np.testing.assert_array_equal(masks.masks, expected_maps_a())
    np.testing.assert_array_equal(results['gt_bboxes_labels'], [0, 1])
    np.testing.assert_allclose(results['gt_bboxes'].numpy(), [[4, 4, 14, 12], [20, 16, 36, 28]])
    assert not results['gt_ignore_flags'].any()
    with pytest.raises(ValueError):
        LoadPseudoInstanceMasks(poly2mask=False)


def test_resize_flip_pad_keep_the_three_values(voc_root):
    from mmdet.registry import TRANSFORMS
    results = loaded_image_a(voc_root)
    maps = expected_maps_a()
    # exact x2: nearest interpolation replicates every pixel
    results = TRANSFORMS.build(dict(type='Resize', scale=(2 * W, 2 * H), keep_ratio=False))(results)
    doubled = maps.repeat(2, axis=1).repeat(2, axis=2)
    np.testing.assert_array_equal(results['gt_masks'].masks, doubled)
    results = TRANSFORMS.build(dict(type='RandomFlip', prob=1.0, direction='horizontal'))(results)
    np.testing.assert_array_equal(results['gt_masks'].masks, doubled[:, :, ::-1])
    results = TRANSFORMS.build(dict(type='Pad', size=(2 * W + 6, 2 * H + 5)))(results)
    padded = np.zeros((2, 2 * H + 5, 2 * W + 6), np.uint8)
    padded[:, :2 * H, :2 * W] = doubled[:, :, ::-1]
    np.testing.assert_array_equal(results['gt_masks'].masks, padded)
    # a non-integer scale never blends values
    results = TRANSFORMS.build(dict(type='Resize', scale_factor=0.37, keep_ratio=True))(loaded_image_a(voc_root))
    assert set(np.unique(results['gt_masks'].masks)) == {0, 1, 2}


def test_toy_config_dataset_packs_0_1_2_masks(voc_root):
    from mmdet.registry import DATASETS
    cfg = Config.fromfile(osp.join(REPO, 'configs/bbam/toy/mask-rcnn_r18-tiny_fpn_20e_toy-bbam.py'))
    ds_cfg = cfg.train_dataloader.dataset.copy()
    toy = str(voc_root.parent.parent)  # <tmp> that stands for data/toy
    ds_cfg['data_root'] = ds_cfg['data_root'].replace('data/toy', toy)
    dataset = DATASETS.build(ds_cfg)
    assert isinstance(dataset, PseudoCocoDataset) and len(dataset) == 2
    sample = dataset[0]
    gt = sample['data_samples'].gt_instances
    assert set(np.unique(gt.masks.masks)) == {0, 1, 2}
    assert gt.labels.tolist() == [2, 0, 1]  # file order: triangle, disc, square (toy labels 2, 0, 1)
    assert gt.masks.masks.shape[1:] == tuple(sample['inputs'].shape[1:])


# ------------------------------------------------------------------------------------------------------- mask head
# A hand-made 8 x 8 map; with the RoI (0, 0, 8, 8) and mask_size 4 each target cell averages one 2 x 2 block exactly
# (aligned RoIAlign samples the pixel centres), so the cells are:
#   (0,0) 4 fg -> fg            (0,1) 4 ignore -> ignore   (0,2) 2 fg + 2 ignore -> both -> fg
#   (0,3) 1 fg + 3 ignore -> ignore   (1,0) 1 fg + 1 ignore + 2 bg -> bg   (1,1) 2 ignore + 2 bg -> ignore
#   (1,2) 3 fg + 1 bg -> fg     everything else bg
MAP0 = np.zeros((8, 8), np.uint8)
MAP0[0] = [1, 1, 2, 2, 1, 1, 1, 2]
MAP0[1] = [1, 1, 2, 2, 2, 2, 2, 2]
MAP0[2] = [1, 2, 2, 2, 1, 1, 0, 0]
MAP0[3] = [0, 0, 0, 0, 1, 0, 0, 0]
FG0 = np.zeros((4, 4), bool)
FG0[0, 0] = FG0[0, 2] = FG0[1, 2] = True
IGN0 = np.zeros((4, 4), bool)
IGN0[0, 1] = IGN0[0, 3] = IGN0[1, 1] = True
# A second instance read through the RoI (4, 4, 8, 8): one pixel per cell, so the target is the crop itself.
MAP1 = np.zeros((8, 8), np.uint8)
MAP1[4:8, 4:8] = [[0, 2, 2, 0], [2, 1, 1, 2], [2, 1, 1, 2], [0, 2, 0, 0]]
FG1, IGN1 = MAP1[4:8, 4:8] == 1, MAP1[4:8, 4:8] == 2


def make_head(**kwargs):
    return IgnoreFCNMaskHead(num_convs=1, in_channels=4, conv_out_channels=4, num_classes=3, **kwargs)


def head_inputs():
    """Two positive RoIs in image 0 (own classes 2 and 0) and none in image 1."""
    from mmdet.structures.mask import BitmapMasks
    res0 = SimpleNamespace(pos_priors=torch.tensor([[0., 0., 8., 8.], [4., 4., 8., 8.]]),
                           pos_assigned_gt_inds=torch.tensor([0, 1]), pos_gt_labels=torch.tensor([2, 0]))
    res1 = SimpleNamespace(pos_priors=torch.zeros((0, 4)), pos_assigned_gt_inds=torch.zeros(0, dtype=torch.long),
                           pos_gt_labels=torch.zeros(0, dtype=torch.long))
    gts = [InstanceData(masks=BitmapMasks(np.stack([MAP0, MAP1]), 8, 8)),
           InstanceData(masks=BitmapMasks(np.zeros((1, 8, 8), np.uint8), 8, 8))]
    return [res0, res1], gts, ConfigDict(mask_size=4)


def reference_bce(logits, targets, valid):
    """Mean BCE with logits over the valid cells, one cell at a time in float64 Python."""
    total, count = 0.0, 0
    for x, t, v in zip(logits.flatten().tolist(), targets.flatten().tolist(), valid.flatten().tolist()):
        if v:
            p = 1 / (1 + math.exp(-x))
            total -= t * math.log(p) + (1 - t) * math.log(1 - p)
            count += 1
    return total / count


def own_logits(seed=0):
    """(2, 3, 4, 4) logits; the other classes get 50, which would dominate the loss if it read them."""
    g = torch.Generator().manual_seed(seed)
    preds = torch.full((2, 3, 4, 4), 50.0)
    preds[0, 2] = torch.randn(4, 4, generator=g)
    preds[1, 0] = torch.randn(4, 4, generator=g)
    return preds


def test_head_targets_split_foreground_and_ignore():
    results, gts, cfg = head_inputs()
    targets, ignore = make_head().get_targets(results, gts, cfg)
    assert targets.shape == ignore.shape == (2, 4, 4) and ignore.dtype == torch.bool
    np.testing.assert_array_equal(targets.numpy(), np.stack([FG0, FG1]).astype(np.float32))
    np.testing.assert_array_equal(ignore.numpy(), np.stack([IGN0, IGN1]))
    with pytest.raises(ValueError):
        make_head().get_targets(results, gts, ConfigDict(mask_size=4, soft_mask_target=True))


def test_loss_is_bce_over_non_ignored_cells():
    results, gts, cfg = head_inputs()
    head = make_head(seed_growing=False, loss_mask=dict(type='CrossEntropyLoss', use_mask=True, loss_weight=2.0))
    preds = own_logits().requires_grad_()
    out = head.loss_and_target(preds, results, gts, cfg)
    ignore = np.stack([IGN0, IGN1])
    expected = 2.0 * reference_bce(torch.stack([preds[0, 2], preds[1, 0]]).detach(), np.stack([FG0, FG1]), ~ignore)
    loss = out['loss_mask']['loss_mask']
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    np.testing.assert_array_equal(out['mask_ignores'].numpy(), ignore)
    loss.backward()
    grad = preds.grad
    own = torch.stack([grad[0, 2], grad[1, 0]])
    assert (own[torch.from_numpy(ignore)] == 0).all() and (own[torch.from_numpy(~ignore)] != 0).all()
    assert grad[0, :2].abs().sum() == 0 and grad[1, 1:].abs().sum() == 0  # other classes untouched


def test_seed_growing_adds_exactly_the_confident_ignored_cells():
    results, gts, cfg = head_inputs()
    preds = own_logits(1)
    # ignored cells of RoI 0: confident fg (p = 0.95), confident bg (p = 0.05), unsure (p = 0.5)
    preds[0, 2, 0, 1], preds[0, 2, 0, 3], preds[0, 2, 1, 1] = 3.0, -3.0, 0.0
    # ignored cells of RoI 1 just inside / outside the thresholds: p = 0.802, 0.198 join; 0.797, 0.203 stay
    lo, hi = math.log(0.198 / 0.802), math.log(0.802 / 0.198)
    ign1_cells = list(zip(*np.nonzero(IGN1)))
    for (r, c), x in zip(ign1_cells, [hi, lo, math.log(0.797 / 0.203), math.log(0.203 / 0.797)]):
        preds[1, 0, r, c] = x
    for (r, c) in ign1_cells[4:]:
        preds[1, 0, r, c] = 0.0
    preds.requires_grad_()
    out = make_head().loss_and_target(preds, results, gts, cfg)

    still = np.stack([IGN0, IGN1])
    targets = np.stack([FG0, FG1]).astype(np.float64)
    still[0, 0, 1] = still[0, 0, 3] = False
    targets[0, 0, 1] = 1.0
    (r0, c0), (r1, c1) = ign1_cells[:2]
    still[1, r0, c0] = still[1, r1, c1] = False
    targets[1, r0, c0] = 1.0
    np.testing.assert_array_equal(out['mask_ignores'].numpy(), still)
    own = torch.stack([preds[0, 2], preds[1, 0]])
    loss = out['loss_mask']['loss_mask']
    assert loss.item() == pytest.approx(reference_bce(own.detach(), targets, ~still), rel=1e-6)
    # the targets returned stay the pseudo label's, seed growing only changes what the loss reads
    np.testing.assert_array_equal(out['mask_targets'].numpy(), np.stack([FG0, FG1]))

    loss.backward()
    own_grad = torch.stack([preds.grad[0, 2], preds.grad[1, 0]])
    assert (own_grad[torch.from_numpy(still)] == 0).all()
    assert (own_grad[torch.from_numpy(~still)] != 0).all()
    assert own_grad[0, 0, 1] < 0 and own_grad[0, 0, 3] > 0  # grown cells are pulled toward their prediction


def test_nothing_left_gives_zero_loss_in_graph():
    from mmdet.structures.mask import BitmapMasks
    results, _, cfg = head_inputs()
    gts = [InstanceData(masks=BitmapMasks(np.full((2, 8, 8), 2, np.uint8), 8, 8)), head_inputs()[1][1]]
    preds = torch.zeros((2, 3, 4, 4), requires_grad=True)  # p = 0.5: no cell grows
    loss = make_head().loss_and_target(preds, results, gts, cfg)['loss_mask']['loss_mask']
    assert loss.item() == 0 and loss.requires_grad
    loss.backward()
    assert (preds.grad == 0).all()
    empty = torch.zeros((0, 3, 4, 4), requires_grad=True)
    res = [head_inputs()[0][1]]
    loss = make_head().loss_and_target(empty, res, [gts[1]], cfg)['loss_mask']['loss_mask']
    assert loss.item() == 0 and loss.requires_grad


def test_head_rejects_bad_settings():
    with pytest.raises(ValueError):
        make_head(grow_fg_thr=0.3, grow_bg_thr=0.4)
    with pytest.raises(ValueError):
        make_head(loss_mask=dict(type='DiceLoss'))


# ----------------------------------------------------------------------------------------------------------- configs
def build_model(path, scope):
    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(osp.join(REPO, path))
    init_default_scope(scope)
    if scope == 'mmdet':
        from mmdet.registry import MODELS
    else:
        from mmseg.registry import MODELS
    return cfg, MODELS.build(cfg.model)


@pytest.mark.parametrize('path,scope,seg_map', [
    ('configs/bbam/deeplabv3_r50-d8_20k_voc12aug-bbam.py', 'mmseg', 'bbam/semantic'),
    ('configs/bbam/toy/fcn_r18-tiny_1k_toy-bbam.py', 'mmseg', 'bbam/semantic'),
])
def test_semantic_configs_load_and_build(path, scope, seg_map):
    with DefaultScope.overwrite_default_scope(scope):
        cfg, model = build_model(path, scope)
    assert cfg.train_dataloader.dataset.data_prefix.seg_map_path == seg_map
    assert model.decode_head is not None
    if 'toy' in path:
        assert cfg.work_dir == 'work_dirs/bbam_toy/fcn_on_pseudo'


def test_voc_mask_rcnn_config_builds():
    cfg, model = build_model('configs/bbam/mask-rcnn_r50_fpn_1x_voc12aug-bbam.py', 'mmdet')
    dataset = cfg.train_dataloader.dataset
    assert dataset.type == 'PseudoCocoDataset' and dataset.ann_file == 'bbam/instances.json'
    assert dataset.data_root == 'data/VOCdevkit/VOC2012/'
    assert [t['type'] for t in dataset.pipeline][:2] == ['LoadImageFromFile', 'LoadPseudoInstanceMasks']
    assert isinstance(model.roi_head.mask_head, IgnoreFCNMaskHead) and model.roi_head.mask_head.num_classes == 20
    assert [e['type'] for e in cfg.val_evaluator] == ['CocoMetric', 'InstanceAPMetric']


def test_toy_mask_rcnn_one_loss_step(monkeypatch):
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    torch.manual_seed(0)
    cfg, model = build_model('configs/bbam/toy/mask-rcnn_r18-tiny_fpn_20e_toy-bbam.py', 'mmdet')
    assert cfg.work_dir == 'work_dirs/bbam_toy/mask_rcnn'
    assert cfg.train_dataloader.dataset.ann_file == 'bbam/instances.json'
    model.train()
    head = model.roi_head.mask_head
    seen = {}
    get_targets = head.get_targets

    def spy(*args, **kwargs):
        seen['targets'], seen['ignore'] = get_targets(*args, **kwargs)
        return seen['targets'], seen['ignore']

    monkeypatch.setattr(head, 'get_targets', spy)
    maps = np.zeros((2, 64, 64), np.uint8)
    maps[0, 6:42, 6:42] = 2
    maps[0, 10:38, 10:38] = 1
    maps[1, 20:56, 30:60] = 1
    maps[1, 18:20, 30:60] = 2
    sample = DetDataSample(metainfo=dict(img_shape=(64, 64), pad_shape=(64, 64), batch_input_shape=(64, 64),
                                         ori_shape=(64, 64), scale_factor=(1.0, 1.0)))
    # plain tensor boxes: DetDataPreprocessor (boxtype2tensor) hands the model tensors, not HorizontalBoxes
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[6., 6., 42., 42.], [30., 18., 60., 56.]]),
                                       labels=torch.tensor([0, 3]), masks=BitmapMasks(maps, 64, 64))
    losses = model.loss(torch.randn(1, 3, 64, 64), [sample])
    assert torch.isfinite(losses['loss_mask']) and losses['loss_mask'] > 0
    for name, value in losses.items():
        if 'loss' in name:
            assert all(torch.isfinite(v).all() for v in (value if isinstance(value, list) else [value])), name
    # the gt boxes join the proposals, so the head saw both foreground and ignored cells
    assert seen['targets'].any() and seen['ignore'].any()
