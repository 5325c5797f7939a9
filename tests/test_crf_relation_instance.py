"""Dense CRF, IRNet inter-pixel relation mining and displacement-field instance maps on tiny hand-made inputs."""
import numpy as np
import pytest
import torch

from wsseg_mm.functional.crf import dense_crf_labels, dense_crf_probs
from wsseg_mm.functional.instance import find_centroids, instance_map, refine_displacement
from wsseg_mm.functional.relation import mine_inter_pixel_relations

# the paper's thresholds (the defaults of wsseg_mm.apis.irnet.DEFAULT_RELATION_MINING)
PAPER = dict(fg_threshold=0.30, bg_threshold=0.05)


# ----------------------------------------------------------------------------------------------------------
# Dense CRF
# ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def two_regions():
    """16x16 image, red left half / blue right half, and its true label map (0 left, 1 right)."""
    image = np.zeros((16, 16, 3), dtype=np.uint8)
    image[:, :8] = (200, 30, 30)
    image[:, 8:] = (30, 30, 200)
    truth = np.zeros((16, 16), dtype=np.int64)
    truth[:, 8:] = 1
    return image, truth


def test_crf_labels_cleans_flipped_pixels(two_regions):
    image, truth = two_regions
    noisy = truth.copy()
    flipped = np.random.default_rng(0).choice(noisy.size, 12, replace=False)
    noisy.flat[flipped] ^= 1
    image_before, noisy_before = image.copy(), noisy.copy()

    refined = dense_crf_labels(image, noisy, n_labels=2)

    assert refined.dtype == np.int64 and refined.shape == (16, 16)
    np.testing.assert_array_equal(refined, truth)
    np.testing.assert_array_equal(image, image_before)
    np.testing.assert_array_equal(noisy, noisy_before)


def test_crf_labels_keeps_consistent_labels(two_regions):
    image, truth = two_regions
    np.testing.assert_array_equal(dense_crf_labels(image, truth, n_labels=2), truth)
    # An unused extra label changes nothing; a single label needs no CRF.
    np.testing.assert_array_equal(dense_crf_labels(image, truth, n_labels=3), truth)
    np.testing.assert_array_equal(dense_crf_labels(image, np.zeros_like(truth), n_labels=1), 0)


def test_crf_labels_accepts_non_contiguous_image(two_regions):
    image, truth = two_regions
    transposed = np.ascontiguousarray(image.transpose(1, 0, 2)).transpose(1, 0, 2)
    assert not transposed.flags.c_contiguous
    np.testing.assert_array_equal(dense_crf_labels(transposed, truth, n_labels=2), truth)


def test_crf_probs_marginals(two_regions):
    image, truth = two_regions
    probs = np.stack([truth == 0, truth == 1]).astype(np.float64) * 0.6 + 0.2  # 0.8 / 0.2 per pixel
    probs_before = probs.copy()

    marginals = dense_crf_probs(image, probs)

    assert marginals.dtype == np.float32 and marginals.shape == (2, 16, 16)
    np.testing.assert_allclose(marginals.sum(axis=0), 1, atol=1e-5)
    np.testing.assert_array_equal(marginals.argmax(axis=0), truth)
    np.testing.assert_array_equal(probs, probs_before)
    # Zero probabilities are clipped, not turned into infinite energies.
    hard = np.stack([truth == 0, truth == 1]).astype(np.float32)
    assert np.isfinite(dense_crf_probs(image, hard, iterations=2)).all()


