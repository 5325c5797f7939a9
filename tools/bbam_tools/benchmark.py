"""BBAM's Tables 4-6 at small scale: pseudo masks from boxes scored against ground truth.

    python tools/bbam_tools/benchmark.py CONFIG CHECKPOINT [--out-dir DIR] [--limit N] [--speed-images K]

For the same ground-truth boxes of the first N training images:

* box-fill (the box is the mask) and GrabCut in the box (OpenCV), on every box, and on the boxes BBAM explains
  only (those with positive proposals; the others left undecided as BBAM leaves them), which separates mask
  quality from the detector's recall;
* BBAM with the box head only, the classification head only, and both (Table 4), each post-processed four ways:
  plain threshold, + dense CRF, + mask proposals, + both (Tables 5-6);

scored with semantic mIoU (pseudo-label 255 counts neither way; the ``labelled`` column gives the share of pixels
that carry a label) and instance mask AP^r at IoU 0.5 / 0.7 and ABO. The attribution maps are computed once per
head setting (resumable, under ``OUT_DIR/<heads>/``); the post-processing variants reuse them.

The speed of optimising all boxes of an image together is compared, on the first K images, with optimising them
one at a time, in the same run.
"""
import argparse
import json
import os.path as osp
import time

import numpy as np
import torch
from tqdm import tqdm

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
from mmengine.config import DictAction  # noqa: E402

from wsseg_mm.apis import (  # noqa: E402
    bbam_image_labels,
    bbam_settings,
    build_bbam_dataset,
    explain_sample,
    generate_bbam_pseudo_labels,
    image_name,
    init_model,
    load_attributions,
    load_cfg,
    load_proposals,
    read_rgb,
)
from wsseg_mm.evaluation import PseudoLabelScorer, voc_ground_truth  # noqa: E402
from wsseg_mm.functional.box_masks import box_fill, box_to_mask, grabcut_in_box, instances_to_semantic  # noqa: E402
from wsseg_mm.models.bbam_explainer import BBAMExplainer  # noqa: E402

HEADS = {'both': dict(use_box_head=True, use_cls_head=True), 'box': dict(use_box_head=True, use_cls_head=False),
         'cls': dict(use_box_head=False, use_cls_head=True)}
POST = {'': dict(crf=None, proposals=False), ' + CRF': dict(crf={}, proposals=False),
        ' + proposals': dict(crf=None, proposals=True), ' + CRF + proposals': dict(crf={}, proposals=True)}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Score BBAM pseudo masks against box-fill and GrabCut')
    parser.add_argument('config', help='a detector config with a BBAMHook (its settings are used)')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', default='work_dirs/bbam_toy/benchmark')
    parser.add_argument('--limit', type=int, default=None, help='first N training images')
    parser.add_argument('--heads', nargs='+', default=list(HEADS), choices=list(HEADS))
    parser.add_argument('--speed-images', type=int, default=3, help='images timed batched vs one box at a time')
    parser.add_argument('--out', help='write the figures as JSON')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--device', default=None,
                        help='cpu, cuda or cuda:N (default: this rank\'s GPU when CUDA is available, else cpu)')
    return parser.parse_args(argv)


