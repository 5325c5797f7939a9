from .per_image import build_split_dataset, image_name, init_model, load_cfg, run_per_image, setup_launcher

__all__ = ['init_model', 'run_per_image', 'setup_launcher', 'build_split_dataset', 'image_name', 'load_cfg']
