"""Boxes -> pseudo masks (BBAM and baselines): pixel-centre box rule, box fill, GrabCut, proposals and their
loaders, BBAM Eq. 4 refinement, instance -> semantic merging and attribution thresholds."""
import json

import h5py
import numpy as np
import pytest
import scipy.io
from pycocotools import mask as mask_utils

from wsseg_mm import functional
from wsseg_mm.fileio.proposals import load_mcg_proposals, load_rle_proposals
from wsseg_mm.functional.box_masks import (
    box_fill,
    box_to_mask,
    grabcut_in_box,
    instances_to_semantic,
    refine_with_proposals,
    skimage_mask_proposals,
    threshold_attribution,
)


def _rect(shape, rows, cols):
    """(H, W) bool mask, True on rows[0]..rows[1]-1 x cols[0]..cols[1]-1."""
    mask = np.zeros(shape, bool)
    mask[rows[0]:rows[1], cols[0]:cols[1]] = True
    return mask


def test_public_names_exported():
    from wsseg_mm.functional import box_masks
    for name in box_masks.__all__:
        assert name in functional.__all__ and getattr(functional, name) is getattr(box_masks, name)


# ---------------------------------------------------------------- boxes


def test_box_to_mask_pixel_centre_rule():
    np.testing.assert_array_equal(box_to_mask((0, 0, 3, 2), (4, 5)), _rect((4, 5), (0, 2), (0, 3)))
    # Fractional: centres 0.5 and 1.5 lie in [0.5, 2.5), centre 2.5 does not; rows: 0.5, 1.5 in [0.4, 1.6).
    np.testing.assert_array_equal(box_to_mask((0.5, 0.4, 2.5, 1.6), (4, 5)), _rect((4, 5), (0, 2), (0, 2)))
    # Only centre 1.5 lies in [0.6, 2.4); centres 1.5, 2.5 lie in [0.6, 2.6).
    np.testing.assert_array_equal(box_to_mask((0.6, 0.6, 2.4, 2.6), (4, 5)), _rect((4, 5), (1, 3), (1, 2)))
    # A box thinner than a pixel that misses every centre is empty.
    assert not box_to_mask((1.6, 0, 2.4, 4), (4, 5)).any()
    # Out of the image: clipped; entirely outside or inverted: empty.
    np.testing.assert_array_equal(box_to_mask((-5, -5, 2, 100), (4, 5)), _rect((4, 5), (0, 4), (0, 2)))
    assert not box_to_mask((10, 10, 20, 20), (4, 5)).any()
    assert not box_to_mask((-9, -9, -1, -1), (4, 5)).any()
    assert not box_to_mask((3, 3, 1, 1), (4, 5)).any()
    # image.shape works as shape.
    mask = box_to_mask(np.array([1., 1., 4., 3.]), (4, 5, 3))
    assert mask.shape == (4, 5) and mask.dtype == bool
    np.testing.assert_array_equal(mask, _rect((4, 5), (1, 3), (1, 4)))
    with pytest.raises(ValueError):
        box_to_mask((0, 0, 1), (4, 5))
    with pytest.raises(ValueError):
        box_to_mask((0, 0, np.nan, 1), (4, 5))


def test_box_fill():
    boxes = np.array([[0, 0, 3, 2], [2.5, 1, 10, 4]], np.float32)
    masks = box_fill(boxes, [1, 7], (4, 5))
    assert len(masks) == 2 and all(m.dtype == bool and m.shape == (4, 5) for m in masks)
    np.testing.assert_array_equal(masks[0], _rect((4, 5), (0, 2), (0, 3)))
    np.testing.assert_array_equal(masks[1], _rect((4, 5), (1, 4), (2, 5)))
    assert box_fill([], [], (4, 5)) == []
    with pytest.raises(ValueError):
        box_fill(boxes, [1], (4, 5))


# ---------------------------------------------------------------- GrabCut


def _disc_image():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:60, :60]
    disc = (yy - 30)**2 + (xx - 28)**2 <= 12**2
    image = rng.integers(0, 40, (60, 60, 3)).astype(np.uint8)
    image[disc] = np.array([220, 200, 180]) + rng.integers(0, 20, (int(disc.sum()), 3))
    return image, disc


