"""WS^2 Stage 1 (PA.v0): the per-frame labels by hand, frame sampling and clip planning by hand, and
``generate_pa`` / ``tools/ws2/make_pa.py`` / ``tools/ws2/gradcam.py`` with tiny random recognizers on a tiny toy A2D
(labels only from tagged pairs, resume, 2 processes = 1)."""
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import wsseg_mm  # noqa: F401  (registration, mmaction compat)
from wsseg_mm.apis import (
    WS2_PA_DEFAULTS,
    build_pa_dataset,
    generate_pa,
    init_model,
    pa_frame_labels,
    tagged_pairs,
    uniform_frames,
    ws2_pa_settings,
    ws2_video_maps,
)
from wsseg_mm.apis.ws2 import VideoFrames, plan_clips
from wsseg_mm.fileio.labels import load_label_png
from wsseg_mm.functional.gradcam import resize_maps
from wsseg_mm.functional.superpixel import slic_superpixels
from wsseg_mm.metainfo import A2D_ACTIONS, A2D_ACTORS, a2d_id_to_label
from wsseg_mm.models import RecognizerGradCAM

from conftest import REPO, output_contents, run_tool

SETTINGS = dict(n_segments=4, compactness=10.0)


# ------------------------------------------------------------------------------------ pa_frame_labels by hand
def quadrant_frame():
    """20x20 frame of four flat colours: SLIC with 4 segments gives the quadrants."""
    frame = np.zeros((20, 20, 3), np.uint8)
    frame[:10, :10] = (200, 30, 30)
    frame[:10, 10:] = (30, 200, 30)
    frame[10:, :10] = (30, 30, 200)
    frame[10:, 10:] = (220, 220, 40)
    return frame


def test_pa_frame_labels_by_hand():
    frame = quadrant_frame()
    superpixels = slic_superpixels(frame, 4, 10.0)
    quadrants = [superpixels[:10, :10], superpixels[:10, 10:], superpixels[10:, :10], superpixels[10:, 10:]]
    assert all(len(np.unique(q)) == 1 for q in quadrants) and len(np.unique(superpixels)) == 4
    # tagged: adult (0), dog (6); walking (7), running (6); pairs adult-walking (18), dog-running (77)
    adult, dog, walking, running, still = (np.zeros((20, 20)) for _ in range(5))
    adult[:8, :10] = 1.0  # 80 of the top-left quadrant's 100 pixels
    adult[10:18, 12:20] = 0.3  # weakly on the dog too
    dog[10:18, 12:20] = 1.0  # 64 of the bottom-right quadrant's pixels
    dog[18:, 12:20] = 0.9
    walking[:8, :10] = 1.0
    running[10:20, 12:20] = 1.0
    pairs = tagged_pairs([0, 6], [7, 6, 8], [18, 77])
    assert pairs == [(0, 0, a2d_id_to_label(18)), (1, 1, a2d_id_to_label(77))]
    settings = ws2_pa_settings(**SETTINGS)
    out = pa_frame_labels(frame, np.stack([adult, dog]), np.stack([walking, running, still]), pairs, settings)
    expected = np.zeros((20, 20), np.uint8)
    expected[:10, :10] = a2d_id_to_label(18)
    expected[10:, 10:] = a2d_id_to_label(77)  # 0.3 * 0.8 + 0 < (0.64 + 0.16 * 0.9) + 0.8 for dog-running
    assert out['labels'].dtype == np.uint8
    np.testing.assert_array_equal(out['labels'], expected)
    init = np.zeros((20, 20), bool)
    init[:8, :10] = init[10:20, 12:20] = True
    np.testing.assert_array_equal(out['init'], init)  # union of the Otsu masks
    np.testing.assert_array_equal(out['refined'], expected > 0)
    np.testing.assert_array_equal(out['superpixels'], superpixels)
    assert out['constant_actor_maps'] == 0 and out['constant_action_maps'] == 1  # `still` is all zero
    assert out['action_masks'].shape == (3, 20, 20) and not out['action_masks'][2].any()
    # beta: a quadrant is 1/4 of the frame; beta = 0.25 keeps none (|p| / |frame| must be below beta)
    none = pa_frame_labels(frame, np.stack([adult, dog]), np.stack([walking, running, still]), pairs,
                           ws2_pa_settings(beta=0.25, **SETTINGS))
    assert not none['labels'].any() and none['init'].sum() == init.sum()
    # alpha: coverage 0.8 of each kept quadrant; alpha 0.8 keeps none (overlap must exceed alpha)
    assert not pa_frame_labels(frame, np.stack([adult, dog]), np.stack([walking, running]), pairs,
                               ws2_pa_settings(alpha=0.8, **SETTINGS))['labels'].any()
    with pytest.raises(ValueError, match='actor_maps must be'):
        pa_frame_labels(frame, adult, np.stack([walking]), pairs, settings)


