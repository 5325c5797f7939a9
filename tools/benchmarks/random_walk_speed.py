"""Speed and accuracy of the sparse random walk (IRNet label synthesis) against its dense definition.

Times :func:`propagate_by_random_walk` on a 94 x 125 map (a 500 x 375 VOC image at IRNet's feature stride 4)
with 21 channels, and on smaller maps where the dense O(P^3) reference still runs within about a minute;
prints the speed-up and the accuracy per size, and the dense cost extrapolated to 94 x 125.

    python tools/benchmarks/random_walk_speed.py [--repeats 7] [--threads N]

The maps look like IRNet's: a boundary map near 0 with bands near 1 between a few elliptic regions, and
Gaussian CAM blobs in [0, 1] plus a background channel. Timings need free cores: with more busy threads than
cores, every multi-threaded sparse product waits for a time slice (see ``--threads``).
"""
import argparse
import statistics
import time
from typing import Callable, Tuple

import torch
import torch.nn.functional as F

from wsseg_mm.apis.irnet import DEFAULT_LABEL_SYNTHESIS
from wsseg_mm.functional.affinity import boundary_to_affinity, propagate_by_random_walk, propagate_by_random_walk_dense

# IRNet's label-synthesis settings
RADIUS, BETA, EXP_TIMES = (DEFAULT_LABEL_SYNTHESIS[k] for k in ('radius', 'beta', 'exp_times'))
FULL_SIZE, CHANNELS = (94, 125), 21
DENSE_SIZES = [(24, 32), (47, 63)]


