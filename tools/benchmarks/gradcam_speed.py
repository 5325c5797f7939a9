"""Speed and agreement of WS^2's Grad-CAM (``RecognizerGradCAM``) against ``mmaction.utils.GradCAM`` (mmaction2 1.2.0).

Both compute the Grad-CAM maps of one clip for K target classes (a video with K tagged actors / actions) on the
WS^2 Stage-1 recognizers, built from their configs with random (seeded) weights:

* TSN ``Recognizer2D``, ResNet-50 at output stride 16 (``configs/ws2/tsn_r50-os16_100e_a2d-actor.py``), 8 segments
  of 224 x 224;
* I3D ``Recognizer3D``, ResNet3d-50 at spatial output stride 16 (``configs/ws2/i3d_r50-os16_100e_a2d-action.py``),
  one view of 32 frames of 224 x 224.

    python tools/benchmarks/gradcam_speed.py [--repeats 5] [--threads N] [--targets 2] [--device cpu] [--small]

Timed (median over ``--repeats`` calls after one warm-up call):

* ours: ``RecognizerGradCAM(model)(batch, targets, resize='trilinear')`` then per-clip min-max normalisation
  (mmaction's output form): one forward pass, then K gradients with respect to the captured features only;
* make_pa: :func:`wsseg_mm.apis.recognizer_frame_maps`, the path ``tools/ws2/make_pa.py`` runs on a video's frames
  (uint8 frames in, parameters frozen, maps per frame at the frame's size divided by their maximum; 2D: each frame a
  one-segment clip, all in one batch; 3D: one clip, ``temporal='interpolate'``);
* mmaction: ``GradCAM(model, 'backbone')._calculate_localization_map`` once per target class (it takes one class
  per clip, its ``gt_label``): K forward passes and K full backward passes (parameter gradients included).

Agreement: with the last features as ``A`` (the input of the GAP + linear head) mmaction's per-slice weights equal
Eq. 5's, so ours, brought to mmaction's form (trilinear to (T, H, W), min-max per clip), must match its maps; the
make_pa maps must match ours divided by each frame's maximum. Timings need free cores (see ``--threads``).
"""
import argparse
import copy
import statistics
import time
import warnings
from typing import Any, Callable, List, Sequence, Tuple

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmaction.structures import ActionDataSample  # noqa: E402
from mmaction.utils import GradCAM  # noqa: E402
from mmengine.registry import MODELS, DefaultScope  # noqa: E402

from wsseg_mm.apis import load_cfg, recognizer_frame_maps, select_device, ws2_pa_settings  # noqa: E402
from wsseg_mm.functional import normalize_maps  # noqa: E402
from wsseg_mm.models import RecognizerGradCAM  # noqa: E402

TSN_CONFIG = 'configs/ws2/tsn_r50-os16_100e_a2d-actor.py'
I3D_CONFIG = 'configs/ws2/i3d_r50-os16_100e_a2d-action.py'
# (frames, size): the configs' test-time clips (TSN: 8 segments; I3D: 32 frames) at their 224 crops; --small: a
# quick run (16 frames keep I3D's t' = t / 8 above 1)
FULL_SIZES = dict(tsn=(8, 224), i3d=(32, 224))
SMALL_SIZES = dict(tsn=(2, 64), i3d=(16, 64))


def build_recognizer(config: str, device: str, seed: int = 0) -> torch.nn.Module:
    """The config's recognizer with PyTorch's default initialisation under ``torch.manual_seed(seed)`` (no ImageNet
    / Kinetics weights), in eval mode on ``device``."""
    cfg = load_cfg(config, options={'model.backbone.pretrained': None, 'load_from': None})
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
    return model.to(device).eval()


def raw_frames(num_frames: int, size: int, seed: int = 1) -> List[np.ndarray]:
    """``num_frames`` (size, size, 3) uint8 RGB noise frames."""
    gen = np.random.default_rng(seed)
    return [gen.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(num_frames)]


def clip_batch(frames: Sequence[np.ndarray], is_3d: bool, targets: Sequence[int] = ()) -> dict:
    """A dataloader batch of one clip of raw frames: (1 view, 3, T, H, W) for 3D, (T segments, 3, H, W) for 2D;
    ``gt_label`` = ``targets`` (mmaction's GradCAM reads one class per clip from it)."""
    clip = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float()  # (T, 3, H, W)
    if is_3d:
        clip = clip.permute(1, 0, 2, 3)[None]
    sample = ActionDataSample()
    if len(targets):
        sample.set_gt_label(list(targets))
    return dict(inputs=[clip], data_samples=[sample])


