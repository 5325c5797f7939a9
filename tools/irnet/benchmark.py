"""IRNet's Tables 1 and 2 at small scale: pseudo-label quality of each stage against ground truth.

    python tools/irnet/benchmark.py IRNET_CONFIG IRNET_CHECKPOINT --cam-dir DIR [--split test] [--out FILE.json]

Semantic mIoU (Table 1): CAM / CAM + class-boundary random walk / full IRNet (the semantic map of the instance
synthesis), at the config's ``label_synthesis`` thresholds (the paper's: CAM 0.15, random walk 0.25) and each at its
best background threshold of ``--scan``. Instance AP^r at IoU 0.5 and 0.7 and ABO (Table 2): CAM (threshold + connected
components) / CAM + class boundary (random walk, then connected components) / CAM + displacement field + class
boundary (full IRNet), over all images and over the images where two same-class instances touch (the instances
only the displacement field can separate). Ground truth: SegmentationClass / SegmentationObject under the
dataset's data_root (VOC's 255 band ignored).
"""
import argparse
import json

import numpy as np
from tqdm import tqdm

import wsseg_mm  # noqa: F401

# isort: split
from mmengine.config import DictAction  # noqa: E402

from wsseg_mm.apis import (  # noqa: E402
    build_split_dataset,
    image_name,
    init_model,
    irnet_pseudo_labels,
    label_synthesis_settings,
    load_cams,
    load_cfg,
)
from wsseg_mm.evaluation import PseudoLabelScorer, touching_same_class, voc_ground_truth  # noqa: E402
from wsseg_mm.functional.cam import cams_to_semantic  # noqa: E402
from wsseg_mm.functional.label_synthesis import (  # noqa: E402
    instances_from_semantic,
    semantic_from_instance_scores,
    semantic_from_scores,
)
from wsseg_mm.functional.metrics import confusion_matrix, miou  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Score IRNet pseudo labels stage by stage')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--cam-dir', required=True)
    parser.add_argument('--split', default='label', help='whose dataloader lists the images ({split}_dataloader)')
    parser.add_argument('--cam-bg', type=float, help='background score of plain CAMs (default: the config\'s '
                        'label_synthesis.cam_bg, else 0.15)')
    parser.add_argument('--bg', type=float, help='background score after the random walk, semantic and instance '
                        '(default: the config\'s label_synthesis sem_bg / ins_bg, else 0.25)')
    parser.add_argument('--exp-times', type=int, help='the walk takes 2^exp_times steps (default: the config\'s, '
                        'else 8)')
    parser.add_argument('--scan', type=float, nargs='*',
                        default=[0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
                        help='background thresholds also tried for the semantic mIoU (each method at its best)')
    parser.add_argument('--max-images', type=int, default=None)
    parser.add_argument('--out', help='write the figures as JSON')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--device', default=None,
                        help='cpu, cuda or cuda:N (default: this rank\'s GPU when CUDA is available, else cpu)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_cfg(args.config, args.cfg_options)
    settings = label_synthesis_settings(cfg, cam_bg=args.cam_bg, sem_bg=args.bg, ins_bg=args.bg,
                                        exp_times=args.exp_times)
    model = init_model(cfg, args.checkpoint, args.device)
    dataset = build_split_dataset(cfg, args.split)
    num_classes = len(dataset.metainfo['classes'])
    root = dataset.data_root
    methods = ('cam', 'cam+boundary', 'irnet')
    scorer = PseudoLabelScorer(num_classes)  # per-image statistics only: memory does not grow with the images
    scans = {m: {t: np.zeros((num_classes, num_classes), np.int64) for t in args.scan} for m in methods}
    touching = []
    walk_seconds = 0.0
    indices = range(len(dataset) if args.max_images is None else min(args.max_images, len(dataset)))
    for i in tqdm(indices, desc='benchmark', mininterval=10):
        name = image_name(dataset.get_data_info(i))
        result = irnet_pseudo_labels(model, dataset[i], load_cams(args.cam_dir, name), settings)
        labels, high_res, walked = result['labels'], result['high_res'], result['walked']
        gt_sem, gt_inst = voc_ground_truth(root, name)
        scorer.add_image(gt_sem, gt_inst)
        touching.append(touching_same_class(gt_inst))

        sem = {'cam': result['cam_semantic'], 'cam+boundary': result['semantic'], 'irnet': result['instance_semantic']}
        walk_seconds += result['walk_seconds']
        scorer.add('cam', sem['cam'], instances_from_semantic(sem['cam'], high_res.numpy(), labels))
        scorer.add('cam+boundary', sem['cam+boundary'],
                   instances_from_semantic(sem['cam+boundary'], walked.numpy(), labels))
        scorer.add('irnet', sem['irnet'], result['instances'])
        for t in args.scan:
            scans['cam'][t] += confusion_matrix(cams_to_semantic(high_res, labels, t).numpy(), gt_sem, num_classes)
            scans['cam+boundary'][t] += confusion_matrix(semantic_from_scores(walked, labels, t), gt_sem, num_classes)
            irnet_sem = semantic_from_instance_scores(result['scores'], labels, result['num_instances'], t) if labels \
                else sem['irnet']
            scans['irnet'][t] += confusion_matrix(irnet_sem, gt_sem, num_classes)

    subset = [i for i, t in enumerate(touching) if t]
    scored, scored_touching = scorer.results(), scorer.subset_results(subset)
    gts = scorer.gts
    results = {}
    for m in methods:
        results[m] = {k: scored[m][k] for k in ('mIoU', 'AP50', 'AP70', 'ABO', 'instances')}
        results[m]['touching'] = {k: scored_touching[m][k] for k in ('AP50', 'AP70', 'ABO')}
        if args.scan:
            best = max(args.scan, key=lambda t: miou(scans[m][t]))
            results[m].update(best_bg=best, best_mIoU=100 * miou(scans[m][best]))
    results['gt_instances'] = int(sum(len(g['labels']) for g in gts))
    results['images'] = len(gts)
    results['touching_images'] = len(subset)
    results['touching_gt_instances'] = int(sum(len(gts[i]['labels']) for i in subset))
    results['random_walk_seconds_per_image'] = walk_seconds / max(len(gts), 1)
    results['label_synthesis'] = settings
    print(f'\n{len(gts)} images, {results["gt_instances"]} ground-truth instances; background thresholds: CAM '
          f'{settings["cam_bg"]}, random walk {settings["sem_bg"]} (semantic) / {settings["ins_bg"]} (instances); '
          f'walk of 2^{settings["exp_times"]} steps')
    print(f'{"pseudo labels":<40}{"mIoU":>8}{"AP50":>8}{"AP70":>8}{"ABO":>8}{"#inst":>8}')
    names = {'cam': 'CAM', 'cam+boundary': 'CAM + class boundary (random walk)',
             'irnet': 'CAM + displacement + boundary (IRNet)'}
    for m in methods:
        r = results[m]
        best = f'   (best bg {r["best_bg"]}: mIoU {r["best_mIoU"]:.1f})' if 'best_bg' in r else ''
        print(f'{names[m]:<40}{r["mIoU"]:>8.1f}{r["AP50"]:>8.1f}{r["AP70"]:>8.1f}{r["ABO"]:>8.1f}{r["instances"]:>8}{best}')
    print(f'\nthe {len(subset)} images with touching same-class instances '
          f'({results["touching_gt_instances"]} ground-truth instances):')
    print(f'{"pseudo labels":<40}{"AP50":>8}{"AP70":>8}{"ABO":>8}')
    for m in methods:
        r = results[m]['touching']
        print(f'{names[m]:<40}{r["AP50"]:>8.1f}{r["AP70"]:>8.1f}{r["ABO"]:>8.1f}')
    print(f'random walk: {1000 * results["random_walk_seconds_per_image"]:.1f} ms per image')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()