def test_settings():
    settings = ws2_pa_settings()
    assert {k: settings[k] for k in WS2_PA_DEFAULTS} == WS2_PA_DEFAULTS
    assert settings['frames_per_video'] == 20 and settings['alpha'] == 0.5 and settings['beta'] == 0.4
    assert settings['mode'] == 'coverage' and settings['temporal'] == 'slice' and settings['slice_offset'] == 0
    cfg = Config(dict(ws2_pa=dict(frames_per_video=4), test_dataloader=dict(dataset=dict(pipeline=[
        dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1)]))))
    settings = ws2_pa_settings(cfg, mode='iou', alpha=None)
    assert (settings['frames_per_video'], settings['clip_len'], settings['frame_interval']) == (4, 8, 2)
    assert settings['mode'] == 'iou' and settings['alpha'] == 0.5
    with pytest.raises(KeyError, match='unknown keys'):
        ws2_pa_settings(frames=3)
    with pytest.raises(ValueError, match='ws2_pa.temporal'):
        ws2_pa_settings(temporal='nearest')
    with pytest.raises(ValueError, match='ws2_pa.frames_per_video'):
        ws2_pa_settings(frames_per_video=0)
    with pytest.raises(ValueError, match='tagged actors'):
        tagged_pairs([0], [7], [77])


# --------------------------------------------------------------------------------- frames and clips by hand
def test_uniform_frames():
    assert uniform_frames(16, 4) == [0, 4, 8, 12]  # the toy's annotated frames 1 / 5 / 9 / 13
    assert uniform_frames(10, 4) == [0, 2, 5, 7]
    assert uniform_frames(3, 20) == [0, 1, 2]
    with pytest.raises(ValueError, match='without frames'):
        uniform_frames(0, 4)


def test_plan_clips():
    # toy I3D: 8 frames at interval 2, t' = 4, slice k -> input frame 2k -> video frame start + 4k
    clips = plan_clips(16, [0, 4, 8, 12], 8, 2, [0, 2, 4, 6])
    assert clips == [dict(start=0, serves={0: 0, 4: 1, 8: 2, 12: 3}, frames=[0, 2, 4, 6, 8, 10, 12, 14])]
    # frame 3 fits no clip inside the 16 frames: the slice nearest the centre (k = 1), frames clamped at 0
    assert plan_clips(16, [3], 8, 2, [0, 2, 4, 6]) == [dict(start=-1, serves={3: 1},
                                                           frames=[0, 1, 3, 5, 7, 9, 11, 13])]
    # a long video: frame 20 at the slice nearest the centre (k = 1; ties go to the earlier slice)
    assert plan_clips(40, [20], 8, 2, [0, 2, 4, 6])[0]['start'] == 16
    # interpolate: every input frame carries a map; frame 5 at input 2, the nearest to the centre that fits
    assert plan_clips(16, [5], 8, 2, list(range(8))) == [dict(start=1, serves={5: 2},
                                                             frames=[1, 3, 5, 7, 9, 11, 13, 15])]
    # two clips when one cannot serve both
    assert [c['serves'] for c in plan_clips(16, [0, 1], 8, 2, [0, 2, 4, 6])] == [{0: 0}, {1: 0}]


