"""Inter-pixel affinities and random-walk propagation (wsseg_mm.functional.affinity), IRNet Eq. 7-13."""
import pytest
import torch

from wsseg_mm.functional.affinity import (
    _power_chebyshev_coefficients,
    boundary_to_affinity,
    line_offsets,
    pairwise_affinity,
    path_offsets,
    propagate_by_random_walk,
    propagate_by_random_walk_dense,
)


@pytest.fixture(autouse=True)
def one_thread():
    """The maps here are tiny: a second thread cannot help, and on busy cores (a parallel test run) every
    multi-threaded MKL sparse product would wait for a time slice, 100 times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def as_pairs(tensor):
    return [tuple(p) for p in tensor.tolist()]


def brute_force_affinity(boundary, offsets):
    """(N, K, H, W) expected affinities and (N, K, H, W) arg-max pixels, one pixel at a time."""
    n, height, width = boundary.shape
    expected = torch.zeros(n, len(offsets), height, width, dtype=boundary.dtype)
    winner = {}
    for b in range(n):
        for k, (dy, dx) in enumerate(offsets.tolist()):
            line = line_offsets(dy, dx).tolist()
            for y in range(height):
                for x in range(width):
                    if 0 <= y + dy < height and 0 <= x + dx < width:
                        values = [float(boundary[b, y + py, x + px]) for py, px in line]
                        expected[b, k, y, x] = 1 - max(values)
                        py, px = line[values.index(max(values))]
                        winner[b, k, y, x] = (y + py, x + px)
    return expected, winner


def realistic_maps(height, width, channels, seed):
    """A boundary map like IRNet's (near 0, thin bands near 1 between regions) and CAM-like scores."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(height, dtype=torch.float64), torch.arange(width, dtype=torch.float64),
                            indexing='ij')
    label = torch.zeros(height, width, dtype=torch.long)
    for k in range(1, 4):
        cy, cx = torch.rand(2, generator=g).tolist()
        ry, rx = (0.2 + 0.3 * torch.rand(2, generator=g)).tolist()
        label[((yy / height - cy) / ry)**2 + ((xx / width - cx) / rx)**2 < 1] = k
    edge = torch.zeros(height, width, dtype=torch.float64)
    edge[:, 1:] += (label[:, 1:] != label[:, :-1]).double()
    edge[1:, :] += (label[1:, :] != label[:-1, :]).double()
    boundary = (0.9 * edge.clamp(max=1) + 0.05 * torch.rand(height, width, generator=g, dtype=torch.float64))
    scores = torch.zeros(channels, height, width, dtype=torch.float64)
    for c in range(1, channels):
        cy, cx = torch.rand(2, generator=g).tolist()
        scores[c] = torch.rand(1, generator=g) * torch.exp(-((yy / height - cy)**2 + (xx / width - cx)**2) / 0.02)
    if channels:
        scores[0] = 1 - scores[1:].amax(0) if channels > 1 else 1
    return scores.float(), boundary.float()


# ----------------------------------------------------------------------------------------------------------
# path_offsets
# ----------------------------------------------------------------------------------------------------------
def test_path_offsets_counts():
    # radius 5, dy^2 + dx^2 < 25: for |dy| = 0, 1, 2, 3, 4 the largest |dx| is 4, 4, 4, 3, 2, i.e. rows of
    # 9, 9, 9, 7, 5 offsets: 9 + 2 * (9 + 9 + 7 + 5) = 69 points, 68 without (0, 0).
    assert len(path_offsets(5)) == 68
    assert len(path_offsets(5, half=True)) == 34
    # radius 10, dy^2 + dx^2 < 100: for |dy| = 0..9 the largest |dx| is 9, 9, 9, 9, 9, 8, 7, 7, 5, 4, i.e.
    # rows of 19, 19, 19, 19, 19, 17, 15, 15, 11, 9: 19 + 2 * 143 = 305 points, 304 without (0, 0).
    assert len(path_offsets(10)) == 304
    assert len(path_offsets(10, half=True)) == 152
    assert len(path_offsets(1)) == 0
    offsets = path_offsets(5)
    assert offsets.dtype == torch.long and offsets.shape == (68, 2)
    assert ((offsets**2).sum(1) < 25).all() and ((offsets**2).sum(1) > 0).all()


