"""WS^2's tables on the toy benchmark, from the runs of ``tools/ws2/run_toy.sh``: the Stage-1 classifiers'
accuracies, PA.v0, then from each chain's ``ws2_state.json`` (``tools/ws2/evolve.py``):

* Table 1: the final model of each chain on the test frames (actor-action mIoU, with action alignment): Baseline
  (all PA frames, mIoU_PA) < Model-S (selected, mIoU_PA) < WS^2 (selected, RIC);
* Table 2: each PA version against the ground truth of the train frames (a.-a. / actor / action mIoU and frames):
  v0 all (init-full) and selected (init-select), then per version mIoU_PA-full (baseline chain), RIC-full (the
  ``ric-full`` chain, if run) and RIC-select (WS^2 chain, its selected frames);
* Table 3: the WS^2 chain's model.v0 .. vN on the test frames (a.-a. / actor / action mIoU);
* Table 4: the final WS^2 model's mean class accuracy and global pixel accuracy;
* extras: the selected fractions, the val RIC / mIoU_PA / RII per version, action alignment on / off;
* with ``--pa-ablation ACTOR_CFG ACTOR_CKPT ACTION_CFG ACTION_CKPT``: PA.v0 of the annotated train frames against
  the ground truth with M_init from the actor maps only, the action maps only, or their union (the paper), and Alg.
  2 with coverage (default) or the paper's literal IoU; the Grad-CAM maps are computed once per video with the
  functions ``tools/ws2/make_pa.py`` uses (``ws2_video_maps``, ``pa_frame_labels``) and the action config's
  ``ws2_pa`` settings.

    python tools/ws2/benchmark.py --work-dir work_dirs/ws2_toy [--out FILE.json]
        [--pa-ablation ACTOR_CFG ACTOR_CKPT ACTION_CFG ACTION_CKPT] [--device cpu]

Each of the issue's orderings is printed with the two numbers and whether it holds on this run (one seed: a
difference below a point is within the toy's noise).
"""
import argparse
import json
import os.path as osp
import re

import wsseg_mm  # noqa: F401  (first: compat + registration)

CHAINS = (('Baseline', 'baseline'), ('Model-S', 'model-s'), ('WS^2', 'ws2'), ('RIC-full', 'ric-full'))
LEVELS = ('actor_action', 'actor', 'action')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='WS^2 toy tables from tools/ws2/run_toy.sh')
    parser.add_argument('--work-dir', default='work_dirs/ws2_toy')
    parser.add_argument('--out', default=None, help='write the tables as JSON')
    parser.add_argument('--pa-ablation', nargs=4, metavar=('ACTOR_CFG', 'ACTOR_CKPT', 'ACTION_CFG', 'ACTION_CKPT'),
                        help='also score PA.v0 variants (actor / action / union masks, coverage / IoU)')
    parser.add_argument('--device', default=None)
    return parser.parse_args(argv)


PA_VARIANTS = (('union, coverage (default)', True, True, 'coverage'), ('actor maps only', True, False, 'coverage'),
               ('action maps only', False, True, 'coverage'), ('union, literal IoU', True, True, 'iou'))


def pa_ablation(actor_cfg, actor_ckpt, action_cfg, action_ckpt, device=None):
    """a.-a. / actor / action mIoU of PA.v0 variants on the annotated frames of the train videos."""
    import numpy as np
    from tqdm import tqdm

    from wsseg_mm.apis import build_pa_dataset, init_model, load_cfg, ws2_pa_settings
    from wsseg_mm.apis.ws2 import VideoFrames, pa_frame_labels, tagged_pairs, ws2_gradcams, ws2_video_maps
    from wsseg_mm.datasets.transforms import load_a2d_label_map
    from wsseg_mm.fileio.annotations import scan_a2d
    from wsseg_mm.functional.metrics import a2d_scores, confusion_matrix
    from wsseg_mm.functional.ws2 import assign_pairs
    from wsseg_mm.metainfo import A2D_SEG_CLASSES
    action_config = load_cfg(action_cfg)
    settings = ws2_pa_settings(action_config)
    actor_cam, action_cam = ws2_gradcams(init_model(load_cfg(actor_cfg), actor_ckpt, device),
                                         init_model(action_config, action_ckpt, device), settings)
    dataset = build_pa_dataset(action_config, 'train')
    annotations = {v['video_id']: sorted(v['annotations'])
                   for v in scan_a2d(dataset.data_root, 'train', frame_dir=dataset.frame_dir)}
    n = len(A2D_SEG_CLASSES)
    cms = {name: np.zeros((n, n), np.int64) for name, *_ in PA_VARIANTS}
    for i in tqdm(range(len(dataset)), desc='PA.v0 variants'):
        info = dataset.get_data_info(i)
        frames = VideoFrames.of(info)
        annotated = annotations[info['video_id']]
        indices = [number - info.get('start_index', 1) for number, _ in annotated]
        maps = ws2_video_maps(actor_cam, action_cam, frames, info['actor_labels'], info['action_labels'], indices,
                              settings)
        pairs = tagged_pairs(info['actor_labels'], info['action_labels'], info['a2d_ids'])
        for k, (index, (_, mat)) in enumerate(zip(indices, annotated)):
            gt = load_a2d_label_map(mat)
            for name, use_actor, use_action, mode in PA_VARIANTS:
                actor_maps, action_maps = maps['actor_maps'][k], maps['action_maps'][k]
                # a variant without one kind of map gives Otsu a constant (empty) map of that kind for M_init; the
                # pair of each kept superpixel is still chosen with both kinds (one tagged pair: no choice)
                result = pa_frame_labels(frames[index], actor_maps if use_actor else 0 * actor_maps,
                                         action_maps if use_action else 0 * action_maps, pairs,
                                         dict(settings, mode=mode))
                labels = result['labels'] if use_actor and use_action else assign_pairs(
                    result['superpixels'], result['keep'], actor_maps, action_maps, [(a, b) for a, b, _ in pairs],
                    [c for _, _, c in pairs])
                cms[name] += confusion_matrix(labels, gt, n)
    out = {}
    for name, cm in cms.items():
        scores = a2d_scores(cm)
        out[name] = [round(float(scores[level]['mIoU']), 2) for level in LEVELS]
    return out