def test_interpolate_in_two_steps_is_trilinear():
    """Trilinear over time, then bilinear per frame (what ws2_video_maps does) = trilinear at once (mmaction)."""
    maps = torch.rand(2, 4, 3, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    at_once = resize_maps(maps, (8, 12, 20))
    two_steps = resize_maps(resize_maps(maps, (8, 3, 5)), (12, 20))
    torch.testing.assert_close(two_steps, at_once)


# ----------------------------------------------------------------------------------- tiny recognizers + toy A2D
ACTOR_CONFIG = """_base_ = ['{repo}/configs/ws2/toy/tsn_r18-quarter-os8_60e_toy-actor.py']
train_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root='{root}'))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root='{root}'))
test_dataloader = val_dataloader
"""
ACTION_CONFIG = """_base_ = ['{repo}/configs/ws2/toy/i3d_r18-w16_30e_toy-action.py']
model = dict(backbone=dict(base_channels=8), cls_head=dict(in_channels=64))
train_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root='{root}'))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root='{root}'))
test_dataloader = val_dataloader
ws2_pa = dict(frames_per_video=4, n_segments=30)
"""


def random_checkpoint(cfg, path, seed):
    """Random weights with spread eval statistics and class scores (so Grad-CAM maps are not flat)."""
    from mmaction.registry import MODELS
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    torch.nn.init.normal_(model.cls_head.fc_cls.weight, std=0.5)
    torch.save(dict(state_dict=model.state_dict()), path)


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    """4 train + 1 test toy clips of 16 frames at 48 px, the two toy configs pointed at them (a ResNet3d-18 of 8
    base channels), and random checkpoints."""
    folder = tmp_path_factory.mktemp('ws2_pa')
    run_tool(['tools/make_toy_data.py', '--out', folder / 'toy', '--no-images', '--num-train-videos', '4',
              '--num-test-videos', '1', '--size', '48'], env_extra=dict(OMP_NUM_THREADS='1'))
    root = str(folder / 'toy' / 'A2D' / 'Release')
    paths = {}
    for role, text, seed in (('actor', ACTOR_CONFIG, 0), ('action', ACTION_CONFIG, 1)):
        config = folder / f'{role}.py'
        config.write_text(text.format(repo=REPO, root=root))
        checkpoint = folder / f'{role}.pth'
        random_checkpoint(Config.fromfile(str(config)), str(checkpoint), seed)
        paths[role] = (str(config), str(checkpoint))
    return dict(root=root, folder=folder, **paths)


@pytest.fixture(scope='module')
def models(toy, one_torch_thread):
    actor_cfg, action_cfg = (Config.fromfile(toy[r][0]) for r in ('actor', 'action'))
    return dict(actor=init_model(actor_cfg, toy['actor'][1], 'cpu'), action=init_model(action_cfg, toy['action'][1],
                                                                                        'cpu'),
                settings=ws2_pa_settings(action_cfg), dataset=build_pa_dataset(action_cfg, 'train'))


def test_video_maps_shapes_and_normalisation(models):
    info = models['dataset'].get_data_info(0)
    frames = VideoFrames(info['frame_dir'], info['total_frames'])
    indices = uniform_frames(len(frames), 4)
    actors, actions = info['actor_labels'], info['action_labels']
    for temporal in ('slice', 'interpolate'):
        settings = dict(models['settings'], temporal=temporal)
        out = ws2_video_maps(RecognizerGradCAM(models['actor']), RecognizerGradCAM(models['action']), frames, actors,
                             actions, indices, settings)
        assert out['actor_maps'].shape == (4, len(actors), 48, 48)
        assert out['action_maps'].shape == (4, len(actions), 48, 48)
        for maps in (out['actor_maps'], out['action_maps']):
            peaks = maps.reshape(-1, 48 * 48).max(axis=1)
            assert maps.min() >= 0 and np.all((np.abs(peaks - 1) < 1e-6) | (peaks == 0))
        assert len(out['clips']) == 1  # the toy's 16 frames: one clip serves frames 0 / 4 / 8 / 12
    # frames resized for the networks (short side 32): maps still at the frame's size
    small = ws2_video_maps(RecognizerGradCAM(models['actor']), RecognizerGradCAM(models['action']), frames, actors,
                           actions, indices[:2], dict(models['settings'], short_side=32))
    assert small['actor_maps'].shape == (2, len(actors), 48, 48)
    with pytest.raises(FileNotFoundError, match='no frames'):
        VideoFrames(osp.join(info['frame_dir'], 'missing'), 16)
    # slice 0 of the clip is frame 0's map: the same as a clip's Grad-CAM at slice 0, bilinear, / max
    cam = RecognizerGradCAM(models['action'])
    clip = torch.from_numpy(np.stack([frames[i] for i in range(0, 16, 2)])).permute(3, 0, 1, 2).float()[None]
    from mmaction.structures import ActionDataSample
    direct = cam(dict(inputs=[clip], data_samples=[ActionDataSample()]), targets=list(actions), resize='bilinear')
    first = direct.maps[0, :, 0]
    first = first / first.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)
    out = ws2_video_maps(RecognizerGradCAM(models['actor']), cam, frames, actors, actions, indices,
                         models['settings'])
    np.testing.assert_allclose(out['action_maps'][0], first.numpy(), atol=1e-5)  # (parameters frozen meanwhile)
    assert all(p.requires_grad for p in models['action'].parameters())  # ... and restored