def make_maps(height: int, width: int, channels: int, seed: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """(C, H, W) CAM-like scores and an (H, W) boundary map, float32."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, height, dtype=torch.float64),
                            torch.linspace(0, 1, width, dtype=torch.float64), indexing='ij')
    label = torch.zeros(height, width, dtype=torch.long)
    for k in range(1, 6):
        cy, cx = torch.rand(2, generator=g).tolist()
        ry, rx = (0.1 + 0.25 * torch.rand(2, generator=g)).tolist()
        label[((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 < 1] = k
    edge = torch.zeros(height, width, dtype=torch.float64)
    edge[:, 1:] += (label[:, 1:] != label[:, :-1]).double()
    edge[1:, :] += (label[1:, :] != label[:-1, :]).double()
    # Bands 2-3 pixels wide with soft flanks, as a boundary network predicts them.
    edge = F.max_pool2d(edge.clamp(max=1)[None, None], 3, 1, 1)
    kernel = torch.tensor([0.25, 0.5, 0.25], dtype=torch.float64)
    edge = F.conv2d(F.pad(edge, (1, 1, 1, 1), mode='replicate'), (kernel[:, None] * kernel)[None, None])[0, 0]
    noise = torch.rand(2, height, width, generator=g, dtype=torch.float64)
    boundary = (edge * (0.8 + 0.2 * noise[0]) + 0.03 * noise[1]).clamp(0, 1)
    scores = torch.zeros(channels, height, width, dtype=torch.float64)
    for c in range(1, channels):
        cy, cx = torch.rand(2, generator=g).tolist()
        spread = 0.05 + 0.15 * float(torch.rand(1, generator=g))
        peak = 0.5 + 0.5 * float(torch.rand(1, generator=g))
        scores[c] = peak * torch.exp(-((yy - cy)**2 + (xx - cx)**2) / (2 * spread**2))
    scores[0] = 1 - scores[1:].amax(0)
    return scores.float(), boundary.float()


def median_time(function: Callable[[], torch.Tensor], repeats: int) -> float:
    """Median wall time in seconds over ``repeats`` calls, after one warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def stepwise_reference(scores: torch.Tensor, boundary: torch.Tensor) -> torch.Tensor:
    """The definition with 2^EXP_TIMES plain sparse products in float64: a reference at sizes too big for
    the dense one (built from the public sparse affinity matrix, independently of the Chebyshev code)."""
    channels, height, width = scores.shape
    num_pixels = height * width
    affinity = boundary_to_affinity(boundary, RADIUS).double()
    diagonal = torch.arange(num_pixels).expand(2, -1)
    indices = torch.cat([affinity.indices(), diagonal], dim=1)
    values = torch.cat([affinity.values()**BETA, torch.ones(num_pixels, dtype=torch.float64)])
    degree = torch.zeros(num_pixels, dtype=torch.float64).index_add_(0, indices[0], values)
    transition = torch.sparse_coo_tensor(indices, values / degree[indices[0]], (num_pixels, num_pixels),
                                         check_invariants=False)
    transition = transition.coalesce().to_sparse_csr()
    result = (scores.double() * (1 - boundary.double())).reshape(channels, num_pixels).T.contiguous()
    for _ in range(2**EXP_TIMES):
        result = transition @ result
    return result.T.reshape(channels, height, width)


def relative_error(result: torch.Tensor, reference: torch.Tensor) -> float:
    """max |result - reference| / max |reference|."""
    return float((result.double() - reference.double()).abs().max() / reference.double().abs().max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--repeats', type=int, default=7, help='timed calls per sparse measurement')
    parser.add_argument('--threads', type=int, default=None, help='torch.set_num_threads (default: torch)')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, MKL: {torch.backends.mkl.is_available()}; '
          f'radius {RADIUS}, beta {BETA}, t = 2^{EXP_TIMES} steps, {CHANNELS} channels')

    height, width = FULL_SIZE
    scores, boundary = make_maps(height, width, CHANNELS)
    full_pixels = height * width
    threads = torch.get_num_threads()
    if threads > 1:  # one thread is what every worker gets when label synthesis runs one worker per core
        torch.set_num_threads(1)
        one_thread = median_time(lambda: propagate_by_random_walk(scores, boundary, RADIUS, BETA, EXP_TIMES),
                                 args.repeats)
        torch.set_num_threads(threads)
    sparse_full = median_time(lambda: propagate_by_random_walk(scores, boundary, RADIUS, BETA, EXP_TIMES),
                              args.repeats)
    start = time.perf_counter()
    reference = stepwise_reference(scores, boundary)
    stepwise_time = time.perf_counter() - start
    error = relative_error(propagate_by_random_walk(scores, boundary, RADIUS, BETA, EXP_TIMES), reference)
    one_thread_note = f'; {one_thread * 1e3:.0f} ms with 1 thread' if threads > 1 else ''
    print(f'\n{height} x {width} (P = {full_pixels}): sparse {sparse_full * 1e3:.0f} ms (median of {args.repeats}, '
          f'{threads} threads{one_thread_note}); {2**EXP_TIMES} plain sparse products {stepwise_time * 1e3:.0f} ms; '
          f'max |diff| / max = {error:.1e} against the plain products')

    print(f'\n{"size":>9} {"P":>6} {"dense s":>9} {"sparse ms":>10} {"dense/sparse":>13} {"max|diff|/max":>14}')
    dense_rate = None
    for height, width in DENSE_SIZES:
        scores, boundary = make_maps(height, width, CHANNELS)
        pixels = height * width
        start = time.perf_counter()
        dense = propagate_by_random_walk_dense(scores, boundary, RADIUS, BETA, EXP_TIMES)
        dense_time = time.perf_counter() - start
        sparse = median_time(lambda: propagate_by_random_walk(scores, boundary, RADIUS, BETA, EXP_TIMES),
                             args.repeats)
        error = relative_error(propagate_by_random_walk(scores, boundary, RADIUS, BETA, EXP_TIMES), dense)
        dense_rate = EXP_TIMES * 2 * pixels**3 / dense_time  # the squarings dominate
        print(f'{height:>4} x {width:<3} {pixels:>6} {dense_time:>9.2f} {sparse * 1e3:>10.1f} '
              f'{dense_time / sparse:>13.0f} {error:>14.1e}')

    flop = EXP_TIMES * 2 * full_pixels**3
    print(f'\ndense at {FULL_SIZE[0]} x {FULL_SIZE[1]}: {EXP_TIMES} squarings x 2 P^3 = {flop / 1e12:.1f} TFLOP '
          f'(and {full_pixels**2 * 8 / 2**30:.1f} GiB per float64 matrix), ~{flop / dense_rate:.0f} s at the '
          f'{dense_rate / 1e9:.0f} GFLOP/s measured at {height} x {width}; sparse: {sparse_full * 1e3:.0f} ms')


if __name__ == '__main__':
    main()
