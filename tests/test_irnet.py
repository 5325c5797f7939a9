"""IRNet pieces: CAM functions, pair losses by hand, the head and models, label synthesis on synthetic maps."""
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData

import wsseg_mm  # noqa: F401
from wsseg_mm.apis.irnet import DEFAULT_LABEL_SYNTHESIS, instance_settings, walk_settings
from wsseg_mm.functional.cam import cams_to_semantic, class_activation_maps, normalize_cams
from wsseg_mm.functional.irnet_loss import gather_by_offsets, irnet_losses, relation_pairs

TINY_RESNET = dict(type='ResNet', depth=18, stem_channels=8, base_channels=8, strides=(1, 2, 2, 1),
                   dilations=(1, 1, 1, 1), norm_cfg=dict(type='BN', requires_grad=True), init_cfg=None)
PREPROCESSOR = dict(type='SegDataPreProcessor', mean=[0, 0, 0], std=[1, 1, 1], pad_val=0, seg_pad_val=255)
PAPER = DEFAULT_LABEL_SYNTHESIS  # the paper's label-synthesis settings


def build(cfg):
    from mmseg.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg)


def test_cam_is_relu_of_weighted_features_normalised_by_max():
    features = torch.tensor([[[[1., -2.], [3., 0.]], [[0., 1.], [1., 1.]]]])  # (1, 2, 2, 2)
    weight = torch.tensor([[1., 1.], [-1., 0.]])
    cams = class_activation_maps(features, weight)
    expected = torch.tensor([[[[1., 0.], [4., 1.]], [[0., 2.], [0., 0.]]]])
    assert torch.equal(cams, expected)
    normed = normalize_cams(cams[0], eps=0)
    assert torch.allclose(normed, torch.tensor([[[0.25, 0.], [1., 0.25]], [[0., 1.], [0., 0.]]]))


def test_cams_to_semantic_background_threshold():
    cams = torch.tensor([[[0.1, 0.5], [0.9, 0.2]], [[0.3, 0.4], [0.0, 0.0]]])
    pred = cams_to_semantic(cams, [3, 7], bg_threshold=0.25)
    assert pred.tolist() == [[7, 3], [3, 0]]


def test_gather_by_offsets_and_relation_pairs():
    x = torch.arange(6.).reshape(1, 1, 2, 3)
    out = gather_by_offsets(x, torch.tensor([[0, 1], [1, -1]]), fill=-1)
    assert out[0, 0, 0].tolist() == [[1, 2, -1], [4, 5, -1]]
    assert out[0, 0, 1].tolist() == [[-1, 3, 4], [-1, -1, -1]]
    labels = torch.tensor([[[1, 1, 0, 255]]])
    pairs = relation_pairs(labels, torch.tensor([[0, 1]]))
    assert pairs['pos_fg'][0, 0, 0].tolist() == [True, False, False, False]
    assert pairs['neg'][0, 0, 0].tolist() == [False, True, False, False]
    assert not pairs['pos_bg'].any()  # (0, 255) is unknown, not background


def test_irnet_losses_by_hand():
    # one row of 4 pixels, pairs to the right neighbour: (0,1) fg-fg, (1,2) fg-bg, (2,3) bg-bg
    boundary = torch.tensor([[[0., 0.5, 0., 0.]]])
    labels = torch.tensor([[[1, 1, 0, 0]]])
    displacement = torch.zeros(1, 2, 1, 4)
    displacement[0, 1, 0] = torch.tensor([3., 0., 5., 2.])  # dx
    losses = irnet_losses(boundary, displacement, labels, torch.tensor([[0, 1]]))
    # a_01 = 1 - max(B0, B1) = 0.5 (P+fg), a_12 = 0.5 (P-), a_23 = 1 (P+bg):
    # L_B = 0.5 * -log 0.5 + 0.5 * -log 1 + -log(1 - 0.5) = 1.5 log 2
    assert losses['loss_boundary'].item() == pytest.approx(1.5 * math.log(2), abs=1e-4)
    # Eq. 5: |(D0 - D1) - (x1 - x0)| = |(0, 3) - (0, 1)|_1 = 2; Eq. 6: |D2 - D3|_1 = 3
    assert losses['loss_disp_fg'].item() == pytest.approx(2.0)
    assert losses['loss_disp_bg'].item() == pytest.approx(3.0)


