"""BBAM end to end on tiny toy data: tools/bbam.py (outputs, resume, 2 processes = 1), BBAMHook after training,
the benchmark and the visualisation tool.

The detector is the toy Faster R-CNN with random weights whose classifier is biased towards the first class, so
boxes of that class have positives (the jittered box itself regresses onto the box) and the others have none:
both paths are exercised.
"""
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch

from wsseg_mm.fileio.labels import load_coco_instances, load_label_png

from conftest import REPO, run_tool

CFG = osp.join(REPO, 'configs/bbam/toy/faster-rcnn_r18-tiny_fpn_20e_toy-bbam.py')
pytestmark = pytest.mark.slow  # runs the BBAM tools, a training run and the benchmark


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    from wsseg_mm.toy import generate_toy_benchmark
    root = str(tmp_path_factory.mktemp('bbam_toy'))
    generate_toy_benchmark(root, seed=1, image_size=64, num_train=6, num_val=2, videos=False, progress=False)
    return root


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    cfg = Config.fromfile(CFG)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
    with torch.no_grad():
        model.roi_head.bbox_head.fc_cls.bias.zero_()
        model.roi_head.bbox_head.fc_cls.bias[0] = 4.0  # always the first class ('disc')
    path = str(tmp_path_factory.mktemp('ckpt') / 'detector.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path


def options(toy_root, out_dir=None, iters=3):
    opts = [f'train_dataloader.dataset.data_root={osp.join(toy_root, "VOCdevkit")}',
            f'custom_hooks.0.explainer.num_iters={iters}', 'custom_hooks.0.explainer.num_proposals=20']
    if out_dir:
        opts.append(f'custom_hooks.0.out_dir={out_dir}')
    return opts


def train_names(toy_root):
    path = osp.join(toy_root, 'VOCdevkit/VOC2012/ImageSets/Segmentation/train.txt')
    return open(path).read().split()


def box_classes(toy_root, name):
    import xml.etree.ElementTree as ET
    root = ET.parse(osp.join(toy_root, 'VOCdevkit/VOC2012/Annotations', name + '.xml')).getroot()
    return [obj.find('name').text for obj in root.iter('object')]


@pytest.fixture(scope='module')
def single(toy_root, checkpoint, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('bbam_single'))
    # one thread, as each of the two processes below gets on 2 cores: a different thread count changes the float
    # summation order, and Adam's normalised steps amplify such differences where a gradient is nearly flat
    log = run_tool([sys.executable, 'tools/bbam.py', CFG, checkpoint, '--cfg-options', *options(toy_root, out)],
                   env_extra=dict(OMP_NUM_THREADS='1'))
    return out, log


def test_outputs_of_every_training_image(toy_root, single):
    out, log = single
    names = train_names(toy_root)
    assert f'BBAM: rank 0/1: {len(names)} written, 0 already done' in log
    instances = load_coco_instances(osp.join(out, 'instances.json'))
    assert sorted(osp.splitext(f)[0] for f in instances) == sorted(names)
    summary = json.load(open(osp.join(out, 'summary.json')))
    classes = [c for n in names for c in box_classes(toy_root, n)]
    assert summary['images'] == len(names) and summary['boxes'] == len(classes)
    # only the boxes of the class the detector always predicts have positives; the others are counted
    assert summary['boxes_without_positives'] == sum(c != 'disc' for c in classes)
    assert 'had no positive proposal' in log
    for name in names:
        data = np.load(osp.join(out, 'attributions', name + '.npz'))
        sem = load_label_png(osp.join(out, 'semantic', name + '.png'))
        assert data['attributions'].shape == (len(box_classes(toy_root, name)), 64, 64)
        assert sem.shape == (64, 64) and set(np.unique(sem)) <= {0, 1, 2, 3, 4, 5, 6, 255}
        # a box without positives stays undecided, never background
        for box, npos in zip(data['boxes'], data['num_positives']):
            if npos == 0:
                x1, y1, x2, y2 = np.round(box).astype(int)
                assert (sem[y1 + 1:y2 - 1, x1 + 1:x2 - 1] != 0).all()
        for inst in instances[name + '.jpg']:
            assert inst['category_id'] == 1 and inst['mask'].any()


def test_rerun_skips_finished_images(toy_root, checkpoint, single):
    out, _ = single
    before = open(osp.join(out, 'instances.json')).read()
    log = run_tool([sys.executable, 'tools/bbam.py', CFG, checkpoint, '--cfg-options', *options(toy_root, out)])
    assert f'0 written, {len(train_names(toy_root))} already done' in log
    assert open(osp.join(out, 'instances.json')).read() == before


def test_two_processes_write_what_one_writes(toy_root, checkpoint, single, tmp_path):
    out, _ = single
    out2 = str(tmp_path / 'two')
    log = run_tool(['bash', 'tools/dist_bbam.sh', CFG, checkpoint, '2', '--cfg-options', *options(toy_root, out2)],
                   env_extra=dict(PYTHON=sys.executable, PORT='29519', OMP_NUM_THREADS='1'))
    assert 'rank 0/2' in log  # rank 1 logs only errors, as OpenMMLab's loggers do
    assert json.load(open(osp.join(out2, 'instances.json'))) == json.load(open(osp.join(out, 'instances.json')))
    for name in train_names(toy_root):
        assert open(osp.join(out2, 'semantic', name + '.png'), 'rb').read() == \
            open(osp.join(out, 'semantic', name + '.png'), 'rb').read()
        a, b = (np.load(osp.join(d, 'attributions', name + '.npz')) for d in (out, out2))
        np.testing.assert_array_equal(a['attributions'], b['attributions'])


def test_image_read_once_gives_what_the_pipeline_gives(toy_root):
    from mmengine.config import Config

    from wsseg_mm.apis.bbam import bbam_settings, build_bbam_dataset, load_sample
    cfg = Config.fromfile(CFG)
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': osp.join(toy_root, 'VOCdevkit')})
    dataset = build_bbam_dataset(cfg, bbam_settings(cfg))
    sample, rgb = load_sample(dataset, 1)
    reference = dataset[1]
    assert torch.equal(sample['inputs'], reference['inputs']) and rgb.shape == (64, 64, 3)
    assert torch.equal(sample['data_samples'].gt_instances.bboxes.tensor,
                       reference['data_samples'].gt_instances.bboxes.tensor)
    assert sample['data_samples'].img_path == reference['data_samples'].img_path


def test_hook_generates_after_training(toy_root, tmp_path):
    """The hook with its default pipeline (pipeline=None: the training pipeline, which flips at random) explains
    every image as annotated: RandomFlip is dropped with a warning, and every saved box is its annotation."""
    from mmengine.config import Config

    from wsseg_mm.apis.bbam import build_bbam_dataset, merge_bbam_settings
    work = str(tmp_path / 'train')
    out = str(tmp_path / 'hook_out')
    log = run_tool([sys.executable, 'tools/train.py', CFG, '--work-dir', work, '--cfg-options',
                    *options(toy_root, out, iters=2), 'custom_hooks.0.limit=8', 'custom_hooks.0.pipeline=None',
                    'train_dataloader.batch_size=4', 'randomness.seed=0',
                    f'val_dataloader.dataset.data_root={osp.join(toy_root, "VOCdevkit")}',
                    f'test_dataloader.dataset.data_root={osp.join(toy_root, "VOCdevkit")}',
                    'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
                    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
                    'train_cfg.max_epochs=1', 'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=1'])
    names = train_names(toy_root)
    assert 'BBAM: explaining' in log and f'BBAM: rank 0/1: {len(names)} written' in log
    assert 'dropped RandomFlip' in log
    assert len(load_coco_instances(osp.join(out, 'instances.json'))) == len(names)
    # the annotations in original pixels, as the dataset reads them (the config's own BBAM pipeline: no flip)
    cfg = Config.fromfile(CFG)
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': osp.join(toy_root, 'VOCdevkit')})
    dataset = build_bbam_dataset(cfg, merge_bbam_settings(dict(pipeline=cfg.bbam_pipeline)))
    assert len(dataset) == len(names)
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        name = osp.splitext(osp.basename(info['img_path']))[0]
        annotated = np.array([inst['bbox'] for inst in info['instances'] if not inst.get('ignore_flag', 0)],
                             np.float32).reshape(-1, 4)
        saved = np.load(osp.join(out, 'attributions', name + '.npz'))['boxes']
        np.testing.assert_allclose(saved, annotated, atol=0.5, err_msg=name)


def test_benchmark_and_visualisation(toy_root, checkpoint, single, tmp_path):
    bench = str(tmp_path / 'bench')
    result = str(tmp_path / 'bench.json')
    log = run_tool([sys.executable, 'tools/bbam_tools/benchmark.py', CFG, checkpoint, '--out-dir', bench, '--limit',
                    '3', '--speed-images', '1', '--out', result, '--cfg-options', *options(toy_root)])
    figures = json.load(open(result))
    methods = figures['methods']
    expected = ['box-fill', 'box-fill (explained boxes)', 'GrabCut', 'GrabCut (explained boxes)'] + [
        f'BBAM ({h}){s}' for h in ('both', 'box', 'cls') for s in ('', ' + CRF', ' + proposals', ' + CRF + proposals')]
    assert list(methods) == expected
    assert all(0 <= methods[m]['mIoU'] <= 100 and 0 <= methods[m]['AP50'] <= 100 for m in expected)
    # box-fill leaves undecided only where boxes of different classes overlap
    assert 90 < methods['box-fill']['labelled'] < 100 and methods['box-fill']['instances'] == figures['gt_instances']
    assert figures['speed']['speedup'] > 0 and 'one box at a time' in log
    pictures = str(tmp_path / 'vis')
    single_out, _ = single
    run_tool([sys.executable, 'tools/bbam_tools/visualize.py', single_out, '--out-dir', pictures, '--img-dir',
              osp.join(toy_root, 'VOCdevkit/VOC2012/JPEGImages'), '--max', '2'])
    assert len([p for p in __import__('os').listdir(pictures) if p.endswith('.png')]) == 2


def test_the_per_image_function_gives_what_the_tool_wrote(toy_root, single, tmp_path):
    """Stage 2 of BBAM (bbam_image_labels), which the benchmark calls for its ablations, is what tools/bbam.py
    wrote from the same attributions."""
    from mmengine.config import Config

    from wsseg_mm import apis
    out, _ = single
    settings = apis.bbam_settings(Config.fromfile(CFG))  # post-processing as the tool's run: the config's
    classes = [c['name'] for c in json.load(open(osp.join(out, 'instances.json')))['categories']]
    for name in train_names(toy_root)[:2]:
        image = apis.read_rgb(osp.join(toy_root, 'VOCdevkit/VOC2012/JPEGImages', name + '.jpg'))
        result = apis.load_attributions(osp.join(out, 'attributions', name + '.npz'))
        proposals = apis.load_proposals(settings['proposals'], image, name, name + '.jpg')
        labels = apis.bbam_image_labels(result, image, settings, proposals)
        np.testing.assert_array_equal(labels['semantic'], load_label_png(osp.join(out, 'semantic', name + '.png')))
        fragment = str(tmp_path / f'{name}.json')
        apis.write_coco_fragment(fragment, classes, name + '.jpg', image.shape[:2], labels['instances'])
        assert open(fragment).read() == open(osp.join(out, 'instances', name + '.json')).read()
