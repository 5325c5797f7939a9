"""PSI's Table 3 on the toy benchmark, from the runs of ``tools/psi/run_toy.sh``: val mIoU of baseline, P (+ L_p),
+CPP, +SLD and +CPP+SLD per seed, their mean, the paired differences the paper's ordering implies, the labelled
fraction / accuracy after each SLD step, +CPP+SLD with test-time augmentation (``tools/test.py --tta``: scales
0.75-1.5 and flip), and the iteration time of CPP against the plain DeepLabV3+.

    python tools/psi/benchmark.py --work-dir work_dirs/psi_toy [--seeds 0 1 2] [--out FILE.json] [--time-iters 20]

Reads ``{work_dir}/{run}/seed_{s}/<timestamp>/vis_data/scalars.json`` (mmengine's; the last run of each work dir)
and, for the SLD runs, ``{work_dir}/{run}/seed_{s}/sld/state.json``. An ordering holds when the difference is
positive in the mean and in at least two thirds of the seeds (paired).

The iteration times logged by the training runs depend on what else the machine ran meanwhile, so the CPP
time ratio is measured here, in one process: forward + backward of the baseline, P and +CPP models on the same
random batch (8 x 3 x 128 x 128, the toy's), taken in turn so that any load hits all three alike; the median of
``--time-iters`` rounds each, on one thread.
"""
import argparse
import glob
import json
import math
import os.path as osp
import statistics
import time

import torch

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402

from wsseg_mm.apis.psi import read_sld_state  # noqa: E402

RUNS = (('baseline', 'baseline'), ('P', 'lp'), ('+CPP', 'cpp'), ('+SLD', 'sld'), ('+CPP+SLD', 'cpp-sld'))
# (lower, higher): what Table 3 shows (baseline 66.6, +CPP 70.1, +SLD 69.4, +CPP+SLD 72.9), with P as the reference
ORDERINGS = (('P', '+SLD'), ('P', '+CPP'), ('+SLD', '+CPP+SLD'), ('+CPP', '+CPP+SLD'))
TOY_CONFIGS = {'baseline': 'configs/psi/toy/deeplabv3plus_r18-quarter-os16_1k_toy-scribble.py',
               'P': 'configs/psi/toy/deeplabv3plus_r18-quarter-os16-lp_1k_toy-scribble.py',
               '+CPP': 'configs/psi/toy/deeplabv3plus_r18-quarter-os16-cpp_1k_toy-scribble.py'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='PSI toy benchmark table (Table 3) from finished runs')
    parser.add_argument('--work-dir', default='work_dirs/psi_toy')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--out', help='write the figures as JSON')
    parser.add_argument('--time-iters', type=int, default=20,
                        help='rounds of the in-process iteration timing (0: skip it)')
    return parser.parse_args(argv)


