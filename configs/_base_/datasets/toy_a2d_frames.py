# Toy benchmark: annotated A2D-layout frames with actor-action ground truth (mmseg scope).
_base_ = ['./a2d_frames.py', './toy_metainfo.py']
val_dataloader = dict(num_workers=2, dataset=dict(data_root={{_base_.toy_a2d_root}}))
test_dataloader = val_dataloader
