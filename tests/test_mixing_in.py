"""Mixing wsseg_mm into stock OpenMMLab configs and tools as a new user does: the README's example as written, the
checks ``import wsseg_mm`` adds to every runner (partial labels with a loss averaged over all pixels; a data root
that reaches no dataset), the errors that name the key to set, and BBAM's deterministic pipeline."""
import os.path as osp
import re
import sys
import warnings

import numpy as np
import pytest
import torch

import wsseg_mm  # noqa: F401

from conftest import REPO, run_tool, write_palette_png

SCRIBBLE_FCN = osp.join(REPO, 'configs/toy/fcn_r18-tiny_1k_toy-scribble.py')
STOCK_MMSEG_TRAIN = osp.join(osp.dirname(__import__('mmseg').__file__), '.mim', 'tools', 'train.py')


def readme_example() -> str:
    """The first python block of the README's "Using it from your own configs", as written."""
    text = open(osp.join(REPO, 'README.md')).read()
    section = text[text.index('## Using it from your own configs'):]
    return re.search(r'```python\n(.*?)```', section, re.S).group(1)


@pytest.fixture(scope='module')
def miniature(tmp_path_factory):
    from wsseg_mm.toy import generate_real_miniature
    root = str(tmp_path_factory.mktemp('mini'))
    generate_real_miniature(root, coco=False, a2d=False, yto=False)
    return osp.join(root, 'VOCdevkit', 'VOC2012')


@pytest.mark.slow  # builds DeepLabV3+ R50 and runs a training step at 512 x 512
def test_readme_example_config_trains_as_written(miniature, tmp_path):
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import DATASETS, MODELS, DefaultScope

    from wsseg_mm.compat import adapt_cfg_to_device
    path = tmp_path / 'my_config.py'
    path.write_text(readme_example().replace('path/to/wsseg_mm', REPO))
    cfg = adapt_cfg_to_device(Config.fromfile(str(path)))  # what the tools do without CUDA (SyncBN -> BN)
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': miniature})
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
    torch.manual_seed(0)
    model.train()
    data = model.data_preprocessor(pseudo_collate([dataset[0], dataset[1]]), True)
    losses = model(**data, mode='loss')
    assert data['inputs'].shape[-2:] == (512, 512)
    assert all(torch.isfinite(v).all() for k, v in losses.items() if k.startswith('decode') or k.startswith('aux'))
    # the example trains with partial cross-entropy: the checks have nothing to say about it
    from wsseg_mm.engine.hooks.checks import check_partial_loss
    assert check_partial_loss(model, dataset) == []


def test_partial_labels_with_loss_over_all_pixels_are_found(voc_root, tmp_path):
    from mmengine.config import Config
    from mmengine.registry import DATASETS, MODELS, DefaultScope

    from wsseg_mm.engine.hooks.checks import check_partial_loss, losses_averaged_over_all_pixels
    from wsseg_mm.metainfo import VOC_CLASSES
    cfg = Config.fromfile(SCRIBBLE_FCN)
    cfg.merge_from_dict({'model.decode_head.loss_decode.avg_non_ignore': False})
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
        scribbles = DATASETS.build(dict(type='VOCScribbleDataset', data_root=voc_root, pipeline=[],
                                        data_prefix=dict(img_path='JPEGImages', scribble_path='ScribbleAnnotation/'
                                                         'pascal_2012'), ann_file='ImageSets/Segmentation/train.txt'))
        pseudo_dir = tmp_path / 'pseudo'
        for name in ('a', 'b', 'c'):
            label = np.zeros((20, 30), np.uint8)
            label[:, :12] = 255  # 40% undecided, as pseudo labels leave it
            write_palette_png(str(pseudo_dir / f'{name}.png'), label)

        def seg(prefix):
            return DATASETS.build(dict(type='BaseSegDataset', data_root=voc_root, pipeline=[], img_suffix='.jpg',
                                       seg_map_suffix='.png', metainfo=dict(classes=VOC_CLASSES),
                                       data_prefix=dict(img_path='JPEGImages', seg_map_path=prefix),
                                       ann_file='ImageSets/Segmentation/train.txt'))
        pseudo, full = seg(str(pseudo_dir)), seg('SegmentationClass')
    assert losses_averaged_over_all_pixels(model) == ['model.decode_head.loss_decode.avg_non_ignore']
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        assert check_partial_loss(model, scribbles) == ['model.decode_head.loss_decode.avg_non_ignore']
        assert check_partial_loss(model, scribbles) == ['model.decode_head.loss_decode.avg_non_ignore']
        assert check_partial_loss(model, pseudo) == ['model.decode_head.loss_decode.avg_non_ignore']
        assert check_partial_loss(model, full) == []  # full masks: 3% of 255 on the boundaries
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2  # once per finding, not once per call
    assert 'model.decode_head.loss_decode.avg_non_ignore=True' in messages[0] and 'VOCScribbleDataset' in messages[0]
    assert '40% of the pixels' in messages[1]
    model.decode_head.loss_decode.avg_non_ignore = True
    assert check_partial_loss(model, scribbles) == []


