"""Pictures: colour maps and overlays, and the figures of the visualisation tools (fixed layout, titles, colour
bars, the legend of the classes present and of ignore / undecided, the displacement key, small images enlarged).
The figure builders are fed hand-made results; nothing is trained."""
import copy

import numpy as np
import pytest
import torch

from wsseg_mm.metainfo import TOY_CLASSES, VOC_PALETTE
from wsseg_mm.visualization import (
    PSIRow,
    bbam_figure,
    colorize_label,
    displacement_picture,
    display_scale,
    draw_boxes,
    enlarge,
    figure_png,
    flow_key,
    flow_to_rgb,
    heatmap,
    irnet_figure,
    label_palette,
    legend_entries,
    make_grid,
    overlay_label,
    paint_labels,
    panel_figure,
    present_values,
    psi_figure,
    resize_nearest,
    samples_figure,
)
from wsseg_mm.visualization.figure import Panel, grid_titles, legend_texts
from wsseg_mm.visualization.samples import video_tags

CREAM = (224, 224, 192)  # the VOC palette's 255 (ignore)
SIZE = 16  # side of the hand-made images: enlarged 16x to the 256 px minimum


# ------------------------------------------------------------------------------------------------ colour maps
def test_colorize_uses_voc_palette():
    out = colorize_label(np.array([[0, 1], [15, 255]]))
    assert out[0, 0].tolist() == [0, 0, 0] and out[0, 1].tolist() == [128, 0, 0]
    assert out[1, 0].tolist() == [192, 128, 128] and out[1, 1].tolist() == [224, 224, 192]


def test_overlay_blends_objects_only_and_keeps_input():
    image = np.full((2, 2, 3), 100, np.uint8)
    before = image.copy()
    out = overlay_label(image, np.array([[0, 1], [255, 1]]), alpha=0.5)
    np.testing.assert_array_equal(image, before)
    assert out[0, 0].tolist() == [100, 100, 100] and out[1, 0].tolist() == [100, 100, 100]
    assert out[0, 1].tolist() == [114, 50, 50]  # (100 + 128) / 2, (100 + 0) / 2


def test_heatmap_and_boxes_and_grid_shapes():
    score = np.linspace(0, 1, 12).reshape(3, 4)
    assert heatmap(score).shape == (3, 4, 3)
    image = np.zeros((10, 12, 3), np.uint8)
    boxed = draw_boxes(image, np.array([[1, 1, 8, 6]]), np.array([0]))
    assert boxed.any() and not image.any()
    grid = make_grid([image, image[..., 0], image], ncols=2, pad=1)
    assert grid.shape == (2 * 11 + 1, 2 * 13 + 1, 3)
    with pytest.raises(ValueError):
        make_grid([])


# ----------------------------------------------------------------------------------------- sizes and colours
def test_display_scale_enlarges_small_images_to_256_px():
    assert display_scale((128, 128)) == 2  # the toy
    assert display_scale((64, 64, 3)) == 4
    assert display_scale((100, 300)) == 3  # the shorter side decides: 3 * 100 >= 256
    assert display_scale((256, 256)) == 1 and display_scale((375, 500)) == 1
    assert display_scale((128, 128), min_side=512) == 4
    with pytest.raises(ValueError):
        display_scale((0, 5))


def test_enlarge_and_resize_are_nearest_neighbour():
    image = np.array([[1, 2], [3, 4]], np.uint8)
    np.testing.assert_array_equal(enlarge(image, 2), [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])
    assert enlarge(np.zeros((3, 5, 3)), 3).shape == (9, 15, 3)
    np.testing.assert_array_equal(resize_nearest(image, (4, 4)), enlarge(image, 2))
    np.testing.assert_array_equal(resize_nearest(np.arange(8).reshape(2, 4), (2, 2)), [[1, 3], [5, 7]])
    with pytest.raises(ValueError):
        enlarge(image, 1.5)


