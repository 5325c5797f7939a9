"""Inter-pixel affinities from a class-boundary map, and random-walk label propagation (IRNet).

IRNet (Ahn, Cho, Kwak, CVPR 2019), Sec. 4-5: a class-boundary map ``B`` in [0, 1] defines the affinity of
two pixels ``i, j`` closer than a radius as ``a_ij = 1 - max_{k in line(i, j)} B(k)`` (Eq. 7); the loss on
these affinities trains ``B`` (Eq. 8), and at inference the affinities drive a random walk that spreads
CAM scores inside object regions (Eq. 11-13).

Shape legend used in the docstrings:

* ``N`` -- batch size; ``C`` -- channels (classes, background included);
* ``H, W`` -- height and width of the boundary map; ``P = H * W`` -- number of pixels, indexed row-major
  (``i = y * W + x``) wherever a map is flattened;
* ``K`` -- number of pixel offsets (pairs per pixel); ``L`` -- number of pixels on one line segment;
  ``U`` -- number of distinct pixels on the lines of all ``K`` offsets.

Offsets are ``(dy, dx)`` pairs: the partner of pixel ``(y, x)`` under offset ``(dy, dx)`` is
``(y + dy, x + dx)``.
"""
import math
import warnings
from typing import List, Tuple

import torch
from torch import Tensor

__all__ = [
    'path_offsets', 'line_offsets', 'pairwise_affinity', 'boundary_to_affinity', 'propagate_by_random_walk',
    'propagate_by_random_walk_dense'
]


# ----------------------------------------------------------------------------------------------------------
# Pixel pairs and the lines between them
# ----------------------------------------------------------------------------------------------------------
def path_offsets(radius: int, half: bool = False) -> torch.LongTensor:
    """Offsets of the pixel pairs closer than ``radius`` (the paper's ``gamma`` in Eq. 7-8).

    Args:
        radius: pairs with ``0 < sqrt(dy^2 + dx^2) < radius`` are kept (strict, as in IRNet).
        half: keep one offset of each ``+/-`` pair only, the one with ``dy > 0`` or ``dy == 0 and dx > 0``.
            Every unordered pair of pixels is then produced exactly once, which is what the training loss
            samples (Eq. 8); the full set describes the neighbourhood of a pixel, which is what the random
            walk needs.

    Returns:
        (K, 2) int64 ``(dy, dx)`` in raster order: sorted by ``dy``, then by ``dx``. The order is part of the
        interface: channel ``k`` of :func:`pairwise_affinity` belongs to row ``k``.
        For ``radius=5``: K = 68 (34 with ``half``); for ``radius=10``: K = 304 (152).
    """
    if radius < 1:
        raise ValueError(f'radius must be >= 1, got {radius}')
    reach = radius - 1  # |dy|, |dx| < radius; the strict disc test below trims the corners
    offsets = [(dy, dx) for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1)
               if 0 < dy * dy + dx * dx < radius * radius and (not half or dy > 0 or (dy == 0 and dx > 0))]
    return torch.tensor(offsets, dtype=torch.long).reshape(-1, 2)


def line_offsets(dy: int, dx: int) -> torch.LongTensor:
    """Pixels of the digital segment from ``(0, 0)`` to ``(dy, dx)``, both end pixels included.

    The segment takes one pixel per unit step along its major axis (the one with the larger of ``|dy|``,
    ``|dx|``; either one on a diagonal): step ``s`` of ``n = max(|dy|, |dx|)`` sits at major coordinate
    ``a = s * sign`` and minor coordinate ``floor(a * minor / major + 1/2)``, i.e. the exact line rounded
    half up (towards +inf). Half-up, unlike Python's round-half-to-even, commutes with integer shifts, and
    that makes the segment symmetric: the segment from ``j`` to ``i`` is the same pixel set as the one from
    ``i`` to ``j``, so the affinity of Eq. 7 is symmetric. (It is not point-symmetric around the origin:
    ``line_offsets(-dy, -dx)`` may differ from ``-line_offsets(dy, dx)`` where the exact line crosses a
    pixel border half-way, e.g. for ``(1, 2)``.) The rounding is done in integers, so it is exact.

    Args:
        dy, dx: end offset.

    Returns:
        (L, 2) int64 ``(dy, dx)`` from ``(0, 0)`` to ``(dy, dx)`` in order, ``L = max(|dy|, |dx|) + 1``.
    """
    dy, dx = int(dy), int(dx)
    n = max(abs(dy), abs(dx))
    if n == 0:
        return torch.zeros(1, 2, dtype=torch.long)
    major_is_y = abs(dy) >= abs(dx)
    major, minor = (dy, dx) if major_is_y else (dx, dy)
    step = 1 if major > 0 else -1
    pixels = []
    for s in range(n + 1):
        a = s * step
        # floor(a * minor / major + 1/2) == floor((2 * a * minor + major) / (2 * major)); the fraction is
        # flipped to a positive denominator so that Python's // is the floor.
        num, den = 2 * a * minor + major, 2 * major
        b = num // den if den > 0 else (-num) // (-den)
        pixels.append((a, b) if major_is_y else (b, a))
    return torch.tensor(pixels, dtype=torch.long)


