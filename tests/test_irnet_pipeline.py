"""IRNet end to end on a tiny toy benchmark with the real tools: pretrain on object images -> train CAM -> CAMs ->
relations -> train IRNet -> label synthesis -> benchmark; resumable runs skip finished images; two processes write what
one writes."""
import filecmp
import json
import os
import os.path as osp
import sys

import pytest

from conftest import run_tool

PRE_CFG = 'configs/irnet/toy/pretrain_r18-quarter-os8_8e_toy-objects.py'
CAM_CFG = 'configs/irnet/toy/cam_r18-quarter-os8_80e_toy.py'
IRN_CFG = 'configs/irnet/toy/irnet_r18-quarter-os8_20e_toy.py'


ONE_THREAD = dict(OMP_NUM_THREADS='1')
pytestmark = pytest.mark.slow  # trains three models and runs every IRNet tool


def last_checkpoint(work_dir):
    """The checkpoint a run saved last, as tools/irnet/run_toy.sh finds it (mmengine's ``last_checkpoint`` file)."""
    path = (work_dir / 'last_checkpoint').read_text().strip()
    assert osp.isfile(path), path
    return path


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
    log = run_tool(['tools/train.py', PRE_CFG, '--work-dir', str(work / 'pretrain'), '--cfg-options',
                    f'train_dataloader.dataset.data_root={root / "ToyObjects"}', 'train_dataloader.num_workers=0',
                    'train_dataloader.persistent_workers=False', *short], env_extra=ONE_THREAD)
    assert 'loss_cls' in log
    pretrained = last_checkpoint(work / 'pretrain')
    cam_opts = loader_options(voc, ('train', 'val', 'test', 'label')) + short + ['model.test_cfg.scales=[1.0,0.5]',
                                              f'model.backbone.init_cfg.checkpoint={pretrained}']
    log = run_tool(['tools/train.py', CAM_CFG, '--work-dir', str(work / 'cam'), '--cfg-options', *cam_opts],
                   env_extra=ONE_THREAD)
    assert 'mIoU' in log  # the CAMs are scored through mmseg's IoUMetric at the end of training
    ckpt = last_checkpoint(work / 'cam')
    cams = str(root / 'cams')
    run_tool(['tools/irnet/make_cams.py', CAM_CFG, ckpt, '--out-dir', cams, '--cfg-options', *cam_opts],
             env_extra=ONE_THREAD)
    relations = osp.join(voc, 'irnet', 'relations')
    run_tool(['tools/irnet/mine_relations.py', CAM_CFG, '--cam-dir', cams, '--out-dir', relations,
              '--crf-iters', '2', '--cfg-options', *cam_opts], env_extra=ONE_THREAD)
    irn_opts = loader_options(voc, ('train', 'label')) + [
        'train_dataloader.batch_size=3', 'max_epochs=1', 'train_cfg.max_epochs=1', 'param_scheduler.0.end=1',
        'default_hooks.checkpoint.interval=1', f'model.backbone.init_cfg.checkpoint={ckpt}']
    log = run_tool(['tools/train.py', IRN_CFG, '--work-dir', str(work / 'irnet'), '--cfg-options', *irn_opts],
                   env_extra=ONE_THREAD)
    assert 'loss_boundary' in log and 'loss_disp_fg' in log
    irn_ckpt = last_checkpoint(work / 'irnet')
    pseudo = str(root / 'pseudo')
    run_tool(['tools/irnet/make_pseudo_labels.py', IRN_CFG, irn_ckpt, '--cam-dir', cams, '--out-dir', pseudo,
              '--exp-times', '4', '--cfg-options', *irn_opts], env_extra=ONE_THREAD)
    return dict(root=root, voc=voc, cams=cams, relations=relations, cam_opts=cam_opts, irn_opts=irn_opts,
                ckpt=ckpt, irn_ckpt=irn_ckpt, pseudo=pseudo)


def test_stage_outputs(pipeline):
    import numpy as np

    from wsseg_mm.fileio.labels import load_coco_instances, load_label_png
    names = sorted(f[:-4] for f in os.listdir(pipeline['cams']) if f.endswith('.npz'))
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
    log = run_tool(['tools/irnet/make_cams.py', CAM_CFG, pipeline['ckpt'], '--out-dir', pipeline['cams'],
                    '--cfg-options', *pipeline['cam_opts']], env_extra=ONE_THREAD)
    assert '0 written, 6 already done' in log
    os.remove(osp.join(pipeline['cams'], sorted(f for f in os.listdir(pipeline['cams']) if f.endswith('.npz'))[0]))
    log = run_tool(['tools/irnet/make_cams.py', CAM_CFG, pipeline['ckpt'], '--out-dir', pipeline['cams'],
                    '--cfg-options', *pipeline['cam_opts']], env_extra=ONE_THREAD)
    assert '1 written, 5 already done' in log


def test_two_processes_write_what_one_writes(pipeline, tmp_path):
    out = str(tmp_path / 'pseudo2')
    run_tool(['bash', '-c', f'{sys.executable} -m torch.distributed.run --nproc_per_node=2 --master_port=29533 '
              f'tools/irnet/make_pseudo_labels.py {IRN_CFG} {pipeline["irn_ckpt"]} --cam-dir {pipeline["cams"]} '
              f'--out-dir {out} --exp-times 4 --launcher pytorch --cfg-options ' + ' '.join(pipeline['irn_opts'])],
             env_extra=ONE_THREAD)
    single = pipeline['pseudo']
    names = sorted(os.listdir(osp.join(single, 'sem')))
    assert sorted(os.listdir(osp.join(out, 'sem'))) == names
    match, mismatch, errors = filecmp.cmpfiles(osp.join(single, 'sem'), osp.join(out, 'sem'), names, shallow=False)
    assert not mismatch and not errors
    assert json.load(open(osp.join(single, 'instances.json'))) == json.load(open(osp.join(out, 'instances.json')))