@pytest.mark.slow  # mmseg's own tools/train.py trains two iterations
def test_stock_mmseg_train_warns_about_the_loss_on_scribbles(tmp_path):
    from wsseg_mm.toy import generate_toy_benchmark
    toy = str(tmp_path / 'toy')
    generate_toy_benchmark(toy, seed=0, image_size=64, num_train=4, num_val=2, videos=False, progress=False)
    voc = osp.join(toy, 'VOCdevkit/VOC2012')
    log = run_tool([sys.executable, STOCK_MMSEG_TRAIN, SCRIBBLE_FCN, '--work-dir', str(tmp_path / 'work'),
                    '--cfg-options', f'train_dataloader.dataset.data_root={voc}',
                    f'val_dataloader.dataset.data_root={voc}', f'test_dataloader.dataset.data_root={voc}',
                    'model.decode_head.loss_decode.avg_non_ignore=False', 'train_dataloader.batch_size=2',
                    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
                    'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
                    'train_cfg.max_iters=2', 'train_cfg.val_interval=100', 'param_scheduler.0.end=2',
                    'default_hooks.checkpoint.interval=100'])
    assert 'Iter(train) [2/2]' in log
    key = 'model.decode_head.loss_decode.avg_non_ignore=True'
    assert key in log and 'auxiliary_head' not in log.split(key)[0].rsplit('\n', 1)[-1]
    # the logger line, not a repetition per iteration
    assert sum(key in line for line in log.splitlines() if 'WARNING' in line) == 1


def test_data_root_override_that_reaches_nothing_is_named(tmp_path):
    from mmengine.config import Config

    from wsseg_mm.engine.hooks.checks import check_data_roots
    path = tmp_path / 'mine.py'
    path.write_text(f"_base_ = ['{SCRIBBLE_FCN}']\ntoy_root = '/my/toy'\n")
    cfg = Config.fromfile(str(path))
    assert cfg.train_dataloader.dataset.data_root == 'data/toy/VOCdevkit/VOC2012'  # the override did not reach it
    with pytest.warns(UserWarning, match='toy_root'):
        keys = check_data_roots(cfg)
    assert {'train_dataloader.dataset.data_root', 'val_dataloader.dataset.data_root',
            'test_dataloader.dataset.data_root'} <= set(keys)
    # the override the README documents
    cfg.merge_from_dict({k: '/my/toy/VOCdevkit/VOC2012' for k in keys})
    assert cfg.train_dataloader.dataset.data_root == '/my/toy/VOCdevkit/VOC2012'
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert check_data_roots(cfg) == []
    assert check_data_roots(Config.fromfile(SCRIBBLE_FCN)) == []  # the shipped configs: nothing to say


def test_image_labels_without_num_classes_name_the_key():
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope

    from wsseg_mm.datasets.transforms import PackWeakSegInputs
    results = dict(img=np.zeros((32, 32, 3), np.uint8), img_labels=[2], img_path='x.jpg', ori_shape=(32, 32),
                   img_shape=(32, 32))
    packed = PackWeakSegInputs()(dict(results))
    cfg = Config.fromfile(osp.join(REPO, 'configs/irnet/toy/cam_r18-quarter-os8_80e_toy.py'))
    cfg.model.backbone.init_cfg = None
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    with pytest.raises(ValueError, match=r"PackWeakSegInputs', num_classes=7"):
        model.loss(packed['inputs'][None].float(), [packed['data_samples']])
    with pytest.raises(ValueError, match='set num_classes'):
        PackWeakSegInputs(num_classes=2)(dict(results))
    packed = PackWeakSegInputs(num_classes=7)(dict(results))
    assert packed['data_samples'].gt_img_labels.tolist() == [0, 0, 1, 0, 0, 0, 0]


def test_bbam_pipeline_made_deterministic():
    from wsseg_mm.apis.bbam import deterministic_pipeline
    load, ann = dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True)
    pack = dict(type='PackDetInputs')
    with pytest.warns(UserWarning, match='dropped RandomFlip, PhotoMetricDistortion, RandomResize -> Resize'):
        kept = deterministic_pipeline([load, ann, dict(type='RandomResize', scale=(1333, 800), ratio_range=(0.5, 2),
                                                       keep_ratio=True),
                                       dict(type='RandomFlip', prob=0.5), dict(type='PhotoMetricDistortion'), pack])
    assert kept == [load, ann, dict(type='Resize', scale=(1333, 800), keep_ratio=True), pack]
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # nothing random: no warning, unchanged
        resize = dict(type='Resize', scale=(64, 64), keep_ratio=True)
        assert deterministic_pipeline([load, ann, resize, pack]) == [load, ann, resize, pack]
    with pytest.raises(ValueError, match='LoadAnnotations comes after Resize'):  # a test pipeline's order
        deterministic_pipeline([load, resize, ann, pack])
    with pytest.raises(ValueError, match='loads no boxes'):
        deterministic_pipeline([load, resize, pack])