def test_generate_pa_labels_from_tagged_pairs_and_resume(toy, models, tmp_path):
    out_dir = str(tmp_path / 'pa')
    args = (models['actor'], models['action'], models['dataset'], out_dir, models['settings'])
    result = generate_pa(*args)
    dataset = models['dataset']
    assert result['counts']['done'] == len(dataset) == 4
    summary = result['summary']
    assert summary['videos'] == 4 and summary['frames'] == 16 and summary['action_clips'] == 4
    with open(osp.join(out_dir, 'summary.json')) as f:
        assert json.load(f) == summary
    foreground = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        allowed = {0} | {a2d_id_to_label(a) for a in info['a2d_ids']}
        names = sorted(os.listdir(osp.join(out_dir, info['video_id'])))
        assert names == ['00001.png', '00005.png', '00009.png', '00013.png']
        for name in names:
            label = load_label_png(osp.join(out_dir, info['video_id'], name))
            assert label.shape == (48, 48) and set(np.unique(label).tolist()) <= allowed
            foreground.append((label > 0).mean())
    assert summary['empty_frames'] == sum(f == 0 for f in foreground)
    assert summary['mean_foreground'] == pytest.approx(np.mean(foreground))
    # resume: nothing to do; one PNG deleted: its video is redone, to the same labels
    assert generate_pa(*args)['counts']['done'] == 0
    victim = osp.join(out_dir, dataset.get_data_info(1)['video_id'], '00009.png')
    before = load_label_png(victim)
    os.remove(victim)
    again = generate_pa(*args)
    assert again['counts']['done'] == 1 and again['summary'] == summary
    np.testing.assert_array_equal(load_label_png(victim), before)
    # other Alg. 2 settings: every video redone; another Grad-CAM setting: refused
    assert generate_pa(*args[:4], dict(models['settings'], beta=0.3))['counts']['done'] == 4
    with pytest.raises(ValueError, match='frames_per_video'):
        generate_pa(*args[:4], dict(models['settings'], frames_per_video=2, beta=0.3))
    # the PA folder is what A2DPseudoFrameDataset reads
    from wsseg_mm.datasets import A2DPseudoFrameDataset
    frames = A2DPseudoFrameDataset(data_root=toy['root'], pa_dir=out_dir, pipeline=[])
    assert len(frames) == 16


def test_generate_pa_checks_the_recognizers(models, tmp_path):
    with pytest.raises(ValueError, match='check the order of the configs'):
        generate_pa(models['action'], models['actor'], models['dataset'], str(tmp_path), models['settings'])
    assert len(A2D_ACTORS) == models['actor'].cls_head.num_classes
    assert len(A2D_ACTIONS) == models['action'].cls_head.num_classes
    with pytest.raises(ValueError, match='clip_len and frame_interval'):
        generate_pa(models['actor'], models['action'], models['dataset'], str(tmp_path), ws2_pa_settings())


# ------------------------------------------------------------------------------------------------------ tools
@pytest.mark.slow
def test_make_pa_two_processes_equal_one_and_gradcam_tool(toy, tmp_path):
    env = dict(OMP_NUM_THREADS='1')
    tool = osp.join(REPO, 'tools', 'ws2', 'make_pa.py')
    common = [*toy['actor'], *toy['action']]
    one = run_tool([tool, *common, '--out-dir', tmp_path / 'one', '--device', 'cpu'], env_extra=env)
    summary = json.loads([line for line in one.splitlines() if line.startswith('{')][-1])
    assert summary['videos'] == 4 and summary['frames'] == 16
    two = run_tool([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port=29563', tool,
                    *common, '--out-dir', tmp_path / 'two', '--device', 'cpu', '--launcher', 'pytorch'],
                   env_extra=env)
    assert 'all 2 ranks: 4 written' in two
    assert output_contents(tmp_path / 'two') == output_contents(tmp_path / 'one')
    again = run_tool([tool, *common, '--out-dir', tmp_path / 'one', '--limit', '2'], env_extra=env)
    assert '0 written, 2 already done' in again
    # Grad-CAM overlays of one video with the action recognizer (3D) and the actor recognizer (2D)
    video = osp.join(toy['root'], 'pngs320H', 'toyv_00000')
    for role, extra in (('action', ['--class', 'none', '--temporal', 'interpolate']), ('actor', [])):
        out = tmp_path / f'cam_{role}'
        log = run_tool([osp.join(REPO, 'tools', 'ws2', 'gradcam.py'), *toy[role], video, '--out-dir', out,
                        '--every', '2', *extra], env_extra=env)
        assert '8 Grad-CAM overlays' in log
        assert sorted(os.listdir(out)) == [f'{i:05d}.png' for i in range(1, 17, 2)] + ['gradcam.gif']
