"""The library API of each method (wsseg_mm/apis, layer 3): one home per setting, tools that only parse arguments
and call it, no tool importing another. (That the tools, the benchmarks and the pictures call the same per-image
function, and that it gives what the tools write, is checked on real runs in test_irnet_pipeline.py and
test_bbam_pipeline.py.)"""
import ast
import inspect
import os.path as osp
from pathlib import Path

import pytest
from mmengine.config import Config

import wsseg_mm  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
TOOLS = sorted((REPO / 'tools').rglob('*.py'))
BBAM_CFG = str(REPO / 'configs/bbam/toy/faster-rcnn_r18-tiny_fpn_20e_toy-bbam.py')


def imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield ('.' * node.level) + (node.module or '')


def test_no_tool_imports_another_tool():
    tool_names = {p.stem for p in TOOLS}
    offending = [f'{p.relative_to(REPO)} imports {m}' for p in TOOLS for m in imported_modules(p)
                 if m.startswith('.') or m.split('.')[0] in tool_names | {'tools'}]
    assert TOOLS and not offending, offending


def test_tools_call_the_api_not_the_hooks():
    """Tools read the hook's settings through the API (bbam_settings), never by building the hook."""
    offending = [f'{p.relative_to(REPO)} imports {m}' for p in TOOLS for m in imported_modules(p)
                 if m.startswith('wsseg_mm.engine')]
    offending += [f'{p.relative_to(REPO)}: {s}' for p in TOOLS for s in ('BBAMHook(', 'from_config(')
                  if s in p.read_text()]
    assert not offending, offending


def test_irnet_tools_do_not_reimplement_a_step():
    """The IRNet steps (relations, walk, synthesis, CAM computation) are the API's; the tools only call it."""
    steps = ('mine_inter_pixel_relations', 'synthesize_irnet_labels', 'semantic_from_random_walk', 'propagate_cams',
             'boundary_and_displacement', 'compute_cams', 'merge_coco', 'CocoInstanceWriter')
    offending = [f'{p.relative_to(REPO)}: {s}' for p in (REPO / 'tools' / 'irnet').glob('*.py')
                 for s in steps if s in p.read_text()]
    offending += [f'tools/bbam_tools/benchmark.py: {s}' for s in ('postprocess_image', 'attribution_to_mask')
                  if s in (REPO / 'tools/bbam_tools/benchmark.py').read_text()]
    assert not offending, offending


def test_the_old_homes_are_gone():
    for old in ('bbam.py', 'per_image.py', 'irnet.py'):
        assert not (REPO / 'wsseg_mm' / 'engine' / old).exists()


def test_bbam_settings_read_the_hook_entry_without_building_the_hook(monkeypatch):
    from wsseg_mm.apis import BBAM_DEFAULTS, bbam_settings
    from wsseg_mm.engine.hooks.bbam_hook import BBAMHook

    def refuse(*args, **kwargs):
        raise AssertionError('bbam_settings built a hook')

    monkeypatch.setattr(BBAMHook, '__init__', refuse)
    cfg = Config.fromfile(BBAM_CFG)
    cfg.merge_from_dict({'custom_hooks.0.fg_thr': 0.7, 'custom_hooks.0.priority': 'LOW'})
    settings = bbam_settings(cfg)
    entry = cfg.custom_hooks[0]
    assert settings['fg_thr'] == 0.7 and settings['bg_thr'] == BBAM_DEFAULTS['bg_thr']
    assert settings['explainer'] == entry['explainer'] and settings['proposals'] == dict(type='skimage')
    assert settings['out_dir'] == entry['out_dir'] and settings['seed'] == 0 and 'priority' not in settings
    assert set(settings) == set(BBAM_DEFAULTS)
    settings['explainer']['num_iters'] = 1  # a copy: the config is untouched
    assert cfg.custom_hooks[0]['explainer']['num_iters'] == 300
    assert bbam_settings(Config(dict(custom_hooks=[dict(type='EMAHook')]))) == BBAM_DEFAULTS
    with pytest.raises(TypeError, match='fg_threshold'):
        bbam_settings(Config(dict(custom_hooks=[dict(type='BBAMHook', fg_threshold=0.5)])))


def test_the_hook_takes_the_api_settings():
    from wsseg_mm.apis import BBAM_DEFAULTS
    from wsseg_mm.engine import BBAMHook
    assert BBAMHook().settings == BBAM_DEFAULTS
    assert BBAMHook(fg_thr=0.6, limit=2).settings == dict(BBAM_DEFAULTS, fg_thr=0.6, limit=2)
    with pytest.raises(TypeError, match='fg_threshold'):
        BBAMHook(fg_threshold=0.6)