def test_palette_from_metainfo_and_paint():
    palette = label_palette(dict(palette=[[1, 2, 3], [4, 5, 6]]))
    assert palette.shape == (256, 3) and palette[1].tolist() == [4, 5, 6]
    assert palette[2].tolist() == VOC_PALETTE[2] and tuple(palette[255]) == CREAM
    labels = np.array([[0, 1], [255, 1]], np.uint8)
    image = np.full((2, 2, 3), 100, np.uint8)
    before = labels.copy(), image.copy()
    assert paint_labels(labels, palette)[1, 0].tolist() == list(CREAM)
    out = paint_labels(labels, palette, image, alpha=0.5, ignore_alpha=0.0)
    assert out[0, 0].tolist() == [50, 51, 51] and out[0, 1].tolist() == [52, 52, 53]  # (100 + c) / 2, floored
    assert out[1, 0].tolist() == [100, 100, 100]  # ignore_alpha 0: the image
    np.testing.assert_array_equal(labels, before[0])
    np.testing.assert_array_equal(image, before[1])


def test_legend_holds_exactly_the_present_classes():
    palette = label_palette()
    maps = [np.array([[0, 3], [3, 3]]), None, np.array([[5]])]
    assert present_values(*maps) == [0, 3, 5]
    entries = legend_entries(present_values(*maps), TOY_CLASSES, palette)
    assert [e.name for e in entries] == ['background', 'triangle', 'cross']
    assert [e.colour for e in entries] == [tuple(VOC_PALETTE[v]) for v in (0, 3, 5)]
    with_ignore = legend_entries([2, 255], TOY_CLASSES, palette, ignore_name='undecided')
    assert [(e.name, e.colour) for e in with_ignore] == [('square', tuple(VOC_PALETTE[2])), ('undecided (255)', CREAM)]
    assert [e.name for e in legend_entries([9], TOY_CLASSES, palette)] == ['label 9']


def test_flow_key_is_the_colouring_of_the_displacement_pictures():
    wheel, disc = flow_key(65)
    assert wheel.shape == (65, 65, 3) and disc[32, 32] and not disc[0, 0]
    assert wheel[32, 32].tolist() == [255, 255, 255]  # no displacement: white
    # the right edge of the wheel is a unit step to the right, drawn as flow_to_rgb draws it at full length
    right = flow_to_rgb(np.array([[[0.0]], [[1.0]]]), max_norm=1.0)[0, 0]
    assert wheel[32, 64].tolist() == right.tolist()
    down = flow_to_rgb(np.array([[[1.0]], [[0.0]]]), max_norm=1.0)[0, 0]
    assert wheel[64, 32].tolist() == down.tolist() and right.tolist() != down.tolist()


def test_displacement_picture_removes_the_mean_and_enlarges():
    field = np.zeros((2, 2, 2), np.float32)
    field[1] = 3.0  # everything moves right by 3: no instance structure
    picture, longest = displacement_picture(field, (4, 4))
    assert picture.shape == (4, 4, 3) and (picture == 255).all()  # centred: white everywhere
    field[1, 0, 0] = 7.0  # one cell moves 4 further right than the mean (+1 over the 4 cells)
    picture, longest = displacement_picture(field, (4, 4))
    assert longest == pytest.approx(3.0)  # 7 - 4 (the mean)
    right = flow_to_rgb(np.array([[[0.0]], [[1.0]]]), max_norm=1.0)[0, 0]
    assert (picture[:2, :2] == right).all()  # the cell, enlarged 2x, at full length to the right
    assert (picture[2:] != 255).any() and (picture[2:] != right).any(axis=-1).all()  # the others: left, 1/3 long
    raw, raw_longest = displacement_picture(field, (2, 2), centre=False)
    assert raw_longest == pytest.approx(7.0)


# ------------------------------------------------------------------------------------------------- figures
def _image(seed=0):
    return np.random.default_rng(seed).integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)


def _colour_bars(fig):
    return sum(len(ax.child_axes) for ax in fig.axes)


def _assert_not_mutated(before, after):
    if isinstance(before, dict):
        assert before.keys() == after.keys()
        for k in before:
            _assert_not_mutated(before[k], after[k])
    elif isinstance(before, (list, tuple)):
        for a, b in zip(before, after):
            _assert_not_mutated(a, b)
    elif isinstance(before, (np.ndarray, torch.Tensor)):
        np.testing.assert_array_equal(np.asarray(before), np.asarray(after))
    else:
        assert before == after