def median_time(function: Callable[[], Any], repeats: int, device: str) -> Tuple[float, Any]:
    """Median wall time in seconds over ``repeats`` calls, after one warm-up call (CUDA work waited for), and the
    last call's result."""
    synchronize = torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)
    function()
    synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def benchmark(name: str, config: str, num_frames: int, size: int, num_targets: int, repeats: int,
              device: str) -> dict:
    """Median seconds of the three ways (``times``: ``ours``, ``make_pa``, ``mmaction``) on one clip of
    ``num_frames`` (segments or frames) of ``size`` x ``size`` and the max |differences| of their (K, T, H, W) maps
    (``diff_mmaction``, ``diff_make_pa``); ``peak``: the maximum of mmaction's maps (1 unless they are all zero)."""
    model = build_recognizer(config, device)
    is_3d = model.data_preprocessor.format_shape != 'NCHW'
    num_classes = model.cls_head.num_classes
    if not 1 <= num_targets <= num_classes:
        raise SystemExit(f'--targets {num_targets}: {config} has {num_classes} classes')
    targets = torch.randperm(num_classes, generator=torch.Generator().manual_seed(2))[:num_targets].tolist()
    frames = raw_frames(num_frames, size)
    batch = clip_batch(frames, is_3d)
    cam = RecognizerGradCAM(model)

    def ours() -> Tuple[torch.Tensor, torch.Tensor]:
        maps = cam(batch, targets=targets, resize='trilinear').maps[0]  # (K, T, H, W)
        return normalize_maps(maps, num_dims=3, mode='minmax'), maps

    settings = ws2_pa_settings(None, batch_size=num_frames, clip_len=num_frames, frame_interval=1,
                               temporal='interpolate')
    indices = list(range(num_frames))

    def make_pa() -> torch.Tensor:
        return recognizer_frame_maps(cam, frames, indices, targets, settings)['maps'].transpose(0, 1)  # (K, T, H, W)

    # mmaction's GradCAM leaves its hooks registered (and sets average_clips): give it its own copy
    reference_cam = GradCAM(copy.deepcopy(model), 'backbone')
    per_target = [clip_batch(frames, is_3d, [c]) for c in targets]

    def reference() -> torch.Tensor:
        return torch.cat([reference_cam._calculate_localization_map(data, use_labels=True)[0] for data in per_target])

    times, maps = {}, {}
    for key, function in (('ours', ours), ('make_pa', make_pa), ('mmaction', reference)):
        times[key], maps[key] = median_time(function, repeats, device)
    (ours_maps, raw_maps), make_pa_maps, reference_maps = maps['ours'], maps['make_pa'], maps['mmaction']
    ours_per_frame = normalize_maps(raw_maps, num_dims=2, mode='max').cpu()
    return dict(name=name, input=f'{num_frames} x {size} x {size}', targets=targets, times=times,
                peak=float(reference_maps.amax()), diff_mmaction=float((ours_maps - reference_maps).abs().max()),
                diff_make_pa=float((ours_per_frame - make_pa_maps).abs().max()))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--repeats', type=int, default=5, help='timed calls per measurement (after one warm-up)')
    parser.add_argument('--threads', type=int, default=None, help='torch.set_num_threads (default: torch)')
    parser.add_argument('--targets', type=int, default=2, help='target classes per clip (tagged actors / actions)')
    parser.add_argument('--device', default=None, help='cpu, cuda or cuda:N (default: cuda when available, else cpu)')
    parser.add_argument('--small', action='store_true',
                        help=f'quick run: TSN {SMALL_SIZES["tsn"][0]} segments, I3D {SMALL_SIZES["i3d"][0]} frames, '
                        f'{SMALL_SIZES["tsn"][1]} px (default: {FULL_SIZES["tsn"][0]} segments, '
                        f'{FULL_SIZES["i3d"][0]} frames, {FULL_SIZES["tsn"][1]} px)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.repeats < 1:
        raise SystemExit(f'--repeats must be at least 1, got {args.repeats}')
    if args.threads:
        torch.set_num_threads(args.threads)
    device = select_device(args.device)
    # mmaction's GradCAM registers a module backward hook, which torch warns about on every call
    warnings.filterwarnings('ignore', message='Using a non-full backward hook')
    sizes = SMALL_SIZES if args.small else FULL_SIZES
    print(f'torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads; one clip, '
          f'{args.targets} target classes; random weights; median of {args.repeats} after one warm-up')
    print('ours = RecognizerGradCAM (1 forward + K feature gradients), make_pa = recognizer_frame_maps (frozen '
          'parameters), mmaction = mmaction.utils.GradCAM (K forward + K full backward passes)')
    print('compared: ours vs mmaction as (K, T, H, W) maps trilinear-upsampled and min-max normalised per clip '
          '(mmaction\'s form); make_pa vs ours as maps divided by each frame\'s maximum')
    header = (f'{"model":<22} {"input":>15} {"ours ms":>9} {"make_pa ms":>11} {"mmaction ms":>12} '
              f'{"mmaction/ours":>14} {"mmaction/make_pa":>17} {"max|diff| mmaction":>19} {"max|diff| make_pa":>18}')
    print(f'\n{header}')
    for key, name, config in (('tsn', 'TSN R-50 OS16 (2D)', TSN_CONFIG), ('i3d', 'I3D R-50 OS16 (3D)', I3D_CONFIG)):
        result = benchmark(name, config, *sizes[key], args.targets, args.repeats, device)
        times = {k: v * 1e3 for k, v in result['times'].items()}
        print(f'{result["name"]:<22} {result["input"]:>15} {times["ours"]:>9.1f} {times["make_pa"]:>11.1f} '
              f'{times["mmaction"]:>12.1f} {times["mmaction"] / times["ours"]:>14.2f} '
              f'{times["mmaction"] / times["make_pa"]:>17.2f} {result["diff_mmaction"]:>19.1e} '
              f'{result["diff_make_pa"]:>18.1e}', flush=True)
        if result['peak'] != 1:
            print(f'  warning: mmaction\'s maps peak at {result["peak"]:.3g}, not 1 (all-zero maps?)')


if __name__ == '__main__':
    main()
