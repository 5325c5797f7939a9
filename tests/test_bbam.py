"""BBAM: functional pieces (jitter, positives, stride, perturbation, objective, post-processing) and the explainer
on a tiny hand-made two-stage detector whose outputs can be followed by hand."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from wsseg_mm.functional.bbam import (
    adaptive_stride,
    attribution_to_mask,
    bbam_objective,
    box_iou,
    jitter_boxes,
    perturb_image,
    select_positives,
    upsample_mask,
)
from wsseg_mm.models.bbam_explainer import BBAMExplainer


# ------------------------------------------------------------------------------------------------ jitter
def test_jitter_bounds_and_original_first():
    boxes = torch.tensor([[10., 20., 50., 40.], [0., 0., 8., 100.]])
    g = torch.Generator().manual_seed(0)
    props = jitter_boxes(boxes, 500, ratio=0.3, generator=g)
    assert props.shape == (2, 500, 4)
    size = torch.tensor([[40., 20., 40., 20.], [8., 100., 8., 100.]])
    moved = (props - boxes[:, None]).abs()
    assert (moved <= 0.3 * size[:, None] + 1e-5).all()
    assert (moved > 0.25 * size[:, None]).any()  # the range is used, not a fraction of it
    assert torch.equal(props[:, 0], boxes)
    assert (props[..., 2] > props[..., 0]).all() and (props[..., 3] > props[..., 1]).all()


def test_jitter_clips_deterministic_and_validates():
    boxes = torch.tensor([[0., 0., 10., 10.]])
    a = jitter_boxes(boxes, 50, generator=torch.Generator().manual_seed(3), img_shape=(12, 11))
    b = jitter_boxes(boxes, 50, generator=torch.Generator().manual_seed(3), img_shape=(12, 11))
    assert torch.equal(a, b)
    assert a[..., 0::2].min() >= 0 and a[..., 0::2].max() <= 11 and a[..., 1::2].max() <= 12
    with pytest.raises(ValueError, match='ratio'):
        jitter_boxes(boxes, 5, ratio=0.6)


# ------------------------------------------------------------------------------------------------ positives
def test_box_iou_by_hand():
    a = torch.tensor([[0., 0., 10., 10.]])
    b = torch.tensor([[5., 0., 15., 10.]])
    assert box_iou(a, b).item() == pytest.approx(50 / 150)
    assert box_iou(a, a).item() == pytest.approx(1.0)


def test_box_iou_is_mmdet_bbox_overlaps_and_the_former_formula():
    """box_iou / select_positives use mmdet's bbox_overlaps (no +1 pixel); on valid boxes (x2 >= x1, y2 >= y1, what
    the jitter and the box coder give) it is bitwise the former hand-written IoU."""
    from mmdet.structures.bbox import bbox_overlaps

    def former(a, b):
        lt, rb = torch.maximum(a[..., :2], b[..., :2]), torch.minimum(a[..., 2:], b[..., 2:])
        inter = (rb - lt).clamp(min=0).prod(-1)
        area_a = (a[..., 2:] - a[..., :2]).clamp(min=0).prod(-1)
        area_b = (b[..., 2:] - b[..., :2]).clamp(min=0).prod(-1)
        return inter / (area_a + area_b - inter).clamp(min=1e-12)

    g = torch.Generator().manual_seed(0)
    for dtype in (torch.float32, torch.float64):
        xy = torch.rand(30, 2, generator=g) * 100
        boxes = torch.cat([xy, xy + 1 + torch.rand(30, 2, generator=g) * 50], 1).to(dtype)
        proposals = jitter_boxes(boxes, 50, 0.3, g, img_shape=(120, 130))  # (B, P, 4), clipped to the image
        expected = former(proposals, boxes[:, None])
        assert torch.equal(box_iou(proposals, boxes[:, None]), expected)
        assert torch.equal(bbox_overlaps(proposals, boxes[:, None])[..., 0], expected)
        assert torch.equal(bbox_overlaps(proposals[0], proposals[1]), former(proposals[0][:, None], proposals[1]))
    assert box_iou(torch.zeros(0, 4), torch.zeros(0, 4)).shape == (0, )
    assert [p.numel() for p in select_positives(torch.zeros(1, 0, 4), torch.zeros(1, 0, dtype=torch.long),
                                                torch.tensor([[0., 0., 5., 5.]]), torch.tensor([1]))] == [0]


def test_select_positives_cascade_and_cap():
    gt = torch.tensor([[0., 0., 100., 100.], [0., 0., 10., 10.]])
    labels = torch.tensor([2, 1])
    # IoUs with box 0 (shifted right by d): (100 - d) / (100 + d)
    shifts = torch.tensor([0., 3., 6., 8., 12., 30.])  # IoU 1, .942, .887, .852, .786, .538
    pred0 = torch.stack([gt[0] + torch.tensor([d, 0., d, 0.]) for d in shifts])
    pred1 = pred0 / 10
    pred = torch.stack([pred0, pred1])
    pred_labels = torch.tensor([[2, 2, 2, 2, 2, 0], [1, 3, 1, 1, 1, 1]])
    # min 2 positives: box 0 stops at 0.9 (shifts 0, 3); box 1 has only one label-consistent box above 0.9 -> 0.85
    pos = select_positives(pred, pred_labels, gt, labels, (0.9, 0.85, 0.8), min_positives=2, max_positives=10)
    assert pos[0].tolist() == [0, 1]
    assert pos[1].tolist() == [0, 2, 3]  # index 1 has the wrong label; sorted by decreasing IoU
    # the cap keeps the best by IoU; min above what any threshold gives -> the last threshold's set
    pos = select_positives(pred, pred_labels, gt, labels, (0.9, 0.85, 0.8), min_positives=9, max_positives=2)
    assert pos[0].tolist() == [0, 1]
    # nothing matches -> empty
    pos = select_positives(pred, torch.zeros_like(pred_labels), gt, labels)
    assert [p.numel() for p in pos] == [0, 0]


# ------------------------------------------------------------------------------------------------ stride / mask
def test_adaptive_stride_by_hand():
    assert adaptive_stride(0, 100) == 16
    assert adaptive_stride(100, 100) == 64
    assert adaptive_stride(25, 100) == 40  # 16 + 48 * 0.5
    assert adaptive_stride(1, 100, base=4, scale=12) == 5  # 4 + 1.2 -> 5
    with pytest.raises(ValueError):
        adaptive_stride(1, 0)


def test_upsample_mask_cells_cover_their_pixels():
    mask = torch.tensor([[0., 1.], [1., 0.]])
    up = upsample_mask(mask, 4, (7, 6))
    assert up.shape == (7, 6)
    # bilinear over cells of 4 pixels (centres at 1.5 and 5.5), then cropped, not squeezed into 7 x 6
    assert up[1].tolist() == pytest.approx([0, 0, 0.125, 0.375, 0.625, 0.875])
    assert up[:, 0].tolist() == pytest.approx([0, 0, 0.125, 0.375, 0.625, 0.875, 1.0])


def test_perturb_image_is_eq_2():
    image = torch.arange(2 * 2 * 3, dtype=torch.float32).view(2, 2, 3)
    masks = torch.stack([torch.ones(2, 3), torch.zeros(2, 3), torch.full((2, 3), 0.25)])
    mean = torch.tensor([100., -1.])
    out = perturb_image(image, masks, mean)
    assert out.shape == (3, 2, 2, 3)
    assert torch.equal(out[0], image)
    assert torch.equal(out[1, 0], torch.full((2, 3), 100.)) and torch.equal(out[1, 1], torch.full((2, 3), -1.))
    assert torch.allclose(out[2, 0], 0.25 * image[0] + 75.)


# ------------------------------------------------------------------------------------------------ objective
def test_objective_by_hand_and_switches():
    masks = [torch.full((2, 2), 0.5), torch.ones(1, 3)]
    deltas = torch.tensor([[1., 0., 0., 0.], [0., 2., 0., 0.], [0., 0., 0., 4.]])
    ref = torch.zeros(3, 4)
    probs = torch.tensor([0.5, 0.9, 0.2])
    ref_probs = torch.tensor([1.0, 1.0, 1.0])
    owners = torch.tensor([0, 0, 1])
    loss, terms = bbam_objective(masks, deltas, ref, probs, ref_probs, owners, l1_weight=0.1)
    l1 = 0.1 * (4 * 0.5 + 3)
    box = (1 + 2) / 2 + 4
    cls = (0.5 + 0.1) / 2 + 0.8
    assert terms['l1'].item() == pytest.approx(l1)
    assert terms['box'].item() == pytest.approx(box)
    assert terms['cls'].item() == pytest.approx(cls)
    assert loss.item() == pytest.approx(l1 + box + cls)
    loss_box, _ = bbam_objective(masks, deltas, ref, probs, ref_probs, owners, 0.1, use_cls_head=False)
    loss_cls, _ = bbam_objective(masks, deltas, ref, probs, ref_probs, owners, 0.1, use_box_head=False)
    assert loss_box.item() == pytest.approx(l1 + box) and loss_cls.item() == pytest.approx(l1 + cls)
    with pytest.raises(ValueError):
        bbam_objective(masks, deltas, ref, probs, ref_probs, owners, use_box_head=False, use_cls_head=False)


# ------------------------------------------------------------------------------------------------ post-processing
PAPER = dict(fg_thr=0.8, bg_thr=0.2)  # the thresholds of BBAM_DEFAULTS


def test_attribution_to_mask_thresholds_box_and_normalisation():
    attr = np.zeros((6, 8), np.float32)
    attr[1:5, 1:7] = [0.1, 0.3, 0.45, 0.5, 0.2, 0.05]  # max 0.5 -> normalised 0.2 .. 1
    attr[0, 0] = 0.5  # outside the box: dropped
    fg, ignore, refined = attribution_to_mask(attr, (1, 1, 7, 5), crf=None, **PAPER)
    cols_fg = [c for c in range(8) if fg[2, c]]
    cols_ignore = [c for c in range(8) if ignore[2, c]]
    assert cols_fg == [3, 4]  # 0.9 and 1.0 > 0.8
    assert cols_ignore == [1, 2, 5]  # 0.2 (boundary), 0.6, 0.4; 0.1 is background
    assert not fg[0].any() and not ignore[0].any() and refined[0, 0] == 0
    empty_fg, empty_ignore, _ = attribution_to_mask(np.zeros((4, 4)), (0, 0, 4, 4), crf=None, **PAPER)
    assert not empty_fg.any() and not empty_ignore.any()
    with pytest.raises(ValueError, match='image'):
        attribution_to_mask(attr, (1, 1, 7, 5), crf={}, **PAPER)


def test_attribution_crf_snaps_to_the_object():
    rng = np.random.RandomState(0)
    image = np.full((24, 24, 3), 40, np.uint8)
    image[6:18, 6:18] = 210  # the object
    image = np.clip(image + rng.randint(-5, 6, image.shape), 0, 255).astype(np.uint8)
    attr = np.zeros((24, 24), np.float32)
    attr[8:16, 8:16] = 0.9  # an attribution that sees only the object's core
    attr[4:20, 4:20] = np.maximum(attr[4:20, 4:20], 0.5)
    fg_plain, _, _ = attribution_to_mask(attr, (2, 2, 22, 22), crf=None, **PAPER)
    fg_crf, _, _ = attribution_to_mask(attr, (2, 2, 22, 22), image, crf={}, **PAPER)
    obj = np.zeros((24, 24), bool)
    obj[6:18, 6:18] = True
    iou = lambda m: (m & obj).sum() / (m | obj).sum()  # noqa: E731
    assert iou(fg_crf) > iou(fg_plain)
    assert iou(fg_crf) > 0.8


# ------------------------------------------------------------------------------------------------ explainer
class _Coder:
    """Box offsets are plain pixel shifts (enough for the explainer's decode call)."""

    def decode(self, boxes, deltas, max_shape=None):
        return boxes + deltas


class _BBoxHead(nn.Module):
    reg_class_agnostic = False

    def __init__(self, num_classes):
        super().__init__()
        self.num_classes = num_classes
        self.bbox_coder = _Coder()


class _RoIHead(nn.Module):
    """Class score of class k = 10 * (mean of feature channel k inside the RoI); background scores 1.
    Offsets = 0.1 * that mean for every coordinate of every class."""

    def __init__(self, num_classes):
        super().__init__()
        self.bbox_head = _BBoxHead(num_classes)
        self.scale = nn.Parameter(torch.tensor(10.0))

    def _bbox_forward(self, feats, rois):
        x = feats[0]
        means = []
        for roi in rois:
            b, x1, y1, x2, y2 = roi.tolist()
            region = x[int(b), :, int(y1):max(int(math.ceil(y2)), int(y1) + 1), int(x1):max(int(math.ceil(x2)),
                                                                                                  int(x1) + 1)]
            means.append(region.mean((1, 2)))
        means = torch.stack(means)  # (M, K)
        cls = torch.cat([self.scale * means, means.new_ones(len(rois), 1)], dim=1)
        deltas = (0.1 * means)[:, :, None].expand(-1, -1, 4).reshape(len(rois), -1)
        return dict(cls_score=cls, bbox_pred=deltas)


class TinyDetector(nn.Module):
    """Features = the image channels themselves (channel k lights up where class k is)."""

    def __init__(self, num_classes=2):
        super().__init__()
        self.roi_head = _RoIHead(num_classes)
        self.conv = nn.Conv2d(num_classes, num_classes, 1)
        with torch.no_grad():
            self.conv.weight.copy_(torch.eye(num_classes)[:, :, None, None])
            self.conv.bias.zero_()

    def extract_feat(self, x):
        return (self.conv(x), )


def _scene():
    image = torch.zeros(2, 32, 32)
    image[0, 4:14, 4:12] = 1.0  # class 0 object
    image[1, 18:28, 16:30] = 1.0  # class 1 object
    boxes = torch.tensor([[4., 4., 12., 14.], [16., 18., 30., 28.]])
    return image, boxes, torch.tensor([0, 1])


def test_explainer_gradients_reach_masks_not_detector():
    det = TinyDetector()
    det.train()
    image, boxes, labels = _scene()
    explainer = BBAMExplainer(det, num_proposals=8, jitter_ratio=0.1, iou_thrs=(0.5, ), min_positives=1,
                              num_iters=1, lr=0.02, stride_base=4, stride_scale=0)
    before = {k: v.clone() for k, v in det.state_dict().items()}
    out = explainer.explain(image, boxes, labels, (32, 32))
    # one Adam step of lr 0.02 from 1 moved every mask cell (the L1 term pulls them all down) ...
    assert (out['num_positives'] > 0).all() and (out['strides'] == 4).all()
    assert out['attributions'].max() == pytest.approx(0.98, abs=1e-5)
    # ... while the detector got no gradient, is unchanged, and is trainable and in train mode again
    assert all(p.grad is None for p in det.parameters())
    assert all(torch.equal(before[k], v) for k, v in det.state_dict().items())
    assert all(p.requires_grad for p in det.parameters()) and det.training


@pytest.mark.slow  # optimises BBAM masks on a detector, twice
def test_explainer_finds_the_object_and_batched_equals_one_by_one():
    torch.manual_seed(0)
    det = TinyDetector()
    image, boxes, labels = _scene()
    kwargs = dict(num_proposals=16, jitter_ratio=0.1, iou_thrs=(0.7, ), min_positives=1, max_positives=4,
                  num_iters=60, lr=0.05, l1_weight=0.01, stride_base=2, stride_scale=0)
    out = BBAMExplainer(det, **kwargs).explain(image, boxes, labels, (32, 32), seed=1)
    assert out['attributions'].shape == (2, 32, 32)
    assert out['num_positives'].tolist() == [4, 4]
    assert (out['strides'] == 2).all()
    attr = out['attributions']
    # the kept pixels are the object's; the background around it is dropped by the L1 term
    assert attr[0, 4:14, 4:12].mean() > 0.5 and attr[0, 20:, :].mean() < 0.1
    assert attr[1, 18:28, 16:30].mean() > 0.5 and attr[1, :12, :12].mean() < 0.1
    one = BBAMExplainer(det, **kwargs).explain(image, boxes, labels, (32, 32), seed=1, batched=False)
    np.testing.assert_allclose(one['attributions'], attr, atol=1e-5)
    assert out['scores'].shape == (2, ) and (out['scores'] > 0.5).all()


def test_explainer_box_without_positives_is_empty():
    det = TinyDetector()
    image, boxes, _ = _scene()
    out = BBAMExplainer(det, num_proposals=4, num_iters=2).explain(image, boxes, torch.tensor([1, 0]), (32, 32))
    assert out['num_positives'].tolist() == [0, 0]
    assert not out['attributions'].any()


# ------------------------------------------------------------------------------------------------ configs / hook
@pytest.mark.parametrize('name', ['faster_rcnn_voc.py', 'toy/faster-rcnn_r18-tiny_fpn_20e_toy-bbam.py'])
def test_detector_configs_carry_the_hook_with_paper_defaults(name):
    import os.path as osp

    from mmdet.registry import HOOKS, MODELS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import wsseg_mm  # noqa: F401
    cfg = Config.fromfile(osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs/bbam', name))
    with DefaultScope.overwrite_default_scope('mmdet'):
        hook = HOOKS.build(cfg.custom_hooks[0])
        model = MODELS.build(cfg.model)
    assert type(hook).__name__ == 'BBAMHook' and model.roi_head.bbox_head.num_classes in (6, 20)
    settings = hook.settings
    assert settings['explainer']['num_iters'] in (100, 300) and settings['explainer']['l1_weight'] == 0.007
    assert settings['explainer']['lr'] == 0.02 and settings['fg_thr'] == 0.8 and settings['bg_thr'] == 0.2
    assert [t['type'] for t in settings['pipeline']] == ['LoadImageFromFile', 'LoadAnnotations', 'Resize',
                                                         'PackDetInputs']
    from wsseg_mm.apis import bbam_settings
    assert bbam_settings(cfg) == settings  # what the tools read, without building the hook
    if name == 'faster_rcnn_voc.py':
        assert settings['explainer']['stride_base'] == 16 and settings['explainer']['stride_scale'] == 48
        # the MCG proposals are checked before training starts, not after it ends
        from types import SimpleNamespace
        runner = SimpleNamespace(cfg=cfg, model=model, work_dir='work_dirs/unused')
        with pytest.raises(FileNotFoundError, match='MCG'):
            hook.before_train(runner)


def test_explainer_defaults_are_the_papers():
    explainer = BBAMExplainer(TinyDetector())
    assert (explainer.l1_weight, explainer.lr, explainer.num_iters) == (0.007, 0.02, 300)
    assert (explainer.stride_base, explainer.stride_scale, explainer.jitter_ratio) == (16, 48, 0.3)
    assert explainer.iou_thrs == (0.9, 0.85, 0.8) and explainer.use_box_head and explainer.use_cls_head
    with pytest.raises(ValueError):
        BBAMExplainer(TinyDetector(), use_box_head=False, use_cls_head=False)
