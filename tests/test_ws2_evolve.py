"""WS^2 Stage 2's loop (wsseg_mm/apis/ws2_evolve.py) on tiny inputs: settings, PA quality and test scores with
action alignment by hand, the prediction of the next PA (Alg. 2, resumable), and Alg. 1's stop rules with the
training replaced by given scores (the real training runs in tests/test_real_configs_ws2.py)."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

from wsseg_mm.apis import a2d_test_scores, pa_quality, predict_pa, read_evolve_state, ws2_evolve_settings
from wsseg_mm.apis import ws2_evolve as api
from wsseg_mm.fileio.labels import load_label_png, save_label_png
from wsseg_mm.functional.metrics import a2d_scores
from wsseg_mm.metainfo import A2D_PAIR_IDS, A2D_SEG_CLASSES
from wsseg_mm.toy.writers import write_a2d_mat

ADULT_WALKING = A2D_SEG_CLASSES.index('adult-walking')
ADULT_RUNNING = A2D_SEG_CLASSES.index('adult-running')
DOG_RUNNING = A2D_SEG_CLASSES.index('dog-running')


def test_settings_layers_and_errors():
    assert ws2_evolve_settings(None)['criterion'] == 'RIC' and ws2_evolve_settings(None)['max_versions'] == 4
    cfg = dict(ws2_evolve=dict(criterion='mIoU_PA', select=False))
    settings = ws2_evolve_settings(cfg, max_versions=2, min_delta=None)
    assert (settings['criterion'], settings['select'], settings['max_versions'], settings['min_delta']) == \
        ('mIoU_PA', False, 2, 0.1)
    with pytest.raises(KeyError, match='unknown keys'):
        ws2_evolve_settings(None, patience=3)
    with pytest.raises(ValueError, match='criterion'):
        ws2_evolve_settings(None, criterion='mIoU')
    with pytest.raises(ValueError, match='max_versions'):
        ws2_evolve_settings(None, max_versions=0)


def test_a2d_test_scores_with_and_without_alignment():
    """One video, two frames of one adult walking; the second frame's prediction says running on 3 of its 4
    pixels, the first says walking on all 4: the clip's majority (walking, 5 of 8) is given to every adult pixel."""
    gt = np.full((2, 2), ADULT_WALKING)
    first = np.full((2, 2), ADULT_WALKING)
    second = np.array([[ADULT_RUNNING, ADULT_RUNNING], [ADULT_RUNNING, ADULT_WALKING]])
    predictions = {'v': [(1, first, gt), (5, second, gt)]}
    aligned = a2d_test_scores(predictions, align=True)
    assert aligned['actor_action_global_acc'] == 100 and aligned['actor_action_mIoU'] == 100
    plain = a2d_test_scores(predictions, align=False)
    assert plain['actor_action_global_acc'] == pytest.approx(100 * 5 / 8)
    # the actor is right everywhere either way; a.-a. IoU by hand: walking 5 / 8, running 0 / 3 -> mean over the
    # classes present (walking, running) = 31.25
    assert plain['actor_mIoU'] == 100 and plain['actor_action_mIoU'] == pytest.approx(100 * (5 / 8 + 0) / 2)
    # videos are aligned separately: a dog in another video keeps its action
    predictions['w'] = [(1, np.full((2, 2), DOG_RUNNING), np.full((2, 2), DOG_RUNNING))]
    assert a2d_test_scores(predictions, align=True)['actor_action_global_acc'] == 100


def _pa_folder(root, labels):
    for (video, frame), label in labels.items():
        save_label_png(osp.join(root, video, f'{frame:05d}.png'), label)


def test_pa_quality_by_hand(tmp_path):
    gt = np.zeros((4, 4), np.uint8)
    gt[:2, :2] = ADULT_WALKING
    mat = str(tmp_path / 'mat' / 'v' / '00001.mat')
    os.makedirs(osp.dirname(mat))
    write_a2d_mat(mat, (gt > 0)[None], [A2D_PAIR_IDS[ADULT_WALKING - 1]])
    pa = np.zeros((4, 4), np.uint8)
    pa[:2, :3] = ADULT_WALKING  # 4 right, 2 false positives
    _pa_folder(str(tmp_path / 'pa'), {('v', 1): pa, ('v', 2): pa})
    infos = [dict(video_id='v', frame_index=1, frame_id='v/00001', a2d_mat_path=mat),
             dict(video_id='v', frame_index=2, frame_id='v/00002', a2d_mat_path=None)]  # no ground truth: skipped
    quality = pa_quality(str(tmp_path / 'pa'), infos)
    from wsseg_mm.datasets.transforms.loading import a2d_label_map
    from wsseg_mm.fileio.annotations import read_a2d_mat
    ann = read_a2d_mat(mat)
    truth = a2d_label_map(ann['masks'], ann['ids'])
    cm = np.zeros((len(A2D_SEG_CLASSES), ) * 2, np.int64)
    np.add.at(cm, (truth.ravel(), pa.ravel().astype(np.int64)), 1)
    assert quality['frames'] == 1
    assert quality['actor_action_mIoU'] == pytest.approx(a2d_scores(cm)['actor_action']['mIoU'])
    assert pa_quality(str(tmp_path / 'pa'), infos, frame_ids=['v/00002']) is None


