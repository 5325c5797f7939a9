"""Generate the embedded toy benchmark: VOC 2012-style images with ScribbleSup scribbles, and A2D-style clips.

    python tools/make_toy_data.py --out data/toy [--seed N] [--size 128] [--num-train 400] [--num-val 100]
                                  [--num-train-videos 60] [--num-test-videos 20] [--num-frames 16]
                                  [--no-video] [--no-images] [--num-objects N] [--object-classes images|videos]
    python tools/make_toy_data.py --layout real --out DIR [--seed N]

The same arguments always give byte-identical files (see wsseg_mm/toy/). ``--layout real`` writes instead a
miniature of the real datasets in their real layouts (VOCdevkit/VOC2012 with train/val/train_aug, SBD masks,
ScribbleSup scribbles and MCG proposals; coco/; A2D/Release; YouTube-Objects), on which every config for real
data runs (tests/test_real_configs.py); the size options do not apply to it.
"""
import argparse
import time

from wsseg_mm.toy import generate_real_miniature, generate_toy_benchmark


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Generate the embedded toy benchmark')
    parser.add_argument('--out', default='data/toy', help='output root (VOCdevkit/ and A2D/ are written in it)')
    parser.add_argument('--layout', choices=['toy', 'real'], default='toy',
                        help='toy: the toy benchmark; real: a miniature of VOC 2012 + SBD, COCO, A2D and '
                             'YouTube-Objects in their real layouts, names, sizes and classes (for wiring tests of '
                             'the real configs)')
    parser.add_argument('--seed', type=int, default=0, help='non-negative base seed')
    parser.add_argument('--size', type=int, default=128, help='side of the square images and frames')
    parser.add_argument('--num-train', type=int, default=400, help='train images')
    parser.add_argument('--num-val', type=int, default=100, help='val images')
    parser.add_argument('--num-train-videos', type=int, default=60, help='train clips')
    parser.add_argument('--num-test-videos', type=int, default=20, help='test clips')
    parser.add_argument('--num-frames', type=int, default=16, help='frames per clip')
    parser.add_argument('--num-objects', type=int, default=0,
                        help='object-centred pretraining images (ToyObjects/, the toy IRNet pipeline\'s ImageNet)')
    parser.add_argument('--object-classes', choices=['images', 'videos'], default='images',
                        help="classes of the object-centred images: the six image classes (the IRNet toy's "
                             "pretraining), or the seven shapes of the videos' actors, also at their sizes (the WS^2 "
                             "toy's actor classifier's pretraining)")
    parser.add_argument('--no-video', action='store_true', help='skip the A2D-style clips')
    parser.add_argument('--no-images', action='store_true', help='skip the VOC-style images')
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error('--seed must be non-negative')
    return args


def format_summary(summary: dict, seconds: float) -> str:
    """A few human-readable lines from :func:`generate_toy_benchmark`'s summary."""
    lines = [f"toy benchmark written to {summary['out_dir']} in {seconds:.1f} s "
             f"(seed {summary['seed']}, {summary['image_size']} px)"]
    if 'num_train_images' in summary:
        lines.append(f"  images: {summary['num_train_images']} train + {summary['num_val_images']} val, "
                     f"{summary['num_objects']} objects, {summary['num_touching_images']} images with touching "
                     f'same-class instances')
        lines.append('  objects per class: ' + ', '.join(f'{k} {v}' for k, v in summary['class_counts'].items()))
    if 'num_object_images' in summary:
        lines.append(f"  object-centred pretraining images: {summary['num_object_images']}, per class: "
                     + ', '.join(f'{k} {v}' for k, v in summary['object_class_counts'].items()))
    if 'num_train_videos' in summary:
        lines.append(f"  videos: {summary['num_train_videos']} train + {summary['num_test_videos']} test, "
                     f"{summary['num_video_frames']} frames, {summary['num_annotated_frames']} annotated")
        lines.append(f"  actor-action pairs: {len(summary['pair_counts'])} distinct, "
                     + ', '.join(f'{k} {v}' for k, v in summary['pair_counts'].items()))
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    if args.layout == 'real':
        summary = generate_real_miniature(args.out, seed=args.seed)
        print(f"miniature of the real datasets written to {summary['out_dir']} in "
              f'{time.perf_counter() - start:.1f} s (seed {args.seed}): '
              + ', '.join(f'{k} {v}' for k, v in summary.items() if k not in ('out_dir', 'seed')))
        return
    summary = generate_toy_benchmark(
        args.out, seed=args.seed, image_size=args.size, num_train=args.num_train, num_val=args.num_val,
        num_train_videos=args.num_train_videos, num_test_videos=args.num_test_videos, num_frames=args.num_frames,
        images=not args.no_images, videos=not args.no_video, num_object_images=args.num_objects,
        object_classes=args.object_classes)
    print(format_summary(summary, time.perf_counter() - start))


if __name__ == '__main__':
    main()
