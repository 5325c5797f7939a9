"""Layer 3: each method's pseudo-label generation over a dataset (resumable, split over ranks), built from one
per-image function that the tools, the hooks, the benchmarks and the pictures all call.

* :mod:`.common`: configs, models and datasets of the tools, the per-image loop, COCO fragments;
* :mod:`.irnet`: IRNet's CAMs, relations and label synthesis, and their settings;
* :mod:`.bbam`: BBAM's attributions and pseudo masks, and its settings;
* :mod:`.psi`: PSI's label diffusion (SLD) over the training set, and its settings;
* :mod:`.ws2`: WS^2's Stage 1 (Grad-CAM maps, Otsu, SLIC, Alg. 2: PA.v0), and its settings.
* :mod:`.ws2_evolve`: WS^2's Stage 2 (Alg. 1: select, train, score, predict the next PA version; test scores
  with action alignment).
"""
from .bbam import (
    BBAM_DEFAULTS,
    bbam_image_labels,
    bbam_settings,
    build_bbam_dataset,
    check_bbam_proposals,
    check_bbam_setup,
    deterministic_pipeline,
    explain_sample,
    generate_bbam_pseudo_labels,
    load_attributions,
    load_proposals,
    merge_bbam_settings,
)
from .common import (
    build_split_dataset,
    image_name,
    init_model,
    load_cfg,
    merge_coco_fragments,
    positive_int,
    prepare_outputs,
    preprocess_one,
    read_rgb,
    run_per_image,
    select_device,
    set_cpu_threads,
    setup_launcher,
    tool_log,
    write_coco_fragment,
)
from .irnet import (
    DEFAULT_LABEL_SYNTHESIS,
    DEFAULT_RELATION_MINING,
    generate_irnet_cams,
    generate_irnet_pseudo_labels,
    generate_irnet_relations,
    instance_settings,
    irnet_cams,
    irnet_pseudo_labels,
    irnet_relations,
    label_synthesis_settings,
    load_cams,
    relation_mining_settings,
    walk_settings,
)
from .psi import SLD_DEFAULTS, build_expansion_dataset, expand_training_labels, sld_expand_image, sld_settings

__all__ = [
    'setup_launcher', 'select_device', 'run_per_image', 'build_split_dataset', 'image_name', 'load_cfg', 'init_model',
    'preprocess_one', 'read_rgb', 'write_coco_fragment', 'merge_coco_fragments', 'DEFAULT_RELATION_MINING',
    'DEFAULT_LABEL_SYNTHESIS', 'relation_mining_settings', 'label_synthesis_settings', 'walk_settings',
    'instance_settings', 'load_cams', 'irnet_cams', 'irnet_relations', 'irnet_pseudo_labels', 'generate_irnet_cams',
    'generate_irnet_relations', 'generate_irnet_pseudo_labels', 'BBAM_DEFAULTS', 'merge_bbam_settings',
    'bbam_settings', 'build_bbam_dataset', 'check_bbam_proposals', 'check_bbam_setup', 'deterministic_pipeline',
    'explain_sample', 'load_proposals',
    'load_attributions', 'bbam_image_labels', 'generate_bbam_pseudo_labels', 'SLD_DEFAULTS', 'sld_settings',
    'build_expansion_dataset', 'sld_expand_image', 'expand_training_labels'
]
__all__ += ['positive_int', 'prepare_outputs', 'set_cpu_threads', 'tool_log']
from .ws2 import (  # noqa: E402
    WS2_PA_DEFAULTS,
    build_pa_dataset,
    generate_pa,
    pa_frame_labels,
    recognizer_frame_maps,
    tagged_pairs,
    uniform_frames,
    ws2_pa_settings,
    ws2_video_maps,
)

__all__ += ['WS2_PA_DEFAULTS', 'ws2_pa_settings', 'uniform_frames', 'recognizer_frame_maps', 'tagged_pairs',
            'ws2_video_maps', 'pa_frame_labels', 'build_pa_dataset', 'generate_pa']
from .ws2 import WS2_SELECT_DEFAULTS, build_select_dataset, select_pa, ws2_select_settings  # noqa: E402

__all__ += ['WS2_SELECT_DEFAULTS', 'ws2_select_settings', 'build_select_dataset', 'select_pa']
from .ws2_evolve import (  # noqa: E402
    WS2_EVOLVE_DEFAULTS,
    a2d_test_scores,
    evolve,
    pa_frames_dataset,
    pa_quality,
    predict_pa,
    read_evolve_state,
    test_predictions,
    ws2_evolve_settings,
    ws2_test_scores,
    yto_test_scores,
)

__all__ += ['WS2_EVOLVE_DEFAULTS', 'ws2_evolve_settings', 'evolve', 'read_evolve_state', 'pa_frames_dataset',
            'predict_pa', 'pa_quality', 'test_predictions', 'a2d_test_scores', 'yto_test_scores', 'ws2_test_scores']