def test_grabcut_in_box_finds_disc_deterministically():
    image, disc = _disc_image()
    before = image.copy()
    box = (8, 8, 50, 52)
    fg = grabcut_in_box(image, box)
    assert fg.dtype == bool and fg.shape == (60, 60)
    assert (fg & disc).sum() / (fg | disc).sum() > 0.8
    assert not (fg & ~box_to_mask(box, (60, 60))).any()
    np.testing.assert_array_equal(fg, grabcut_in_box(image, box))
    np.testing.assert_array_equal(image, before)


def test_grabcut_in_box_falls_back_to_box():
    image, _ = _disc_image()
    for box in [(10, 10, 11, 30), (10, 10, 30, 11.4), (100, 100, 120, 120)]:  # 1 px wide / high, outside
        np.testing.assert_array_equal(grabcut_in_box(image, box), box_to_mask(box, (60, 60)))
    # The whole image leaves GrabCut no background sample: it raises, the box is returned.
    np.testing.assert_array_equal(grabcut_in_box(image, (0, 0, 60, 60)), np.ones((60, 60), bool))
    with pytest.raises(ValueError):
        grabcut_in_box(image[..., 0], (8, 8, 50, 52))


# ---------------------------------------------------------------- proposals


def test_skimage_mask_proposals_two_regions():
    square = _rect((24, 32), (6, 18), (8, 22))
    image = np.full((24, 32, 3), 30, np.uint8)
    image[square] = 220
    proposals = skimage_mask_proposals(image, sigma=0)
    assert proposals.dtype == bool and proposals.ndim == 3 and proposals.shape[1:] == (24, 32)
    # Square, background and their union (the two are adjacent), each once over the three scales.
    assert len(proposals) == 3
    for region in (square, ~square, np.ones((24, 32), bool)):
        assert sum(np.array_equal(p, region) for p in proposals) == 1


def test_skimage_mask_proposals_noisy_image():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (20, 24, 3)).astype(np.uint8)
    proposals = skimage_mask_proposals(image, scales=(20, 100), min_size=10)
    assert proposals.dtype == bool and proposals.shape[1:] == (20, 24) and len(proposals) > 1
    flat = proposals.reshape(len(proposals), -1)
    assert len(np.unique(flat, axis=0)) == len(proposals)  # no duplicates
    assert flat.sum(axis=1).min() >= 10  # small ones dropped


_SUPERPIXELS = np.array([[1, 1, 2, 2, 2],
                         [1, 1, 2, 3, 3],
                         [4, 4, 4, 3, 3],
                         [4, 4, 4, 3, 3]])


def _mcg_expected():
    """Proposals [1, 2], [3], [2, 3, 4] with scores 0.2, 0.9, 0.5 -> ordered [3], [2, 3, 4], [1, 2]."""
    sp = _SUPERPIXELS
    return np.stack([sp == 3, np.isin(sp, [2, 3, 4]), np.isin(sp, [1, 2])])


def test_load_mcg_proposals_mat(tmp_path):
    labels = np.empty((3, 1), dtype=object)  # a MATLAB (3, 1) cell array
    labels[0, 0] = np.array([[1], [2]], np.double)
    labels[1, 0] = np.array([[3]], np.double)
    labels[2, 0] = np.array([[2], [3], [4]], np.double)
    path = str(tmp_path / 'img.mat')
    scipy.io.savemat(path, dict(superpixels=_SUPERPIXELS.astype(np.uint16), labels=labels,
                                scores=np.array([[0.2], [0.9], [0.5]])))
    masks = load_mcg_proposals(path)
    assert masks.dtype == bool and masks.shape == (3, 4, 5)
    np.testing.assert_array_equal(masks, _mcg_expected())
    np.testing.assert_array_equal(load_mcg_proposals(path, max_proposals=2), _mcg_expected()[:2])

    # A 1-D object array is saved as a (1, N) row cell array.
    row = np.empty(3, dtype=object)
    row[:] = [np.array([1, 2]), np.array([3]), np.array([2, 3, 4])]
    scipy.io.savemat(path, dict(superpixels=_SUPERPIXELS, labels=row, scores=np.array([0.2, 0.9, 0.5])))
    np.testing.assert_array_equal(load_mcg_proposals(path, max_proposals=None), _mcg_expected())