def _load(path):
    if not osp.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _accuracy(log_path):
    """top-1 and mean class accuracy of a tools/test.py log of an mmaction recognizer, in percent."""
    if not osp.exists(log_path):
        return None
    with open(log_path) as f:
        text = f.read()
    top1 = re.findall(r'acc/top1: ([\d.]+)', text)
    mean1 = re.findall(r'acc/mean1: ([\d.]+)', text)
    return dict(top1=100 * float(top1[-1]), mean1=100 * float(mean1[-1])) if top1 else None


def _triple(scores):
    return None if not scores else [round(scores[f'{level}_mIoU'], 2) for level in LEVELS]


def _fmt(triple):
    return '-' if triple is None else ' / '.join(f'{v:.2f}' for v in triple)


def tables(work_dir):
    states = {key: _load(osp.join(work_dir, key, 'ws2_state.json')) for _, key in CHAINS}
    out = dict(classifiers={role: _accuracy(osp.join(work_dir, role, 'test.log')) for role in ('actor', 'action')},
               chains={key: dict(stop=s['stop'], final_version=s['final_version']) for key, s in states.items() if s})
    # Table 1
    t1 = {}
    for name, key in CHAINS[:3]:
        s = states[key]
        if s and s['final_version'] is not None:
            final = s['versions'][s['final_version']]
            t1[name] = dict(version=s['final_version'], test=_triple(final.get('test_aligned')),
                            test_not_aligned=_triple(final.get('test')), val=final['scores'])
    out['table1'] = t1
    # Table 2
    t2 = []
    base, ws2, ric_full = states['baseline'], states['ws2'], states['ric-full']
    versions = max([len(s['versions']) for s in states.values() if s] or [0])
    for v in range(versions):
        row = dict(version=v)

        def cell(state, key):
            if not state or v >= len(state['versions']):
                return None
            q = state['versions'][v].get(key)
            return None if not q else dict(miou=_triple(q), frames=q['frames'])

        row['full_mIoU_PA'] = cell(base, 'pa_quality')
        row['full_RIC'] = cell(ric_full, 'pa_quality')
        row['select_RIC'] = cell(ws2, 'pa_quality_selected')
        if v == 0:
            row['full_mIoU_PA'] = row['full_mIoU_PA'] or cell(ws2, 'pa_quality')
        for key, state in (('selected_ws2', ws2), ('selected_model_s', states['model-s'])):
            if state and v < len(state['versions']):
                r = state['versions'][v]
                row[key] = [r.get('selected'), r.get('frames')]
        t2.append(row)
    out['table2'] = t2
    # Table 3, 4 and the val scores per version
    out['table3'] = [dict(version=r['version'], test=_triple(r.get('test_aligned')),
                          test_not_aligned=_triple(r.get('test')), val=r.get('scores'))
                     for r in (ws2 or {}).get('versions', []) if r.get('scores')]
    if ws2 and ws2['final_version'] is not None:
        final = ws2['versions'][ws2['final_version']].get('test_aligned') or {}
        out['table4'] = {level: dict(class_acc=round(final.get(f'{level}_class_acc', float('nan')), 2),
                                     global_acc=round(final.get(f'{level}_global_acc', float('nan')), 2))
                         for level in LEVELS}
    out['orderings'] = orderings(out)
    return out


