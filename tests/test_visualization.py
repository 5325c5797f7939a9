import numpy as np
import pytest

from wsseg_mm.visualization import colorize_label, draw_boxes, heatmap, make_grid, overlay_label


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
