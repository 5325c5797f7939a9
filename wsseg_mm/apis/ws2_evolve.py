"""WS^2 (Chen, Li, Luo, Xu, CVPR 2020) Stage 2 as the library API that ``tools/ws2/evolve.py``,
``tools/ws2/predict.py``, the toy benchmark and the pictures call: the select-train-predict loop over PA versions
(Alg. 1), the prediction of the next PA version, the PA's quality against the ground truth (a diagnostic), and the
segmenter's test scores with action alignment (Sec. 5.2). On A2D (the segmenter config trains on an
``A2DPseudoFrameDataset``) or YouTube-Objects (``YouTubeObjectsPseudoFrameDataset``, Table 5: one class per shot,
no actions, so no alignment; the test score is the mean IoU of the 10 object classes on the masked test frames).

One version ``i`` of :func:`evolve` (Alg. 1), each step saved in ``<work_dir>/ws2_state.json`` before the next so
that a killed run resumes where it stopped:

1. ``select``: with ``select=True``, the frames of PA.vi that pass the selection of Sec. 3.2
   (:func:`~wsseg_mm.apis.ws2.select_pa`: D on cut-and-paste patches or the actor classifier) ->
   ``select_v{i}.txt``; else every frame;
2. ``train``: the segmenter config trained from its own initial weights (P: fresh weights per version) on those
   frames, scored on the val videos' PA.vi frames after every validation interval with ``criterion``
   (``'RIC'``: WS^2; ``'mIoU_PA'``: the baseline and Model-S of Table 1), the best checkpoint kept
   (``save_best``), stopped when the criterion stops improving (``EarlyStoppingHook``), in ``model_v{i}/``;
   an interrupted training resumes from its last checkpoint;
3. ``score``: the best checkpoint's RIC / mIoU_PA / RII on the val PA frames, the PA's quality (mIoU against the
   ground truth of the train frames that have one; diagnostic only) and, with ``test=True``, the test scores
   (:func:`ws2_test_scores`: A2D's with and without action alignment; YouTube-Objects' per-class IoU);
4. the stop rule: from version 1 on, the loop stops when the best criterion gains less than ``min_delta`` over
   the previous version's, or after ``max_versions`` versions (v0-v3);
5. ``predict``: the best checkpoint predicts PA.v(i+1) on every PA frame of the train and val videos
   (:func:`predict_pa`: the arg-max, then Alg. 2 with superpixels) -> ``pa_v{i+1}/``.

Settings: :data:`WS2_EVOLVE_DEFAULTS`, a segmenter config's ``ws2_evolve`` dict, then keyword arguments
(:func:`ws2_evolve_settings`).
"""
import copy
import json
import os
import os.path as osp
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import broadcast_object_list, get_dist_info

from wsseg_mm.fileio.labels import atomic_write_bytes, load_json, load_label_png, save_label_png
from wsseg_mm.metainfo import A2D_SEG_CLASSES, YTO_SEG_CLASSES

from ..datasets.transforms.binary_mask import load_binary_label_map
from ..datasets.transforms.loading import load_a2d_label_map
from ..functional.metrics import a2d_scores, confusion_matrix, flat_a2d_scores
from ..functional.object_iou import object_scores
from ..functional.superpixel import REFINE_ALPHA, REFINE_BETA, REFINE_MODES, refine_with_superpixels
from ..functional.ws2 import align_actions
from .common import Stage, build_split_dataset, model_fingerprint, prepare_outputs, run_per_image
from .ws2 import build_pa_frames_dataset, pa_frames_kind, pa_summary, unwrap_dataset_cfg, write_pa_summary

__all__ = [
    'WS2_EVOLVE_DEFAULTS', 'CRITERIA', 'ws2_evolve_settings', 'pa_frames_dataset', 'segmenter_frame',
    'predict_pa', 'pa_quality', 'test_predictions', 'a2d_test_scores', 'yto_test_scores', 'ws2_test_scores',
    'train_segmenter', 'read_evolve_state', 'evolve'
]

CRITERIA = ('RIC', 'mIoU_PA')

