# IRNet stage 3 on the toy benchmark. There is no ImageNet here, so the frozen backbone is the one the toy CAM
# classifier learned (cam_r18-half_toy.py); the branches are trained on the mined relations.
_base_ = [
    '../../_base_/datasets/toy_voc_image_label.py', 'mmseg::_base_/default_runtime.py',
    '../../_base_/schedules/epoch_poly.py'
]
custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
work_dir = 'work_dirs/irnet_toy/irnet'
cam_checkpoint = 'work_dirs/irnet_toy/cam/epoch_60.pth'
relation_dir = 'irnet/relations'  # relative to data_root, where tools/irnet/mine_relations.py wrote them
crop_size = (128, 128)
model = dict(
    type='IRNet',
    data_preprocessor=dict(
        type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True, pad_val=0, seg_pad_val=255, size=crop_size),
    backbone=dict(
        type='ResNet',
        depth=18,
        stem_channels=32,
        base_channels=32,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 1),
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='BN', requires_grad=False),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint=cam_checkpoint, prefix='backbone.')),
    head=dict(type='IRNetHead', in_channels=(32, 32, 64, 128, 256), boundary_channels=32,
              displacement_channels=(32, 64, 128, 128, 128), radius=10, displacement_grad_scale=10.0),
    test_cfg=dict(flip=True))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(128, 128), ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(
    batch_size=16,
    dataset=dict(data_prefix=dict(img_path='JPEGImages', seg_map_path=relation_dir), pipeline=train_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
# the images the IRNet tools (make_pseudo_labels, benchmark, visualize: --split label) synthesise labels for
label_dataloader = dict(
    dataset=dict(
        type='VOCImageLabelDataset',
        data_root={{_base_.toy_voc_root}},
        metainfo=dict(classes={{_base_.toy_classes}}),
        data_prefix=dict(img_path='JPEGImages'),
        ann_file='ImageSets/Segmentation/train.txt',
        pipeline=[dict(type='LoadImageFromFile'), dict(type='PackWeakSegInputs')]))
max_epochs = 20
# lr 0.1 (the paper's, for ImageNet features) leaves the displacement branch at a constant field over the toy's
# from-scratch features; 0.01 (x10 for the displacement branch, as in the paper) learns it.
optim_wrapper = dict(optimizer=dict(lr=0.01))
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_epochs, by_epoch=True,
                        convert_to_iter_based=True)]
default_hooks = dict(logger=dict(interval=25), checkpoint=dict(interval=max_epochs))
log_processor = dict(by_epoch=True)
env_cfg = dict(cudnn_benchmark=False)
