"""IRNet (Ahn et al., CVPR 2019) pseudo labels from image-level class labels: the library API that the tools
(``tools/irnet/*``), the benchmark and the pictures call.

Three dataset-level stages, each resumable and split over ranks (:func:`~wsseg_mm.apis.common.run_per_image`), each
built from one per-image function:

* :func:`generate_irnet_cams` (per image :func:`irnet_cams`): ``<name>.npz`` (:func:`save_cams`);
* :func:`generate_irnet_relations` (per image :func:`irnet_relations`): ``<name>.png`` (0 / class / 255);
* :func:`generate_irnet_pseudo_labels` (per image :func:`irnet_pseudo_labels`): ``sem/<name>.png``,
  ``ins/<name>.json`` and, merged by rank 0, ``instances.json``.

Each output folder holds a ``manifest.json`` of what made it (:func:`~wsseg_mm.apis.common.prepare_outputs`): the
model's weights and test settings and the loading pipeline (CAMs, label synthesis), the manifest of the CAM folder read
(relations, label synthesis), and the stage's settings. A rerun resumes when it matches, redoes every image when only
the relation-mining or label-synthesis settings changed (from the saved CAMs), and refuses anything else with the
differences, unless ``overwrite=True`` (``--overwrite``) starts over.

Settings have one home each, here: :data:`DEFAULT_RELATION_MINING` (Sec. 4.2) and :data:`DEFAULT_LABEL_SYNTHESIS`
(Sec. 5), overridden by the config's ``relation_mining`` / ``label_synthesis`` dicts, then by command-line options
(:func:`relation_mining_settings`, :func:`label_synthesis_settings`); the functional code takes them as arguments.
"""
import os.path as osp
import time
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.dist import get_rank

from wsseg_mm.fileio.labels import atomic_save_npz, load_npz, save_label_png

from ..functional.cam import cams_to_semantic
from ..functional.label_synthesis import propagate_cams, semantic_from_scores, synthesize_irnet_labels
from ..functional.relation import mine_inter_pixel_relations
from .common import (
    Stage,
    checkpoint_info,
    image_name,
    layered_settings,
    manifest_id,
    merge_coco_fragments,
    model_fingerprint,
    pipeline_description,
    prepare_outputs,
    preprocess_one,
    read_rgb,
    run_per_image,
    write_coco_fragment,
)

__all__ = [
    'DEFAULT_RELATION_MINING', 'DEFAULT_LABEL_SYNTHESIS', 'relation_mining_settings', 'label_synthesis_settings',
    'walk_settings', 'instance_settings', 'cam_path', 'save_cams', 'load_cams', 'irnet_cams', 'irnet_relations',
    'irnet_pseudo_labels', 'generate_irnet_cams', 'generate_irnet_relations', 'generate_irnet_pseudo_labels'
]

# Inter-pixel relation mining (Sec. 4.2), the paper's values: confident foreground where a CAM beats a background
# score of 0.30, confident background where none beats 0.05, each pass refined by a dense CRF of 10 iterations.
DEFAULT_RELATION_MINING = dict(fg_threshold=0.30, bg_threshold=0.05, crf_iters=10)

# Label synthesis (Sec. 5), the paper's values: CAMs scored at background 0.15 (the authors' CAM evaluation); random
# walk over radius-5 pairs, beta 10, 2^8 steps; background 0.25 for the propagated semantic and instance scores;
# displacement refinement for 100 iterations, centroids where |D| < 2.5.
DEFAULT_LABEL_SYNTHESIS = dict(cam_bg=0.15, sem_bg=0.25, ins_bg=0.25, radius=5, beta=10, exp_times=8,
                               iterations=100, centroid_threshold=2.5)


def relation_mining_settings(cfg, **overrides: Optional[float]) -> dict:
    """The config's ``relation_mining`` dict over :data:`DEFAULT_RELATION_MINING`, then the ``overrides`` that are
    not None (command-line options); unknown keys raise a ``KeyError`` naming them."""
    return layered_settings('relation_mining', DEFAULT_RELATION_MINING, cfg, overrides)


def label_synthesis_settings(cfg, **overrides: Optional[float]) -> dict:
    """The config's ``label_synthesis`` dict over :data:`DEFAULT_LABEL_SYNTHESIS`, then the ``overrides`` that
    are not None (command-line options); unknown keys raise a ``KeyError`` naming them."""
    return layered_settings('label_synthesis', DEFAULT_LABEL_SYNTHESIS, cfg, overrides)


def walk_settings(settings: dict) -> dict:
    """The random-walk keyword arguments (radius, beta, exp_times) of a settings dict."""
    return {k: settings[k] for k in ('radius', 'beta', 'exp_times')}


def instance_settings(settings: dict) -> dict:
    """Keyword arguments of :func:`synthesize_irnet_labels` (walk, background, centroid search)."""
    return dict(walk_settings(settings), bg_threshold=settings['ins_bg'], iterations=settings['iterations'],
                centroid_threshold=settings['centroid_threshold'])