def _line_table(offsets: Tensor) -> Tuple[Tensor, Tensor]:
    """Union of the line pixels of all offsets, and each line as indices into that union.

    Returns:
        pixels: (U, 2) int64 distinct line-pixel offsets, ``(0, 0)`` first.
        index: (K, L_max) int64 into ``pixels``; shorter lines are padded with index 0 (the start pixel,
            which is on every line, so the padding never changes a max).
    """
    lines: List[List[Tuple[int, int]]] = [[tuple(p) for p in line_offsets(dy, dx).tolist()]
                                          for dy, dx in offsets.tolist()]
    position = {(0, 0): 0}
    for line in lines:
        for p in line:
            position.setdefault(p, len(position))
    length = max((len(line) for line in lines), default=1)
    index = torch.zeros(len(lines), length, dtype=torch.long)
    for k, line in enumerate(lines):
        index[k, :len(line)] = torch.tensor([position[p] for p in line])
    return torch.tensor(list(position), dtype=torch.long).reshape(-1, 2), index


def _shift_valid(offsets: Tensor, height: int, width: int, device: torch.device) -> Tensor:
    """(K, H, W) bool: ``(y + dy, x + dx)`` lies inside the image."""
    ys = torch.arange(height, device=device)
    xs = torch.arange(width, device=device)
    dy = offsets[:, 0].to(device)
    dx = offsets[:, 1].to(device)
    in_y = ((ys[None] + dy[:, None]) >= 0) & ((ys[None] + dy[:, None]) < height)  # (K, H)
    in_x = ((xs[None] + dx[:, None]) >= 0) & ((xs[None] + dx[:, None]) < width)  # (K, W)
    return in_y[:, :, None] & in_x[:, None, :]


