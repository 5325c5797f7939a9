from .hooks import BBAMHook
from .irnet import DEFAULT_LABEL_SYNTHESIS, instance_settings, label_synthesis_settings, walk_settings
from .per_image import (build_split_dataset, image_name, init_model, load_cams, load_cfg, preprocess_one,
                        read_rgb, run_per_image, setup_launcher)

__all__ = [
    'BBAMHook', 'init_model', 'load_cams', 'preprocess_one', 'run_per_image', 'setup_launcher', 'build_split_dataset',
    'image_name', 'load_cfg', 'read_rgb', 'DEFAULT_LABEL_SYNTHESIS', 'label_synthesis_settings', 'walk_settings',
    'instance_settings'
]
