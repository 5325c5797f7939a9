"""WS^2's pair assignment, region patches, cut-and-paste, selection vote and action alignment, by hand."""
import numpy as np
import pytest

from wsseg_mm.functional.metrics import A2D_LABEL_TO_ACTOR
from wsseg_mm.functional.ws2 import (
    align_actions,
    assign_pairs,
    crop_box,
    cut_and_paste,
    find_background_box,
    region_boxes,
    region_passes,
    resize_patch,
    select_frames,
    square_box,
)
from wsseg_mm.metainfo import A2D_SEG_CLASSES

SP = np.array([[0, 0, 1, 1],
               [2, 2, 3, 3]])


# ---------------------------------------------------------------------------------------------------------------
# Several tagged pairs
# ---------------------------------------------------------------------------------------------------------------
def test_assign_pairs_by_actor_maps():
    actors = np.array([[[4, 4, 0, 0], [2, 2, 1, 1]],     # / 4 -> [[1, 1, 0, 0], [.5, .5, .25, .25]]
                       [[0, 0, 2, 2], [0, 0, 2, 1]]], float)  # / 2 -> [[0, 0, 1, 1], [0, 0, 1, .5]]
    actions = np.full((1, 2, 4), 3.0)  # one action: / 3 -> 1 everywhere
    # superpixel means: 0 -> (1, 0), 2 -> (.5, 0), 3 -> (.25, .75); superpixel 1 is not kept
    labels = assign_pairs(SP, [True, False, True, True], actors, actions, pairs=[(0, 0), (1, 0)], pair_labels=[5, 7])
    np.testing.assert_array_equal(labels, [[5, 5, 0, 0], [5, 5, 7, 7]])


def test_assign_pairs_by_action_maps_and_ties():
    actor = np.ones((1, 2, 4))
    actions = np.array([[[1, 1, 1, 1], [0, 0, 0, 0]],
                        [[0, 0, 0, 0], [2, 2, 2, 2]]], float)
    labels = assign_pairs(SP, np.ones(4, bool), actor, actions, pairs=[(0, 0), (0, 1)], pair_labels=[11, 12])
    np.testing.assert_array_equal(labels, [[11, 11, 11, 11], [12, 12, 12, 12]])
    # equal maps: the first pair wins; all-zero maps do not divide by zero
    labels = assign_pairs(SP, np.ones(4, bool), np.zeros((2, 2, 4)), np.zeros((1, 2, 4)), [(1, 0), (0, 0)], [3, 2])
    np.testing.assert_array_equal(labels, np.full((2, 4), 3))


def test_assign_pairs_checks_its_inputs():
    maps = np.ones((1, 2, 4))
    with pytest.raises(ValueError, match='at least one'):
        assign_pairs(SP, np.ones(4, bool), maps, maps, [], [])
    with pytest.raises(ValueError, match='> 0'):
        assign_pairs(SP, np.ones(4, bool), maps, maps, [(0, 0)], [0])
    with pytest.raises(ValueError, match='actor map 1'):
        assign_pairs(SP, np.ones(4, bool), maps, maps, [(1, 0)], [1])
    with pytest.raises(ValueError, match='action_maps'):
        assign_pairs(SP, np.ones(4, bool), maps, np.ones((1, 3, 4)), [(0, 0)], [1])


# ---------------------------------------------------------------------------------------------------------------
# Patches and cut-and-paste
# ---------------------------------------------------------------------------------------------------------------
def _mask(shape, rows, cols):
    mask = np.zeros(shape, bool)
    mask[rows, cols] = True
    return mask


def test_square_box_by_hand():
    # bounding box y [2, 4), x [1, 6): side 5, centred -> y starts at floor(0.5) = 0, x at 1
    assert square_box(_mask((8, 10), slice(2, 4), slice(1, 6))) == (1, 0, 6, 5)
    # at the right border: x would start at 7.5 -> 7, still inside
    assert square_box(_mask((8, 10), slice(0, 3), slice(8, 10))) == (7, 0, 10, 3)
    # a 1-pixel region in the corner, scaled 3x: [-1, 2) shifted to [0, 3)
    assert square_box(_mask((8, 10), 0, 0), scale=3) == (0, 0, 3, 3)
    # a side longer than the frame's width is clipped (the box is then not square)
    assert square_box(_mask((4, 3), slice(0, 4), 1)) == (0, 0, 3, 4)
    with pytest.raises(ValueError, match='non-empty'):
        square_box(np.zeros((3, 3), bool))


def test_region_boxes_one_region_per_class():
    labels = np.zeros((6, 6), np.int64)
    labels[0, 0] = 5
    labels[5, 5] = 5  # class 5 in two pieces: one region
    labels[2:4, 2:3] = 3
    labels[0, 5] = 255
    assert region_boxes(labels) == [(3, (1, 2, 3, 4)), (5, (0, 0, 6, 6))]