def pairwise_affinity(boundary: Tensor, offsets: Tensor) -> Tuple[Tensor, Tensor]:
    """Affinity of every pixel with its partner under each offset, Eq. 7 of IRNet.

    ``affinity[n, k, y, x] = 1 - max(B[n, p] for p in (y, x) + line_offsets(*offsets[k]))``: a pair is
    disconnected as soon as its segment crosses a class boundary.

    Args:
        boundary: (N, H, W) class-boundary map ``B`` in [0, 1].
        offsets: (K, 2) int64 ``(dy, dx)``, e.g. from :func:`path_offsets`.

    Returns:
        affinity: (N, K, H, W), dtype of ``boundary``; 0 where the partner is outside the image.
        valid: (K, H, W) bool, True where the partner ``(y + dy, x + dx)`` is inside the image.

    Differentiable w.r.t. ``boundary`` (the affinity loss of Eq. 8 trains ``B`` through it); the gradient
    of each affinity reaches the arg-max pixel of its line. The max is a running max over the line positions
    without autograd. When a graph is needed, the position of the winner is tracked as well and the winning
    value is then gathered with autograd: autograd keeps one (N, K, H, W) index instead of the
    (N, K, L, H, W) stack of line values, which at IRNet's training size (radius 10: K = 152 pairs of up to
    L = 10 pixels; 128 x 128 maps, batch 16) would take 1.6 GB in float32. Without a graph the tracking is
    skipped: it costs ~5 times the max itself.
    """
    if boundary.dim() != 3:
        raise ValueError(f'boundary must be (N, H, W), got {tuple(boundary.shape)}')
    n, height, width = boundary.shape
    offsets = torch.as_tensor(offsets, dtype=torch.long).reshape(-1, 2)
    valid = _shift_valid(offsets, height, width, boundary.device)
    if offsets.shape[0] == 0:
        return boundary.new_zeros(n, 0, height, width), valid
    pixels, index = _line_table(offsets)
    pixels, index = pixels.to(boundary.device), index.to(boundary.device)
    # Every line pixel of a pair inside the image is inside the image too (it lies in the box spanned by the
    # two end pixels), so the padding value only reaches pairs that ``valid`` masks out.
    pad = int(pixels.abs().max())
    padded = torch.nn.functional.pad(boundary[:, None], (pad, pad, pad, pad))[:, 0]  # (N, H+2pad, W+2pad)
    # shifted[:, u, y, x] = B[y + pixels[u, 0], x + pixels[u, 1]]: one slice per distinct line pixel.
    shifted = torch.stack([padded[:, pad + dy:pad + dy + height, pad + dx:pad + dx + width]
                           for dy, dx in pixels.tolist()], dim=1)  # (N, U, H, W)
    track = torch.is_grad_enabled() and boundary.requires_grad
    with torch.no_grad():
        line_max = shifted.index_select(1, index[:, 0])  # (N, K, H, W)
        winner = torch.zeros(line_max.shape, dtype=torch.int16, device=boundary.device) if track else None
        for position in range(1, index.shape[1]):
            value = shifted.index_select(1, index[:, position])
            if track:
                winner.masked_fill_(value > line_max, position)
            torch.maximum(line_max, value, out=line_max)
    if track:
        # Line position of the winner -> its index into ``pixels`` -> its value, this time with autograd.
        winner = torch.gather(index.view(1, *index.shape, 1, 1).expand(n, *index.shape, height, width), 2,
                              winner.long()[:, :, None])[:, :, 0]
        line_max = torch.gather(shifted, 1, winner)
    affinity = (1 - line_max).masked_fill_(~valid, 0)
    return affinity, valid


def boundary_to_affinity(boundary: Tensor, radius: int) -> Tensor:
    """Sparse inter-pixel affinity matrix of one boundary map, Eq. 7 of IRNet.

    Args:
        boundary: (H, W) class-boundary map ``B`` in [0, 1].
        radius: pairs with ``0 < ||x_i - x_j|| < radius`` get an entry (the paper's ``gamma``; 5 at
            inference in IRNet).

    Returns:
        (P, P) coalesced ``torch.sparse_coo_tensor`` of ``boundary``'s dtype, pixels indexed row-major.
        Entry ``(i, j)`` holds ``a_ij`` for every ordered pair of image pixels within the radius, zeros
        included (the sparsity pattern depends on the geometry only), nothing on the diagonal. Symmetric,
        because the line from ``j`` to ``i`` is the line from ``i`` to ``j`` (see :func:`line_offsets`).
    """
    if boundary.dim() != 2:
        raise ValueError(f'boundary must be (H, W), got {tuple(boundary.shape)}')
    height, width = boundary.shape
    offsets = path_offsets(radius).to(boundary.device)
    affinity, valid = pairwise_affinity(boundary[None], offsets)
    k, y, x = valid.nonzero(as_tuple=True)
    rows = y * width + x
    cols = (y + offsets[k, 0]) * width + x + offsets[k, 1]
    num_pixels = height * width
    return torch.sparse_coo_tensor(torch.stack([rows, cols]), affinity[0][valid], (num_pixels, num_pixels),
                                   dtype=boundary.dtype, device=boundary.device,
                                   check_invariants=False).coalesce()


# ----------------------------------------------------------------------------------------------------------
# Random walk (label synthesis, Sec. 5 of IRNet)
# ----------------------------------------------------------------------------------------------------------
# Accuracy guaranteed by propagate_by_random_walk: max |error| <= _RANDOM_WALK_RTOL * max |exact result|.
_RANDOM_WALK_RTOL = 1e-4


