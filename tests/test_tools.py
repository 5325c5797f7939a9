"""The OpenMMLab-style tools end to end on the toy benchmark: train, test, resume, 2-process gloo training."""
import json
import os.path as osp
import sys

import pytest

from conftest import REPO, run_tool

pytestmark = pytest.mark.slow  # every test runs a tool in a subprocess, most of them train
SEG_CFG = osp.join(REPO, 'configs/toy/fcn_r18-tiny_1k_toy-scribble.py')
DET_CFG = osp.join(REPO, 'configs/toy/faster-rcnn_r18-tiny_fpn_20e_toy-boxes.py')


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    from wsseg_mm.toy import generate_toy_benchmark
    root = str(tmp_path_factory.mktemp('toy'))
    generate_toy_benchmark(root, seed=0, image_size=64, num_train=8, num_val=4, videos=False, progress=False)
    return root


def seg_options(toy_root, max_iters):
    voc = osp.join(toy_root, 'VOCdevkit/VOC2012')
    return [
        f'train_dataloader.dataset.data_root={voc}', f'val_dataloader.dataset.data_root={voc}',
        f'test_dataloader.dataset.data_root={voc}', 'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
        f'train_cfg.max_iters={max_iters}', f'train_cfg.val_interval={max_iters}',
        f'param_scheduler.0.end={max_iters}', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1', 'default_hooks.checkpoint.max_keep_ckpts=10'
    ]


def test_train_test_and_resume_stock_mmseg_on_toy_scribbles(toy_root, tmp_path):
    work = str(tmp_path / 'seg')
    log = run_tool([sys.executable, 'tools/train.py', SEG_CFG, '--work-dir', work, '--cfg-options',
                    *seg_options(toy_root, 2)])
    assert 'Iter(train) [2/2]' in log and 'mIoU' in log
    assert osp.exists(osp.join(work, 'iter_2.pth'))

    log = run_tool([sys.executable, 'tools/train.py', SEG_CFG, '--work-dir', work, '--resume', '--cfg-options',
                    *seg_options(toy_root, 3)])
    assert 'resumed epoch: 0, iter: 2' in log.lower() or 'resumed' in log.lower()
    assert 'Iter(train) [3/3]' in log and 'Iter(train) [1/3]' not in log

    out = str(tmp_path / 'preds.pkl')
    log = run_tool([sys.executable, 'tools/test.py', SEG_CFG, osp.join(work, 'iter_3.pth'), '--work-dir', work,
                    '--out', out, '--cfg-options', *seg_options(toy_root, 3)])
    assert 'mIoU' in log and osp.getsize(out) > 0


def test_train_stock_mmdet_faster_rcnn_on_toy_boxes(toy_root, tmp_path):
    work = str(tmp_path / 'det')
    devkit = osp.join(toy_root, 'VOCdevkit')
    options = [f'{split}_dataloader.dataset.data_root={devkit}' for split in ('train', 'val', 'test')] + [
        'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1']
    log = run_tool([sys.executable, 'tools/train.py', DET_CFG, '--work-dir', work, '--cfg-options', *options])
    assert 'Epoch(train) [1][2/2]' in log and 'loss_rpn_cls' in log and 'mAP' in log
    assert osp.exists(osp.join(work, 'epoch_1.pth'))


def test_dist_train_two_cpu_processes(toy_root, tmp_path):
    work = str(tmp_path / 'dist')
    cfg = tmp_path / 'probe_cfg.py'  # the toy config plus a hook that lets each rank report what it did
    cfg.write_text(f"_base_ = ['{SEG_CFG}']\n"
                   "custom_imports = dict(imports=['wsseg_mm', 'dist_probe'], allow_failed_imports=False)\n"
                   "custom_hooks = [dict(type='RankProbeHook')]\n")
    run_tool(['bash', 'tools/dist_train.sh', str(cfg), '2', '--work-dir', work, '--cfg-options',
              *seg_options(toy_root, 2), 'train_cfg.val_interval=100'],
             env_extra=dict(PYTHON=sys.executable, PORT='29517', OMP_NUM_THREADS='1'))
    ranks = [json.load(open(osp.join(work, f'rank{r}.json'))) for r in (0, 1)]
    assert [r['rank'] for r in ranks] == [0, 1] and all(r['world_size'] == 2 for r in ranks)
    assert all(r['iters'] == 2 and r['ddp'] == 'MMDistributedDataParallel' for r in ranks)
    # DDP averaged the gradients: both replicas end with the same weights
    assert ranks[0]['checksum'] == pytest.approx(ranks[1]['checksum'], rel=1e-6)


def test_browse_dataset_writes_pictures(toy_root, tmp_path):
    out = tmp_path / 'browse'
    run_tool([sys.executable, 'tools/analysis_tools/browse_dataset.py', DET_CFG, '--output-dir', str(out), '--max',
              '3', '--cfg-options', f'train_dataloader.dataset.data_root={osp.join(toy_root, "VOCdevkit")}'])
    assert sorted(p.name for p in out.iterdir())[-1] == 'grid.png' and len(list(out.iterdir())) == 4
