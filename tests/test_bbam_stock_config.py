"""BBAMHook mixed into the stock ``mmdet::pascal_voc/faster-rcnn_r50_fpn_1x_voc0712.py`` (a RepeatDataset around a
ConcatDataset of VOC 2007 and VOC 2012), as a user would: every part explained once, without its random flips, and
everything the hook needs checked before training starts.

Data: the miniature of the real VOC 2012 layout (``wsseg_mm.toy.generate_real_miniature``) and a VOC 2007 made of
two of its images under VOC 2007 names; the config's paths are overridden per part (``data_root`` at the top level
of a child config does not reach the parts, see the README's "Using it from your own configs").
"""
import os
import os.path as osp
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

from conftest import REPO

STOCK = 'mmdet::pascal_voc/faster-rcnn_r50_fpn_1x_voc0712.py'


@pytest.fixture(scope='module')
def devkit(tmp_path_factory):
    """``VOCdevkit`` with VOC2012 (miniature; ``ImageSets/Main/bbam.txt`` lists two of its images) and VOC2007 (two
    other miniature images renamed 000005 / 000007)."""
    from wsseg_mm.toy import generate_real_miniature
    root = str(tmp_path_factory.mktemp('voc0712'))
    generate_real_miniature(root, coco=False, a2d=False, yto=False)
    devkit = osp.join(root, 'VOCdevkit')
    voc12 = osp.join(devkit, 'VOC2012')
    names = open(osp.join(voc12, 'ImageSets/Main/trainval.txt')).read().split()
    with open(osp.join(voc12, 'ImageSets/Main/bbam.txt'), 'w') as f:
        f.write('\n'.join(names[:2]) + '\n')
    voc07 = osp.join(devkit, 'VOC2007')
    for sub in ('JPEGImages', 'Annotations', 'ImageSets/Main'):
        os.makedirs(osp.join(voc07, sub))
    for old, new in zip(names[2:4], ('000005', '000007')):
        shutil.copy(osp.join(voc12, 'JPEGImages', old + '.jpg'), osp.join(voc07, 'JPEGImages', new + '.jpg'))
        xml = open(osp.join(voc12, 'Annotations', old + '.xml')).read().replace(old, new)
        open(osp.join(voc07, 'Annotations', new + '.xml'), 'w').write(xml)
    with open(osp.join(voc07, 'ImageSets/Main/trainval.txt'), 'w') as f:
        f.write('000005\n000007\n')
    return devkit


def user_config(tmp_path, hook='dict(type=\'BBAMHook\')'):
    path = tmp_path / 'faster-rcnn_voc0712_bbam.py'
    path.write_text(f"_base_ = ['{STOCK}']\n"
                    "custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)\n"
                    f"custom_hooks = [{hook}]\n")
    return str(path)


def path_options(devkit):
    """The stock config's paths pointed at ``devkit``: each part of the concatenation, val / test."""
    part = 'train_dataloader.dataset.dataset.datasets'
    return [f'{part}.0.data_root={devkit}/', f'{part}.1.data_root={devkit}/',
            f'{part}.1.ann_file=VOC2012/ImageSets/Main/bbam.txt',
            f'val_dataloader.dataset.data_root={devkit}/', f'test_dataloader.dataset.data_root={devkit}/',
            'val_dataloader.dataset.ann_file=VOC2007/ImageSets/Main/trainval.txt']


def annotated_boxes(dataset, index):
    """The boxes an image is trained on (those not ignored: VOC difficult, or under the config's bbox_min_size)."""
    instances = dataset.get_data_info(index)['instances']
    return np.array([inst['bbox'] for inst in instances if not inst.get('ignore_flag', 0)], np.float32).reshape(-1, 4)