def test_irnet_losses_empty_pair_sets_are_zero_with_gradient():
    boundary = torch.rand(1, 5, 5, requires_grad=True)
    displacement = torch.rand(1, 2, 5, 5, requires_grad=True)
    losses = irnet_losses(boundary, displacement, torch.full((1, 5, 5), 255), torch.tensor([[0, 1], [1, 0]]))
    assert all(v.item() == 0 for v in losses.values())
    sum(losses.values()).backward()


def test_cam_classifier_loss_and_predict():
    from mmseg.structures import SegDataSample
    torch.manual_seed(0)
    model = build(dict(type='CAMClassifier', num_classes=5, in_channels=64, backbone=TINY_RESNET,
                       data_preprocessor=PREPROCESSOR, test_cfg=dict(scales=(1.0, 0.5))))
    samples = [SegDataSample(metainfo=dict(img_labels=[2, 4], img_shape=(45, 50), ori_shape=(45, 50)))]
    samples[0].gt_img_labels = torch.tensor([0., 0., 1., 0., 1.])
    images = torch.randn(1, 3, 45, 50)
    losses = model.loss(images, samples)
    assert losses['loss_cls'].item() > 0 and set(losses) == {'loss_cls', 'acc_cls'}
    model.eval()
    out = model.predict(images, samples)[0]
    cams = out.cams.data
    assert cams.shape == (4, 45, 50) and out.pred_sem_seg.data.shape == (1, 45, 50)
    assert cams[[0, 2]].abs().sum() == 0  # classes 1 and 3 are absent
    peaks = cams[[1, 3]].amax((1, 2))
    assert all(p == 0 or abs(p - 1) < 1e-3 for p in peaks.tolist())  # normalised (a dead ReLU map stays 0)
    assert set(out.pred_sem_seg.data.unique().tolist()) <= {0, 2, 4}
    strided = model.compute_cams(images, [4])['strided']
    assert strided.shape == (1, 12, 13)


def irnet_model():
    head = dict(type='IRNetHead', in_channels=(8, 8, 16, 32, 64), boundary_channels=8,
                displacement_channels=(8, 8, 16, 16, 16), num_groups=4, radius=3)
    return build(dict(type='IRNet', backbone=TINY_RESNET, head=head, data_preprocessor=PREPROCESSOR))


def test_irnet_head_shapes_loss_and_frozen_backbone():
    from mmseg.structures import SegDataSample
    torch.manual_seed(0)
    model = irnet_model()
    model.train()
    assert not model.backbone.training
    images = torch.randn(2, 3, 45, 50)
    boundary, displacement = model._forward(images)
    assert boundary.shape == (2, 1, 12, 13) and displacement.shape == (2, 2, 12, 13)
    assert 0 <= boundary.min() and boundary.max() <= 1
    samples = []
    for _ in range(2):
        label = torch.randint(0, 3, (1, 45, 50))
        label[:, :5] = 255
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=label)
        samples.append(s)
    losses = model.loss(images, samples)
    assert set(losses) == {'loss_boundary', 'loss_disp_fg', 'loss_disp_bg'}
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert model.head.boundary_out.weight.grad.abs().sum() > 0
    assert model.head.displacement_out[-1].weight.grad.abs().sum() > 0
    model.eval()
    out = model.predict(images[:1], [SegDataSample(metainfo=dict(img_shape=(45, 50)))])[0]
    assert out.pred_boundary.data.shape == (1, 12, 13) and out.pred_displacement.data.shape == (2, 12, 13)


def test_displacement_gradients_amplified():
    from wsseg_mm.models.utils import scale_grad
    x = torch.ones(3, requires_grad=True)
    scale_grad(x, 10.0).sum().backward()
    assert x.grad.tolist() == [10.0, 10.0, 10.0]