def test_panel_figure_fixed_grid_and_enlargement():
    rows = [[Panel(_image(), 'a'), Panel(_image(), 'b', scores=np.zeros((SIZE, SIZE)), colorbar='score')],
            [Panel(_image(), 'c')]]
    fig = panel_figure(rows, ncols=3)
    assert grid_titles(fig, 2, 3) == [['a', 'b', ''], ['c', '', '']]
    assert _colour_bars(fig) == 1
    fig.canvas.draw()
    width = fig.axes[0].get_window_extent().width
    assert width == pytest.approx(SIZE * display_scale((SIZE, SIZE)), abs=2)  # 16 px shown as 256
    assert fig.axes[0].images[0].get_array().shape == (256, 256, 3)  # enlarged by repeating pixels
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array()[:16, :16], np.broadcast_to(rows[0][0].image[0, 0],
                                                                                             (16, 16, 3)))
    assert figure_png(fig)[:8] == b'\x89PNG\r\n\x1a\n'
    with pytest.raises(ValueError):
        panel_figure([[Panel(_image())] * 4], ncols=3)


def _irnet_result():
    semantic = np.zeros((SIZE, SIZE), np.uint8)
    semantic[2:8, 2:8] = 2
    mask = semantic == 2
    return dict(labels=[2, 4], high_res=torch.rand(2, SIZE, SIZE), boundary=torch.rand(4, 4),
                displacement=torch.randn(2, 4, 4), semantic=semantic,
                instances=[dict(mask=mask, label=2, score=0.9)])


def test_irnet_figure_layout_legend_and_key():
    torch.manual_seed(0)
    image, result = _image(), _irnet_result()
    relations = np.full((SIZE, SIZE), 255, np.uint8)
    relations[:2] = 0
    before = copy.deepcopy((image, result, relations))
    fig = irnet_figure(image, result, TOY_CLASSES, relations, name='toy_0')
    _assert_not_mutated(before, (image, result, relations))
    titles = grid_titles(fig, 2, 6)
    assert [t.split('\n')[0] for t in titles[0]] == ['image', 'relation labels', 'class boundary B',
                                                     'displacement field D', 'semantic pseudo label',
                                                     'instance pseudo labels']
    assert titles[1] == ['CAM: square', 'CAM: star', '', '', '', '']
    assert _colour_bars(fig) == 3  # the boundary and the two CAMs
    assert any('displacement key' in t.get_text() for ax in fig.axes for t in ax.texts)
    # semantic + relations + instances hold background and square; the CAM of 'star' is no label colour
    assert legend_texts(fig) == ['background', 'square', 'unknown relation (255)']
    without = irnet_figure(image, result, TOY_CLASSES)
    assert legend_texts(without) == ['background', 'square'] and 'not given' in grid_titles(without, 1, 6)[0][1]


def test_bbam_figure_layout_and_undecided():
    image = _image()
    mask = np.zeros((SIZE, SIZE), bool)
    mask[2:6, 2:6] = True
    ignore = np.zeros((SIZE, SIZE), bool)
    ignore[1, 1:7] = True
    semantic = np.zeros((SIZE, SIZE), np.uint8)
    semantic[mask] = 1
    semantic[9:14, 9:14] = 255
    result = dict(attributions=np.random.default_rng(0).random((2, SIZE, SIZE)).astype(np.float16),
                  boxes=np.array([[1, 1, 7, 7], [9, 9, 14, 14]], np.float32), labels=np.array([0, 3]),
                  num_positives=np.array([5, 0]))
    instances = [dict(mask=mask, category_id=1, score=1.0, ignore=ignore)]
    before = copy.deepcopy((image, result, instances, semantic))
    fig = bbam_figure(image, result, instances, semantic, TOY_CLASSES[1:], name='toy_0')
    _assert_not_mutated(before, (image, result, instances, semantic))
    titles = grid_titles(fig, 3, 3)
    assert titles[0] == ['box 1: disc\n(positive proposals: 5)', 'box 1: attribution map',
                         'box 1: instance pseudo mask\n(foreground / undecided)']
    assert titles[1][0] == 'box 2: star\n(positive proposals: 0)' and 'no positive proposal' in titles[1][2]
    assert titles[2] == ['all 2 boxes', 'semantic pseudo label', 'semantic pseudo label over the image']
    assert _colour_bars(fig) == 2
    assert legend_texts(fig) == ['background', 'disc', 'star', 'undecided (255)']


