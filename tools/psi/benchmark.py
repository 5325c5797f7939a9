"""PSI's Table 3 on the toy benchmark, from the runs of ``tools/psi/run_toy.sh``: val mIoU of baseline, P (+ L_p),
+CPP, +SLD and +CPP+SLD per seed, their mean, the paired differences the paper's ordering implies, the labelled
fraction / accuracy after each SLD step, and the iteration time of CPP against the plain DeepLabV3+.

    python tools/psi/benchmark.py --work-dir work_dirs/psi_toy [--seeds 0 1 2] [--out FILE.json]

Reads ``{work_dir}/{run}/seed_{s}/<timestamp>/vis_data/scalars.json`` (mmengine's; the last run of each work dir)
and, for the SLD runs, ``{work_dir}/{run}/seed_{s}/sld/state.json``. An ordering holds when the difference is
positive in the mean and in at least two thirds of the seeds (paired).
"""
import argparse
import glob
import json
import math
import os.path as osp
import statistics

import wsseg_mm  # noqa: F401  (first: compat + registration)

# isort: split
from wsseg_mm.apis.psi import read_sld_state  # noqa: E402

RUNS = (('baseline', 'baseline'), ('P', 'lp'), ('+CPP', 'cpp'), ('+SLD', 'sld'), ('+CPP+SLD', 'cpp-sld'))
# (lower, higher): what Table 3 shows (baseline 66.6, +CPP 70.1, +SLD 69.4, +CPP+SLD 72.9), with P as the reference
ORDERINGS = (('P', '+SLD'), ('P', '+CPP'), ('+SLD', '+CPP+SLD'), ('+CPP', '+CPP+SLD'))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='PSI toy benchmark table (Table 3) from finished runs')
    parser.add_argument('--work-dir', default='work_dirs/psi_toy')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--out', help='write the figures as JSON')
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
    timing = {}
    for ref in ('baseline', 'P'):
        if runs['+CPP']['iter_time'] and runs[ref]['iter_time']:
            timing[f'+CPP / {ref}'] = runs['+CPP']['iter_time'] / runs[ref]['iter_time']
    return dict(seeds=list(seeds), runs=runs, orderings=orderings, cpp_time_ratio=timing)


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
    lines += ['', 'CPP iteration-time ratio: ' + (', '.join(f'{k} = {v:.2f}'
                                                            for k, v in figures['cpp_time_ratio'].items()) or 'n/a')]
    for label, run in figures['runs'].items():
        for seed in seeds:
            for step in run['seeds'][seed].get('sld_steps', []):
                lines.append(f'{label} seed {seed} SLD step {step["step"]}: labelled fraction '
                             f'{step["labelled_fraction"]:.4f}, accuracy {_fmt(step.get("accuracy"), 4)}')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    figures = collect(args.work_dir, args.seeds)
    print(report(figures))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(figures, f, indent=1)


if __name__ == '__main__':
    main()