# Every Stage-2 loop setting and its default:
#   criterion: the val score that picks the best checkpoint, stops training and stops the versions ('RIC': WS^2;
#   'mIoU_PA': Table 1's baseline and Model-S); select: train on the selected PA frames (Sec. 3.2) or on all;
#   max_versions: models v0 .. v(max_versions - 1) (paper: v0-v3); min_delta: the versions stop when the best
#   criterion gains less (points; P: 0.1, as the early stopping of one training);
#   tags_only: PA.v(i+1) takes only background and the video's tags (its weak label), the arg-max over those
#   classes' scores (P: True; the paper is silent. Without it the toy's models spread their errors into classes
#   the video does not show, and every later version learns them);
#   refine: PA.v(i+1) = Alg. 2 of the prediction (P: True) with alpha / beta / mode (0.5, 0.4, coverage);
#   test: score every version's best model on the segmenter config's test frames (A2DMetric, with and without
#   action alignment; YouTube-Objects: the object classes' IoU); quality: score every PA version against the
#   ground truth where there is one (diagnostic).
WS2_EVOLVE_DEFAULTS = dict(criterion='RIC', select=True, max_versions=4, min_delta=0.1, tags_only=True, refine=True,
                           alpha=REFINE_ALPHA, beta=REFINE_BETA, mode=REFINE_MODES[0], test=True, quality=True)
STATE_FILE = 'ws2_state.json'


def ws2_evolve_settings(cfg=None, **overrides) -> dict:
    """:data:`WS2_EVOLVE_DEFAULTS`, then the config's ``ws2_evolve`` dict, then the ``overrides`` that are not None;
    unknown keys raise a ``KeyError``, bad values a ``ValueError``, each naming the key."""
    from .common import layered_settings
    settings = layered_settings('ws2_evolve', WS2_EVOLVE_DEFAULTS, cfg, overrides)
    if settings['criterion'] not in CRITERIA:
        raise ValueError(f'ws2_evolve.criterion must be one of {CRITERIA}, got {settings["criterion"]!r}')
    if settings['mode'] not in REFINE_MODES:
        raise ValueError(f'ws2_evolve.mode must be one of {REFINE_MODES}, got {settings["mode"]!r}')
    value = settings['max_versions']
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'ws2_evolve.max_versions must be a positive integer, got {value!r}')
    return settings


# ---------------------------------------------------------------------------------------------------- frames
def _superpixel_loader(cfg) -> dict:
    """The val pipeline's ``LoadSuperpixels`` (its SLIC settings and cache), else the default one."""
    for transform in unwrap_dataset_cfg(cfg.val_dataloader.dataset).get('pipeline', []):
        if str(transform.get('type', '')).split('.')[-1] == 'LoadSuperpixels':
            return dict(transform)
    return dict(type='LoadSuperpixels')


def pa_frames_dataset(cfg, pa_dir: str, video_list=None, with_superpixels: bool = True):
    """The frames of PA version ``pa_dir`` (absolute, or relative to the data root) of the segmenter config's
    split (its training ``A2DPseudoFrameDataset`` or ``YouTubeObjectsPseudoFrameDataset``), all of them (no
    ``selection``), ``video_list`` None = the train and the val videos; each sample is the full frame
    (``LoadImageFromFile``), its superpixels (the val pipeline's ``LoadSuperpixels``, cached there) and its PA
    (``LoadAnnotations``), packed by ``PackWeakSegInputs``."""
    pipeline = [dict(type='LoadImageFromFile')]
    if with_superpixels:
        pipeline.append(_superpixel_loader(cfg))
    pipeline += [dict(type='LoadAnnotations'), dict(type='PackWeakSegInputs')]
    return build_pa_frames_dataset(cfg, 'WS^2', pa_dir=pa_dir, video_list=video_list, pipeline=pipeline)


@torch.no_grad()
def segmenter_frame(model, sample: dict, classes: Optional[Sequence[int]] = None) -> np.ndarray:
    """The segmenter's (H, W) int64 arg-max prediction of one packed sample, at the frame's original size; with
    ``classes``, the arg-max over background (0) and those classes' scores only."""
    training = model.training
    model.eval()
    try:
        out = model.test_step(dict(inputs=[sample['inputs']], data_samples=[sample['data_samples']]))[0]
    finally:
        model.train(training)
    if classes is None:
        return out.pred_sem_seg.data[0].cpu().numpy().astype(np.int64)
    logits = out.seg_logits.data
    allowed = torch.zeros(len(logits), dtype=torch.bool, device=logits.device)
    allowed[[0, *classes]] = True
    return logits.masked_fill(~allowed[:, None, None], float('-inf')).argmax(0).cpu().numpy().astype(np.int64)