def test_each_default_is_written_once():
    """The thresholds have their defaults in the API's settings; the functional code takes them as arguments."""
    from wsseg_mm.apis import BBAM_DEFAULTS, DEFAULT_LABEL_SYNTHESIS, DEFAULT_RELATION_MINING
    from wsseg_mm.apis.bbam import generate_bbam_pseudo_labels, postprocess_image
    from wsseg_mm.functional.bbam import attribution_to_mask
    from wsseg_mm.functional.box_masks import threshold_attribution
    from wsseg_mm.functional.label_synthesis import propagate_cams, semantic_from_random_walk, synthesize_irnet_labels
    from wsseg_mm.functional.relation import mine_inter_pixel_relations
    assert (BBAM_DEFAULTS['fg_thr'], BBAM_DEFAULTS['bg_thr']) == (0.8, 0.2)  # the paper's
    assert (DEFAULT_RELATION_MINING['fg_threshold'], DEFAULT_RELATION_MINING['bg_threshold']) == (0.30, 0.05)
    assert DEFAULT_LABEL_SYNTHESIS['sem_bg'] == DEFAULT_LABEL_SYNTHESIS['ins_bg'] == 0.25
    required = {attribution_to_mask: ('fg_thr', 'bg_thr'), threshold_attribution: ('fg_thr', 'bg_thr'),
                postprocess_image: ('fg_thr', 'bg_thr'),
                mine_inter_pixel_relations: ('fg_threshold', 'bg_threshold'),
                propagate_cams: ('radius', 'beta', 'exp_times'), semantic_from_random_walk: ('bg_threshold', ),
                synthesize_irnet_labels: ('bg_threshold', 'iterations', 'centroid_threshold')}
    for function, names in required.items():
        parameters = inspect.signature(function).parameters
        assert all(parameters[n].default is inspect.Parameter.empty for n in names), function.__name__
    assert 'fg_thr' not in inspect.signature(generate_bbam_pseudo_labels).parameters  # through settings


def test_irnet_settings_layering():
    from wsseg_mm.apis import DEFAULT_RELATION_MINING, relation_mining_settings
    assert relation_mining_settings(Config({})) == DEFAULT_RELATION_MINING
    cfg = Config(dict(relation_mining=dict(fg_threshold=0.6, bg_threshold=0.3)))
    settings = relation_mining_settings(cfg, fg_threshold=None, bg_threshold=0.2, crf_iters=None)
    assert settings == dict(fg_threshold=0.6, bg_threshold=0.2, crf_iters=DEFAULT_RELATION_MINING['crf_iters'])
    with pytest.raises(KeyError, match='fg_thr'):
        relation_mining_settings(Config(dict(relation_mining=dict(fg_thr=0.5))))
    toy = Config.fromfile(osp.join(REPO, 'configs/irnet/toy/cam_r18-quarter-os8_80e_toy.py'))
    assert relation_mining_settings(toy)['fg_threshold'] == 0.6


def test_coco_fragments_merge_in_order(tmp_path):
    import json

    import numpy as np

    from wsseg_mm.apis import merge_coco_fragments, write_coco_fragment
    mask = np.zeros((4, 5), bool)
    mask[1:3, 1:4] = True
    write_coco_fragment(str(tmp_path / 'b.json'), ['disc', 'square'], 'b.jpg', (4, 5),
                        [dict(mask=mask, label=2, score=0.5, ignore=~mask)])
    write_coco_fragment(str(tmp_path / 'a.json'), ['disc', 'square'], 'a.jpg', (4, 5),
                        [dict(mask=mask, label=1, score=0.9), dict(mask=mask, label=1, score=0.1)])
    merged = merge_coco_fragments([str(tmp_path / 'b.json'), str(tmp_path / 'a.json')], str(tmp_path / 'all.json'))
    assert merged == json.load(open(tmp_path / 'all.json'))
    assert [i['file_name'] for i in merged['images']] == ['b.jpg', 'a.jpg']
    assert [(a['id'], a['image_id'], a['category_id']) for a in merged['annotations']] == [(1, 1, 2), (2, 2, 1),
                                                                                           (3, 2, 1)]
    assert 'ignore_rle' in merged['annotations'][0] and 'ignore_rle' not in merged['annotations'][1]
    empty = merge_coco_fragments([], str(tmp_path / 'none.json'), ['disc'])
    assert empty['images'] == [] and empty['categories'] == [dict(id=1, name='disc')]