def _check_random_walk_args(scores: Tensor, boundary: Tensor, beta: float, exp_times: int) -> None:
    if scores.dim() != 3 or boundary.dim() != 2 or scores.shape[1:] != boundary.shape:
        raise ValueError(f'scores must be (C, H, W) and boundary (H, W), got {tuple(scores.shape)} and '
                         f'{tuple(boundary.shape)}')
    # 0 ** 0 == 1 would connect every pixel to every other one in the dense definition.
    if beta <= 0:
        raise ValueError(f'beta must be > 0, got {beta}')
    if exp_times < 0:
        raise ValueError(f'exp_times must be >= 0, got {exp_times}')


def _transition_matrix(boundary: Tensor, radius: int, beta: float) -> Tuple[Tensor, Tensor]:
    """Transition matrix ``T = D^-1 A^beta`` of the random walk, Eq. 11-12 of IRNet, in CSR.

    Args:
        boundary: (H, W) class-boundary map; the affinities are those of :func:`boundary_to_affinity`
            (computed in this dtype), the matrix is float64.

    Returns:
        transition: (P, P) float64 CSR, ``T_ij = (a_ij)^beta / D_i`` with ``a_ii = 1``; columns sorted.
        degree: (P,) float64 ``D_i = sum_j (a_ij)^beta``, self-loop included (so ``D_i >= 1``).
    """
    height, width = boundary.shape
    num_pixels = height * width
    offsets = path_offsets(radius).to(boundary.device)
    # Offsets sorted by the index shift they cause make the columns of every row increasing (CSR order);
    # two offsets with the same shift cannot both stay inside the image from the same pixel.
    shift, order = (offsets[:, 0] * width + offsets[:, 1]).sort()
    affinity, valid = pairwise_affinity(boundary[None], offsets[order])
    # The self-loop (A = affinity + identity) is one more entry per row, a_ii = 1, at shift 0: between the
    # negative and the positive shifts. Pairs outside the image have affinity 0, hence weight 0 ** beta = 0.
    centre = int((shift < 0).sum())
    shift = torch.cat([shift[:centre], shift.new_zeros(1), shift[centre:]])
    affinity = affinity[0].reshape(len(order), num_pixels).T  # (P, K) views, the row layout of CSR
    valid = valid.reshape(len(order), num_pixels).T
    weight = affinity.new_ones(num_pixels, len(shift), dtype=torch.float64)  # (P, K + 1)
    weight[:, :centre] = affinity[:, :centre]
    weight[:, centre + 1:] = affinity[:, centre:]
    weight.pow_(beta)
    in_image = valid.new_ones(num_pixels, len(shift))
    in_image[:, :centre] = valid[:, :centre]
    in_image[:, centre + 1:] = valid[:, centre:]
    degree = weight.sum(dim=1)
    weight.div_(degree[:, None])
    columns = torch.arange(num_pixels, device=boundary.device)[:, None] + shift
    row_starts = torch.zeros(num_pixels + 1, dtype=torch.long, device=boundary.device)
    torch.cumsum(in_image.count_nonzero(dim=1), 0, out=row_starts[1:])
    kept = in_image.view(-1).nonzero().squeeze(1)
    with warnings.catch_warnings():  # "Sparse CSR tensor support is in beta state"; CSR @ dense is stable
        warnings.simplefilter('ignore', UserWarning)
        transition = torch.sparse_csr_tensor(row_starts, columns.view(-1)[kept], weight.view(-1)[kept],
                                             (num_pixels, num_pixels), check_invariants=False)
    return transition, degree