def test_load_mcg_proposals_v73_hdf5(tmp_path):
    path = str(tmp_path / 'img_v73.mat')
    with h5py.File(path, 'w', userblock_size=512) as f:
        # MATLAB stores column-major: HDF5 holds the transposes; a (3, 1) cell is a (1, 3) array of references.
        f['superpixels'] = _SUPERPIXELS.T.astype(np.double)
        refs = f.create_group('#refs#')
        cells = [np.array([1, 2]), np.array([3]), np.array([2, 3, 4])]
        datasets = [refs.create_dataset(f'c{i}', data=c.reshape(1, -1).astype(np.double))
                    for i, c in enumerate(cells)]
        labels = f.create_dataset('labels', (1, 3), dtype=h5py.ref_dtype)
        for i, dataset in enumerate(datasets):
            labels[0, i] = dataset.ref
        f['scores'] = np.array([[0.2, 0.9, 0.5]])
    with open(path, 'r+b') as f:
        f.write(b'MATLAB 7.3 MAT-file'.ljust(128))
    masks = load_mcg_proposals(path)
    assert masks.dtype == bool and masks.shape == (3, 4, 5)
    np.testing.assert_array_equal(masks, _mcg_expected())
    np.testing.assert_array_equal(load_mcg_proposals(path, max_proposals=1), _mcg_expected()[:1])


def _rle(mask):
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


def test_load_rle_proposals_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    a, b, c, other = (rng.random((6, 7)) > 0.5 for _ in range(4))
    entries = [dict(file_name='x.jpg', segmentation=_rle(a), score=0.3),
               dict(file_name='y.jpg', segmentation=_rle(other), score=0.99),
               dict(file_name='x.jpg', segmentation=_rle(b)),  # no score: 1.0
               dict(file_name='x.jpg', segmentation=_rle(c), score=0.5)]
    path = str(tmp_path / 'props.json')
    with open(path, 'w') as f:
        json.dump(entries, f)
    masks = load_rle_proposals(path, 'x.jpg')
    assert masks.dtype == bool and masks.shape == (3, 6, 7)
    np.testing.assert_array_equal(masks, np.stack([b, c, a]))
    np.testing.assert_array_equal(load_rle_proposals(path, 'x.jpg', max_proposals=2), np.stack([b, c]))
    assert load_rle_proposals(path, 'z.jpg').shape == (0, 0, 0)

    # {"annotations": [...]} with image_id resolved through "images".
    coco = dict(images=[dict(id=1, file_name='x.jpg'), dict(id=2, file_name='y.jpg')],
                annotations=[dict(image_id=2, segmentation=_rle(other), score=0.1),
                             dict(image_id=1, segmentation=_rle(a), score=0.2),
                             dict(image_id=1, segmentation=_rle(c), score=0.7)])
    with open(path, 'w') as f:
        json.dump(coco, f)
    np.testing.assert_array_equal(load_rle_proposals(path, 'x.jpg'), np.stack([c, a]))
    np.testing.assert_array_equal(load_rle_proposals(path, 'y.jpg'), other[None])


# ---------------------------------------------------------------- BBAM Eq. 4


def _refine_case():
    shape = (10, 10)
    mask = _rect(shape, (1, 9), (1, 9))  # 64 px
    proposals = np.stack([
        _rect(shape, (0, 10), (0, 10)),  # 0: IoU 0.64, 64 % inside
        _rect(shape, (1, 9), (1, 8)),  # 1: IoU 56 / 64, the best
        _rect(shape, (2, 6), (8, 9)),  # 2: entirely inside the mask -> added
        _rect(shape, (0, 10), (9, 10)),  # 3: entirely outside
        _rect(shape, (0, 10), (8, 9)),  # 4: 8 of 10 px inside (0.8)
        np.zeros(shape, bool),  # 5: empty, never selected
    ])
    return mask, proposals


