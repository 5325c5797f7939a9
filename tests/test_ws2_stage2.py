"""WS^2 Stage 2's selection of PA frames (wsseg_mm/apis/ws2.py, select_pa; tools/ws2/select_pa.py) on tiny data:
region patches by hand, D's training on separable patches, the actor classifier's vote, the selection file that
A2DPseudoFrameDataset reads."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from wsseg_mm.apis import WS2_SELECT_DEFAULTS, select_pa, ws2_select_settings
from wsseg_mm.apis.ws2 import actor_hits, discriminator_scores, train_discriminator, video_region_patches
from wsseg_mm.datasets import A2DPseudoFrameDataset
from wsseg_mm.fileio.labels import save_label_png
from wsseg_mm.functional.metrics import A2D_LABEL_TO_ACTOR

from conftest import REPO, run_tool

H, W = 24, 32
NUM_FRAMES = 3
# video -> PA label of frames 1 and 2 (a 6x6 square); frame 3's PA is empty (never selected)
VIDEOS = {'v0': 1, 'v1': 10, 'v2': 1, 'v3': 20}


def _settings(**overrides):
    return ws2_select_settings(None, **dict(dict(patch_size=32, actor_patch_size=32, epochs=2, batch_size=8,
                                                 base_channels=8), **overrides))


def test_settings_layers_and_errors():
    assert ws2_select_settings() == WS2_SELECT_DEFAULTS
    assert WS2_SELECT_DEFAULTS['patch_size'] == 64 and WS2_SELECT_DEFAULTS['lr'] == 2e-4
    assert WS2_SELECT_DEFAULTS['folds'] == 2 and WS2_SELECT_DEFAULTS['threshold'] == 0.5
    assert ws2_select_settings(dict(ws2_select=dict(epochs=3)), epochs=None)['epochs'] == 3
    assert ws2_select_settings(dict(ws2_select=dict(epochs=3)), epochs=4)['epochs'] == 4
    with pytest.raises(KeyError, match='ws2_select: unknown keys'):
        ws2_select_settings(dict(ws2_select=dict(epoch=3)))
    with pytest.raises(ValueError, match='folds'):
        ws2_select_settings(folds=1)
    with pytest.raises(ValueError, match='patch_size'):
        ws2_select_settings(patch_size=0)


def test_region_patches_by_hand():
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (8, 10, 3), dtype=np.uint8) for _ in range(2)]
    labels = [np.zeros((8, 10), np.int64) for _ in range(2)]
    labels[0][2:6, 3:7] = 5  # a 4x4 region of class 5 whose top-left pixel is background
    labels[0][2, 3] = 0
    settings = _settings(patch_size=4, actor_patch_size=4)
    out = video_region_patches(frames, labels, settings, seed=0)
    assert out['frames'].tolist() == [0] and out['classes'].tolist() == [5] and out['has_fake'].tolist() == [True]
    real = frames[0][2:6, 3:7]
    np.testing.assert_array_equal(out['real'][0], real)  # the tight square, at its own size
    fake = out['fake'][0]
    # the region's 15 pixels are pasted; the 16th comes from a PA-free 4x4 window of one of the two frames
    inside = labels[0][2:6, 3:7] == 5
    np.testing.assert_array_equal(fake[inside], real[inside])
    windows = [f[y:y + 4, x:x + 4][0, 0] for f, lab in zip(frames, labels) for y in range(5) for x in range(7)
               if not lab[y:y + 4, x:x + 4].any()]
    assert any((fake[0, 0] == w).all() for w in windows)
    np.testing.assert_array_equal(out['actor'][0], fake)
    # PA everywhere: no background patch, so no cut-and-paste patch
    full = [np.full((8, 10), 5, np.int64)]
    out = video_region_patches(frames[:1], full, settings, seed=0)
    assert out['has_fake'].tolist() == [False] and out['real'].shape == (1, 4, 4, 3)
    # no region at all
    out = video_region_patches(frames[:1], [np.zeros((8, 10), np.int64)], settings)
    assert out['frames'].shape == (0, ) and out['real'].shape == (0, 4, 4, 3) and out['actor'].shape == (0, 4, 4, 3)


def test_discriminator_learns_separable_patches():
    """Real patches bright, cut-and-paste patches dark: after training D tells them apart (held-out patches)."""
    rng = np.random.default_rng(0)

    def patches(low, high, n):
        return rng.integers(low, high, (n, 32, 32, 3)).astype(np.uint8)

    settings = _settings(epochs=30, lr=1e-3)
    real, fake = patches(180, 255, 16), patches(0, 75, 16)
    model, losses = train_discriminator(real, fake, settings)
    assert losses[-1] < losses[0]
    held_real, held_fake = discriminator_scores(model, patches(180, 255, 8)), discriminator_scores(model,
                                                                                                  patches(0, 75, 8))
    assert (held_real > 0.5).all() and (held_fake < 0.5).all()
    # seeded: the same losses again
    assert train_discriminator(real, fake, settings)[1] == losses
    with pytest.raises(ValueError, match='real and cut-and-paste patches'):
        train_discriminator(patches(0, 1, 2), patches(0, 1, 0), settings)


def _actor_recognizer(actor: int):
    """A tiny mmaction Recognizer2D whose head always predicts ``actor`` (zero weights, one-hot bias)."""
    from mmaction.registry import MODELS
    from mmengine.registry import DefaultScope

    import wsseg_mm  # noqa: F401
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(dict(
            type='Recognizer2D', backbone=dict(type='ResNet', depth=18, pretrained=None),
            cls_head=dict(type='TSNHead', num_classes=7, in_channels=512),
            data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                                   std=[58.395, 57.12, 57.375], format_shape='NCHW')))
    with torch.no_grad():
        model.cls_head.fc_cls.weight.zero_()
        model.cls_head.fc_cls.bias.zero_()
        model.cls_head.fc_cls.bias[actor] = 1.0
    return model.eval()


def test_actor_hits():
    model = _actor_recognizer(3)
    patches = np.random.default_rng(0).integers(0, 255, (5, 32, 32, 3), dtype=np.uint8)
    assert actor_hits(model, patches, np.array([3, 0, 3, 6, 2]), batch_size=2).tolist() == [True, False, True,
                                                                                           False, False]
    assert actor_hits(model, patches[:0], np.zeros(0, np.int64)).shape == (0, )


@pytest.fixture(scope='module')
def pa_videos(tmp_path_factory):
    """A2D layout of VIDEOS (random 24x32 frames, no ground truth) and a PA version ``pa`` of frames 1-3."""
    root = tmp_path_factory.mktemp('ws2_stage2') / 'Release'
    rng = np.random.default_rng(0)
    rows = []
    for number, (vid, label) in enumerate(VIDEOS.items()):
        os.makedirs(root / 'pngs320H' / vid)
        for t in range(1, NUM_FRAMES + 1):
            Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8)).save(root / 'pngs320H' / vid /
                                                                                    f'{t:05d}.png')
            pa = np.zeros((H, W), np.uint8)
            if t < NUM_FRAMES:
                pa[4 + 2 * t:10 + 2 * t, 5 + number:11 + number] = label
            save_label_png(str(root / 'pa' / vid / f'{t:05d}.png'), pa)
        rows.append(f'{vid},11,0,1,{H},{W},{NUM_FRAMES},0,0')
    (root / 'videoset.csv').write_text('\n'.join(rows) + '\n')
    return str(root)


def _dataset(root, **kwargs):
    return A2DPseudoFrameDataset(data_root=root, pa_dir='pa', pipeline=[], **kwargs)


def test_select_pa_writes_what_the_dataset_reads(pa_videos, tmp_path):
    nonempty = [f'{v}/{t:05d}' for v in VIDEOS for t in range(1, NUM_FRAMES)]
    # threshold 0: D passes every region, so every frame with a region is selected, no empty PA
    out = str(tmp_path / 'all.txt')
    summary = select_pa(_dataset(pa_videos), _actor_recognizer(0), out, _settings(threshold=0.0))
    assert open(out).read().split() == nonempty
    assert summary == json.load(open(out + '.json'))
    assert (summary['frames'], summary['selected'], summary['regions'], summary['by_d']) == (12, 8, 8, 8)
    assert summary['videos'] == 4 and summary['without_fake'] == 0 and len(summary['d_final_loss']) == 2
    assert summary['fraction'] == pytest.approx(8 / 12)
    # the classifier predicts the actor of label 10 only: those regions pass by it, whatever D says
    actor = int(A2D_LABEL_TO_ACTOR[10]) - 1
    assert A2D_LABEL_TO_ACTOR[1] != A2D_LABEL_TO_ACTOR[10] != A2D_LABEL_TO_ACTOR[20]
    out = str(tmp_path / 'strict.txt')
    summary = select_pa(_dataset(pa_videos), _actor_recognizer(actor), out, _settings(threshold=1.0))
    assert summary['by_classifier'] == 2 and summary['passed'] >= 2
    selected = open(out).read().split()
    assert {'v1/00001', 'v1/00002'} <= set(selected) <= set(nonempty)
    assert len(selected) == summary['selected']
    # A2DPseudoFrameDataset reads the file (absolute path)
    dataset = _dataset(pa_videos, selection=out)
    assert [dataset.get_data_info(i)['frame_id'] for i in range(len(dataset))] == selected


def test_select_pa_needs_a_video_per_fold(pa_videos, tmp_path):
    with pytest.raises(ValueError, match='cannot be split into ws2_select.folds'):
        select_pa(_dataset(pa_videos, video_list=['v0']), _actor_recognizer(0), str(tmp_path / 's.txt'),
                  _settings())


@pytest.mark.slow
def test_select_pa_tool(pa_videos, tmp_path):
    """tools/ws2/select_pa.py on the toy segmenter config pointed at the tiny PA version, with an actor checkpoint
    saved here."""
    model = _actor_recognizer(int(A2D_LABEL_TO_ACTOR[1]) - 1)
    checkpoint = str(tmp_path / 'actor.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    actor_config = tmp_path / 'actor.py'
    actor_config.write_text(
        "default_scope = 'mmaction'\ncustom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)\n"
        "model = dict(type='Recognizer2D', backbone=dict(type='ResNet', depth=18, pretrained=None),\n"
        "             cls_head=dict(type='TSNHead', num_classes=7, in_channels=512),\n"
        "             data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],\n"
        "                                    std=[58.395, 57.12, 57.375], format_shape='NCHW'))\n")
    out = str(tmp_path / 'selection.txt')
    log = run_tool([osp.join(REPO, 'tools', 'ws2', 'select_pa.py'),
                    osp.join(REPO, 'configs', 'ws2', 'toy', 'deeplabv2_r18-quarter-os8_700it_toy-pa.py'),
                    str(actor_config), checkpoint, '--out', out, '--device', 'cpu', '--cfg-options',
                    f'train_dataloader.dataset.data_root={pa_videos}', 'train_dataloader.dataset.pa_dir=pa',
                    'train_dataloader.dataset.video_list=None', 'ws2_select.epochs=1', 'ws2_select.patch_size=32',
                    'ws2_select.actor_patch_size=32', 'ws2_select.threshold=1.0'],
                   env_extra=dict(OMP_NUM_THREADS='1'))
    summary = json.loads(log.strip().splitlines()[-1])
    assert summary['frames'] == 12 and summary['by_classifier'] == 4  # the label-1 regions of v0 and v2
    assert {'v0/00001', 'v0/00002', 'v2/00001', 'v2/00002'} <= set(open(out).read().split())
