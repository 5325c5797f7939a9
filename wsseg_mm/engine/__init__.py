from .per_image import build_split_dataset, image_name, load_cfg, run_per_image, setup_launcher

__all__ = ['run_per_image', 'setup_launcher', 'build_split_dataset', 'image_name', 'load_cfg']
