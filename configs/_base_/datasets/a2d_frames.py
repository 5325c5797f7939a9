# Annotated A2D frames with per-pixel actor-action ground truth (mmseg scope), scored with A2DMetric
# (actor / action / actor-action mIoU, per-class and global pixel accuracy).
dataset_type = 'A2DFrameDataset'
data_root = 'data/A2D/Release'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadA2DAnnotation'),
    dict(type='PackWeakSegInputs'),
]
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='A2DMetric')
test_evaluator = val_evaluator
