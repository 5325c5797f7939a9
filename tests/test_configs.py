"""Every dataset config builds its datasets on the toy benchmark and yields a packed sample."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DATASETS, DefaultScope

import wsseg_mm  # noqa: F401

from conftest import REPO

BASES = osp.join(REPO, 'configs/_base_/datasets')


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    from wsseg_mm.toy import generate_toy_benchmark
    root = str(tmp_path_factory.mktemp('toy'))
    generate_toy_benchmark(root, seed=1, image_size=64, num_train=4, num_val=2, num_train_videos=2,
                           num_test_videos=1, num_frames=16, progress=False)
    return root


def build(cfg_dataset, scope, root):
    cfg = cfg_dataset.copy()
    cfg['data_root'] = cfg['data_root'].replace('data/toy', root)
    with DefaultScope.overwrite_default_scope(scope):
        return DATASETS.build(cfg)


@pytest.mark.parametrize('name,scope,splits,key', [
    ('toy_voc_scribble.py', 'mmseg', ('train', 'val'), 'data_samples'),
    ('toy_voc_image_label.py', 'mmseg', ('train', 'val'), 'data_samples'),
    ('toy_voc_boxes.py', 'mmdet', ('train', 'val'), 'data_samples'),
    ('toy_a2d_video.py', 'mmaction', ('train', 'val'), 'data_samples'),
    ('toy_a2d_frames.py', 'mmseg', ('val', ), 'data_samples'),
])
def test_toy_dataset_configs(toy_root, name, scope, splits, key):
    cfg = Config.fromfile(osp.join(BASES, name))
    for split in splits:
        dataset = build(cfg[f'{split}_dataloader']['dataset'], scope, toy_root)
        assert len(dataset) > 0
        sample = dataset[0]
        assert key in sample and sample['inputs'].ndim >= 3


@pytest.mark.parametrize('name', ['voc12_scribble.py', 'voc12_aug_image_label.py', 'voc12_aug_boxes.py',
                                  'voc12_pseudo_sem.py', 'voc12_pseudo_ins.py', 'a2d_video.py', 'a2d_frames.py'])
def test_real_dataset_configs_parse(name):
    cfg = Config.fromfile(osp.join(BASES, name))
    assert 'train_dataloader' in cfg or 'val_dataloader' in cfg
