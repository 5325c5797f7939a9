# IRNet at twice the toy's resolution. The toy objects span 5-14 cells of the 128 px image's stride-4 grid, against
# tens of cells on VOC: too few for the displacement field's centroids {|D| < 2.5}, whose set for an object joins the
# background's. Here IRNet is trained on images resized to 256 px and run on the image resized x2 (test_cfg.scale):
# the boundary map is brought back to the CAM grid, the instance map too. 12 epochs, ~11 min on 2 CPU cores.
_base_ = ['./irnet_r18-quarter-os8_20e_toy.py']
work_dir = 'work_dirs/irnet_toy/irnet_2x'
crop_size = (256, 256)
model = dict(data_preprocessor=dict(size=crop_size), test_cfg=dict(scale=2.0))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=crop_size, ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
max_epochs = 12
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_epochs, by_epoch=True,
                        convert_to_iter_based=True)]
default_hooks = dict(checkpoint=dict(interval=max_epochs))