def test_head_amplifies_displacement_parameter_gradients_only():
    from wsseg_mm.models.irnet_head import IRNetHead
    torch.manual_seed(0)
    levels = [torch.randn(1, c, s, s) for c, s in zip((8, 8, 16, 32, 64), (8, 8, 4, 2, 2))]
    grads = {}
    for scale in (1.0, 10.0):
        torch.manual_seed(1)
        head = IRNetHead(in_channels=(8, 8, 16, 32, 64), boundary_channels=8, displacement_channels=(8, 8, 16, 16, 16),
                         radius=3, displacement_grad_scale=scale)
        boundary, displacement = head(levels)
        (boundary.sum() + displacement.sum()).backward()
        grads[scale] = (head.displacement_convs[0].conv.weight.grad.clone(), head.boundary_out.weight.grad.clone())
    assert torch.allclose(grads[10.0][0], 10 * grads[1.0][0], rtol=1e-3, atol=1e-4)
    assert torch.allclose(grads[10.0][1], grads[1.0][1])


def two_touching_instances():
    """A 16x24 stride-4 grid with two touching instances of class 3 (left / right halves of a 12x16 box at
    rows 2-13, columns 4-19), a boundary line between and around them, a displacement field pointing each
    instance's pixels to its centre, and a CAM that covers both with no gap."""
    h, w = 16, 24
    inst = np.zeros((h, w), np.int64)
    inst[2:14, 4:12] = 1
    inst[2:14, 12:20] = 2
    boundary = torch.zeros(h, w)
    boundary[1, 3:21] = boundary[14, 3:21] = 1
    boundary[1:15, 3] = boundary[1:15, 20] = 1
    boundary[2:14, 12] = 1  # the class boundary between the touching instances
    ys, xs = np.mgrid[0:h, 0:w]
    displacement = np.zeros((2, h, w), np.float32)
    for k, (cy, cx) in ((1, (7.5, 7.5)), (2, (7.5, 15.5))):
        m = inst == k
        displacement[0][m] = np.round(cy - ys[m])
        displacement[1][m] = np.round(cx - xs[m])
    cam = torch.zeros(1, h, w)
    cam[0, 2:14, 4:20] = 1.0
    return inst, boundary, torch.from_numpy(displacement), cam


def test_synthesis_separates_touching_instances_where_cam_components_cannot():
    from wsseg_mm.functional.label_synthesis import (
        instances_from_semantic,
        semantic_from_random_walk,
        synthesize_irnet_labels,
    )
    inst, boundary, displacement, cam = two_touching_instances()
    size = (64, 96)
    semantic = semantic_from_random_walk(cam, [3], boundary, size, PAPER['sem_bg'], **walk_settings(PAPER))
    assert set(np.unique(semantic)) == {0, 3}
    cam_semantic = cams_to_semantic(torch.nn.functional.interpolate(cam[None], size)[0], [3], 0.15).numpy()
    naive = instances_from_semantic(cam_semantic, np.ones((1, *size)), [3])
    assert len(naive) == 1  # connected components of the CAM merge the touching pair
    result = synthesize_irnet_labels(cam, [3], boundary, displacement, size, **instance_settings(PAPER))
    assert len(result['instances']) == 2 and all(i['label'] == 3 for i in result['instances'])
    lefts = sorted(np.nonzero(i['mask'])[1].mean() for i in result['instances'])
    assert lefts[0] < 48 < lefts[1]  # one instance per half of the box (x4 upsampled)
    assert (result['semantic'] == 3).sum() > 0.8 * 48 * 64  # most of the box is labelled