def _power_chebyshev_coefficients(power: int) -> List[float]:
    """Coefficients ``c_k`` of ``x^power = sum_{k=0..power} c_k T_k(x)`` (``T_k``: Chebyshev polynomials).

    ``x^t = 2^(1-t) sum_{k = t, t-2, ...} binom(t, (t-k)/2) T_k(x)``, the ``k = 0`` term halved. As
    ``x T_k = (T_{k+1} + T_{k-1}) / 2``, ``c_k`` is the probability that a +-1 coin-flip walk of ``t`` steps
    ends at distance ``k`` from its start: the coefficients are nonnegative, sum to 1 and concentrate on
    ``k = O(sqrt(t))``, which is why a short truncation of the series is accurate. They are computed from
    the centre outwards in floats (the outer ones underflow to 0 harmlessly; big-integer binomials would
    take seconds for large ``t``).
    """
    coefficients = [0.0] * (power + 1)
    k = power % 2
    j = (power - k) // 2  # c_k = 2^(1-t) binom(t, j) with j = (t - k) / 2
    value = math.exp(math.lgamma(power + 1) - math.lgamma(j + 1) - math.lgamma(power - j + 1) -
                     (power - 1) * math.log(2))
    coefficients[k] = value / 2 if k == 0 else value
    while k + 2 <= power:
        value *= j / (power - j + 1)  # binom(t, j - 1) = binom(t, j) * j / (t - j + 1)
        k, j = k + 2, j - 1
        coefficients[k] = value
    return coefficients


def propagate_by_random_walk(scores: Tensor, boundary: Tensor, radius: int = 5, beta: float = 10,
                             exp_times: int = 8) -> Tensor:
    """Random-walk propagation of CAM scores inside class boundaries, Eq. 11-13 of IRNet.

    Definition: ``A`` = :func:`boundary_to_affinity` ``(boundary, radius)`` + identity, ``T`` = ``A ** beta``
    (element-wise; ``beta`` sharpens the affinities, Eq. 11) normalised to unit row sums, and with
    ``v = (scores * (1 - boundary)).reshape(C, P)`` (scores are damped on boundaries, Eq. 13) the result is
    ``(T^t @ v.T).T`` reshaped to (C, H, W), ``t = 2 ** exp_times``. No normalisation of the result.
    :func:`propagate_by_random_walk_dense` computes the same thing densely.

    Args:
        scores: (C, H, W) CAM scores (background channel included).
        boundary: (H, W) class-boundary map in [0, 1]. Not differentiated through.
        radius: pairs with ``0 < ||x_i - x_j|| < radius`` are connected.
        beta: ``> 0``, exponent applied to the affinities (10 in IRNet).
        exp_times: the walk takes ``t = 2 ** exp_times`` steps (8 in IRNet, t = 256).

    Returns:
        (C, H, W), dtype of ``scores``.

    Algorithm. ``T`` is never formed densely: it is a CSR matrix with at most ``K + 1`` entries per row (69
    for radius 5). Instead of ``t`` sparse products, ``T^t v`` is evaluated as a truncated Chebyshev
    series: ``x^t = sum_k c_k T_k(x)`` exactly (see :func:`_power_chebyshev_coefficients`), the ``c_k``
    beyond degree ``m`` sum to ``tail(m)`` ~ ``2 Phi(-m / sqrt(t))``, and ``T_k(T) v`` follows from the
    three-term recurrence ``T_{k+1}(T) v = 2 T T_k(T) v - T_{k-1}(T) v``: ``m`` sparse products for
    ``m`` ~ 5-6 sqrt(t) (about 84 instead of 256 for ``t = 256``).

    Error bound (why truncating is safe). ``A`` is symmetric, so ``T = D^-1 A`` is similar to the symmetric
    ``S = D^-1/2 A D^-1/2`` with ``D`` the row sums; the spectrum is real and in [-1, 1] (``T`` is
    row-stochastic), hence ``||S^t - p_m(S)||_2 <= tail(m)`` and, per channel,
    ``max |error| <= tail(m) ||D^1/2 v||_2 / sqrt(min D)``. The result is bounded below as well: the walk
    keeps ``sum_i D_i r_i`` fixed (``1^T D T = 1^T A = 1^T D``), so ``max |r| >= |sum_i D_i v_i| / sum_i D_i``.
    The degree ``m`` is the smallest one for which the first bound is at most ``1e-4`` times the second,
    for the input at hand: the error is guaranteed below ``1e-4 * max |result|``, and ``m = t`` (the exact
    expansion) where no such bound exists (e.g. channels of zero sum). On realistic maps the actual error is
    100 to 300 times smaller than the bound.

    Measured (``tools/benchmarks/random_walk_speed.py``; 94 x 125 map, 21 channels, radius 5, 2 free CPU
    cores, torch 2.13 with MKL): median 0.15 s (0.28 s with one thread), of which ~30 ms build ``T``;
    the degree was m = 84, ~1.3 ms per sparse product (256 plain products: 0.6 s). Max |difference| / max
    of the result: 3.5e-7 against 256 plain float64 products at 94 x 125, 1e-6 and 3e-6 against the dense
    definition at 47 x 63 and 24 x 32 (where the dense one takes ~4 s and 0.08 s, ~95 and 6 times the
    sparse time; extrapolated to 94 x 125: 26 TFLOP, ~250 s). Candidates
    measured on the way, for one (P, P) x (P, 21) product: torch CSR (MKL) in float64 1.3 ms, a torch
    stencil (69 shifted slices of a (C, H, W) tensor) 4.3 ms, scipy CSR (one thread) 4.3 ms; float32 CSR
    0.8 ms, but ``a ** 10`` and its products with small scores fall into the subnormal float32 range, which
    made the same product take 6-15 ms, and the recurrence may lose up to ~m^2 eps, so everything runs in
    float64. Lanczos on ``S`` reached the same measured error with ~20% fewer products, but it needs inner
    products, a stored basis and has no a-priori bound; plain repeated products need all 256.

    Threads: the products run on torch's intra-op threads. On cores that other processes keep busy, each
    multi-threaded product waits for a time slice: with 2 threads on 2 busy cores the call took 2.7 s
    instead of 0.28 s with ``torch.set_num_threads(1)``. Give each worker one thread when several run.
    """
    _check_random_walk_args(scores, boundary, beta, exp_times)
    channels, height, width = scores.shape
    if channels == 0:
        return scores.clone()
    boundary = boundary.detach()
    transition, degree = _transition_matrix(boundary, radius, beta)
    # (P, C): channels last, the layout of a sparse x dense product.
    source = (scores.detach().double() * (1 - boundary.double())).reshape(channels, -1).T.contiguous()

    steps = 2**exp_times
    coefficients = _power_chebyshev_coefficients(steps)
    error_scale = float((source**2 * degree[:, None]).sum(dim=0).sqrt().max() / degree.min().sqrt())
    result_floor = float((degree @ source).abs().max() / degree.sum())
    tail = 0.0  # sum of the coefficients above the degree, accumulated from the top
    order = steps
    while order > 0 and (tail + coefficients[order]) * error_scale <= _RANDOM_WALK_RTOL * result_floor:
        tail += coefficients[order]
        order -= 1

    result = coefficients[0] * source
    previous, current = source, source
    for k in range(1, order + 1):
        # T_1(T) v = T v; T_k(T) v = 2 T T_{k-1}(T) v - T_{k-2}(T) v, fused into one MKL call.
        following = transition @ current if k == 1 else torch.addmm(previous, transition, current, beta=-1,
                                                                     alpha=2)
        previous, current = current, following
        if coefficients[k]:
            result.add_(current, alpha=coefficients[k])
    return result.T.reshape(channels, height, width).to(scores.dtype)