def speed(model, dataset, explainer_cfg: dict, count: int) -> dict:
    """Seconds per object, all boxes of an image in one batch vs one box at a time, on the same images."""
    explainer = BBAMExplainer(model, **explainer_cfg)
    seconds = dict(batched=0.0, one_by_one=0.0)
    objects = 0
    for i in range(min(count, len(dataset))):
        sample = dataset[i]
        for mode, batched in (('batched', True), ('one_by_one', False)):
            start = time.perf_counter()
            out = explain_sample(explainer, sample, batched=batched)
            seconds[mode] += time.perf_counter() - start
        objects += int((out['num_positives'] > 0).sum())
    per_object = {k: v / max(objects, 1) for k, v in seconds.items()}
    return dict(objects=objects, seconds_per_object=per_object,
                speedup=per_object['one_by_one'] / max(per_object['batched'], 1e-9))


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(0)
    cfg = load_cfg(args.config, args.cfg_options)
    settings = bbam_settings(cfg)  # the BBAMHook entry of custom_hooks, read as plain settings
    model = init_model(cfg, args.checkpoint, args.device)
    dataset = build_bbam_dataset(cfg, settings)
    classes = dataset.metainfo['classes']
    root = osp.join(dataset.data_root, 'VOC2012') if osp.isdir(osp.join(dataset.data_root, 'VOC2012')) \
        else dataset.data_root
    count = len(dataset) if args.limit is None else min(args.limit, len(dataset))
    proposal_cfg = settings['proposals'] or dict(type='skimage')

    for heads in args.heads:  # the expensive part: attribution maps, resumable
        generate_bbam_pseudo_labels(model, dataset, osp.join(args.out_dir, heads),
                                    dict(settings, explainer=dict(settings['explainer'], **HEADS[heads]), limit=count))

    scorer = PseudoLabelScorer(len(classes) + 1)
    for i in tqdm(range(count), desc='scoring', mininterval=10):
        info = dataset.get_data_info(i)
        name = image_name(info)
        image = read_rgb(info['img_path'])
        shape = image.shape[:2]
        scorer.add_image(*voc_ground_truth(root, name))
        first = load_attributions(osp.join(args.out_dir, args.heads[0], 'attributions', name + '.npz'))
        boxes, labels = first['boxes'], [int(c) + 1 for c in first['labels']]
        explained = first['num_positives'] > 0  # the same for every head setting (same detector, same jitter)
        for method, masks in (('box-fill', box_fill(boxes, labels, shape)),
                              ('GrabCut', [grabcut_in_box(image, box) for box in boxes])):
            scorer.add(method, instances_to_semantic(masks, labels, None, shape),
                       [dict(mask=m, label=c, score=1.0) for m, c in zip(masks, labels)])
            # on the boxes BBAM explains only, the rest left undecided as BBAM leaves it: mask quality alone
            kept = [dict(mask=m, label=c, score=1.0) for m, c, e in zip(masks, labels, explained) if e]
            undecided = [box_to_mask(box, shape) for box, e in zip(boxes, explained) if not e]
            scorer.add(f'{method} (explained boxes)',
                       instances_to_semantic([k['mask'] for k in kept] + [np.zeros(shape, bool)] * len(undecided),
                                             [k['label'] for k in kept] + [1] * len(undecided),
                                             [None] * len(kept) + undecided, shape), kept)
        proposals = load_proposals(proposal_cfg, image, name, osp.basename(info['img_path']))
        for heads in args.heads:
            result = load_attributions(osp.join(args.out_dir, heads, 'attributions', name + '.npz'))
            for suffix, post in POST.items():
                pseudo = bbam_image_labels(result, image, dict(settings, crf=post['crf']),
                                           proposals if post['proposals'] else None)
                scorer.add(f'BBAM ({heads}){suffix}', pseudo['semantic'], pseudo['instances'])

    results = dict(methods=scorer.results(), images=count,
                   gt_instances=int(sum(len(g['labels']) for g in scorer.gts)))
    results['speed'] = speed(model, dataset, settings['explainer'], args.speed_images)
    for heads in args.heads:
        with open(osp.join(args.out_dir, heads, 'summary.json')) as f:
            results[f'summary ({heads})'] = json.load(f)
    print(f'\n{count} images, {results["gt_instances"]} ground-truth instances')
    print(f'{"pseudo masks":<36}{"mIoU":>7}{"AP50":>7}{"AP70":>7}{"ABO":>7}{"labelled%":>10}{"#inst":>7}')
    for method, r in results['methods'].items():
        print(f'{method:<36}{r["mIoU"]:>7.1f}{r["AP50"]:>7.1f}{r["AP70"]:>7.1f}{r["ABO"]:>7.1f}'
              f'{r["labelled"]:>10.1f}{r["instances"]:>7}')
    s = results['speed']
    print(f'speed on {s["objects"]} objects: {s["seconds_per_object"]["batched"]:.2f} s per object with the boxes '
          f'of an image batched, {s["seconds_per_object"]["one_by_one"]:.2f} s one box at a time '
          f'(x{s["speedup"]:.2f})')
    for heads in args.heads:
        summary = results[f'summary ({heads})']
        print(f'{heads}: {summary["boxes_without_positives"]} of {summary["boxes"]} boxes without positives, '
              f'{summary["mean_positives"]:.1f} positives per box')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()