# ------------------------------------------------------------------------------------------------------- CAMs
def cam_path(cam_dir: str, name: str) -> str:
    return osp.join(cam_dir, name + '.npz')


def save_cams(path: str, cams: Dict) -> None:
    """Write what :func:`irnet_cams` returns: ``keys`` (the 1-based class labels), ``high_res`` (K, H, W) and
    ``strided`` (K, ceil(H/4), ceil(W/4)) as float16, atomically."""
    atomic_save_npz(path, keys=np.array(cams['labels'], np.int64),
                    high_res=cams['high_res'].numpy().astype(np.float16),
                    strided=cams['strided'].numpy().astype(np.float16))


def load_cams(cam_dir: str, name: str) -> dict:
    """The CAMs :func:`generate_irnet_cams` wrote for an image: ``labels`` (1-based class list), ``high_res``
    (K, H, W) and ``strided`` (K, h, w) float32 tensors."""
    path = cam_path(cam_dir, name)
    if not osp.exists(path):
        raise FileNotFoundError(f'no CAMs for {name}: {path} (run tools/irnet/make_cams.py first)')
    cams = load_npz(path)  # a truncated file raises an error naming it
    return dict(labels=[int(c) for c in cams['keys']],
                high_res=torch.from_numpy(cams['high_res'].astype(np.float32)),
                strided=torch.from_numpy(cams['strided'].astype(np.float32)))


def irnet_cams(model, sample: dict) -> dict:
    """CAMs of one packed sample (its ``img_labels``) from a trained ``CAMClassifier``: ``labels`` (1-based class
    list), ``high_res`` (K, H, W) and ``strided`` (K, h, w) tensors, each CAM normalised to a maximum of 1."""
    data = preprocess_one(model, sample)
    labels = [int(c) for c in sample['data_samples'].metainfo['img_labels']]
    cams = model.compute_cams(data['inputs'], labels)
    return dict(labels=labels, high_res=cams['high_res'].cpu(), strided=cams['strided'].cpu())


def _model_settings(model, dataset) -> dict:
    """What shapes a model's per-image outputs besides the stage's settings: its weights, type, test settings and
    the loading pipeline."""
    return dict(model=model_fingerprint(model), model_type=type(model).__name__,
                test_cfg=getattr(model, 'test_cfg', None), pipeline=pipeline_description(dataset))


def generate_irnet_cams(model, dataset, out_dir: str, overwrite: bool = False) -> Dict[str, int]:
    """Write ``out_dir/<image>.npz`` (:func:`save_cams`) for this rank's share of ``dataset``; resumable when
    ``out_dir``'s manifest records the same model (weights, test settings) and pipeline, refused otherwise unless
    ``overwrite`` (which deletes the folder's ``*.npz`` first).

    Returns:
        this rank's counts (:func:`~wsseg_mm.apis.common.run_per_image`).
    """
    index = {image_name(dataset.get_data_info(i)): i for i in range(len(dataset))}
    prepare_outputs(out_dir, 'irnet_cams', [Stage('cams', _model_settings(model, dataset), ('*.npz', ))], overwrite,
                    info=dict(checkpoint=checkpoint_info(model)))

    def process(name: str) -> None:
        save_cams(cam_path(out_dir, name), irnet_cams(model, dataset[index[name]]))

    return run_per_image(sorted(index), process, lambda n: [cam_path(out_dir, n)], desc='CAMs')


# -------------------------------------------------------------------------------------------------- relations
def irnet_relations(image: np.ndarray, cams: dict, settings: dict) -> np.ndarray:
    """Relation labels of one image (Sec. 4.2) from its CAMs (:func:`load_cams`) and the (H, W, 3) uint8 RGB
    image, with :func:`relation_mining_settings`: (H, W) uint8, 0 background, class index, 255 unknown."""
    return mine_inter_pixel_relations(image, cams['high_res'].numpy(), np.array(cams['labels']),
                                      fg_threshold=settings['fg_threshold'], bg_threshold=settings['bg_threshold'],
                                      crf_cfg=dict(iterations=settings['crf_iters']))


def generate_irnet_relations(dataset, cam_dir: str, out_dir: str, settings: dict,
                             overwrite: bool = False) -> Dict[str, int]:
    """Write ``out_dir/<image>.png`` (palette PNG, :func:`irnet_relations`) for this rank's share of ``dataset``,
    from the CAMs under ``cam_dir``; resumable. ``out_dir``'s manifest records the CAM folder's manifest
    (:func:`~wsseg_mm.apis.common.manifest_id`) and ``settings``: other settings redo every image from the saved
    CAMs, other CAMs are refused unless ``overwrite``. Returns this rank's counts."""
    paths = {image_name(dataset.get_data_info(i)): dataset.get_data_info(i)['img_path'] for i in range(len(dataset))}
    prepare_outputs(out_dir, 'irnet_relations', [Stage('cams', dict(cams=manifest_id(cam_dir))),
                                                 Stage('relations', settings, ('*.png', ), redo=True)], overwrite)

    def process(name: str) -> None:
        relations = irnet_relations(read_rgb(paths[name]), load_cams(cam_dir, name), settings)
        save_label_png(osp.join(out_dir, name + '.png'), relations)

    return run_per_image(sorted(paths), process, lambda n: [osp.join(out_dir, n + '.png')], desc='relations')