def _superpixels_of(sample: dict) -> np.ndarray:
    data = sample['data_samples'].get('gt_superpixels')
    if data is None:
        raise ValueError('WS^2: the sample carries no superpixels (LoadSuperpixels + PackWeakSegInputs)')
    return data.data[0].cpu().numpy().astype(np.int64)


def predict_pa(model, dataset, out_dir: str, settings: dict, overwrite: bool = False,
               source: Optional[dict] = None) -> dict:
    """PA.v(i+1): the segmenter's prediction of every frame of ``dataset`` (:func:`pa_frames_dataset` of PA.vi),
    over background and the video's tags (``video_labels``) when ``settings['tags_only']``, refined by Alg. 2
    with the frame's superpixels when ``settings['refine']``, written as ``<out_dir>/<video_id>/<frame:05d>.png``;
    resumable per video and split over ranks, with a ``manifest.json`` (another model or setting is refused unless
    ``overwrite``). Rank 0 writes ``<out_dir>/summary.json``.

    Returns:
        ``dict(summary=..., counts=...)``: frames, empty PAs (no foreground), the mean foreground share; this
        rank's :func:`~wsseg_mm.apis.common.run_per_image` counts.
    """
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    videos: Dict[str, List[int]] = OrderedDict()
    for index, info in enumerate(infos):
        videos.setdefault(info['video_id'], []).append(index)
    keys = ('tags_only', 'refine', 'alpha', 'beta', 'mode')
    stages = [Stage('predict', dict({k: settings[k] for k in keys}, model=model_fingerprint(model),
                                    source=source or {}), ('*/[0-9]*.png', 'pa_stats/*.json', 'summary.json'))]
    prepare_outputs(out_dir, 'ws2_predict_pa', stages, overwrite)

    def png(index: int) -> str:
        info = infos[index]
        return osp.join(out_dir, info['video_id'], f'{info["frame_index"]:05d}.png')

    def stats_path(video_id: str) -> str:
        return osp.join(out_dir, 'pa_stats', video_id + '.json')

    def process(video_id: str) -> None:
        stats = dict(frames=[], empty=[], foreground=[])
        for index in videos[video_id]:
            sample = dataset[index]
            pred = segmenter_frame(model, sample, infos[index]['video_labels'] if settings['tags_only'] else None)
            if settings['refine']:
                pred = refine_with_superpixels(_superpixels_of(sample), pred, settings['alpha'], settings['beta'],
                                               settings['mode'])
            save_label_png(png(index), pred.astype(np.uint8))
            number = infos[index]['frame_index']
            stats['frames'].append(number)
            stats['foreground'].append(float((pred > 0).mean()))
            if not pred.any():
                stats['empty'].append(number)
        atomic_write_bytes(stats_path(video_id), json.dumps(stats, sort_keys=True).encode())

    counts = run_per_image(list(videos), process, lambda v: [png(i) for i in videos[v]] + [stats_path(v)],
                           desc=f'WS^2 PA {osp.basename(osp.normpath(out_dir))}')
    summary = pa_summary([load_json(stats_path(v)) for v in videos if osp.exists(stats_path(v))])
    write_pa_summary(out_dir, summary)
    return dict(summary=summary, counts=counts)


def _flat_scores(cm: np.ndarray) -> dict:
    return flat_a2d_scores(a2d_scores(cm))


# the data-info key of a PA frame's ground truth -> (classes, its (H, W) label map from the data info, the scores of
# the summed confusion): A2DPseudoFrameDataset's .mat (A2D's three levels) and YouTubeObjectsPseudoFrameDataset's
# mask (the object classes' IoU)
_PA_GROUND_TRUTH = {
    'a2d_mat_path': (len(A2D_SEG_CLASSES), lambda info: load_a2d_label_map(info['a2d_mat_path']), _flat_scores),
    'yto_mask_path': (len(YTO_SEG_CLASSES),
                      lambda info: load_binary_label_map(info['yto_mask_path'], info['video_labels'][0]),
                      object_scores),
}