def propagate_by_random_walk_dense(scores: Tensor, boundary: Tensor, radius: int = 5, beta: float = 10,
                                   exp_times: int = 8) -> Tensor:
    """Dense reference of :func:`propagate_by_random_walk`: the definition, literally. For tests and benchmarks.

    Builds the dense (P, P) transition matrix from the pairs of :func:`boundary_to_affinity`, normalises its
    rows and squares it ``exp_times`` times in float64: O(P^3) time (2 P^3 FLOP per squaring, 26 TFLOP for
    the 94 x 125 map of a 500 x 375 image at IRNet's stride 4) and O(P^2) memory (1 GiB there).

    Args and returns as :func:`propagate_by_random_walk`.
    """
    _check_random_walk_args(scores, boundary, beta, exp_times)
    channels, height, width = scores.shape
    num_pixels = height * width
    affinity = boundary_to_affinity(boundary, radius).to_dense().double()
    transition = (affinity + torch.eye(num_pixels, dtype=torch.float64, device=affinity.device)) ** beta
    transition = transition / transition.sum(dim=1, keepdim=True)
    for _ in range(exp_times):
        transition = transition @ transition
    source = (scores.double() * (1 - boundary.double())).reshape(channels, num_pixels)
    return (transition @ source.T).T.reshape(channels, height, width).to(scores.dtype)