def test_crf_errors(two_regions):
    image, truth = two_regions
    with pytest.raises(ValueError, match=r'\(8, 16\).*\(16, 16, 3\)'):
        dense_crf_labels(image, truth[:8], n_labels=2)
    with pytest.raises(ValueError, match=r'\[0, 2\)'):
        dense_crf_labels(image, truth + 1, n_labels=2)
    with pytest.raises(ValueError, match=r'\[0, 2\)'):
        dense_crf_labels(image, truth - 1, n_labels=2)
    with pytest.raises(TypeError, match='integers'):
        dense_crf_labels(image, truth.astype(np.float32), n_labels=2)
    with pytest.raises(TypeError, match='uint8'):
        dense_crf_labels(image.astype(np.float32), truth, n_labels=2)
    with pytest.raises(ValueError, match=r'\(H, W, 3\)'):
        dense_crf_labels(image[..., 0], truth, n_labels=2)
    with pytest.raises(ValueError, match='gt_prob'):
        dense_crf_labels(image, truth, n_labels=2, gt_prob=1.0)
    with pytest.raises(ValueError, match=r'\(2, 16, 8\).*\(16, 16, 3\)'):
        dense_crf_probs(image, np.full((2, 16, 8), 0.5))


# ----------------------------------------------------------------------------------------------------------
# Inter-pixel relation mining
# ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def ring_scene():
    """20x20 image: a yellow 6x6 object (CAM 1) inside a grey 12x12 ring (CAM 0.15) on a blue background
    (CAM 0). Returns the image, the (1, H, W) CAMs and boolean masks of object, ring and background."""
    image = np.zeros((20, 20, 3), dtype=np.uint8)
    image[:] = (20, 40, 200)
    image[4:16, 4:16] = (128, 128, 128)
    image[7:13, 7:13] = (230, 200, 30)
    cams = np.zeros((1, 20, 20))
    cams[0, 4:16, 4:16] = 0.15
    cams[0, 7:13, 7:13] = 1.0
    obj = np.zeros((20, 20), dtype=bool)
    obj[7:13, 7:13] = True
    square = np.zeros((20, 20), dtype=bool)
    square[4:16, 4:16] = True
    return image, cams, obj, square & ~obj, ~square


def test_relations_object_ring_background(ring_scene):
    image, cams, obj, ring, background = ring_scene
    cams_before = cams.copy()

    relation = mine_inter_pixel_relations(image, cams, np.array([3]), **PAPER)

    assert relation.dtype == np.uint8 and relation.shape == (20, 20)
    assert (relation[obj] == 3).all()
    assert (relation[ring] == 255).all()
    assert (relation[background] == 0).all()
    np.testing.assert_array_equal(cams, cams_before)


def test_relations_thresholds_honoured(ring_scene):
    image, cams, obj, ring, background = ring_scene
    # Foreground threshold below the ring's CAM: the ring becomes confident object.
    low_fg = mine_inter_pixel_relations(image, cams, np.array([3]), fg_threshold=0.1,
                                        bg_threshold=PAPER['bg_threshold'])
    assert (low_fg[obj | ring] == 3).all() and (low_fg[background] == 0).all()
    # Background threshold above the ring's CAM: the ring becomes confident background.
    high_bg = mine_inter_pixel_relations(image, cams, np.array([3]), fg_threshold=PAPER['fg_threshold'],
                                         bg_threshold=0.2)
    assert (high_bg[obj] == 3).all() and (high_bg[ring | background] == 0).all()
    # CRF parameters are forwarded: a zero-iteration CRF is the plain thresholded argmax.
    raw = mine_inter_pixel_relations(image, cams, np.array([3]), crf_cfg=dict(iterations=0), **PAPER)
    assert (raw[obj] == 3).all() and (raw[ring] == 255).all() and (raw[background] == 0).all()


def test_relations_two_classes(ring_scene):
    image, cams, obj, ring, background = ring_scene
    # A second class whose CAM is strongest on the left background columns (its own colour there).
    image = image.copy()
    image[:, :3] = (40, 200, 40)
    second = np.zeros((1, 20, 20))
    second[0, :, :3] = 0.9
    relation = mine_inter_pixel_relations(image, np.concatenate([cams, second]), np.array([3, 7]), **PAPER)
    assert (relation[obj] == 3).all() and (relation[ring] == 255).all()
    assert (relation[:, :3] == 7).all()
    assert (relation[background & (np.arange(20) >= 3)] == 0).all()