def test_psi_figure_layout_and_legend():
    image = _image()
    scribbles = np.full((SIZE, SIZE), 255, np.uint8)
    scribbles[3, 3:9] = 1
    steps = []
    for t in range(1, 4):
        labels = scribbles.copy()
        labels[3:3 + t] = 1
        steps.append((labels, 'recomputed' if t == 3 else ''))
    gt = np.zeros((SIZE, SIZE), np.uint8)
    gt[:8] = 1
    rows = [PSIRow(image, 'a', scribbles, steps, np.full((SIZE, SIZE), 6, np.uint8), gt),
            PSIRow(image, 'b', scribbles, steps, None, None)]
    before = copy.deepcopy(rows)
    fig = psi_figure(rows, TOY_CLASSES, num_steps=3)
    for a, b in zip(before, rows):
        _assert_not_mutated([a.image, a.scribbles, a.steps, a.ground_truth], [b.image, b.scribbles, b.steps,
                                                                               b.ground_truth])
    titles = grid_titles(fig, 2, 7)
    assert [t.split('\n')[0] for t in titles[0]] == ['a', 'scribbles y0', 'after SLD step 1', 'after SLD step 2',
                                                     'after SLD step 3 (recomputed)', 'prediction', 'ground truth']
    assert titles[0][1] == 'scribbles y0\n2.3% labelled, 100.0% right'  # 6 of 256 pixels, all of class 1
    assert titles[1][5:] == ['prediction (none)', 'no ground truth']
    assert legend_texts(fig) == ['background', 'disc', 'ring', 'unlabelled (255)']
    with pytest.raises(ValueError, match='2 SLD steps given, 3 expected'):
        psi_figure([PSIRow(image, 'c', scribbles, steps[:2])], TOY_CLASSES, num_steps=3)


def _seg_sample():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    label = np.full((SIZE, SIZE), 255, np.uint8)
    label[2:5, 2:5] = 4
    label[10:, 10:] = 0
    data = SegDataSample(metainfo=dict(img_labels=[4]))
    data.gt_sem_seg = PixelData(data=torch.from_numpy(label)[None])
    return dict(inputs=torch.from_numpy(_image().transpose(2, 0, 1).copy()), data_samples=data)


def _det_sample():
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    data = DetDataSample()
    data.gt_instances = InstanceData(bboxes=torch.tensor([[1.0, 1.0, 8.0, 8.0], [4.0, 4.0, 15.0, 12.0]]),
                                     labels=torch.tensor([0, 5]))
    return dict(inputs=torch.from_numpy(_image().transpose(2, 0, 1).copy()), data_samples=data)


def _video_sample():
    from mmengine.structures import BaseDataElement
    data = BaseDataElement()
    data.gt_label = torch.tensor([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1.0])  # baby, none
    return dict(inputs=torch.zeros(1, 3, 12, SIZE, SIZE, dtype=torch.uint8), data_samples=data)


def test_samples_figure_for_each_kind():
    seg = _seg_sample()
    before = copy.deepcopy(seg['data_samples'].gt_sem_seg.data), seg['inputs'].clone()
    meta = dict(classes=TOY_CLASSES, palette=VOC_PALETTE[:len(TOY_CLASSES)])
    fig = samples_figure([seg, seg], meta, ['a', 'b'])
    assert torch.equal(before[0], seg['data_samples'].gt_sem_seg.data) and torch.equal(before[1], seg['inputs'])
    assert grid_titles(fig, 2, 3)[0] == ['image\n(tags: star)', 'label over the image', 'label (gt_sem_seg)']
    assert legend_texts(fig) == ['background', 'star', 'ignore (255)']
    det = samples_figure([_det_sample()], dict(classes=TOY_CLASSES[1:]), ['d'])
    assert grid_titles(det, 1, 2) == [['image', 'boxes (2)']]
    assert legend_texts(det) == ['disc', 'ring']  # labels 0 and 5 of the foreground classes
    assert [t.get_text() for t in det.axes[1].texts] == ['disc', 'ring']
    a2d = dict(actors=('adult', 'baby'), actions=('a',) * 9 + ('none', ), label_type='both')
    video = samples_figure([_video_sample()], a2d, ['v'])
    assert grid_titles(video, 1, 8)[0][0] == 'frame 1/12' and grid_titles(video, 1, 8)[0][-1] == 'frame 12/12'
    assert video.axes[0].get_ylabel() == 'v\ntags: baby, none' and legend_texts(video) == []
    # one class index (single-label A2D datasets), over the actions only
    assert video_tags(torch.tensor([9]), dict(a2d, label_type='action')) == ['none']
    assert video_tags(torch.tensor([1]), dict(a2d, label_type='actor')) == ['baby']
    assert video_tags(torch.tensor([0.0, 1.0]), dict(classes=('x', 'y'))) == ['y']
