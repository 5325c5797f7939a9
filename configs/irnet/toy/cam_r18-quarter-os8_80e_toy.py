# IRNet stage 1 on the toy benchmark: the VOC config with a quarter-width ResNet-18 at output stride 8. On 128 px
# images OS8 keeps about the CAM resolution OS16 gives on VOC. The backbone starts from the toy's stand-in for
# ImageNet (pretrain_r18-quarter-os8_8e_toy-objects.py, trained here from scratch on generated object-centred images),
# as the VOC config starts from ImageNet weights; `--cfg-options model.backbone.init_cfg=None` trains from scratch.
_base_ = ['../cam_r50-os16_5e_voc12aug.py', '../../_base_/datasets/toy_metainfo.py']
work_dir = 'work_dirs/irnet_toy/cam'
# The pretraining stage's last checkpoint (`last://WORK_DIR` reads the `last_checkpoint` file mmengine writes there,
# so no epoch number of another stage's schedule is baked in); `--cfg-options model.backbone.init_cfg.checkpoint=...`
# points it elsewhere.
pretrained = 'last://work_dirs/irnet_toy/pretrain'
num_classes = 7
crop_size = (128, 128)
# The toy CAMs are flatter than ImageNet-pretrained ones on VOC (their best background score is 0.6, not 0.15):
# scored at 0.6, confident foreground / background at 0.6 / 0.3 (relation_mining) instead of the paper's 0.30 / 0.05.
model = dict(
    test_cfg=dict(bg_threshold=0.6),
    num_classes=num_classes,
    in_channels=128,
    data_preprocessor=dict(size=crop_size),
    backbone=dict(depth=18, stem_channels=16, base_channels=16, strides=(1, 2, 1, 1), frozen_stages=-1,
                  norm_eval=False, init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResize', scale=(128, 128), ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackWeakSegInputs', num_classes=num_classes),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackWeakSegInputs', num_classes=num_classes),
]
toy_dataset = dict(data_root={{_base_.toy_voc_root}}, metainfo=dict(classes={{_base_.toy_classes}}),
                   ann_file='ImageSets/Segmentation/train.txt')
train_dataloader = dict(num_workers=2, dataset=dict(**toy_dataset, pipeline=train_pipeline))
val_dataloader = dict(num_workers=2, dataset=dict(**toy_dataset, pipeline=test_pipeline))
test_dataloader = val_dataloader
label_dataloader = dict(dataset=dict(**toy_dataset, pipeline=[dict(type='LoadImageFromFile'),
                                                      dict(type='PackWeakSegInputs', num_classes=num_classes)]))
max_epochs = 80
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
# From scratch (no ImageNet here) SGD with the paper's settings stays at the label prior for hundreds of
# iterations; AdamW leaves it after ~300 iterations and fits the toy classes by ~1,000.
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=1e-4), paramwise_cfg=None)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_epochs, by_epoch=True, convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=25), checkpoint=dict(interval=max_epochs))
env_cfg = dict(cudnn_benchmark=False)
relation_mining = dict(fg_threshold=0.6, bg_threshold=0.3)