def test_relations_no_class(ring_scene):
    image = ring_scene[0]
    relation = mine_inter_pixel_relations(image, np.zeros((0, 20, 20)), np.zeros((0,), dtype=np.int64), **PAPER)
    assert relation.dtype == np.uint8
    np.testing.assert_array_equal(relation, np.zeros((20, 20), dtype=np.uint8))


def test_relations_errors(ring_scene):
    image, cams = ring_scene[:2]
    with pytest.raises(ValueError, match=r'\(1, 10, 20\).*\(20, 20, 3\)'):
        mine_inter_pixel_relations(image, cams[:, :10], np.array([3]), **PAPER)
    with pytest.raises(ValueError, match='labels'):
        mine_inter_pixel_relations(image, cams, np.array([3, 4]), **PAPER)
    with pytest.raises(ValueError, match='labels'):
        mine_inter_pixel_relations(image, cams, np.array([0]), **PAPER)
    with pytest.raises(ValueError, match='bg_threshold'):
        mine_inter_pixel_relations(image, cams, np.array([3]), fg_threshold=0.1, bg_threshold=0.2)


# ----------------------------------------------------------------------------------------------------------
# Displacement field -> instances
# ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def two_instances():
    """31x30 field: left region (columns 0..14) points at its centre c_1 = (15, 7), right region (columns
    15..29) at c_2 = (15, 22); D(x) = c_k - x exactly. The centres are the regions' centres of mass, so the
    field already has zero mean. Returns the field, the region map (1 left, 2 right) and the centres."""
    rows, cols = np.indices((31, 30))
    regions = np.where(cols < 15, 1, 2)
    centre_rows = np.full((31, 30), 15)
    centre_cols = np.where(cols < 15, 7, 22)
    field = np.stack([centre_rows - rows, centre_cols - cols]).astype(np.float64)
    return field, regions, ((15, 7), (15, 22))


def test_refine_converges_to_centroid_field(two_instances):
    field, _, _ = two_instances
    field_before = field.copy()
    refined = refine_displacement(field, iterations=100)
    assert refined.shape == (2, 31, 30) and refined.dtype == np.float64
    # Every pixel lands on its centre at step 0, where D = 0, so the field is already a fixed point.
    np.testing.assert_array_equal(refined, field)
    np.testing.assert_array_equal(field, field_before)


def test_find_centroids_two_components(two_instances):
    field, _, (c1, c2) = two_instances
    centroids = find_centroids(field)
    assert centroids.dtype == np.int64
    assert centroids.max() == 2
    assert {centroids[c1], centroids[c2]} == {1, 2}
    # Component k is the disc |x - c_k| < 2.5 around its centre.
    rows, cols = np.indices(field.shape[1:])
    for centre in (c1, c2):
        disc = np.hypot(rows - centre[0], cols - centre[1]) < 2.5
        np.testing.assert_array_equal(centroids == centroids[centre], disc)


def test_instance_map_reproduces_regions(two_instances):
    field, regions, (c1, c2) = two_instances
    instances = instance_map(field)
    assert instances.dtype == np.int64 and instances.shape == regions.shape
    centroids = find_centroids(field)
    expected = np.where(regions == 1, centroids[c1], centroids[c2])
    np.testing.assert_array_equal(instances, expected)


def test_mean_subtraction(two_instances):
    field, _, _ = two_instances
    shifted = field + np.array([3.3, -1.7])[:, None, None]
    np.testing.assert_allclose(refine_displacement(shifted), refine_displacement(field), atol=1e-9)
    np.testing.assert_array_equal(find_centroids(shifted), find_centroids(field))
    np.testing.assert_array_equal(instance_map(shifted), instance_map(field))
    np.testing.assert_allclose(refine_displacement(shifted, iterations=0), field, atol=1e-9)