def test_bbam_dataset_of_the_stock_voc0712_config(devkit, tmp_path):
    """Each part of the ConcatDataset once (not three times), without RandomFlip (with a warning), and the boxes
    BBAM gets back in original pixels are the annotated ones, for an image of each part."""
    from mmengine.config import Config, DictAction  # noqa: F401

    import wsseg_mm  # noqa: F401
    from wsseg_mm.apis.bbam import bbam_settings, build_bbam_dataset, load_sample
    cfg = Config.fromfile(user_config(tmp_path))
    cfg.merge_from_dict(dict(o.split('=', 1) for o in path_options(devkit)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        dataset = build_bbam_dataset(cfg, bbam_settings(cfg))
    assert any('dropped RandomFlip' in str(w.message) for w in caught)
    assert len(dataset) == 4 and len(dataset.datasets) == 2
    for part in dataset.datasets:
        assert 'RandomFlip' not in [type(t).__name__ for t in part.pipeline.transforms]
    for index in (0, 3):  # VOC 2007, VOC 2012
        sample, rgb = load_sample(dataset, index)
        scale = np.tile(np.asarray(sample['data_samples'].metainfo['scale_factor'], np.float32), 2)
        boxes = sample['data_samples'].gt_instances.bboxes.tensor.numpy() / scale
        np.testing.assert_allclose(boxes, annotated_boxes(dataset, index), atol=0.5)
        assert rgb.shape[:2] == tuple(sample['data_samples'].metainfo['ori_shape'])


def train(config, devkit, work, options):
    """tools/train.py on the stock config (ImageNet init off: offline); returns (exit code, output)."""
    args = [sys.executable, 'tools/train.py', config, '--work-dir', work, '--cfg-options', *path_options(devkit),
            'model.backbone.init_cfg=None', 'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
            'val_dataloader.persistent_workers=False', *options]
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.slow  # builds the stock R50 Faster R-CNN in a subprocess
def test_hook_settings_fail_before_training_on_the_stock_config(devkit, tmp_path):
    """A hook setting that can only fail at the end (a misspelt explainer argument) stops the run before the first
    iteration: no epoch is trained, no checkpoint is written."""
    work = str(tmp_path / 'work')
    code, log = train(user_config(tmp_path), devkit, work, ['custom_hooks.0.explainer.num_iter=2'])
    assert code != 0 and "unexpected keyword argument 'num_iter'" in log, log[-3000:]
    assert 'Epoch(train)' not in log and not any(p.endswith('.pth') for p in os.listdir(work))


@pytest.mark.slow  # explains 4 images with the stock R50 Faster R-CNN (random weights) at 1000 x 600
def test_hook_explains_every_part_of_the_stock_voc0712_training_set(devkit, tmp_path):
    """The hook on the stock config (no training: ``max_epochs=0`` runs straight to after_train) writes one output
    per image of both parts, boxes equal to the annotations."""
    from mmengine.config import Config

    import wsseg_mm  # noqa: F401
    from wsseg_mm.apis.bbam import bbam_settings, build_bbam_dataset
    from wsseg_mm.fileio.labels import load_coco_instances
    work, out = str(tmp_path / 'work'), str(tmp_path / 'bbam')
    config = user_config(tmp_path)
    code, log = train(config, devkit, work, [
        'train_cfg.max_epochs=0', f'custom_hooks.0.out_dir={out}', 'custom_hooks.0.explainer.num_iters=1',
        'custom_hooks.0.explainer.num_proposals=8', 'custom_hooks.0.crf=None'])
    assert code == 0, log[-5000:]
    assert 'dropped RandomFlip' in log and 'BBAM: rank 0/1: 4 written' in log
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(dict(o.split('=', 1) for o in path_options(devkit)))
    dataset = build_bbam_dataset(cfg, bbam_settings(cfg))
    instances = load_coco_instances(osp.join(out, 'instances.json'))  # noqa: F841  (merged without error)
    for index in range(len(dataset)):
        name = osp.splitext(osp.basename(dataset.get_data_info(index)['img_path']))[0]
        saved = np.load(osp.join(out, 'attributions', name + '.npz'))['boxes']
        np.testing.assert_allclose(saved, annotated_boxes(dataset, index), atol=0.5)