def read_run(run_dir: str) -> dict:
    """``miou`` (last validation) and ``iter_time`` (median of the logged train ``time``, the first log left out)
    of one work dir, from its latest ``scalars.json``; None where missing."""
    files = sorted(glob.glob(osp.join(run_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        return dict(miou=None, iter_time=None)
    miou, times = None, []
    with open(files[-1]) as f:
        for line in f:
            record = json.loads(line)
            if 'mIoU' in record:
                miou = float(record['mIoU'])
            elif 'loss' in record and 'time' in record:
                times.append(float(record['time']))
    times = times[1:] or times
    return dict(miou=miou, iter_time=statistics.median(times) if times else None)


def read_tta(run_dir: str):
    """mIoU of ``tools/test.py --tta --work-dir {run_dir}/tta`` (mmengine's ``<timestamp>/<timestamp>.json``)."""
    files = sorted(glob.glob(osp.join(run_dir, 'tta', '*', '*.json')))
    if not files:
        return None
    with open(files[-1]) as f:
        return float(json.load(f)['mIoU'])


def time_iterations(configs: dict, iters: int, batch: int = 8, size: int = 128, seed: int = 0) -> dict:
    """Median seconds of one forward + backward per model (``{label: config}``), the models taken in turn."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    init_default_scope('mmseg')
    models = {}
    for label, path in configs.items():
        # PyTorch's default initialisation: the time does not depend on the weights (and init_weights would log
        # every parameter)
        models[label] = MODELS.build(Config.fromfile(path).model).train()
    inputs = torch.randn(batch, 3, size, size)
    labels = torch.randint(0, 6, (batch, 1, size, size))
    labels[:, :, ::2] = 255  # partial labels, as scribbles
    samples = [SegDataSample(metainfo=dict(img_shape=(size, size), pad_shape=(size, size)),
                             gt_sem_seg=PixelData(data=y)) for y in labels]
    times = {label: [] for label in models}
    for round_ in range(iters + 2):  # two warm-up rounds
        for label, model in models.items():
            start = time.perf_counter()
            losses = model.loss(inputs, samples)
            sum(v for k, v in losses.items() if k.startswith('loss') or '.loss' in k).backward()
            model.zero_grad(set_to_none=True)
            if round_ >= 2:
                times[label].append(time.perf_counter() - start)
    return {label: statistics.median(values) for label, values in times.items()}


def _mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _fmt(value, digits=1):
    return 'n/a' if value is None else f'{value:.{digits}f}'


def collect(work_dir: str, seeds) -> dict:
    runs = {}
    for label, run in RUNS:
        per_seed = {}
        for seed in seeds:
            run_dir = osp.join(work_dir, run, f'seed_{seed}')
            figures = read_run(run_dir)
            sld_dir = osp.join(run_dir, 'sld')
            if osp.exists(osp.join(sld_dir, 'state.json')):
                figures['sld_steps'] = read_sld_state(sld_dir)['history']
            tta = read_tta(run_dir)
            if tta is not None:
                figures['tta_miou'] = tta
            per_seed[seed] = figures
        runs[label] = dict(run=run, seeds=per_seed, miou=_mean(f['miou'] for f in per_seed.values()),
                           iter_time=_mean(f['iter_time'] for f in per_seed.values()))
    orderings = []
    for low, high in ORDERINGS:
        diffs = {s: runs[high]['seeds'][s]['miou'] - runs[low]['seeds'][s]['miou'] for s in seeds
                 if runs[high]['seeds'][s]['miou'] is not None and runs[low]['seeds'][s]['miou'] is not None}
        wins = sum(d > 0 for d in diffs.values())
        mean = _mean(diffs.values())
        holds = bool(diffs) and mean > 0 and wins >= math.ceil(2 * len(diffs) / 3)
        orderings.append(dict(lower=low, higher=high, diffs=diffs, mean=mean, wins=wins, paired=len(diffs),
                              holds=holds))
    tta = [runs['+CPP+SLD']['seeds'][s].get('tta_miou') for s in seeds]
    if any(v is not None for v in tta):
        runs['+CPP+SLD (TTA)'] = dict(run='cpp-sld/tta', seeds={s: dict(miou=v) for s, v in zip(seeds, tta)},
                                     miou=_mean(tta), iter_time=None)
    return dict(seeds=list(seeds), runs=runs, orderings=orderings)


def time_ratios(iters: int) -> dict:
    """Seconds per iteration of the baseline, P and +CPP (:func:`time_iterations`) and +CPP's ratios."""
    times = time_iterations(TOY_CONFIGS, iters)
    return dict(seconds=times, ratios={f'+CPP / {ref}': times['+CPP'] / times[ref] for ref in ('baseline', 'P')})


def report(figures: dict) -> str:
    seeds = figures['seeds']
    lines = ['| run | ' + ' | '.join(f'seed {s}' for s in seeds) + ' | mean mIoU | s / iter |',
             '| --- |' + ' --- |' * (len(seeds) + 2)]
    for label, run in figures['runs'].items():
        cells = [_fmt(run['seeds'][s]['miou']) for s in seeds]
        lines.append(f'| {label} | ' + ' | '.join(cells) + f' | {_fmt(run["miou"])} | {_fmt(run["iter_time"], 3)} |')
    lines += ['', 'paired differences (higher - lower, per seed):']
    for o in figures['orderings']:
        diffs = ', '.join(f'{d:+.1f}' for d in o['diffs'].values()) or 'n/a'
        verdict = 'holds' if o['holds'] else 'does NOT hold'
        lines.append(f'  {o["lower"]} < {o["higher"]}: {diffs}; mean {_fmt(o["mean"])}, '
                     f'{o["wins"]}/{o["paired"]} seeds -> {verdict}')
    timing = figures.get('timing')
    if timing:
        seconds = ', '.join(f'{k} {v:.3f} s' for k, v in timing['seconds'].items())
        ratios = ', '.join(f'{k} = {v:.2f}' for k, v in timing['ratios'].items())
        lines += ['', f'forward + backward, batch 8, one thread, same process: {seconds}; {ratios}']
    for label, run in figures['runs'].items():
        for seed in seeds:
            for step in run['seeds'][seed].get('sld_steps', []):
                lines.append(f'{label} seed {seed} SLD step {step["step"]}: labelled fraction '
                             f'{step["labelled_fraction"]:.4f}, accuracy {_fmt(step.get("accuracy"), 4)}')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.time_iters < 0:
        raise SystemExit(f'--time-iters must be >= 0, got {args.time_iters}')
    figures = collect(args.work_dir, args.seeds)
    if args.time_iters:
        figures['timing'] = time_ratios(args.time_iters)
    print(report(figures))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(figures, f, indent=1)


if __name__ == '__main__':
    main()