class _FakeSegmenter(torch.nn.Module):
    """test_step predicts the sample's stored 'pred' map (for predict_pa); its scores are 2 for that class, 1 for
    the stored 'second' map's class, 0 elsewhere."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def test_step(self, data):
        sample = data['data_samples'][0]
        pred = torch.from_numpy(sample.metainfo['pred'])
        logits = 2.0 * torch.nn.functional.one_hot(pred, len(A2D_SEG_CLASSES)).permute(2, 0, 1)
        if 'second' in sample.metainfo:
            logits += torch.nn.functional.one_hot(torch.from_numpy(sample.metainfo['second']),
                                                  len(A2D_SEG_CLASSES)).permute(2, 0, 1)
        sample.pred_sem_seg = PixelData(data=pred[None])
        sample.seg_logits = PixelData(data=logits.float())
        return [sample]


class _FakeFrames:
    """PA frames of two videos: each sample carries a prediction and superpixels (4x4: two 4x2 superpixels)."""

    def __init__(self, preds, tags=None, second=None):
        from mmseg.structures import SegDataSample
        self.infos, self.samples = [], []
        superpixels = np.repeat([[0, 0, 1, 1]], 4, axis=0)
        for (video, frame), pred in preds.items():
            labels = (tags or {}).get(video, sorted(set(np.unique(pred).tolist()) - {0}))
            self.infos.append(dict(video_id=video, frame_index=frame, frame_id=f'{video}/{frame:05d}',
                                   video_labels=labels))
            extra = {} if second is None else dict(second=second[(video, frame)])
            sample = SegDataSample(metainfo=dict(pred=pred, **extra))
            sample.gt_superpixels = PixelData(data=torch.from_numpy(superpixels)[None])
            self.samples.append(dict(inputs=torch.zeros(3, 4, 4), data_samples=sample))

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, i):
        return dict(self.infos[i])

    def __getitem__(self, i):
        return self.samples[i]


def test_predict_pa_refines_with_superpixels_and_resumes(tmp_path):
    pred = np.zeros((4, 4), np.int64)
    pred[:, :2] = ADULT_WALKING      # covers superpixel 0 entirely: kept ... but 8/16 = 0.5 of the frame >= beta
    pred[0, 2] = ADULT_RUNNING       # 1 of superpixel 1's 8 pixels: coverage 1/8 < alpha, dropped
    frames = _FakeFrames({('a', 1): pred, ('a', 3): pred, ('b', 2): np.zeros((4, 4), np.int64)})
    settings = ws2_evolve_settings(None, beta=0.6)
    out = str(tmp_path / 'pa_v1')
    result = predict_pa(_FakeSegmenter(), frames, out, settings)
    expected = np.zeros((4, 4), np.uint8)
    expected[:, :2] = ADULT_WALKING
    assert np.array_equal(load_label_png(osp.join(out, 'a', '00001.png')), expected)
    assert not load_label_png(osp.join(out, 'b', '00002.png')).any()
    assert result['summary'] == dict(videos=2, frames=3, empty_frames=1, mean_foreground=pytest.approx(1 / 3))
    assert result['counts']['done'] == 2
    # beta 0.4 (the default): a superpixel of half the frame is too large, nothing is kept
    with pytest.raises(ValueError, match='--overwrite'):
        predict_pa(_FakeSegmenter(), frames, out, ws2_evolve_settings(None))
    # unrefined: the arg-max itself; a rerun resumes (nothing to do), a missing PNG redoes its video only
    raw = str(tmp_path / 'raw')
    predict_pa(_FakeSegmenter(), frames, raw, ws2_evolve_settings(None, refine=False))
    assert np.array_equal(load_label_png(osp.join(raw, 'a', '00003.png')), pred.astype(np.uint8))
    os.remove(osp.join(raw, 'b', '00002.png'))
    again = predict_pa(_FakeSegmenter(), frames, raw, ws2_evolve_settings(None, refine=False))
    assert (again['counts']['done'], again['counts']['skipped']) == (1, 1)


def test_predict_pa_keeps_background_and_the_video_tags(tmp_path):
    """tags_only (the default): the arg-max over background and the video's tags. Video 'a' is tagged
    adult-walking: pixels predicted adult-running whose second score is adult-walking become adult-walking, those
    whose second score is dog-running (also untagged) become background (0 beats the untagged classes)."""
    pred = np.full((4, 4), ADULT_RUNNING)
    second = np.full((4, 4), DOG_RUNNING)
    second[:, :2] = ADULT_WALKING
    frames = _FakeFrames({('a', 1): pred}, tags={'a': [ADULT_WALKING]}, second={('a', 1): second})
    out = str(tmp_path / 'pa_v1')
    predict_pa(_FakeSegmenter(), frames, out, ws2_evolve_settings(None, refine=False))
    expected = np.zeros((4, 4), np.uint8)
    expected[:, :2] = ADULT_WALKING
    assert np.array_equal(load_label_png(osp.join(out, 'a', '00001.png')), expected)
    # the paper's plain arg-max
    plain = str(tmp_path / 'plain')
    predict_pa(_FakeSegmenter(), frames, plain, ws2_evolve_settings(None, refine=False, tags_only=False))
    assert np.array_equal(load_label_png(osp.join(plain, 'a', '00001.png')), pred.astype(np.uint8))


def _run_evolve(tmp_path, monkeypatch, scores, **overrides):
    """evolve() with training, selection data and prediction replaced: version i's best val scores are
    ``scores[i]`` (RIC) and 2 * scores[i] (mIoU_PA)."""
    from mmengine.config import Config
    trained = []

    def fake_train(cfg, work_dir, pa_dir, selection, criterion, resume=False):
        version = len(trained)
        trained.append((osp.basename(work_dir), pa_dir, selection, criterion))
        return None, dict(checkpoint=f'{work_dir}/best.pth', iterations=10,
                          scores=dict(RIC=scores[version], mIoU_PA=2 * scores[version], RII=0.0))

    predicted = []
    monkeypatch.setattr(api, 'train_segmenter', fake_train)
    monkeypatch.setattr(api, 'predict_pa', lambda model, dataset, out, settings, source: predicted.append(out))
    monkeypatch.setattr(api, 'pa_frames_dataset', lambda cfg, pa_dir: None)
    monkeypatch.setattr(api, '_load_model', lambda cfg, checkpoint, device: object())
    import wsseg_mm.apis.ws2 as stage1
    monkeypatch.setattr(stage1, 'build_select_dataset', lambda cfg: [0] * 6)
    cfg = Config(dict(train_dataloader=dict(dataset=dict(type='A2DPseudoFrameDataset', data_root=str(tmp_path))),
                      val_dataloader=dict(dataset=dict()), default_hooks=dict(checkpoint=dict())))
    settings = ws2_evolve_settings(None, select=False, test=False, quality=False, **overrides)
    state = api.evolve(cfg, str(tmp_path / 'work'), 'pa_v0', settings)
    return state, trained, predicted


def test_evolve_stops_when_the_criterion_stops_gaining(tmp_path, monkeypatch):
    state, trained, predicted = _run_evolve(tmp_path, monkeypatch, [10.0, 12.0, 12.05, 20.0])
    # v2 gains 0.05 < min_delta 0.1 over v1: stop; the final model is the best, v2; PA.v1 and PA.v2 were predicted
    assert [t[0] for t in trained] == ['model_v0', 'model_v1', 'model_v2']
    assert trained[0][1] == str(tmp_path / 'pa_v0') and trained[1][1].endswith('work/pa_v1')
    assert all(t[2] is None and t[3] == 'RIC' for t in trained)
    assert [osp.basename(p) for p in predicted] == ['pa_v1', 'pa_v2']
    assert state['final_version'] == 2 and state['stop'].startswith('v2: best RIC 12.05 gains less than min_delta')
    assert [v['selected'] for v in state['versions']] == [6, 6, 6]
    assert read_evolve_state(str(tmp_path / 'work')) == json.loads(json.dumps(state))


def test_evolve_stops_at_max_versions_and_by_its_criterion(tmp_path, monkeypatch):
    state, trained, predicted = _run_evolve(tmp_path, monkeypatch, [1.0, 2.0, 3.0, 4.0, 5.0], max_versions=3,
                                            criterion='mIoU_PA')
    assert len(trained) == 3 and len(predicted) == 2 and state['final_version'] == 2
    assert state['stop'] == 'max_versions 3 reached' and trained[0][3] == 'mIoU_PA'


def test_evolve_resumes_and_refuses_other_settings(tmp_path, monkeypatch):
    _run_evolve(tmp_path, monkeypatch, [10.0, 12.0, 12.05])
    state, trained, predicted = _run_evolve(tmp_path, monkeypatch, [99.0])
    assert trained == [] and predicted == [] and state['final_version'] == 2  # all done: nothing rerun
    with pytest.raises(ValueError, match='min_delta: 0.1 -> 1.0'):
        _run_evolve(tmp_path, monkeypatch, [10.0], min_delta=1.0)


# --------------------------------------------------------------------------------------------- tables, picture
def _scores(aa, actor=50.0, action=40.0):
    return {f'{level}_{name}': value for level, value in (('actor_action', aa), ('actor', actor), ('action', action))
            for name in ('mIoU', 'class_acc', 'global_acc')}


def test_benchmark_tables_and_orderings(tmp_path):
    """tools/ws2/benchmark.py reads the chains' state files: Table 1 from each final version, Table 2 from the PA
    qualities, Table 3 from the WS^2 chain, and checks the orderings."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('ws2_benchmark', osp.join(osp.dirname(__file__), '..', 'tools',
                                                                           'ws2', 'benchmark.py'))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    def version(v, test, quality, selected=None):
        record = dict(version=v, scores=dict(RIC=10.0 + v, mIoU_PA=8.0 + v, RII=4.0), test=_scores(test - 1),
                      test_aligned=_scores(test), pa_quality=dict(_scores(quality), frames=100), frames=100,
                      selected=selected or 100)
        if selected:
            record['pa_quality_selected'] = dict(_scores(quality + 5), frames=selected)
        return record

    chains = dict(baseline=[version(0, 20, 30), version(1, 22, 33)],
                  ws2=[version(0, 25, 30, 40), version(1, 27, 36, 50)],
                  **{'model-s': [version(0, 23, 30, 40), version(1, 21, 34, 45)]})
    for name, versions in chains.items():
        os.makedirs(tmp_path / name)
        final = int(np.argmax([v['scores']['RIC'] for v in versions]))
        with open(tmp_path / name / 'ws2_state.json', 'w') as f:
            json.dump(dict(versions=versions, final_version=final, stop='max_versions 2 reached'), f)
    out = bench.tables(str(tmp_path))
    assert out['table1']['Baseline']['test'] == [22.0, 50.0, 40.0] and out['table1']['WS^2']['version'] == 1
    assert out['table2'][0]['full_mIoU_PA']['miou'][0] == 30 and out['table2'][0]['select_RIC']['miou'][0] == 35
    assert out['table2'][1]['select_RIC'] == dict(miou=[41.0, 50.0, 40.0], frames=50)
    assert [row['test'][0] for row in out['table3']] == [25.0, 27.0]
    holds = {c['claim']: c['holds'] for c in out['orderings']}
    assert holds['T1: Baseline < Model-S (test a.-a. mIoU)'] is False  # 22 vs Model-S's final v1: 21
    assert holds['T1: Model-S < WS^2 (test a.-a. mIoU)'] is True
    assert holds['T2 v0: init-full < init-select (PA a.-a. mIoU)'] is True  # 30 vs 35
    assert holds['T2 v1: mIoU_PA-full < RIC-select (PA a.-a. mIoU)'] is True  # 33 vs 41
    assert holds['model.v0 < model.v1 (WS^2 chain, test a.-a. mIoU)'] is True
    assert not any('RIC-full' in claim for claim in holds)  # the ric-full chain did not run
    bench.print_tables(out)  # prints without error