def test_benchmark_prints_the_three_stages(pipeline, tmp_path):
    out = str(tmp_path / 'bench.json')
    log = run_tool(['tools/irnet/benchmark.py', IRN_CFG, pipeline['irn_ckpt'], '--cam-dir', pipeline['cams'],
                    '--out', out, '--cfg-options', *pipeline['irn_opts']], env_extra=ONE_THREAD)
    assert 'CAM + displacement + boundary (IRNet)' in log
    results = json.load(open(out))
    assert results['images'] == 6 and all(0 <= results[m]['mIoU'] <= 100 for m in ('cam', 'cam+boundary', 'irnet'))
    assert 'images with touching same-class instances' in log
    assert 0 <= results['touching_images'] <= 6 and set(results['irnet']['touching']) == {'AP50', 'AP70', 'ABO'}


@pytest.fixture
def one_thread():
    """In-process runs on one thread, as the tools' runs above (the sparse products' sums in the same order)."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def irnet_cfg(pipeline):
    import argparse

    from mmengine.config import DictAction

    from wsseg_mm.apis import load_cfg

    from conftest import REPO
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    options = parser.parse_args(['--cfg-options', *pipeline['irn_opts']]).cfg_options
    return load_cfg(osp.join(REPO, IRN_CFG), options)


def test_the_per_image_function_gives_what_the_tool_wrote(pipeline, tmp_path, one_thread):
    import numpy as np

    from wsseg_mm import apis
    from wsseg_mm.fileio.labels import load_label_png
    cfg = irnet_cfg(pipeline)
    settings = apis.label_synthesis_settings(cfg, exp_times=4)  # as the tool's run (--exp-times 4)
    model = apis.init_model(cfg, pipeline['irn_ckpt'])
    dataset = apis.build_split_dataset(cfg, 'label')
    for i in range(2):
        info = dataset.get_data_info(i)
        name = apis.image_name(info)
        result = apis.irnet_pseudo_labels(model, dataset[i], apis.load_cams(pipeline['cams'], name), settings)
        np.testing.assert_array_equal(result['semantic'],
                                      load_label_png(osp.join(pipeline['pseudo'], 'sem', name + '.png')))
        fragment = str(tmp_path / f'{name}.json')
        apis.write_coco_fragment(fragment, dataset.metainfo['classes'][1:], osp.basename(info['img_path']),
                                 result['size'], result['instances'])
        assert open(fragment).read() == open(osp.join(pipeline['pseudo'], 'ins', name + '.json')).read()
        # and what the benchmark and the pictures take from it
        k, (h, w) = len(result['labels']), result['strided'].shape[-2:]
        assert result['boundary'].shape == (h, w) and result['displacement'].shape == (2, h, w)
        assert result['walked'].shape == (k, *result['size']) and result['cam_semantic'].shape == result['size']
        assert result['instance_semantic'].shape == result['size'] and result['walk_seconds'] >= 0


def test_tools_benchmark_and_pictures_call_the_same_per_image_function(pipeline, tmp_path, monkeypatch, one_thread):
    import importlib.util

    import wsseg_mm.apis
    import wsseg_mm.apis.irnet

    from conftest import REPO
    calls = []
    original = wsseg_mm.apis.irnet.irnet_pseudo_labels

    def counting(*args, **kwargs):
        calls.append(args[1]['data_samples'].img_path)
        return original(*args, **kwargs)

    monkeypatch.setattr(wsseg_mm.apis.irnet, 'irnet_pseudo_labels', counting)
    monkeypatch.setattr(wsseg_mm.apis, 'irnet_pseudo_labels', counting)

    def tool(path):  # a fresh copy of the tool module, which imports the counting function
        spec = importlib.util.spec_from_file_location('tool_' + osp.basename(path)[:-3], osp.join(REPO, path))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.main

    common = [osp.join(REPO, IRN_CFG), pipeline['irn_ckpt'], '--cam-dir', pipeline['cams']]
    options = ['--cfg-options', *pipeline['irn_opts']]
    out = str(tmp_path / 'pseudo')
    tool('tools/irnet/make_pseudo_labels.py')(common + ['--out-dir', out, '--exp-times', '4'] + options)
    assert len(calls) == 6
    names = sorted(os.listdir(osp.join(pipeline['pseudo'], 'sem')))
    _, mismatch, errors = filecmp.cmpfiles(osp.join(pipeline['pseudo'], 'sem'), osp.join(out, 'sem'), names,
                                           shallow=False)
    assert not mismatch and not errors  # in-process through the API = the tool's run
    # the same instances; scores equal up to float32 rounding (summation order may differ between processes)
    ours, tools = (json.load(open(osp.join(d, 'instances.json'))) for d in (out, pipeline['pseudo']))
    assert [{k: v for k, v in a.items() if k != 'score'} for a in ours['annotations']] == \
        [{k: v for k, v in a.items() if k != 'score'} for a in tools['annotations']]
    assert [a['score'] for a in ours['annotations']] == pytest.approx([a['score'] for a in tools['annotations']],
                                                                       rel=1e-5)
    assert {k: v for k, v in ours.items() if k != 'annotations'} == \
        {k: v for k, v in tools.items() if k != 'annotations'}
    tool('tools/irnet/benchmark.py')(common + ['--max-images', '2', '--scan', '--out', str(tmp_path / 'b.json')]
                                     + options)
    assert len(calls) == 8
    tool('tools/irnet/visualize.py')(common + ['--max', '2', '--out-dir', str(tmp_path / 'vis')] + options)
    assert len(calls) == 10 and len(os.listdir(tmp_path / 'vis')) == 2