# ----------------------------------------------------------------------------------------------- label synthesis
def irnet_pseudo_labels(model, sample: dict, cams: dict, settings: dict) -> dict:
    """IRNet's label synthesis (Sec. 5) for one packed sample, with a trained IRNet and the image's CAMs
    (:func:`load_cams`), at :func:`label_synthesis_settings`.

    Returns:
        dict with everything the tools, the benchmark and the pictures use:

        * ``labels`` (K 1-based classes), ``high_res`` (K, H, W) and ``strided`` (K, h, w) CAMs, ``size`` (H, W);
        * ``boundary`` (h, w) and ``displacement`` (2, h', w') of IRNet;
        * ``cam_semantic`` (H, W) uint8: the CAMs against ``cam_bg`` (no random walk);
        * ``walked`` (K, H, W): the CAMs propagated by the boundary random walk, and ``walk_seconds`` its time;
        * ``semantic`` (H, W) uint8: ``walked`` against ``sem_bg``, the semantic pseudo label;
        * ``instances`` (list of ``dict(mask, label, score)``), ``instance_semantic`` (H, W) uint8, ``scores``
          (K * M, H, W), ``num_instances`` M and ``instance_map`` (h, w): the full synthesis (displacement field
          + class boundary) against ``ins_bg``.
    """
    data = preprocess_one(model, sample)
    boundary, displacement = (t.cpu() for t in model.boundary_and_displacement(data['inputs']))  # walk on the CPU
    labels, high_res, strided = cams['labels'], cams['high_res'], cams['strided']
    size = tuple(sample['inputs'].shape[-2:])
    start = time.perf_counter()
    walked = propagate_cams(strided, boundary, size, **walk_settings(settings)) if labels else torch.zeros(0, *size)
    walk_seconds = time.perf_counter() - start
    full = synthesize_irnet_labels(strided, labels, boundary, displacement, size, **instance_settings(settings))
    return dict(labels=labels, high_res=high_res, strided=strided, size=size, boundary=boundary,
                displacement=displacement,
                cam_semantic=cams_to_semantic(high_res, labels, settings['cam_bg']).numpy().astype(np.uint8),
                walked=walked, walk_seconds=walk_seconds,
                semantic=semantic_from_scores(walked, labels, settings['sem_bg']), instances=full['instances'],
                instance_semantic=full['semantic'], scores=full['scores'], num_instances=full['num_instances'],
                instance_map=full['instance_map'])


def generate_irnet_pseudo_labels(model, dataset, cam_dir: str, out_dir: str, settings: dict,
                                 overwrite: bool = False) -> Optional[dict]:
    """Run :func:`irnet_pseudo_labels` over this rank's share of ``dataset`` (resumable) and, on rank 0, merge the
    fragments (in name order) into ``out_dir/instances.json``.

    ``out_dir``'s manifest records the IRNet (weights, test settings), the pipeline, the CAM folder's manifest and
    ``settings``: when only ``settings`` changed every image is redone (from the saved CAMs); another model or other
    CAMs are refused unless ``overwrite``.

    Writes ``sem/<name>.png`` (semantic pseudo label) and ``ins/<name>.json`` (one-image COCO fragment, the image
    at the pipeline's size, each instance scored by the maximum of its propagated score) under ``out_dir``.

    Returns:
        the merged COCO dict on rank 0, None elsewhere.
    """
    classes = dataset.metainfo['classes'][1:]  # foreground: category k + 1
    index = {image_name(dataset.get_data_info(i)): i for i in range(len(dataset))}
    stages = [Stage('model', dict(_model_settings(model, dataset), cams=manifest_id(cam_dir))),
              Stage('synthesis', settings, ('sem/*.png', 'ins/*.json', 'instances.json'), redo=True)]
    prepare_outputs(out_dir, 'irnet_pseudo_labels', stages, overwrite, info=dict(checkpoint=checkpoint_info(model)))

    def outputs(name):
        return [osp.join(out_dir, 'sem', name + '.png'), osp.join(out_dir, 'ins', name + '.json')]

    def process(name: str) -> None:
        sample = dataset[index[name]]
        result = irnet_pseudo_labels(model, sample, load_cams(cam_dir, name), settings)
        file_name = osp.basename(dataset.get_data_info(index[name])['img_path'])
        write_coco_fragment(outputs(name)[1], classes, file_name, result['size'], result['instances'])
        save_label_png(outputs(name)[0], result['semantic'])

    names = sorted(index)
    run_per_image(names, process, outputs, desc='IRNet labels')
    if get_rank() != 0:
        return None
    return merge_coco_fragments([outputs(name)[1] for name in names], osp.join(out_dir, 'instances.json'), classes)