def test_find_background_box_single_candidate_and_determinism():
    full = np.ones((4, 4), np.int64)
    one = np.ones((4, 4), np.int64)
    one[:2, :2] = 0  # the only 2x2 window of background
    for seed in range(5):
        assert find_background_box([full, one], (2, 2), seed=seed) == (1, (0, 0, 2, 2))
    assert find_background_box([full, one], (3, 2)) is None
    assert find_background_box([one], (5, 1)) is None  # taller than the frame
    voided = one.copy()
    voided[0, 0] = 255  # void may hide a region: not background
    assert find_background_box([voided], (2, 2)) is None


def test_find_background_box_is_valid_reproducible_and_uniform_over_candidates():
    rng = np.random.default_rng(0)
    frames = [(rng.random((9, 11)) < 0.08).astype(np.int64) * 4 for _ in range(3)]
    picks = set()
    for seed in range(40):
        found = find_background_box(frames, (3, 4), seed=seed)
        assert found == find_background_box(frames, (3, 4), seed=seed)
        index, box = found
        assert box[2] - box[0] == 4 and box[3] - box[1] == 3
        assert (crop_box(frames[index], box) == 0).all()
        picks.add(found)
    assert len(picks) > 10


def test_cut_and_paste_by_hand():
    frame = np.arange(27).reshape(3, 3, 3)
    region = _mask((3, 3), slice(0, 2), 1)  # pixels (0, 1) and (1, 1)
    background = np.full((4, 5, 3), -1)
    patch = cut_and_paste(frame, region, (0, 0, 2, 2), background, (3, 2, 5, 4))
    expected = np.full((2, 2, 3), -1)
    expected[0, 1] = frame[0, 1]
    expected[1, 1] = frame[1, 1]
    np.testing.assert_array_equal(patch, expected)
    assert (background == -1).all()  # not written through
    with pytest.raises(ValueError, match='differ in size'):
        cut_and_paste(frame, region, (0, 0, 2, 2), background, (0, 0, 3, 3))


def test_resize_patch_to_ds_square():
    patch = np.full((3, 5, 3), 7, np.uint8)
    patch[:, :, 1] = 9
    resized = resize_patch(patch)
    assert resized.shape == (64, 64, 3) and resized.dtype == np.uint8
    assert (resized[..., 0] == 7).all() and (resized[..., 1] == 9).all()
    assert resize_patch(np.ones((4, 4, 1), np.float32), size=2).shape == (2, 2, 1)
    with pytest.raises(ValueError, match='non-empty'):
        resize_patch(np.zeros((0, 3, 3)))


# ---------------------------------------------------------------------------------------------------------------
# Selection vote
# ---------------------------------------------------------------------------------------------------------------
def test_vote_d_or_classifier_and_all_regions_of_a_frame():
    frames = [0, 0, 1, 2, 2]
    passes = region_passes([0.9, 0.2, 0.5, 0.1, 0.4], [False, True, False, False, True])
    np.testing.assert_array_equal(passes, [True, True, True, False, True])  # 0.5 counts as real
    # frame 2 has a failing region; frame 3 has no region (empty PA): neither is selected
    np.testing.assert_array_equal(select_frames(frames, passes, 4), [True, True, False, False])
    np.testing.assert_array_equal(select_frames([], [], 2), [False, False])
    np.testing.assert_array_equal(region_passes([0.6], [False], threshold=0.7), [False])
    with pytest.raises(ValueError, match=r'\[0, 2\)'):
        select_frames([2], [True], 2)


# ---------------------------------------------------------------------------------------------------------------
# Action alignment
# ---------------------------------------------------------------------------------------------------------------
def test_align_actions_pixel_majority_over_the_clip():
    to_actor = np.array([0, 1, 1, 2, 2])  # labels 1, 2: actor 1; labels 3, 4: actor 2
    frames = [np.array([[1, 1, 2], [3, 0, 255]]), np.array([[2, 2, 2], [4, 4, 0]])]
    # actor 1: label 1 x2, label 2 x4 -> 2; actor 2: label 3 x1, label 4 x2 -> 4
    aligned = align_actions(frames, to_actor)
    np.testing.assert_array_equal(aligned[0], [[2, 2, 2], [4, 0, 255]])
    np.testing.assert_array_equal(aligned[1], [[2, 2, 2], [4, 4, 0]])
    # a tie goes to the lower label
    np.testing.assert_array_equal(align_actions([np.array([[2, 1]])], to_actor)[0], [[1, 1]])
    with pytest.raises(ValueError, match='label_to_actor'):
        align_actions([np.array([[5]])], to_actor)


def test_align_actions_on_a2d_labels():
    walking, running = A2D_SEG_CLASSES.index('adult-walking'), A2D_SEG_CLASSES.index('adult-running')
    dog_running = A2D_SEG_CLASSES.index('dog-running')
    assert A2D_LABEL_TO_ACTOR[walking] == A2D_LABEL_TO_ACTOR[running] != A2D_LABEL_TO_ACTOR[dog_running]
    clip = [np.array([[walking, walking, running, dog_running]]), np.array([[walking, 0, running, dog_running]])]
    aligned = align_actions(clip)
    np.testing.assert_array_equal(aligned[0], [[walking, walking, walking, dog_running]])
    np.testing.assert_array_equal(aligned[1], [[walking, 0, walking, dog_running]])