def pa_quality(pa_dir: str, infos: Sequence[dict], frame_ids: Optional[Sequence[str]] = None) -> Optional[dict]:
    """A PA version against the ground truth (a diagnostic: WS^2 never sees it): the summed confusion of every
    frame of ``infos`` (data infos of :class:`~wsseg_mm.datasets.A2DPseudoFrameDataset`, or of
    :class:`~wsseg_mm.datasets.YouTubeObjectsPseudoFrameDataset`) that has a ground truth (an A2D ``.mat``, a
    YouTube-Objects mask) and, if given, is in ``frame_ids``; the PA is read from
    ``<pa_dir>/<video_id>/<frame:05d>.png``.

    Returns:
        A2D: ``{level}_{mIoU|class_acc|global_acc}`` in percent (:func:`~wsseg_mm.functional.metrics.a2d_scores`);
        YouTube-Objects: ``object_mIoU`` (10 object classes), ``mIoU`` (11 classes), ``class_acc``, ``global_acc``
        (:func:`~wsseg_mm.functional.object_iou.object_scores`); and ``frames`` (frames scored, those with a PA and
        a ground truth), or None when no frame has both.
    """
    key = next((k for k in _PA_GROUND_TRUTH if infos and k in infos[0]), 'a2d_mat_path')
    num_classes, label_map, scores = _PA_GROUND_TRUTH[key]
    wanted = None if frame_ids is None else set(frame_ids)
    cm, frames = np.zeros((num_classes, ) * 2, np.int64), 0
    for info in infos:
        if not info.get(key) or (wanted is not None and info['frame_id'] not in wanted):
            continue
        path = osp.join(pa_dir, info['video_id'], f'{info["frame_index"]:05d}.png')
        if not osp.exists(path):
            continue
        gt = label_map(info)
        pa = load_label_png(path)
        if pa.shape != gt.shape:
            raise ValueError(f'PA {path} is {pa.shape}, its ground truth {info[key]} {gt.shape}')
        cm += confusion_matrix(pa, gt, num_classes)
        frames += 1
    return dict(scores(cm), frames=frames) if frames else None


# ------------------------------------------------------------------------------------------------------ test
def test_predictions(model, dataset, progress: bool = True) -> Dict[str, List[tuple]]:
    """The segmenter's prediction of every sample of ``dataset`` (the A2D test frames: ``A2DFrameDataset`` with
    ``LoadA2DAnnotation``; YouTube-Objects' masked frames: ``YouTubeObjectsFrameDataset``), grouped by video:
    ``{video_id: [(frame_index, prediction, ground truth), ...]}`` in frame order. This rank's share of the videos
    only (all of them in one process)."""
    from tqdm import tqdm
    rank, world_size = get_dist_info()
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    order = sorted({info['video_id'] for info in infos})[rank::world_size]
    mine = set(order)
    out: Dict[str, List[tuple]] = OrderedDict((v, []) for v in order)
    indices = [i for i, info in enumerate(infos) if info['video_id'] in mine]
    for index in tqdm(indices, desc='WS^2 test frames', disable=not progress or rank != 0):
        sample = dataset[index]
        gt = sample['data_samples'].gt_sem_seg.data[0].cpu().numpy().astype(np.int64)
        out[infos[index]['video_id']].append((infos[index]['frame_index'], segmenter_frame(model, sample), gt))
    for frames in out.values():
        frames.sort(key=lambda item: item[0])
    return out


def a2d_test_scores(predictions: Dict[str, List[tuple]], align: bool = True) -> dict:
    """A2DMetric's scores (percent; actor-action, actor, action; mIoU, class_acc, global_acc) of
    :func:`test_predictions`, after action alignment (:func:`~wsseg_mm.functional.ws2.align_actions`: every
    predicted actor takes its pixel-majority action over the video's predicted frames; the paper: of the
    neighbouring frames) when ``align``; summed over ranks."""
    return _flat_scores(_test_confusion(predictions, len(A2D_SEG_CLASSES), align_actions if align else None))


def yto_test_scores(predictions: Dict[str, List[tuple]]) -> dict:
    """YouTube-Objects' scores (percent) of :func:`test_predictions` on its masked test frames
    (``YouTubeObjectsFrameDataset``), summed over ranks: ``object_mIoU``, the mean IoU of the 10 object classes
    (Table 5's figure), ``mIoU`` with background, ``class_acc``, ``global_acc``
    (:func:`~wsseg_mm.functional.object_iou.object_scores`). One class per shot, no actions: no alignment."""
    return object_scores(_test_confusion(predictions, len(YTO_SEG_CLASSES)))


