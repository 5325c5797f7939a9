"""PSI's tools: the toy benchmark's table from finished runs (fake mmengine logs), and the toy configurations it
compares (one factor each)."""
import json
import os
import os.path as osp

import pytest
from mmengine.config import Config

from conftest import REPO, run_tool, tiny_psi_model

TOY = osp.join(REPO, 'configs', 'psi', 'toy')


def _fake_run(run_dir, miou, time, steps=()):
    log = osp.join(run_dir, '20260101_000000', 'vis_data')
    os.makedirs(log)
    with open(osp.join(log, 'scalars.json'), 'w') as f:
        for it in (50, 100, 150):
            f.write(json.dumps(dict(loss=1.0, time=time if it > 50 else 9.0, iter=it, step=it)) + '\n')
        f.write(json.dumps(dict(aAcc=90.0, mIoU=miou, step=150)) + '\n')
    if steps:
        os.makedirs(osp.join(run_dir, 'sld'))
        history = [dict(step=t, labelled_fraction=f, accuracy=0.9, images=4, scored_images=4)
                   for t, f in enumerate(steps, 1)]
        with open(osp.join(run_dir, 'sld', 'state.json'), 'w') as f:
            json.dump(dict(step=len(steps), history=history), f)


@pytest.mark.slow  # builds the three toy models for the in-process timing
def test_benchmark_table_paired_differences_and_time_ratio(tmp_path):
    # seed 0 follows the paper's ordering; seed 1 has +SLD below P
    figures = {'baseline': (40, 41), 'lp': (42, 44), 'cpp': (45, 46), 'sld': (44, 43), 'cpp-sld': (48, 47)}
    for run, mious in figures.items():
        for seed, miou in enumerate(mious):
            _fake_run(str(tmp_path / run / f'seed_{seed}'), miou, 0.3 if 'cpp' in run else 0.2,
                      steps=(0.1, 0.2, 0.3) if 'sld' in run else ())
    for seed, miou in enumerate((49.5, 48.25)):  # tools/test.py --tta --work-dir .../tta
        tta = tmp_path / 'cpp-sld' / f'seed_{seed}' / 'tta' / '20260101_000001'
        tta.mkdir(parents=True)
        (tta / '20260101_000001.json').write_text(json.dumps(dict(aAcc=91.0, mIoU=miou)))
    out = tmp_path / 'benchmark.json'
    log = run_tool([osp.join(REPO, 'tools', 'psi', 'benchmark.py'), '--work-dir', tmp_path, '--seeds', '0', '1',
                    '--out', out, '--time-iters', '1'])
    assert '| +CPP+SLD | 48.0 | 47.0 | 47.5 | 0.300 |' in log  # logged time: the first log left out
    assert '| +CPP+SLD (TTA) | 49.5 | 48.2 | 48.9 | n/a |' in log
    assert 'P < +SLD: +2.0, -1.0; mean 0.5, 1/2 seeds -> does NOT hold' in log
    assert 'P < +CPP: +3.0, +2.0; mean 2.5, 2/2 seeds -> holds' in log
    assert '+SLD seed 1 SLD step 3: labelled fraction 0.3000' in log
    saved = json.loads(out.read_text())
    assert saved['runs']['P']['miou'] == 43 and len(saved['orderings']) == 4
    # the time ratio is measured in-process, the three toy models in turn
    timing = saved['timing']
    assert set(timing['seconds']) == {'baseline', 'P', '+CPP'} and all(v > 0 for v in timing['seconds'].values())
    assert timing['ratios']['+CPP / P'] == pytest.approx(timing['seconds']['+CPP'] / timing['seconds']['P'])
    assert '+CPP / baseline = ' in log


def test_toy_configurations_differ_in_one_factor_each():
    cfgs = {name: Config.fromfile(osp.join(TOY, f'deeplabv3plus_r18-quarter-os16{name}_1k_toy-scribble.py'))
            for name in ('', '-lp', '-cpp', '-sld', '-cpp-sld')}
    losses = {n: [loss['type'] for loss in c.model.decode_head.loss_decode] for n, c in cfgs.items()}
    assert losses[''] == ['CrossEntropyLoss'] and all('SmoothnessLoss' in v for n, v in losses.items() if n)
    assert [bool(c.model.get('neck')) for c in cfgs.values()] == [False, False, True, False, True]
    assert [len(c.custom_hooks) for c in cfgs.values()] == [0, 0, 0, 1, 1]
    # g and L_sld only where labels diffuse (PSISegmentor), so that +CPP differs from P by CPP alone
    assert [c.model.type for c in cfgs.values()] == ['EncoderDecoder'] * 3 + ['PSISegmentor'] * 2
    # without SLD the pipeline reads no diffused labels at all
    assert [c.train_dataloader.dataset.pipeline[1].sld_dir is None for c in cfgs.values()] == [True] * 3 + [False] * 2
    for cfg in cfgs.values():  # the same backbone, data and schedule
        assert cfg.model.backbone == cfgs[''].model.backbone and cfg.train_cfg == cfgs[''].train_cfg
        assert cfg.model.decode_head.dilations == (1, 2, 3, 4) and cfg.optim_wrapper.optimizer.lr == 0.02


TINY = tiny_psi_model()