def test_refine_with_proposals_selection():
    mask, proposals = _refine_case()
    mask_before, proposals_before = mask.copy(), proposals.copy()
    refined = refine_with_proposals(mask, proposals)
    assert refined.dtype == bool and refined.shape == (10, 10)
    np.testing.assert_array_equal(refined, proposals[1] | proposals[2])
    # Exactly at the threshold counts as inside: proposal 4 (8 / 10) joins at inside_thr=0.8.
    np.testing.assert_array_equal(refine_with_proposals(mask, proposals, inside_thr=0.8),
                                  proposals[1] | proposals[2] | proposals[4])
    # Restricted to the box: columns 0..7 only, so proposal 2 (column 8) is cut away.
    np.testing.assert_array_equal(refine_with_proposals(mask, proposals, box=(0, 0, 8, 10)), proposals[1])
    np.testing.assert_array_equal(mask, mask_before)
    np.testing.assert_array_equal(proposals, proposals_before)


def test_refine_with_proposals_fallbacks():
    mask, proposals = _refine_case()
    for out in (refine_with_proposals(mask, proposals[:0]), refine_with_proposals(mask, np.zeros((0, 0, 0), bool)),
                refine_with_proposals(mask, proposals[3:4])):  # none, none, none overlapping
        np.testing.assert_array_equal(out, mask)
        assert out is not mask
    empty = np.zeros((10, 10), bool)
    np.testing.assert_array_equal(refine_with_proposals(empty, proposals), empty)
    with pytest.raises(ValueError):
        refine_with_proposals(mask, proposals[:, :5])


# ---------------------------------------------------------------- merging and thresholds


def test_instances_to_semantic():
    shape = (3, 5)
    masks = [_rect(shape, (0, 2), (0, 2)),  # class 1
             _rect(shape, (0, 2), (1, 3)),  # class 1 again: overlap with the first is fine
             _rect(shape, (0, 3), (2, 3)),  # class 2: conflicts with the second at column 2, rows 0-1
             np.zeros(shape, bool)]  # class 3, empty
    ignore_2 = _rect(shape, (0, 3), (3, 4)) | _rect(shape, (0, 1), (0, 1))  # (0, 0) is class-1 foreground
    ignores = [None, None, ignore_2, None]
    before = [m.copy() for m in masks], ignore_2.copy()
    expected = np.array([[1, 1, 255, 255, 0],
                         [1, 1, 255, 255, 0],
                         [0, 0, 2, 255, 0]], np.uint8)
    out = instances_to_semantic(masks, [1, 1, 2, 3], ignores, shape)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(instances_to_semantic(masks, [1, 1, 2, 3], ignores, shape, ignore_index=250),
                                  np.where(expected == 255, 250, expected))
    for mask, mask_before in zip(masks, before[0]):
        np.testing.assert_array_equal(mask, mask_before)
    np.testing.assert_array_equal(ignore_2, before[1])
    # No ignores at all; no instances.
    np.testing.assert_array_equal(instances_to_semantic(masks[:2], [4, 4], None, shape),
                                  np.where(masks[0] | masks[1], 4, 0))
    np.testing.assert_array_equal(instances_to_semantic([], [], [], shape), np.zeros(shape, np.uint8))
    with pytest.raises(ValueError):
        instances_to_semantic(masks[:1], [0], None, shape)
    with pytest.raises(ValueError):
        instances_to_semantic(masks[:1], [255], None, shape)


def test_threshold_attribution_boundaries():
    attr = np.array([[0.0, 0.19, 0.2, 0.5],
                     [0.8, 0.81, 1.0, 0.2000001]])
    before = attr.copy()
    fg, ignore = threshold_attribution(attr, 0.8, 0.2)  # the paper's
    np.testing.assert_array_equal(fg, [[False, False, False, False], [False, True, True, False]])
    np.testing.assert_array_equal(ignore, [[False, False, True, True], [True, False, False, True]])
    assert fg.dtype == bool and ignore.dtype == bool and not (fg & ignore).any()
    np.testing.assert_array_equal(attr, before)
    fg, ignore = threshold_attribution(attr, fg_thr=0.5, bg_thr=0.5)
    np.testing.assert_array_equal(ignore, attr == 0.5)
    with pytest.raises(ValueError):
        threshold_attribution(attr, fg_thr=0.2, bg_thr=0.8)