def test_pixels_leading_to_no_centroid_form_one_more_instance():
    from wsseg_mm.functional.instance import instance_map
    from wsseg_mm.functional.label_synthesis import synthesize_irnet_labels, with_catch_all
    np.testing.assert_array_equal(with_catch_all(np.array([[0, 1], [2, 0]])), [[3, 1], [2, 3]])
    np.testing.assert_array_equal(with_catch_all(np.zeros((2, 2), int)), np.ones((2, 2)))
    np.testing.assert_array_equal(with_catch_all(np.array([[1, 2]])), [[1, 2]])
    # Columns 0-3 a centroid, 4-7 point into it; 8-11 and 12-15 point at each other (|D| = 4, an oscillation
    # that never lands on a centroid), 16-19 out of the image. The field's mean is zero.
    h, w = 6, 20
    displacement = np.zeros((2, h, w), np.float32)
    for cols, dx in ((slice(4, 8), -4), (slice(8, 12), 4), (slice(12, 16), -4), (slice(16, 20), 4)):
        displacement[1][:, cols] = dx
    ids = instance_map(displacement)
    assert (ids[:, :8] == 1).all() and (ids[:, 8:] == 0).all()
    cam = torch.zeros(1, h, w)
    cam[0, :, 8:16] = 1.0  # the object is where no centroid is reached
    result = synthesize_irnet_labels(cam, [2], torch.zeros(h, w), torch.from_numpy(displacement), (4 * h, 4 * w),
                                     **instance_settings(PAPER))
    assert result['num_instances'] == 2 and (result['instance_map'][:, 8:] == 2).all()
    assert (result['semantic'][:, 36:60] == 2).all()  # labelled, not lost with the unassigned pixels
    assert len(result['instances']) == 1 and result['instances'][0]['mask'][:, 36:60].all()


def test_synthesis_without_classes_is_background():
    from wsseg_mm.functional.label_synthesis import synthesize_irnet_labels
    result = synthesize_irnet_labels(torch.zeros(0, 4, 4), [], torch.zeros(4, 4), torch.zeros(2, 4, 4), (16, 16),
                                     **instance_settings(PAPER))
    assert result['semantic'].shape == (16, 16) and not result['semantic'].any() and result['instances'] == []


def test_semantic_at_another_threshold_is_the_synthesis_at_that_threshold():
    from wsseg_mm.functional.label_synthesis import semantic_from_instance_scores, synthesize_irnet_labels
    inst, boundary, displacement, cam = two_touching_instances()
    cam = cam * torch.linspace(0.2, 1.0, cam.shape[-1])  # graded, so the threshold matters
    size = (64, 96)
    low = synthesize_irnet_labels(cam, [3], boundary, displacement, size, **instance_settings(PAPER))
    high = synthesize_irnet_labels(cam, [3], boundary, displacement, size,
                                   **instance_settings(dict(PAPER, ins_bg=0.6)))
    num = low['num_instances']
    assert num >= 2 and low['scores'].shape == (num, *size)
    assert (high['semantic'] == 3).sum() < (low['semantic'] == 3).sum()
    np.testing.assert_array_equal(semantic_from_instance_scores(low['scores'], [3], num, 0.6), high['semantic'])
    np.testing.assert_array_equal(semantic_from_instance_scores(high['scores'], [3], num, 0.25), low['semantic'])


def test_label_synthesis_settings_layering():
    from mmengine.config import Config

    from wsseg_mm.apis import DEFAULT_LABEL_SYNTHESIS, label_synthesis_settings
    assert label_synthesis_settings(Config({})) == DEFAULT_LABEL_SYNTHESIS
    assert DEFAULT_LABEL_SYNTHESIS == dict(cam_bg=0.15, sem_bg=0.25, ins_bg=0.25, radius=5, beta=10, exp_times=8,
                                           iterations=100, centroid_threshold=2.5)  # the paper's
    cfg = Config(dict(label_synthesis=dict(exp_times=4, sem_bg=0.5)))
    settings = label_synthesis_settings(cfg, sem_bg=None, ins_bg=0.7)  # None: not given on the command line
    assert settings['exp_times'] == 4 and settings['sem_bg'] == 0.5 and settings['ins_bg'] == 0.7
    assert settings['beta'] == 10 and settings['cam_bg'] == 0.15
    assert walk_settings(settings) == dict(radius=5, beta=10, exp_times=4)
    assert instance_settings(settings) == dict(radius=5, beta=10, exp_times=4, bg_threshold=0.7, iterations=100,
                                               centroid_threshold=2.5)
    with pytest.raises(KeyError, match='exp_time'):
        label_synthesis_settings(Config(dict(label_synthesis=dict(exp_time=4))))
    configs = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', 'irnet')
    toy = Config.fromfile(osp.join(configs, 'toy', 'irnet_r18-quarter-os8_20e_toy.py'))
    assert label_synthesis_settings(toy)['exp_times'] == 4
    toy2x = Config.fromfile(osp.join(configs, 'toy', 'irnet_r18-quarter-os8_12e_toy-2x.py'))
    assert toy2x.model.test_cfg.scale == 2.0 and toy2x.train_dataloader.dataset.pipeline[-2]['crop_size'] == (256, 256)
    assert label_synthesis_settings(toy2x) == label_synthesis_settings(toy)
    voc = Config.fromfile(osp.join(configs, 'irnet_r50-os16_3e_voc12aug.py'))
    assert label_synthesis_settings(voc) == DEFAULT_LABEL_SYNTHESIS


