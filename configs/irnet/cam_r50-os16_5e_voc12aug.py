# IRNet stage 1: the CAM classifier on VOC 2012 train_aug image-level labels (Ahn et al., CVPR 2019).
# The authors' settings: ResNet-50 at output stride 16, batch 16, 5 epochs, SGD lr 0.1 (classifier x10),
# weight decay 1e-4, polynomial decay; CAMs at scales (1.0, 0.5, 1.5, 2.0) with flips, scored with bg 0.15.
_base_ = [
    '../_base_/datasets/voc12_aug_image_label.py', 'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/epoch_poly.py'
]
custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
num_classes = 21
model = dict(
    type='CAMClassifier',
    num_classes=num_classes,
    in_channels=2048,
    data_preprocessor=dict(
        type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True, pad_val=0, seg_pad_val=255, size=(512, 512)),
    backbone=dict(
        type='ResNet',
        depth=50,
        strides=(1, 2, 2, 1),  # last downsampling removed: output stride 16
        dilations=(1, 1, 1, 1),
        out_indices=(3, ),
        frozen_stages=0,  # the stem stays at its ImageNet weights, as in the authors' code
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    test_cfg=dict(scales=(1.0, 0.5, 1.5, 2.0), flip=True, bg_threshold=0.15, cam_stride=4))
# inter-pixel relation mining (Sec. 4.2, tools/irnet/mine_relations.py): confident foreground / background
relation_mining = dict(fg_threshold=0.30, bg_threshold=0.05)
max_epochs = 5
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'classifier': dict(lr_mult=10.0)}))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_epochs, by_epoch=True,
                        convert_to_iter_based=True)]
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=1))
log_processor = dict(by_epoch=True)
