# IRNet stage 1 on the toy benchmark: a half-width ResNet-18 at output stride 16 trained from scratch (offline).
_base_ = ['../../_base_/datasets/toy_voc_image_label.py', 'mmseg::_base_/default_runtime.py', '../../_base_/schedules/epoch_poly.py']
custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
num_classes = 7
work_dir = 'work_dirs/irnet_toy/cam'
model = dict(
    type='CAMClassifier',
    num_classes=num_classes,
    in_channels=256,
    data_preprocessor=dict(
        type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True, pad_val=0, seg_pad_val=255, size=(128, 128)),
    backbone=dict(
        type='ResNet',
        depth=18,
        stem_channels=32,
        base_channels=32,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 1),
        out_indices=(3, ),
        norm_cfg=dict(type='BN', requires_grad=True),
        style='pytorch',
        init_cfg=None),
    test_cfg=dict(scales=(1.0, 0.5, 1.5, 2.0), flip=True, bg_threshold=0.15, cam_stride=4))
max_epochs = 60
train_dataloader = dict(batch_size=16)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
# From scratch (no ImageNet here) SGD with the paper's settings stays at the label prior for hundreds of
# iterations; AdamW leaves it after ~300 iterations and fits the toy classes by ~1,000.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_epochs, by_epoch=True, convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=25), checkpoint=dict(interval=max_epochs))
log_processor = dict(by_epoch=True)
env_cfg = dict(cudnn_benchmark=False)
