"""IRNet end to end on a tiny toy benchmark with the real tools: pretrain on object images -> train CAM -> CAMs ->
relations -> train IRNet -> label synthesis -> benchmark; resumable runs skip finished images; two processes write what one writes."""
import filecmp
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PRE_CFG = 'configs/irnet/toy/pretrain_r18-quarter-os8_8e_toy-objects.py'
CAM_CFG = 'configs/irnet/toy/cam_r18-quarter-os8_80e_toy.py'
IRN_CFG = 'configs/irnet/toy/irnet_r18-quarter-os8_20e_toy.py'


def run(args, timeout=600):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, *args] if args[0].endswith('.py') else args, cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f'{args} exited {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}')
    return proc.stdout + proc.stderr


def loader_options(voc, splits=('train', 'val', 'test')):
    opts = [f'{s}_dataloader.dataset.data_root={voc}' for s in splits]
    for s in splits:
        opts += [f'{s}_dataloader.num_workers=0', f'{s}_dataloader.persistent_workers=False']
    return opts


@pytest.fixture(scope='module')
def pipeline(tmp_path_factory):
    from wsseg_mm.toy import generate_toy_benchmark
    root = tmp_path_factory.mktemp('irnet')
    generate_toy_benchmark(str(root), seed=5, image_size=64, num_train=6, num_val=2, videos=False,
                           num_object_images=6, progress=False)
    voc = str(root / 'VOCdevkit' / 'VOC2012')
    work = root / 'work'
    short = ['train_dataloader.batch_size=3', 'max_epochs=1', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
             'param_scheduler.1.end=1', 'default_hooks.checkpoint.interval=1']
    log = run(['tools/train.py', PRE_CFG, '--work-dir', str(work / 'pretrain'), '--cfg-options',
               f'train_dataloader.dataset.data_root={root / "ToyObjects"}', 'train_dataloader.num_workers=0',
               'train_dataloader.persistent_workers=False', *short])
    assert 'loss_cls' in log
    pretrained = str(work / 'pretrain' / 'epoch_1.pth')
    cam_opts = loader_options(voc, ('train', 'val', 'test', 'label')) + short + ['model.test_cfg.scales=[1.0,0.5]',
                                              f'model.backbone.init_cfg.checkpoint={pretrained}']
    log = run(['tools/train.py', CAM_CFG, '--work-dir', str(work / 'cam'), '--cfg-options', *cam_opts])
    assert 'mIoU' in log  # the CAMs are scored through mmseg's IoUMetric at the end of training
    ckpt = str(work / 'cam' / 'epoch_1.pth')
    cams = str(root / 'cams')
    run(['tools/irnet/make_cams.py', CAM_CFG, ckpt, '--out-dir', cams, '--cfg-options', *cam_opts])
    relations = osp.join(voc, 'irnet', 'relations')
    run(['tools/irnet/mine_relations.py', CAM_CFG, '--cam-dir', cams, '--out-dir', relations,
         '--crf-iters', '2', '--cfg-options', *cam_opts])
    irn_opts = loader_options(voc, ('train', 'label')) + [
        'train_dataloader.batch_size=3', 'max_epochs=1', 'train_cfg.max_epochs=1', 'param_scheduler.0.end=1',
        'default_hooks.checkpoint.interval=1', f'model.backbone.init_cfg.checkpoint={ckpt}']
    log = run(['tools/train.py', IRN_CFG, '--work-dir', str(work / 'irnet'), '--cfg-options', *irn_opts])
    assert 'loss_boundary' in log and 'loss_disp_fg' in log
    irn_ckpt = str(work / 'irnet' / 'epoch_1.pth')
    pseudo = str(root / 'pseudo')
    run(['tools/irnet/make_pseudo_labels.py', IRN_CFG, irn_ckpt, '--cam-dir', cams, '--out-dir', pseudo,
         '--exp-times', '4', '--cfg-options', *irn_opts])
    return dict(root=root, voc=voc, cams=cams, relations=relations, cam_opts=cam_opts, irn_opts=irn_opts,
                ckpt=ckpt, irn_ckpt=irn_ckpt, pseudo=pseudo)