def orderings(out):
    """(claim, lower, higher, holds) for each ordering the issue asks the toy to show."""
    checks = []

    def add(claim, low, high):
        if low is not None and high is not None:
            checks.append(dict(claim=claim, lower=low, higher=high, holds=bool(high > low)))

    t1 = out['table1']
    aa = {k: (v['test'] or [None])[0] for k, v in t1.items()}
    add('T1: Baseline < Model-S (test a.-a. mIoU)', aa.get('Baseline'), aa.get('Model-S'))
    add('T1: Model-S < WS^2 (test a.-a. mIoU)', aa.get('Model-S'), aa.get('WS^2'))
    t2 = out['table2']
    if t2:
        v0 = t2[0]
        add('T2 v0: init-full < init-select (PA a.-a. mIoU)', (v0['full_mIoU_PA'] or {}).get('miou', [None])[0],
            (v0['select_RIC'] or {}).get('miou', [None])[0])
    for row in t2[1:]:
        sel = (row['select_RIC'] or {}).get('miou', [None])[0]
        for key in ('full_RIC', 'full_mIoU_PA'):
            full = (row[key] or {}).get('miou', [None])[0]
            add(f'T2 v{row["version"]}: {key[5:]}-full < RIC-select (PA a.-a. mIoU)', full, sel)
    if len(t2) > 1:
        add('PA.v0 < PA.v1 (WS^2 chain, selected frames, a.-a. mIoU)',
            (t2[0]['select_RIC'] or {}).get('miou', [None])[0], (t2[1]['select_RIC'] or {}).get('miou', [None])[0])
    t3 = out['table3']
    if len(t3) > 1:
        add('model.v0 < model.v1 (WS^2 chain, test a.-a. mIoU)', t3[0]['test'][0], t3[1]['test'][0])
    return checks


def print_tables(out):
    c = out['classifiers']
    for role in ('actor', 'action'):
        if c.get(role):
            print(f'{role} classifier: top-1 {c[role]["top1"]:.1f}%, mean class accuracy {c[role]["mean1"]:.1f}% '
                  '(single-label test clips)')
    print('\nTable 1 (final model, test frames, with action alignment; a.-a. / actor / action mIoU)')
    print('| method | version | test | without alignment | val RIC / mIoU_PA |\n| --- | --- | --- | --- | --- |')
    for name, row in out['table1'].items():
        val = row['val']
        print(f'| {name} | v{row["version"]} | {_fmt(row["test"])} | {_fmt(row["test_not_aligned"])} | '
              f'{val.get("RIC", float("nan")):.2f} / {val.get("mIoU_PA", float("nan")):.2f} |')
    print('\nTable 2 (PA of the train frames against the ground truth; a.-a. / actor / action mIoU, frames)')
    print('| version | mIoU_PA-full | RIC-full | RIC-select | selected (WS^2) |\n| --- | --- | --- | --- | --- |')
    for row in out['table2']:
        cells = [('-' if not row[k] else f'{_fmt(row[k]["miou"])} ({row[k]["frames"]})')
                 for k in ('full_mIoU_PA', 'full_RIC', 'select_RIC')]
        sel = row.get('selected_ws2')
        print(f'| v{row["version"]} | ' + ' | '.join(cells) + f' | {"-" if not sel else f"{sel[0]} / {sel[1]}"} |')
    print('\nTable 3 (WS^2 chain, test frames; a.-a. / actor / action mIoU)')
    print('| model | test | without alignment | val RIC / mIoU_PA / RII |\n| --- | --- | --- | --- |')
    for row in out['table3']:
        val = row['val']
        print(f'| v{row["version"]} | {_fmt(row["test"])} | {_fmt(row["test_not_aligned"])} | '
              f'{val["RIC"]:.2f} / {val["mIoU_PA"]:.2f} / {val["RII"]:.2f} |')
    if out.get('table4'):
        t4 = out['table4']
        print('\nTable 4 (final WS^2 model, test): class_acc ' + ' / '.join(f'{t4[k]["class_acc"]:.2f}' for k in LEVELS)
              + ', glo_acc ' + ' / '.join(f'{t4[k]["global_acc"]:.2f}' for k in LEVELS) + ' (a.-a. / actor / action)')
    print('\nOrderings:')
    for check in out['orderings']:
        print(f'  {"holds" if check["holds"] else "FAILS"}: {check["claim"]}: {check["lower"]:.2f} vs '
              f'{check["higher"]:.2f}')
    if out.get('pa_ablation'):
        print('\nPA.v0 variants (annotated train frames against the ground truth; a.-a. / actor / action mIoU)')
        print('| M_init / Alg. 2 | mIoU |\n| --- | --- |')
        for name, triple in out['pa_ablation'].items():
            print(f'| {name} | {_fmt(triple)} |')
    for key, chain in out['chains'].items():
        print(f'chain {key}: final v{chain["final_version"]}, stopped: {chain["stop"]}')


def main(argv=None):
    args = parse_args(argv)
    out = tables(args.work_dir)
    if args.pa_ablation:
        out['pa_ablation'] = pa_ablation(*args.pa_ablation, device=args.device)
    print_tables(out)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(out, f, indent=1)


if __name__ == '__main__':
    main()