def _tiny_setup(voc_root, folder):
    """A config (the tiny segmentor on the conftest VOC layout, SLDHook T = 2) and a checkpoint whose g sits below
    the mean (so that labels grow); returns (config path, checkpoint path, sld_dir)."""
    import torch
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS

    import wsseg_mm  # noqa: F401
    sld_dir = str(folder / 'sld')
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadSLDLabels', sld_dir=sld_dir, stroke_width=1),
                dict(type='PackWeakSegInputs')]
    cfg = Config(dict(
        default_scope='mmseg', custom_imports=dict(imports=['wsseg_mm'], allow_failed_imports=False), model=TINY,
        train_dataloader=dict(batch_size=1, dataset=dict(
            type='VOCScribbleDataset', data_root=voc_root, ann_file='ImageSets/Segmentation/train.txt',
            data_prefix=dict(img_path='JPEGImages', scribble_path='ScribbleAnnotation/pascal_2012',
                             seg_map_path='SegmentationClass'), pipeline=pipeline)),
        custom_hooks=[dict(type='SLDHook', num_steps=2)]))
    config = str(folder / 'psi_tiny.py')
    cfg.dump(config)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(TINY)
    with torch.no_grad():
        model.sld_decision.layers[-1].bias.fill_(-0.5)
    checkpoint = str(folder / 'tiny.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    return config, checkpoint, sld_dir


def _summary(log):
    return json.loads([line for line in log.splitlines() if line.startswith('{')][-1])


@pytest.mark.slow
def test_expand_labels_and_visualize_tools(voc_root, tmp_path):
    """The two tools on a checkpoint: one SLD step with expand_labels.py, then the picture, whose step 2 (not
    written) is recomputed through the same API."""
    config, checkpoint, sld_dir = _tiny_setup(voc_root, tmp_path)
    out = run_tool([osp.join(REPO, 'tools', 'psi', 'expand_labels.py'), config, checkpoint, '--step', '0'],
                   env_extra=dict(OMP_NUM_THREADS='1'))
    summary = _summary(out)
    assert summary['step'] == 1 and summary['images'] == 3 and summary['scored_images'] == 3
    assert sorted(os.listdir(osp.join(sld_dir, 'step_1'))) == ['a.png', 'b.png', 'c.png']
    picture = tmp_path / 'fig2.png'
    log = run_tool([osp.join(REPO, 'tools', 'psi', 'visualize.py'), config, checkpoint, '--out', picture,
                    '--max', '2'], env_extra=dict(OMP_NUM_THREADS='1'))
    assert 'picture written' in log and picture.stat().st_size > 10000
    assert not osp.exists(osp.join(sld_dir, 'step_2'))  # recomputed for the picture, not written


@pytest.mark.slow
def test_expand_labels_two_cpu_processes_equal_one(voc_root, tmp_path):
    """Two gloo processes (each its share of the images, rank 0 scoring after a barrier) write what one does."""
    import sys

    import numpy as np

    from wsseg_mm.fileio.labels import load_label_png
    config, checkpoint, sld_dir = _tiny_setup(voc_root, tmp_path)
    one = _summary(run_tool([osp.join(REPO, 'tools', 'psi', 'expand_labels.py'), config, checkpoint, '--step', '0'],
                            env_extra=dict(OMP_NUM_THREADS='1')))
    os.rename(sld_dir, sld_dir + '_one')
    log = run_tool([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port=29531',
                    osp.join(REPO, 'tools', 'psi', 'expand_labels.py'), config, checkpoint, '--step', '0',
                    '--launcher', 'pytorch'], env_extra=dict(OMP_NUM_THREADS='1'))
    assert 'SLD step 1: 100%|| 2/2' in log.replace('█', '')  # rank 0's share: a, c (b is rank 1's)
    assert _summary(log) == one
    for name in 'abc':
        assert np.array_equal(load_label_png(osp.join(sld_dir, 'step_1', name + '.png')),
                              load_label_png(osp.join(sld_dir + '_one', 'step_1', name + '.png')))
    with open(osp.join(sld_dir, 'state.json')) as f:
        assert json.load(f)['step'] == 1


@pytest.mark.slow
def test_sld_hook_in_two_cpu_processes(voc_root, tmp_path):
    """tools/dist_train.sh with 2 gloo processes: the hook's expansions split the images over the ranks and every
    step holds every image; rank 0's state file reaches the last step."""
    import sys
    config, _, sld_dir = _tiny_setup(voc_root, tmp_path)
    cfg = Config.fromfile(config)
    cfg.model.decode_head.loss_decode = dict(type='CrossEntropyLoss', avg_non_ignore=True)
    cfg.train_dataloader.update(batch_size=2, num_workers=1, persistent_workers=True,
                                sampler=dict(type='InfiniteSampler', shuffle=True))
    cfg.train_dataloader.dataset.pipeline.insert(2, dict(type='RandomFlip', prob=0.5))
    cfg.merge_from_dict(dict(train_cfg=dict(type='IterBasedTrainLoop', max_iters=6),
                             optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
                             default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
                             env_cfg=dict(dist_cfg=dict(backend='gloo'))))
    cfg.dump(config)
    log = run_tool(['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config, '2', '--work-dir', tmp_path / 'work'],
                   env_extra=dict(PYTHON=sys.executable, PORT='29533', OMP_NUM_THREADS='1'))
    for step in (1, 2):
        assert sorted(os.listdir(osp.join(sld_dir, f'step_{step}'))) == ['a.png', 'b.png', 'c.png']
        assert f'SLD step {step}: 3 images' in log
    with open(osp.join(sld_dir, 'state.json')) as f:
        state = json.load(f)
    assert state['step'] == 2 and [h['step'] for h in state['history']] == [1, 2]