def test_stage_outputs(pipeline):
    import numpy as np

    from wsseg_mm.fileio.labels import load_coco_instances, load_label_png
    names = sorted(f[:-4] for f in os.listdir(pipeline['cams']))
    assert len(names) == 6
    cam = np.load(osp.join(pipeline['cams'], names[0] + '.npz'))
    assert cam['high_res'].shape[1:] == (64, 64) and cam['strided'].shape[1:] == (16, 16)
    assert len(cam['keys']) == cam['high_res'].shape[0] > 0
    relation = load_label_png(osp.join(pipeline['relations'], names[0] + '.png'))
    assert relation.shape == (64, 64) and set(np.unique(relation)) <= {0, 255, *cam['keys'].tolist()}
    sem = load_label_png(osp.join(pipeline['pseudo'], 'sem', names[0] + '.png'))
    assert sem.shape == (64, 64) and set(np.unique(sem)) <= {0, *cam['keys'].tolist()}
    instances = load_coco_instances(osp.join(pipeline['pseudo'], 'instances.json'))
    assert len(instances) == 6
    coco = json.load(open(osp.join(pipeline['pseudo'], 'instances.json')))
    assert [c['name'] for c in coco['categories']][0] == 'disc'
    assert all(0 <= a['score'] <= 1 + 1e-6 for a in coco['annotations'])


def test_rerun_skips_finished_images(pipeline):
    log = run(['tools/irnet/make_cams.py', CAM_CFG, pipeline['ckpt'], '--out-dir', pipeline['cams'],
               '--cfg-options', *pipeline['cam_opts']])
    assert '0 written, 6 already done' in log
    os.remove(osp.join(pipeline['cams'], sorted(os.listdir(pipeline['cams']))[0]))
    log = run(['tools/irnet/make_cams.py', CAM_CFG, pipeline['ckpt'], '--out-dir', pipeline['cams'],
               '--cfg-options', *pipeline['cam_opts']])
    assert '1 written, 5 already done' in log


def test_two_processes_write_what_one_writes(pipeline, tmp_path):
    out = str(tmp_path / 'pseudo2')
    run(['bash', '-c', f'{sys.executable} -m torch.distributed.run --nproc_per_node=2 --master_port=29533 '
         f'tools/irnet/make_pseudo_labels.py {IRN_CFG} {pipeline["irn_ckpt"]} --cam-dir {pipeline["cams"]} '
         f'--out-dir {out} --exp-times 4 --launcher pytorch --cfg-options ' + ' '.join(pipeline['irn_opts'])])
    single = pipeline['pseudo']
    names = sorted(os.listdir(osp.join(single, 'sem')))
    assert sorted(os.listdir(osp.join(out, 'sem'))) == names
    match, mismatch, errors = filecmp.cmpfiles(osp.join(single, 'sem'), osp.join(out, 'sem'), names, shallow=False)
    assert not mismatch and not errors
    assert json.load(open(osp.join(single, 'instances.json'))) == json.load(open(osp.join(out, 'instances.json')))


def test_benchmark_prints_the_three_stages(pipeline, tmp_path):
    out = str(tmp_path / 'bench.json')
    log = run(['tools/irnet/benchmark.py', IRN_CFG, pipeline['irn_ckpt'], '--cam-dir', pipeline['cams'],
               '--out', out, '--cfg-options', *pipeline['irn_opts']])
    assert 'CAM + displacement + boundary (IRNet)' in log
    results = json.load(open(out))
    assert results['images'] == 6 and all(0 <= results[m]['mIoU'] <= 100 for m in ('cam', 'cam+boundary', 'irnet'))
    assert 'images with touching same-class instances' in log
    assert 0 <= results['touching_images'] <= 6 and set(results['irnet']['touching']) == {'AP50', 'AP70', 'ABO'}