def _test_confusion(predictions: Dict[str, List[tuple]], num_classes: int,
                    per_video: Optional[Callable] = None) -> np.ndarray:
    """The (C, C) confusion of :func:`test_predictions`, each video's predictions passed through ``per_video``
    first if given, summed over ranks."""
    cm = np.zeros((num_classes, ) * 2, np.int64)
    for frames in predictions.values():
        preds = [p for _, p, _ in frames]
        if per_video is not None:
            preds = per_video(preds)
        for pred, (_, _, gt) in zip(preds, frames):
            cm += confusion_matrix(pred, gt, num_classes)
    if get_dist_info()[1] > 1:
        from mmengine.dist import all_reduce
        summed = torch.from_numpy(cm)
        all_reduce(summed)
        cm = summed.numpy()
    return cm


def ws2_test_scores(cfg, predictions: Dict[str, List[tuple]]) -> dict:
    """The test scores of :func:`test_predictions` for the segmenter config's data (its training dataset's type, as
    :func:`~wsseg_mm.apis.ws2.pa_frames_kind`): A2D ``dict(test=..., test_aligned=...)``
    (:func:`a2d_test_scores` without and with action alignment); YouTube-Objects ``dict(test=...)``
    (:func:`yto_test_scores`)."""
    if pa_frames_kind(cfg) == 'YouTubeObjectsPseudoFrameDataset':
        return dict(test=yto_test_scores(predictions))
    return dict(test=a2d_test_scores(predictions, align=False), test_aligned=a2d_test_scores(predictions, align=True))


def _score_text(scores: dict) -> str:
    if 'object_mIoU' in scores:
        return f'object mIoU (Table 5) {scores["object_mIoU"]:.2f}, mIoU {scores["mIoU"]:.2f}'
    return (f'actor-action / actor / action mIoU {scores["actor_action_mIoU"]:.2f} / {scores["actor_mIoU"]:.2f} / '
            f'{scores["action_mIoU"]:.2f}')


# --------------------------------------------------------------------------------------------------- training
def _version_cfg(cfg, work_dir: str, pa_dir: str, selection: Optional[str], criterion: str, resume: bool):
    """The segmenter config of one version: PA ``pa_dir`` (train and val), ``selection``, ``criterion`` for
    ``save_best`` and the early stopping, ``work_dir``, and mmengine's auto-resume."""
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    train = unwrap_dataset_cfg(cfg.train_dataloader.dataset)
    train.pa_dir = pa_dir
    train.selection = selection
    cfg.val_dataloader.dataset.pa_dir = pa_dir
    cfg.default_hooks.checkpoint.save_best = criterion
    cfg.default_hooks.checkpoint.rule = 'greater'
    for hook in cfg.get('custom_hooks', []) or []:
        if str(hook.get('type', '')).split('.')[-1] == 'EarlyStoppingHook':
            hook['monitor'] = criterion
            hook['rule'] = 'greater'
    cfg.resume = resume
    cfg.load_from = None
    return cfg


def train_segmenter(cfg, work_dir: str, pa_dir: str, selection: Optional[str], criterion: str,
                    resume: bool = False):
    """Train the segmenter of one version with mmengine's ``Runner`` (the config's own schedule, hooks, launcher)
    and score its best checkpoint on the val PA frames.

    Returns:
        ``(model, dict(checkpoint=best checkpoint path, scores={RIC, mIoU_PA, RII} of that checkpoint,
        iterations=iterations trained))``; the model holds the best checkpoint's weights.
    """
    from mmengine.hooks import CheckpointHook
    from mmengine.runner import Runner
    runner = Runner.from_cfg(_version_cfg(cfg, work_dir, pa_dir, selection, criterion, resume))
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, CheckpointHook))
    # only rank 0's hook saves (and knows) the best checkpoint
    best = _on_rank0(lambda: getattr(hook, 'best_ckpt_path', None))
    if not best or not osp.exists(best):
        raise RuntimeError(f'WS^2: training in {work_dir} left no best-{criterion} checkpoint: does the val loop '
                           f'run (val_interval) and report {criterion} (RICMetric)?')
    runner.load_checkpoint(best)
    scores = {k.split('/')[-1]: float(v) for k, v in runner.val_loop.run().items()}
    return runner.model, dict(checkpoint=best, scores=scores, iterations=int(runner.iter))


