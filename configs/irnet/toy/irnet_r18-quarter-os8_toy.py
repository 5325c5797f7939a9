# IRNet stage 3 on the toy benchmark: the VOC config at toy scale. There is no ImageNet here, so the frozen
# backbone is the one the toy CAM classifier learned (cam_r18-quarter-os8_toy.py).
_base_ = ['../irnet_r50_voc12aug.py', '../../_base_/datasets/toy_metainfo.py']
work_dir = 'work_dirs/irnet_toy/irnet'
cam_checkpoint = 'work_dirs/irnet_toy/cam/epoch_80.pth'
crop_size = (128, 128)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(depth=18, stem_channels=16, base_channels=16, strides=(1, 2, 1, 1),
                  init_cfg=dict(type='Pretrained', checkpoint=cam_checkpoint, prefix='backbone.')),
    head=dict(in_channels=(16, 16, 32, 64, 128), displacement_channels=(32, 64, 128, 128, 128)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(128, 128), ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackWeakSegInputs'),
]
toy_dataset = dict(data_root={{_base_.toy_voc_root}}, metainfo=dict(classes={{_base_.toy_classes}}),
                   ann_file='ImageSets/Segmentation/train.txt')
train_dataloader = dict(batch_size=16, num_workers=2, dataset=dict(**toy_dataset, pipeline=train_pipeline))
label_dataloader = dict(dataset=toy_dataset)
max_epochs = 20
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
# lr 0.1 (the paper's, for ImageNet features) leaves the displacement branch at a constant field over the toy's
# from-scratch features; 0.01 (x10 for the displacement branch, as in the paper) learns it.
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_epochs, by_epoch=True,
                        convert_to_iter_based=True)]
default_hooks = dict(logger=dict(interval=25), checkpoint=dict(interval=max_epochs))
env_cfg = dict(cudnn_benchmark=False)