def test_irnet_at_a_test_scale_keeps_the_boundary_on_the_cam_grid():
    torch.manual_seed(0)
    model = irnet_model()
    model.eval()
    image = torch.randn(1, 3, 45, 50)
    boundary, displacement = model.boundary_and_displacement(image)
    assert boundary.shape == (12, 13) and displacement.shape == (2, 12, 13)
    model.test_cfg['scale'] = 2.0
    boundary2, displacement2 = model.boundary_and_displacement(image)
    assert boundary2.shape == (12, 13)  # where the CAMs are
    assert displacement2.shape == (2, 23, 25)  # ceil(90 / 4), ceil(100 / 4): the finer grid
    assert 0 <= boundary2.min() and boundary2.max() <= 1


def test_synthesis_with_a_finer_displacement_grid():
    from wsseg_mm.functional.label_synthesis import renumber_ids, synthesize_irnet_labels
    np.testing.assert_array_equal(renumber_ids(np.array([[0, 4], [7, 4]])), [[0, 1], [2, 1]])
    inst, boundary, displacement, cam = two_touching_instances()
    size = (64, 96)
    coarse = synthesize_irnet_labels(cam, [3], boundary, displacement, size, **instance_settings(PAPER))
    # the same field on a grid twice as fine (values in its cells, so doubled)
    fine = 2 * torch.nn.functional.interpolate(displacement[None], scale_factor=2, mode='nearest')[0]
    result = synthesize_irnet_labels(cam, [3], boundary, fine, size, **instance_settings(PAPER))
    assert result['instance_map'].shape == cam.shape[-2:] and result['num_instances'] == coarse['num_instances']
    assert len(result['instances']) == 2
    np.testing.assert_array_equal(result['semantic'], coarse['semantic'])


@pytest.mark.parametrize('path,scope', [
    ('configs/irnet/mask-rcnn_r50_fpn_1x_voc12aug-irnet.py', 'mmdet'),
    ('configs/irnet/toy/mask-rcnn_r18-tiny_fpn_20e_toy-irnet.py', 'mmdet'),
    ('configs/irnet/deeplabv3_r50-d8_20k_voc12aug-irnet.py', 'mmseg'),
    ('configs/irnet/toy/fcn_r18-tiny_1k_toy-irnet.py', 'mmseg'),
])
def test_configs_on_the_pseudo_labels_build(path, scope):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope, init_default_scope
    repo = osp.dirname(osp.dirname(osp.abspath(__file__)))
    cfg = Config.fromfile(osp.join(repo, path))
    with DefaultScope.overwrite_default_scope(scope):
        init_default_scope(scope)
        if scope == 'mmdet':
            from mmdet.registry import MODELS
        else:
            from mmseg.registry import MODELS
        model = MODELS.build(cfg.model)
    dataset = cfg.train_dataloader.dataset
    if scope == 'mmdet':
        assert dataset.ann_file == 'irnet/pseudo/instances.json'
        assert model.roi_head.mask_head.num_classes == (6 if 'toy' in path else 20)
    else:
        assert dataset.data_prefix.seg_map_path == 'irnet/pseudo/sem'
        assert model.decode_head.num_classes == (7 if 'toy' in path else 21)