# ------------------------------------------------------------------------------------------------------ loop
def read_evolve_state(work_dir: str) -> dict:
    """``<work_dir>/ws2_state.json``: the settings and, per version, what was done (``{}`` if none)."""
    path = osp.join(work_dir, STATE_FILE)
    return load_json(path) if osp.exists(path) else {}


def _write_state(work_dir: str, state: dict) -> None:
    if get_dist_info()[0] == 0:
        atomic_write_bytes(osp.join(work_dir, STATE_FILE), json.dumps(state, indent=1, sort_keys=True).encode())


def _on_rank0(func: Callable[[], object]):
    """``func()`` on rank 0, its (picklable) result on every rank."""
    rank, world_size = get_dist_info()
    result = [func() if rank == 0 else None]
    if world_size > 1:
        broadcast_object_list(result, src=0)
    return result[0]


def _log(message: str) -> None:
    from mmengine.logging import print_log
    print_log(message, logger='current')


def evolve(cfg, work_dir: str, pa_v0: str, settings: dict, actor_model=None, select_settings: Optional[dict] = None,
           device: str = 'cpu', resume: bool = True) -> dict:
    """WS^2's Alg. 1 over PA versions (see the module docstring), resumable from ``<work_dir>/ws2_state.json``.

    Args:
        cfg: the segmenter config (mmengine ``Config``; its launcher, schedule, RICMetric val loop).
        work_dir: where the versions go: ``select_v{i}.txt``, ``model_v{i}/``, ``pa_v{i+1}/``, the state file.
        pa_v0: the PA.v0 folder (``tools/ws2/make_pa.py``), absolute or relative to the config's data root.
        settings: :func:`ws2_evolve_settings`.
        actor_model: the Stage-1 actor recognizer (needed when ``settings['select']``).
        select_settings: :func:`~wsseg_mm.apis.ws2.ws2_select_settings`.
        device: D's device.
        resume: continue the state found in ``work_dir`` (its settings must match); False with a state there
            raises.

    Returns:
        the state: ``settings``, ``versions`` (per version: ``pa_dir``, ``selection``, ``selected``, ``frames``,
        ``checkpoint``, ``val`` scores, ``pa_quality`` / ``pa_quality_selected``, ``test`` / ``test_aligned``),
        ``final_version`` (the best by the criterion) and ``stop`` (why the versions stopped).
    """
    from .ws2 import build_select_dataset, select_pa
    if settings['select'] and actor_model is None:
        raise ValueError('WS^2 evolve: select=True needs the Stage-1 actor recognizer (actor config and checkpoint)')
    os.makedirs(work_dir, exist_ok=True)
    data_root = unwrap_dataset_cfg(cfg.train_dataloader.dataset).get('data_root', '')
    pa_v0 = osp.abspath(osp.join(data_root, pa_v0))
    recorded = dict(settings, pa_v0=pa_v0, select_settings=select_settings if settings['select'] else None)
    recorded = json.loads(json.dumps(recorded))
    state = read_evolve_state(work_dir)
    if state:
        if not resume:
            raise ValueError(f'WS^2 evolve: {work_dir} already holds a run ({STATE_FILE}); resume it or give another '
                             'work dir')
        if state['settings'] != recorded:
            diff = [f'{k}: {state["settings"].get(k)!r} -> {recorded.get(k)!r}' for k in sorted(recorded)
                    if state['settings'].get(k) != recorded.get(k)]
            raise ValueError(f'WS^2 evolve: {work_dir} holds a run with other settings ({"; ".join(diff)}); give '
                             'another work dir')
    else:
        state = dict(settings=recorded, versions=[], final_version=None, stop=None)
    criterion = settings['criterion']
    train_part = unwrap_dataset_cfg(cfg.train_dataloader.dataset).get('video_list')
    version = 0
    while state['stop'] is None:
        if version < len(state['versions']):
            record = state['versions'][version]
        else:
            pa_dir = pa_v0 if version == 0 else osp.join(osp.abspath(work_dir), f'pa_v{version}')
            record = dict(version=version, pa_dir=pa_dir, done=[])
            state['versions'].append(record)
        pa_dir = record['pa_dir']
        # 1. selection
        if 'select' not in record['done']:
            version_cfg = _version_cfg(cfg, work_dir, pa_dir, None, criterion, False)
            frames = len(build_select_dataset(version_cfg))
            record['frames'] = frames
            if settings['select']:
                out = osp.join(osp.abspath(work_dir), f'select_v{version}.txt')
                summary = _on_rank0(lambda: select_pa(build_select_dataset(version_cfg), actor_model, out,
                                                      select_settings, device))
                record.update(selection=out, selected=summary['selected'], selection_summary=summary)
                if not summary['selected'] and version == 0:
                    raise ValueError(f'WS^2 evolve: the selection kept none of the {frames} PA.v0 frames of {pa_dir} '
                                     f'({out}.json); train on all of them (--no-select) or check PA.v0 and the '
                                     'actor classifier')
            else:
                record.update(selection=None, selected=frames)
            record['done'].append('select')
            _write_state(work_dir, state)
            _log(f'WS^2 v{version}: {record["selected"]} of {frames} PA frames selected '
                 f'({100 * record["selected"] / max(frames, 1):.1f}%)')
        if not record['selected']:
            state['stop'] = (f'v{version}: the selection kept none of the {record["frames"]} PA frames (empty PAs '
                             'are never selected): nothing to train on')
            _write_state(work_dir, state)
            _log(f'WS^2: versions stopped ({state["stop"]}); final model v{state["final_version"]}')
            break
        # 2. training
        model_dir = osp.join(work_dir, f'model_v{version}')
        if 'train' not in record['done']:
            model, trained = train_segmenter(cfg, model_dir, pa_dir, record['selection'], criterion,
                                             resume=osp.exists(osp.join(model_dir, 'last_checkpoint')))
            record.update(trained)
            record['done'].append('train')
            _write_state(work_dir, state)
        else:
            model = None
        scores = record['scores']
        _log(f'WS^2 v{version}: best val RIC {scores.get("RIC", float("nan")):.2f}, mIoU_PA '
             f'{scores.get("mIoU_PA", float("nan")):.2f}, RII {scores.get("RII", float("nan")):.2f} '
             f'({record["checkpoint"]})')

        # 3. scores: PA quality (diagnostic), test
        if 'score' not in record['done']:
            if settings['quality']:
                infos = _on_rank0(lambda: [dict(d) for d in _infos(cfg, pa_dir, train_part)])
                record['pa_quality'] = pa_quality(pa_dir, infos)
                if record['selection']:
                    with open(record['selection']) as f:
                        ids = [line.strip() for line in f if line.strip()]
                    record['pa_quality_selected'] = pa_quality(pa_dir, infos, ids)
            if settings['test']:
                model = model or _load_model(cfg, record['checkpoint'], device)
                record.update(ws2_test_scores(cfg, test_predictions(model, build_split_dataset(cfg, 'test'))))
            record['done'].append('score')
            _write_state(work_dir, state)
            for key in ('pa_quality', 'pa_quality_selected', 'test', 'test_aligned'):
                if record.get(key):
                    _log(f'WS^2 v{version} {key}: {_score_text(record[key])}')
        # 4. stop rule
        best = [v['scores'][criterion] for v in state['versions'][:version + 1]]
        final = int(np.argmax(best))
        state['final_version'] = final
        if version > 0 and best[version] - max(best[:version]) < settings['min_delta']:
            state['stop'] = (f'v{version}: best {criterion} {best[version]:.2f} gains less than min_delta '
                             f'{settings["min_delta"]} over {max(best[:version]):.2f}')
        elif version + 1 >= settings['max_versions']:
            state['stop'] = f'max_versions {settings["max_versions"]} reached'
        if state['stop'] is not None:
            _write_state(work_dir, state)
            _log(f'WS^2: versions stopped ({state["stop"]}); final model v{final}')
            break
        # 5. the next PA version
        if 'predict' not in record['done']:
            model = model or _load_model(cfg, record['checkpoint'], device)
            next_dir = osp.join(osp.abspath(work_dir), f'pa_v{version + 1}')
            predict_pa(model, pa_frames_dataset(cfg, pa_dir), next_dir, settings,
                       source=dict(version=version, checkpoint=record['checkpoint']))
            record['done'].append('predict')
            _write_state(work_dir, state)
        version += 1
    return state


def _load_model(cfg, checkpoint: str, device: str):
    from .common import init_model
    return init_model(cfg, checkpoint, device)


def _infos(cfg, pa_dir: str, video_list) -> List[dict]:
    dataset = pa_frames_dataset(cfg, pa_dir, video_list=video_list, with_superpixels=False)
    return [dataset.get_data_info(i) for i in range(len(dataset))]
