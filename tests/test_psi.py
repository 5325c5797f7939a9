"""PSI pieces: CPP neighbourhoods and aggregation against the node-by-node reference, SLD by hand, the losses,
the label codes through mmseg's transforms, and a tiny PSI segmentor end to end."""
import json
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData

import wsseg_mm  # noqa: F401
from wsseg_mm.fileio.labels import save_label_png
from wsseg_mm.functional import psi

from conftest import REPO, tiny_psi_model

PAPER_RADII = (1, 1, 1, 4)
TINY_PSI = dict(
    tiny_psi_model(num_classes=3, loss_decode=[dict(type='CrossEntropyLoss', avg_non_ignore=True),
                                               dict(type='SmoothnessLoss', loss_weight=100.0)],
                   std=[1, 1, 1], size_divisor=16),
    test_cfg=ConfigDict(mode='whole'))  # what a config file gives


pytestmark = pytest.mark.usefixtures('one_torch_thread')


def build(cfg, registry='MODELS'):
    import mmseg.registry
    with DefaultScope.overwrite_default_scope('mmseg'):
        return getattr(mmseg.registry, registry).build(cfg)


def resnet_sizes(size):
    """Map sizes of a ResNet at strides 4 / 8 / 16 / 16 (stride-2 convs and pools round up)."""
    s4 = -(-size // 4)
    s8 = -(-s4 // 2)
    s16 = -(-s8 // 2)
    return s4, s8, s16, s16


# ----------------------------------------------------------------------------------------------------------
# CPP
# ----------------------------------------------------------------------------------------------------------
def test_resnet_sizes_match_the_backbone():
    backbone = build(TINY_PSI['backbone'])
    backbone.eval()  # mmseg's ResNet.train() returns None
    with torch.no_grad():
        outs = backbone(torch.zeros(1, 3, 129, 67))
    assert [tuple(x.shape[-2:]) for x in outs] == list(zip(resnet_sizes(129), resnet_sizes(67)))


def test_cpp_stride_from_odd_sizes():
    sizes = resnet_sizes(129)
    assert sizes == (33, 17, 9, 9)
    assert [psi.cpp_stride((9, 9), (s, s))[0] for s in sizes] == [(4, 4), (2, 2), (1, 1), (1, 1)]
    assert psi.cpp_stride((9, 9), (33, 33))[1] == (True, True)
    # a coarser level, and tiny maps where the ratio of the sizes alone would mislead (5 / 2 -> 4, not 2)
    assert psi.cpp_stride((33, 9), (9, 9)) == ((4, 1), (False, True))
    assert psi.cpp_stride((2, 1), (5, 3))[0] == (4, 4)


def test_cpp_neighbours_eq2_eq3_by_hand():
    # 2 x 2 destination over a 5 x 5 finer level (s = 4): node (1, 1) maps to (4, 4), at the border
    index, valid = psi.cpp_neighbours((2, 2), (5, 5), radius=1)
    assert index.shape == valid.shape == (4, 9)
    assert index[0][valid[0]].tolist() == [0, 1, 5, 6]  # (0, 0): the 2 x 2 corner of the window
    assert index[3][valid[3]].tolist() == [18, 19, 23, 24]  # (4, 4): rows and columns 3-4
    assert index[1][valid[1]].tolist() == [3, 4, 8, 9]  # (0, 1) -> (0, 4)
    # the literal "<": rho = 1 keeps the mapped node alone
    index, valid = psi.cpp_neighbours((2, 2), (5, 5), radius=1, strict=True)
    assert valid.all() and index[:, 0].tolist() == [0, 4, 20, 24]
    # a coarser level: floor(i / s)
    index, valid = psi.cpp_neighbours((5, 1), (2, 1), radius=1, strict=True)
    assert index[:, 0].tolist() == [0, 0, 0, 0, 1]
    with pytest.raises(ValueError):
        psi.cpp_neighbours((2, 2), (5, 5), radius=0)  # rho >= 1
    # the paper's neighbourhood sizes: 9 + 9 + 9 + 81 = 108 with "<=", 1 + 1 + 1 + 49 = 52 with "<"
    for strict, total in ((False, 108), (True, 52)):
        assert sum(psi.cpp_neighbours((9, 9), (s, s), r, strict)[0].shape[1]
                   for s, r in zip(resnet_sizes(129), PAPER_RADII)) == total


@pytest.mark.parametrize('strict', [False, True])
@pytest.mark.parametrize('size, batch', [(129, 1), ((37, 23), 2), ((9, 5), 1)])
def test_cpp_aggregate_matches_dense_reference(strict, size, batch):
    torch.manual_seed(0)
    height, width = (size, size) if isinstance(size, int) else size
    shapes = list(zip(resnet_sizes(height), resnet_sizes(width)))
    levels = [torch.randn(batch, 4, *shape, dtype=torch.float64) for shape in shapes]
    radii = (1, 2, 1, 4) if strict else PAPER_RADII
    fast, attention = psi.cpp_aggregate(levels[3], levels, radii, strict)
    slow, attention_ref = psi.cpp_aggregate_dense(levels[3], levels, radii, strict)
    for a, b in zip(fast, slow):
        assert a.shape == (batch, 4, *shapes[3])
        assert (a - b).abs().max() < 1e-5
    assert (attention - attention_ref).abs().max() < 1e-5
    # one softmax across all levels; masked (outside) positions get nothing
    assert (attention.sum(1) - 1).abs().max() < 1e-12
    valid = torch.cat([psi.cpp_neighbours(shapes[3], s, r, strict)[1] for s, r in zip(shapes, radii)], 1)
    assert (attention.flatten(2).transpose(1, 2)[:, ~valid] == 0).all()


def test_cpp_aggregate_coarser_levels_match_reference():
    torch.manual_seed(1)
    levels = [torch.randn(1, 3, *s, dtype=torch.float64) for s in [(9, 8), (17, 16), (33, 31)]]
    fast, attention = psi.cpp_aggregate(levels[2], levels, (2, 1, 1))
    slow, attention_ref = psi.cpp_aggregate_dense(levels[2], levels, (2, 1, 1))
    assert max((a - b).abs().max() for a, b in zip(fast, slow)) < 1e-5
    assert (attention - attention_ref).abs().max() < 1e-5


def test_cpp_neck_and_head_shapes():
    neck = build(dict(type='CPPNeck', in_channels=(8, 16, 32, 64), channels=8))
    levels = [torch.randn(1, c, h, w) for c, h, w in zip((8, 16, 32, 64), (12, 6, 3, 3), (11, 6, 3, 3))]
    outs = neck(levels)
    assert len(outs) == 5 and outs[4].shape == (1, 8, 3, 3) and (outs[4] >= 0).all()
    assert all(a is b for a, b in zip(outs, levels))
    replaced = build(dict(type='CPPNeck', in_channels=(8, 16, 32, 64), channels=64, out='replace'))(levels)
    assert len(replaced) == 4 and replaced[3].shape == (1, 64, 3, 3)
    with pytest.raises(ValueError):
        build(dict(type='CPPNeck', in_channels=(8, 16), radii=(1, 1, 4)))
    head = build(dict(TINY_PSI['decode_head'], loss_decode=dict(type='CrossEntropyLoss')))
    assert head.sep_bottleneck[0].depthwise_conv.conv.in_channels == 8 + 8 + 4
    head.eval()  # batch 1: the image-pooling branch cannot train its BN
    assert head(outs).shape == (1, 3, 12, 11)


# ----------------------------------------------------------------------------------------------------------
# SLD
# ----------------------------------------------------------------------------------------------------------
def sld_row():
    """One row of 6 pixels, class 1 scribbled at pixel 0; M(1, .) = 0.9 0.6 0.3 0.8 0.2 0.1."""
    scores = torch.tensor([0.9, 0.6, 0.3, 0.8, 0.2, 0.1], dtype=torch.float64)
    probs = torch.stack([1 - scores, scores])[:, None]  # (2, 1, 6)
    labels = torch.tensor([[1, 255, 255, 255, 255, 255]])
    return probs, labels


def test_sld_statistics_and_threshold_by_hand():
    probs, labels = sld_row()
    assert psi.sld_radius(0, 2) == 2 and psi.sld_radius(2, 16) == 48
    classes, regions = psi.sld_regions(labels, radius=2)
    assert classes.tolist() == [1] and regions[0, 0].tolist() == [True] * 3 + [False] * 3  # 5 x 5 square
    mean, variance = psi.sld_statistics(probs, classes, regions)  # over 0.9, 0.6, 0.3
    assert mean.item() == pytest.approx(0.6) and variance.item() == pytest.approx(0.06)  # population variance
    decided = psi.sld_decide(probs, labels, 2, lambda m, v: torch.ones_like(m))
    gamma = 0.6 + math.sqrt(0.06)
    assert decided.gamma.item() == pytest.approx(gamma)
    expected = [1 / (1 + math.exp(-20 * (0.9 - gamma)))] + [0.5] * 5  # Eq. 9, 0.5 outside Omega
    assert decided.binarized[0, 0].tolist() == pytest.approx(expected)


def test_soft_binarize_is_half_without_gradient_below_threshold():
    scores = torch.tensor([[[0.2, 0.5, 0.7, 0.9]]])
    gamma = torch.tensor([0.5], requires_grad=True)
    regions = torch.tensor([[[True, True, True, False]]])
    b = psi.soft_binarize(scores, gamma, regions, steepness=20)
    assert b[0, 0, :2].tolist() == [0.5, 0.5] and b[0, 0, 3] == 0.5  # <= gamma, and outside Omega
    assert b[0, 0, 2].item() == pytest.approx(1 / (1 + math.exp(-20 * 0.2)))
    b.sum().backward()
    s = b[0, 0, 2].item()
    assert gamma.grad.item() == pytest.approx(-20 * s * (1 - s))  # only the pixel above gamma


def test_sld_expand_keeps_labels_and_stays_in_omega():
    torch.manual_seed(0)
    probs = torch.rand(3, 12, 14).softmax(0)
    labels = torch.full((12, 14), 255)
    labels[2, 2:5] = 1
    labels[9, 8:12] = 2
    labels[6, 0] = 0
    decided = psi.sld_decide(probs, labels, 2, lambda m, v: torch.full_like(m, -0.5))
    grown = psi.sld_expand(probs, labels, decided.classes, decided.regions, decided.gamma)
    labelled = labels != 255
    assert torch.equal(grown[labelled], labels[labelled])
    assert (grown != labels).any()
    for k, c in enumerate(decided.classes):
        new = (grown == c) & ~labelled
        assert not (new & ~decided.regions[k]).any()
        assert (probs[c][new] > decided.gamma[k]).all()
    # every unlabelled pixel above some threshold is taken, by the class with the largest M among those above
    above = decided.regions & (probs[decided.classes] > decided.gamma[:, None, None])
    candidates = probs[decided.classes].masked_fill(~above, -1)
    expect = torch.where(~labelled & above.any(0), decided.classes[candidates.argmax(0)], labels)
    assert torch.equal(grown, expect)


def test_sld_loss_by_hand():
    # a (class, pixel) pair of Omega costs -log B when the target is that class, else -log(1 - B)
    binarized = torch.tensor([[[0.75, 0.6, 0.9]], [[0.9, 0.7, 0.5]]], requires_grad=True)
    classes = torch.tensor([0, 1])
    regions = torch.tensor([[[True, True, False]], [[True, True, False]]])  # pixel 2 outside both Omega
    scribbles = torch.tensor([[0, 255, 255]])
    prediction = torch.tensor([[2, 1, 1]])  # pixel 0: class 2 (not in y_t) is "another class" for both
    loss = psi.sld_loss(binarized, classes, regions, scribbles, prediction, seg_weight=0.5)
    term1 = (-math.log(0.75) - math.log(1 - 0.9)) / 2
    term2 = (-math.log(1 - 0.75) - math.log(1 - 0.6) - math.log(1 - 0.9) - math.log(0.7)) / 4
    assert loss.item() == pytest.approx(term1 + 0.5 * term2)
    loss.backward()
    assert binarized.grad[:, :, 2].abs().sum() == 0  # outside Omega
    assert binarized.grad[:, :, :2].abs().sum() > 0


def test_sld_loss_pulls_gamma_between_the_classes():
    # M(c, .) over Omega_c: pixels of c (y_seg = c) at 0.9 / 0.7, pixels of another class at 0.3 / 0.1; from gamma
    # far below (every pixel diffused) or far above (none), gradient descent on L_sld brings gamma to the top of the
    # other class (a pixel of another class above gamma pushes harder than one of c pulls), so that only c's grow
    scores = torch.tensor([[[0.9, 0.7, 0.3, 0.1]]])
    regions = torch.ones(1, 1, 4, dtype=torch.bool)
    prediction = torch.tensor([[0, 0, 1, 1]])
    scribbles = torch.full((1, 4), 255)
    for start in (-0.5, 0.5):
        gamma = torch.tensor([start], requires_grad=True)
        optimizer = torch.optim.SGD([gamma], lr=0.01)
        for _ in range(300):
            optimizer.zero_grad()
            binarized = psi.soft_binarize(scores, gamma, regions)
            psi.sld_loss(binarized, torch.tensor([0]), regions, scribbles, prediction).backward()
            optimizer.step()
        assert 0.25 < gamma.item() < 0.7, (start, gamma.item())


# ----------------------------------------------------------------------------------------------------------
# Smoothness
# ----------------------------------------------------------------------------------------------------------
def test_smoothness_l1():
    assert psi.smoothness_l1(torch.full((2, 3, 5, 4), 0.25)).item() == 0
    assert psi.smoothness_l1(torch.ones(1, 1, 1, 1)).item() == 0
    # 2 x 3, edge before the last column: horizontal pairs 2 of 4 differ, vertical 0 of 3, diagonals 1 of 2 each
    edge = torch.tensor([[[[0., 0., 1.], [0., 0., 1.]]]])
    assert psi.smoothness_l1(edge).item() == pytest.approx(4 / 11)
    loss = build(dict(type='SmoothnessLoss', loss_weight=100.0))
    logits = torch.cat([(1 - edge) * 50, edge * 50], 1)  # softmax ~ one-hot: both channels jump by 1
    assert loss(logits, None).item() == pytest.approx(400 / 11)
    assert loss.loss_name == 'loss_smooth'


# ----------------------------------------------------------------------------------------------------------
# Label codes
# ----------------------------------------------------------------------------------------------------------
def test_label_codes_round_trip():
    scribbles = np.array([[1, 255, 255], [0, 255, 2]], dtype=np.uint8)
    labels = np.array([[1, 1, 255], [2, 0, 2]], dtype=np.uint8)  # pixel (1, 0): the scribble wins
    codes = psi.encode_sld_labels(scribbles, labels)
    assert codes.tolist() == [[1, 129, 255], [0, 128, 2]]
    y0, yt = psi.decode_sld_labels(torch.from_numpy(codes))
    assert y0.tolist() == [[1, 255, 255], [0, 255, 2]] and yt.tolist() == [[1, 1, 255], [0, 0, 2]]
    y0, yt = psi.decode_sld_labels(torch.tensor([[3, 255]]))  # plain labels
    assert torch.equal(y0, yt)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_label_codes_survive_mmseg_transforms(seed):
    pipeline = [dict(type='RandomResize', scale=(48, 40), ratio_range=(0.5, 1.5), keep_ratio=True),
                dict(type='RandomCrop', crop_size=(24, 20)),
                dict(type='RandomFlip', prob=0.5),
                dict(type='RandomRotate', prob=1.0, degree=40)]
    rng = np.random.default_rng(seed)
    scribbles = np.full((30, 40), 255, np.uint8)
    scribbles[5:8, 3:30] = 1
    scribbles[20:22, 10:35] = 0
    labels = np.where(rng.random((30, 40)) < 0.5, rng.integers(0, 3, (30, 40)), 255).astype(np.uint8)
    codes = psi.encode_sld_labels(scribbles, labels)
    y0, yt = (m.numpy().astype(np.uint8) for m in psi.decode_sld_labels(torch.from_numpy(codes)))

    def run(label_map):
        np.random.seed(seed)
        results = dict(img=np.zeros((30, 40, 3), np.uint8), gt_seg_map=label_map.copy(), seg_fields=['gt_seg_map'],
                       img_shape=(30, 40), ori_shape=(30, 40))
        for cfg in pipeline:
            results = build(cfg, 'TRANSFORMS')(results)
        return results['gt_seg_map']

    moved = run(codes)
    assert set(np.unique(moved)) <= set(np.unique(codes)) | {255}
    moved_y0, moved_yt = (m.numpy() for m in psi.decode_sld_labels(torch.from_numpy(moved)))
    assert np.array_equal(moved_y0, run(y0)) and np.array_equal(moved_yt, run(yt))


def test_load_sld_labels(tmp_path):
    xml = tmp_path / 'img.xml'
    xml.write_text('<annotation><polygon><tag>cat</tag><point><X>2</X><Y>3</Y></point><point><X>8</X><Y>3</Y>'
                   '</point></polygon></annotation>')
    classes = ('background', 'cat')
    labels = np.full((10, 12), 255, np.uint8)
    labels[0, :] = 0
    labels[3, 2:10] = 1
    save_label_png(str(tmp_path / 'sld' / 'step_2' / 'img.png'), labels)
    results = dict(scribble_path=str(xml), img_path=str(tmp_path / 'img.jpg'), img_shape=(10, 12), classes=classes)
    transform = build(dict(type='LoadSLDLabels', sld_dir=str(tmp_path / 'sld'), step=2, stroke_width=1),
                      'TRANSFORMS')
    codes = transform(dict(results))['gt_seg_map']
    assert codes[3, 2:9].tolist() == [1] * 7 and codes[3, 9] == 129  # scribble, then SLD
    assert codes[0].tolist() == [128] * 12 and (codes[5:] == 255).all()
    (tmp_path / 'sld' / 'state.json').write_text(json.dumps(dict(step=3)))  # no step_3 yet: scribbles alone
    out = transform(dict(results))
    assert out['sld_step'] == 3 and out['gt_seg_map'].max() == 255 and (out['gt_seg_map'] < 128).sum() == 7
    assert out['seg_fields'] == ['gt_seg_map']


# ----------------------------------------------------------------------------------------------------------
# The segmentor
# ----------------------------------------------------------------------------------------------------------
def tiny_batch(model):
    from mmseg.structures import SegDataSample
    torch.manual_seed(0)
    samples = []
    for h, w in ((37, 41), (33, 35)):
        codes = torch.full((1, h, w), 255, dtype=torch.long)
        codes[0, 5:8, 4:30] = 1
        codes[0, 20:23, 3:25] = 2
        codes[0, 30:32, :] = 0
        codes[0, 9:12, 4:30] = 129  # diffused labels of class 1
        samples.append(SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w)),
                                     gt_sem_seg=PixelData(data=codes)))
    data = model.data_preprocessor(dict(inputs=[torch.rand(3, 37, 41) * 255, torch.rand(3, 33, 35) * 255],
                                        data_samples=samples), training=True)
    return data['inputs'], data['data_samples']