def test_path_offsets_order():
    # Raster order: by dy, then dx. radius 2 keeps the 8-neighbourhood (sqrt(2) < 2).
    assert as_pairs(path_offsets(2)) == [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
    assert as_pairs(path_offsets(2, half=True)) == [(0, 1), (1, -1), (1, 0), (1, 1)]
    for radius in (3, 5, 10):
        for half in (False, True):
            pairs = as_pairs(path_offsets(radius, half=half))
            assert pairs == sorted(pairs)


@pytest.mark.parametrize('radius', [2, 5, 10])
def test_half_offsets_and_their_negation_are_the_full_set(radius):
    half = set(as_pairs(path_offsets(radius, half=True)))
    negated = {(-dy, -dx) for dy, dx in half}
    assert not half & negated
    assert half | negated == set(as_pairs(path_offsets(radius)))
    assert all(dy > 0 or (dy == 0 and dx > 0) for dy, dx in half)


# ----------------------------------------------------------------------------------------------------------
# line_offsets
# ----------------------------------------------------------------------------------------------------------
def test_line_offsets_hand_worked():
    assert as_pairs(line_offsets(0, 3)) == [(0, 0), (0, 1), (0, 2), (0, 3)]
    assert as_pairs(line_offsets(0, -2)) == [(0, 0), (0, -1), (0, -2)]
    assert as_pairs(line_offsets(-3, 0)) == [(0, 0), (-1, 0), (-2, 0), (-3, 0)]
    assert as_pairs(line_offsets(2, -2)) == [(0, 0), (1, -1), (2, -2)]
    # (1, 3): dx is the major axis; dy = floor(dx / 3 + 1/2) = 0, 0, 1, 1 for dx = 0..3.
    assert as_pairs(line_offsets(1, 3)) == [(0, 0), (0, 1), (1, 2), (1, 3)]
    # (1, 2) crosses a pixel border half-way: dy = floor(1 / 2 + 1/2) = 1 at dx = 1 (half rounds up) ...
    assert as_pairs(line_offsets(1, 2)) == [(0, 0), (1, 1), (1, 2)]
    # ... so the reverse segment also goes through (1, 1) seen from (0, 0): (1, 2) + (0, -1).
    assert as_pairs(line_offsets(-1, -2)) == [(0, 0), (0, -1), (-1, -2)]
    assert as_pairs(line_offsets(0, 0)) == [(0, 0)]


def test_line_offsets_length_and_symmetry():
    for dy, dx in as_pairs(path_offsets(10)):
        line = as_pairs(line_offsets(dy, dx))
        assert len(line) == max(abs(dy), abs(dx)) + 1
        assert line[0] == (0, 0) and line[-1] == (dy, dx)
        # Consecutive pixels are 8-neighbours: no gaps.
        assert all(max(abs(a - c), abs(b - d)) == 1 for (a, b), (c, d) in zip(line, line[1:]))
        # The line from j = i + (dy, dx) back to i covers the same pixels as the line from i to j.
        back = {(dy + py, dx + px) for py, px in as_pairs(line_offsets(-dy, -dx))}
        assert back == set(line)


# ----------------------------------------------------------------------------------------------------------
# pairwise_affinity
# ----------------------------------------------------------------------------------------------------------
def hand_boundary():
    boundary = torch.zeros(1, 5, 5, dtype=torch.float64)
    boundary[0, :, 2] = 0.5  # a weak vertical wall ...
    boundary[0, 2, 2] = 1.0  # ... with a strong pixel in its middle
    boundary[0, 0, 0] = 0.25
    return boundary


def test_pairwise_affinity_hand_made():
    offsets = torch.tensor([[0, 1], [0, 2], [1, 3], [2, 0]])
    affinity, valid = pairwise_affinity(hand_boundary(), offsets)
    assert affinity.shape == (1, 4, 5, 5) and valid.shape == (4, 5, 5) and valid.dtype == torch.bool
    a = affinity[0]
    assert a[0, 0, 0] == 0.75  # (0,0)-(0,1): max(0.25, 0)
    assert a[0, 0, 3] == 1.0  # (0,3)-(0,4): no boundary
    assert a[0, 0, 1] == 0.5  # (0,1)-(0,2): the weak wall
    assert a[1, 1, 1] == 0.5  # (1,1)-(1,3) over (1,2) = 0.5
    assert a[1, 2, 1] == 0.0  # (2,1)-(2,3) over (2,2) = 1
    assert a[1, 0, 3] == 0.0 and not valid[1, 0, 3]  # partner (0,5) is outside
    assert a[2, 0, 0] == 0.5  # (0,0)-(1,3) over (0,1), (1,2): max(0.25, 0, 0.5, 0)
    assert a[2, 1, 0] == 0.0  # (1,0)-(2,3) over (1,1), (2,2): the strong pixel
    assert a[2, 1, 1] == 0.5  # (1,1)-(2,4) over (1,2), (2,3)
    assert a[3, 0, 2] == 0.0  # (0,2)-(2,2): vertical along the wall
    assert a[3, 2, 0] == 1.0 and not valid[3, 3, 0]  # (2,0)-(4,0); (3,0)-(5,0) is outside
    # Valid pairs: (H - |dy|) * (W - |dx|) per offset.
    assert valid.sum(dim=(1, 2)).tolist() == [5 * 4, 5 * 3, 4 * 2, 3 * 5]


def test_pairwise_affinity_matches_brute_force():
    boundary = torch.rand(2, 6, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    offsets = path_offsets(4)
    affinity, valid = pairwise_affinity(boundary, offsets)
    expected, _ = brute_force_affinity(boundary, offsets)
    assert torch.equal(affinity, expected)
    assert torch.equal(valid, expected[0] > 0)  # random boundary < 1: every valid pair has affinity > 0


def test_pairwise_affinity_gradient_reaches_line_maxima():
    boundary = torch.rand(2, 5, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    offsets = path_offsets(3, half=True)
    leaf = boundary.clone().requires_grad_(True)
    affinity, valid = pairwise_affinity(leaf, offsets)
    weights = torch.rand(affinity.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    (affinity * weights).sum().backward()
    expected_value, winner = brute_force_affinity(boundary, offsets)
    expected_grad = torch.zeros_like(boundary)
    for (b, k, y, x), (wy, wx) in winner.items():
        expected_grad[b, wy, wx] -= weights[b, k, y, x]
    assert torch.allclose(leaf.grad, expected_grad)
    assert torch.equal(affinity.detach(), expected_value)
    with torch.no_grad():  # the path without a graph gives the same values
        assert torch.equal(pairwise_affinity(leaf, offsets)[0], expected_value)


# ----------------------------------------------------------------------------------------------------------
# boundary_to_affinity
# ----------------------------------------------------------------------------------------------------------
def test_boundary_to_affinity_hand_made():
    boundary = torch.tensor([[0.0, 0.0, 0.5, 0.0],
                             [0.0, 1.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.25]], dtype=torch.float64)
    # radius 2: the 8-neighbourhood. Pixels are numbered y * 4 + x.
    matrix = boundary_to_affinity(boundary, radius=2)
    assert matrix.layout == torch.sparse_coo and matrix.is_coalesced()
    assert matrix.shape == (12, 12) and matrix.dtype == torch.float64
    # Ordered pairs inside the image, (H - |dy|) * (W - |dx|) per offset: (0, +-1): 2 * 3 * 3,
    # (+-1, 0): 2 * 2 * 4, (+-1, +-1): 4 * 2 * 3, i.e. 18 + 16 + 24 = 58.
    assert matrix._nnz() == 58
    dense = matrix.to_dense()
    assert dense[0, 1] == 1.0  # (0,0)-(0,1)
    assert dense[1, 2] == 0.5  # (0,1)-(0,2)
    assert dense[0, 5] == 0.0  # (0,0)-(1,1), the strong pixel
    assert dense[2, 7] == 0.5  # (0,2)-(1,3)
    assert dense[11, 7] == 0.75  # (2,3)-(1,3)
    assert dense[10, 11] == 0.75  # (2,2)-(2,3)
    assert dense[8, 9] == 1.0  # (2,0)-(2,1)
    assert dense[4, 9] == 1.0  # (1,0)-(2,1)
    assert dense[0, 2] == 0.0 and dense[3, 4] == 0.0  # too far; (0,3)-(1,0) is not a neighbour
    indices = set(map(tuple, matrix.indices().T.tolist()))
    assert (0, 2) not in indices and (3, 4) not in indices
    assert (0, 5) in indices  # a zero affinity is still stored
    assert torch.equal(dense, dense.T)
    assert all(i != j for i, j in indices)


@pytest.mark.parametrize('height, width', [(7, 9), (2, 9), (9, 1)])
def test_boundary_to_affinity_matches_brute_force(height, width):
    boundary = torch.rand(height, width, generator=torch.Generator().manual_seed(3))
    radius = 4
    matrix = boundary_to_affinity(boundary, radius)
    assert matrix.dtype == torch.float32
    offsets = path_offsets(radius)
    expected, _ = brute_force_affinity(boundary[None], offsets)
    dense = matrix.to_dense()
    pairs = 0
    for k, (dy, dx) in enumerate(offsets.tolist()):
        for y in range(max(0, -dy), min(height, height - dy)):
            for x in range(max(0, -dx), min(width, width - dx)):
                assert dense[y * width + x, (y + dy) * width + x + dx] == expected[0, k, y, x]
                pairs += 1
    assert matrix._nnz() == pairs
    assert torch.equal(dense, dense.T) and not dense.diagonal().any()
    assert boundary_to_affinity(boundary, radius=1)._nnz() == 0


# ----------------------------------------------------------------------------------------------------------
# propagate_by_random_walk
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('power', [1, 2, 5, 16, 256])
def test_chebyshev_expansion_of_the_power(power):
    coefficients = torch.tensor(_power_chebyshev_coefficients(power), dtype=torch.float64)
    assert coefficients.min() >= 0 and abs(float(coefficients.sum()) - 1) < 1e-12
    x = torch.linspace(-1, 1, 101, dtype=torch.float64)
    chebyshev = torch.cos(torch.arange(power + 1, dtype=torch.float64)[:, None] * torch.arccos(x))  # T_k(x)
    assert torch.allclose(coefficients @ chebyshev, x**power, rtol=0, atol=1e-12)


def relative_error(result, reference):
    return float((result.double() - reference.double()).abs().max() / reference.double().abs().max())


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('radius, beta, exp_times', [(5, 10, 8), (3, 4, 5), (2, 10, 10), (4, 2.5, 3),
                                                     (5, 10, 0), (5, 10, 1)])
def test_random_walk_matches_dense_definition(seed, radius, beta, exp_times):
    scores, boundary = realistic_maps(12, 15, 3, seed)
    result = propagate_by_random_walk(scores, boundary, radius, beta, exp_times)
    reference = propagate_by_random_walk_dense(scores, boundary, radius, beta, exp_times)
    assert result.shape == (3, 12, 15)
    # The degree of the series is chosen for a guaranteed 1e-4 (the requirement is 1e-3); the rest is float32
    # rounding of the outputs.
    assert relative_error(result, reference) < 1e-4


def test_random_walk_matches_dense_definition_on_hard_inputs():
    g = torch.Generator().manual_seed(4)
    # One bright pixel per channel: a small result max, the hardest case for a relative bound.
    single_pixels = torch.zeros(2, 12, 15, dtype=torch.float64)
    single_pixels[0, 0, 0] = single_pixels[1, 6, 7] = 1
    cases = [
        # Uniform noise: many medium affinities, no clean regions.
        (torch.rand(3, 12, 15, generator=g, dtype=torch.float64), torch.rand(12, 15, generator=g, dtype=torch.float64)),
        (single_pixels, torch.zeros(12, 15, dtype=torch.float64)),
        # Signed scores: the lower bound on the result (from the conserved mass) is weak, the degree high.
        (torch.randn(2, 12, 15, generator=g, dtype=torch.float64),
         0.3 * torch.rand(12, 15, generator=g, dtype=torch.float64)),
    ]
    for scores, boundary in cases:
        result = propagate_by_random_walk(scores, boundary)
        reference = propagate_by_random_walk_dense(scores, boundary)
        assert relative_error(result, reference) < 1e-4


@pytest.mark.parametrize('height, width, radius', [(1, 1, 5), (1, 7, 5), (7, 2, 5), (12, 3, 4), (6, 5, 1)])
def test_random_walk_on_thin_maps(height, width, radius):
    # Maps narrower than the radius: offsets that differ by a whole row cause the same index shift.
    scores, boundary = realistic_maps(height, width, 2, 6)
    result = propagate_by_random_walk(scores, boundary, radius)
    reference = propagate_by_random_walk_dense(scores, boundary, radius)
    assert relative_error(result, reference) < 1e-4


def test_random_walk_is_row_stochastic():
    # T^t 1 = 1: with scores = 1 and no boundary, v = scores * (1 - B) = 1 is a fixed point.
    result = propagate_by_random_walk(torch.ones(2, 10, 13, dtype=torch.float64), torch.zeros(10, 13,
                                                                                            dtype=torch.float64))
    assert torch.allclose(result, torch.ones(2, 10, 13, dtype=torch.float64), rtol=0, atol=1e-4)


def test_random_walk_dtype_shapes_and_inputs():
    scores, boundary = realistic_maps(9, 11, 3, 5)
    scores_before, boundary_before = scores.clone(), boundary.clone()
    result = propagate_by_random_walk(scores, boundary)
    assert torch.equal(scores, scores_before) and torch.equal(boundary, boundary_before)
    assert result.dtype == torch.float32 and result.shape == scores.shape
    assert propagate_by_random_walk(scores.double(), boundary.double()).dtype == torch.float64
    assert propagate_by_random_walk(scores[:0], boundary).shape == (0, 9, 11)
    single = propagate_by_random_walk(scores[1:2], boundary)
    assert single.shape == (1, 9, 11)
    assert relative_error(single, propagate_by_random_walk_dense(scores[1:2], boundary)) < 1e-4
    # Channels are propagated independently (each result within 1e-4 of the largest value of its call).
    assert (single[0] - result[1]).abs().max() <= 3e-4 * result.abs().max()
    assert not propagate_by_random_walk(torch.zeros(2, 9, 11), boundary).any()


def test_random_walk_rejects_bad_arguments():
    scores, boundary = realistic_maps(6, 7, 2, 0)
    with pytest.raises(ValueError):
        propagate_by_random_walk(scores, boundary[:5])
    with pytest.raises(ValueError):
        propagate_by_random_walk(scores, boundary, beta=0)
    with pytest.raises(ValueError):
        propagate_by_random_walk(scores, boundary, exp_times=-1)


def test_random_walk_spreads_inside_regions_only():
    # Two halves separated by a full-height boundary column: score put in the left half stays there.
    boundary = torch.zeros(8, 16, dtype=torch.float64)
    boundary[:, 8] = 1.0
    scores = torch.zeros(1, 8, 16, dtype=torch.float64)
    scores[0, 3, 2] = 1.0
    result = propagate_by_random_walk(scores, boundary)[0]
    assert result[:, 9:].max() < 1e-12 and result[:, 8].max() < 1e-12
    # After 256 steps the walk has mixed: the left half is (almost) uniform.
    assert result[:, :8].min() > 0.9 * result[:, :8].max() > 0