def test_torch_input(two_instances):
    field, _, _ = two_instances
    tensor = torch.from_numpy(field).float().requires_grad_()
    np.testing.assert_array_equal(instance_map(tensor), instance_map(field))
    assert isinstance(refine_displacement(tensor), np.ndarray)


def test_zero_field_is_one_instance():
    np.testing.assert_array_equal(find_centroids(np.zeros((2, 6, 7))), np.ones((6, 7)))
    np.testing.assert_array_equal(instance_map(np.zeros((2, 6, 7))), np.ones((6, 7)))


def test_refine_chain_by_hand():
    # 1x4 row, dx = [1, 1, 0, -2] (zero mean): pixel 0 -> 1 -> 2, pixel 3 -> 1 -> 2, pixel 2 is the centre.
    field = np.zeros((2, 1, 4))
    field[1, 0] = [1, 1, 0, -2]
    np.testing.assert_array_equal(refine_displacement(field, iterations=1)[1, 0], [2, 1, 0, -1])
    np.testing.assert_array_equal(refine_displacement(field, iterations=5)[1, 0], [2, 1, 0, -1])
    np.testing.assert_array_equal(refine_displacement(field, iterations=5)[0], 0)
    # Only pixel 2 is a centroid at threshold 0.5, and every pixel reaches it.
    np.testing.assert_array_equal(find_centroids(field, threshold=0.5), [[0, 0, 1, 0]])
    np.testing.assert_array_equal(instance_map(field, threshold=0.5), [[1, 1, 1, 1]])


def test_refine_lookup_is_clipped_but_accumulation_is_not():
    # Left half points 10 columns left, right half 10 right: the lookup clips at the border, where the
    # field keeps pointing outwards, so D_u = -/+10 (u + 1).
    field = np.zeros((2, 3, 4))
    field[1, :, :2] = -10
    field[1, :, 2:] = 10
    refined = refine_displacement(field, iterations=3)
    np.testing.assert_array_equal(refined[1, :, :2], -40)
    np.testing.assert_array_equal(refined[1, :, 2:], 40)
    np.testing.assert_array_equal(refined[0], 0)


def test_no_centroid_gives_zero():
    # dx = +4 left of the middle, -4 right of it: pixels oscillate around the middle, no |D| < 2.5 anywhere.
    field = np.zeros((2, 5, 12))
    field[1, :, :6] = 4
    field[1, :, 6:] = -4
    np.testing.assert_array_equal(find_centroids(field), 0)
    np.testing.assert_array_equal(instance_map(field), 0)


def test_instance_errors():
    with pytest.raises(ValueError, match=r'\(2, H, W\)'):
        instance_map(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match=r'\(2, H, W\)'):
        refine_displacement(np.zeros((4, 4)))
    with pytest.raises(ValueError, match='iterations'):
        refine_displacement(np.zeros((2, 4, 4)), iterations=-1)


def test_refine_reads_the_field_bilinearly_or_at_the_nearest_pixel():
    # 1x3 row, dx = [0.5, 0, -0.5] (zero mean). Pixel 0 lands at 0.5: bilinear reads (0.5 + 0) / 2 = 0.25,
    # nearest reads rint(0.5) = 0 (halves to even) -> 0.5 again.
    field = np.zeros((2, 1, 3))
    field[1, 0] = [0.5, 0, -0.5]
    np.testing.assert_allclose(refine_displacement(field, iterations=1)[1, 0], [0.75, 0, -0.75])
    np.testing.assert_allclose(refine_displacement(field, iterations=1, interpolation='nearest')[1, 0], [1, 0, -1])
    # pixel 0 after 2 bilinear steps: lands at 0.75, reads 0.25 * 0.5 + 0.75 * 0 = 0.125 -> 0.875
    np.testing.assert_allclose(refine_displacement(field, iterations=2)[1, 0, 0], 0.875)
    with pytest.raises(ValueError, match='interpolation'):
        refine_displacement(field, interpolation='cubic')