def test_ws2_figure_layout():
    """One row per PA frame: frame, two Grad-CAM maps, M_init, superpixels, PA.v0 .. vN, ground truth; the legend
    names the actor-action classes shown."""
    from wsseg_mm.visualization import WS2Row, superpixel_picture, ws2_figure
    from wsseg_mm.visualization.figure import grid_titles, legend_texts
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    pa = np.zeros((16, 16), np.uint8)
    pa[4:10, 4:10] = ADULT_WALKING
    superpixels = np.repeat(np.arange(4), 64).reshape(16, 16)
    row = WS2Row(image, 'v/00001', rng.random((16, 16)), rng.random((16, 16)), 'adult', 'walking', pa > 0,
                 superpixels, pa > 0, versions=[('PA.v0', pa), ('PA.v1', np.zeros_like(pa))], ground_truth=pa)
    fig = ws2_figure([row, row], A2D_SEG_CLASSES)
    titles = grid_titles(fig, 2, 8)
    assert titles[0][0] == 'v/00001' and titles[0][1].startswith('actor Grad-CAM')
    assert titles[1][5].startswith('PA.v0\n14.1% fg, 100.0% right') and titles[1][7] == 'ground truth'
    assert 'adult-walking' in legend_texts(fig)
    picture = superpixel_picture(image, superpixels)
    assert picture.shape == image.shape and (picture[[3, 4]] == (255, 230, 0)).all()  # both sides of the border
    assert (picture[[0, 1, 2, 5, 6]] == image[[0, 1, 2, 5, 6]]).all()
    with pytest.raises(ValueError, match='same PA versions'):
        ws2_figure([row, WS2Row(**dict(row.__dict__, versions=[]))], A2D_SEG_CLASSES)