def test_psi_segmentor_losses_gradients_and_predict():
    model = build(TINY_PSI)
    model.init_weights()
    inputs, samples = tiny_batch(model)
    model.train()
    losses = model.loss(inputs, samples)
    assert {'decode.loss_ce', 'decode.loss_smooth', 'decode.acc_seg', 'loss_sld'} <= set(losses)
    assert all(torch.isfinite(v).all() for v in losses.values())
    theta = list(model.sld_decision.parameters())
    network = [p for n, p in model.named_parameters() if not n.startswith('sld_decision.')]
    seg = losses['decode.loss_ce'] + losses['decode.loss_smooth']
    # L_seg reaches the network only, L_sld the decision function only
    assert all(g is None for g in torch.autograd.grad(seg, theta, retain_graph=True, allow_unused=True))
    assert all(g is None for g in torch.autograd.grad(losses['loss_sld'], network, retain_graph=True,
                                                      allow_unused=True))
    model.zero_grad()
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert model.sld_decision.layers[-1].weight.grad.abs().sum() > 0
    assert model.neck.projections[0].weight.grad.abs().sum() > 0
    assert model.backbone.stem[0].weight.grad.abs().sum() > 0
    # y_t (codes 129 -> 1) is what the head trains on
    y0, yt = model.decode_labels(samples)
    assert (yt == 1).sum() > (y0 == 1).sum()

    model.eval()
    with torch.no_grad():
        out = model.predict(inputs, samples)
    assert len(out) == 2 and out[0].pred_sem_seg.data.shape == (1, 37, 41)
    assert out[1].seg_logits.data.shape == (3, 33, 35)


def test_psi_segmentor_sld_decision_starts_at_the_mean():
    model = build(TINY_PSI)
    probs = torch.rand(3, 10, 10).softmax(0)
    labels = torch.full((10, 10), 255)
    labels[4, 4] = 2
    decided = model.sld_decide(probs, labels, step=1)
    assert decided.regions[0].sum() == 81  # r_1 = r_0 (1 + 1) = 4: rows and columns 0-8
    assert torch.allclose(decided.gamma, decided.mean)  # zero-initialised output layer


def test_psi_segmentor_on_plain_labels_is_a_stock_encoder_decoder():
    from mmseg.structures import SegDataSample
    model = build(TINY_PSI)
    stock_cfg = {k: v for k, v in TINY_PSI.items() if not k.startswith('sld_')}
    stock = build(dict(stock_cfg, type='EncoderDecoder'))
    missing, unexpected = stock.load_state_dict(model.state_dict(), strict=False)
    assert not missing and all(k.startswith('sld_decision.') for k in unexpected)
    inputs, samples = tiny_batch(model)
    plain = [SegDataSample(metainfo=s.metainfo, gt_sem_seg=PixelData(data=psi.decode_sld_labels(s.gt_sem_seg.data)[1]))
             for s in samples]  # y_t as plain labels: no SLD code left
    model.train()
    stock.train()
    torch.manual_seed(0)  # same dropout masks
    ours = model.loss(inputs, plain)
    torch.manual_seed(0)
    theirs = stock.loss(inputs, plain)
    assert set(ours) == set(theirs) | {'loss_sld'}
    assert all(torch.allclose(ours[k], theirs[k]) for k in theirs)
    model.eval()
    stock.eval()
    with torch.no_grad():
        assert torch.allclose(model.predict(inputs)[0].seg_logits.data, stock.predict(inputs)[0].seg_logits.data)


@pytest.mark.parametrize('config', ['deeplabv3plus_r101-os16-cpp-sld_132k_voc12aug-scribble.py',
                                    'toy/deeplabv3plus_r18-quarter-os16-cpp-sld_1k_toy-scribble.py'])
def test_configs_build(config):
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'psi', config))
    if 'SyncBN' in str(cfg.model):  # the real config is for GPUs; SyncBN needs a process group to run
        cfg.model.backbone.norm_cfg = cfg.model.decode_head.norm_cfg = dict(type='BN', requires_grad=True)
    model = build(cfg.model)
    assert isinstance(model.neck, wsseg_mm.models.CPPNeck) and not model.with_auxiliary_head
    assert [type(build(t, 'TRANSFORMS')).__name__ for t in cfg.train_pipeline][1] == 'LoadSLDLabels'
    if 'toy' in config:  # the toy model trains on a CPU: one loss on a small batch
        inputs, samples = tiny_batch(model)
        model.train()
        losses = model.loss(inputs, samples)
        assert torch.isfinite(losses['loss_sld']) and torch.isfinite(losses['decode.loss_smooth'])
