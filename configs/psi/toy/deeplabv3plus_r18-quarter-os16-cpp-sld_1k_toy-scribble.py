# PSI on the toy benchmark: the demo's quarter-width ResNet-18 V1c (from scratch) at output stride 16 with the CPP
# neck and a small DeepLabV3+ head, trained like the demo's scribble baseline (fcn_r18-tiny_1k_toy-scribble.py) on
# the scribbles plus the SLD labels so far.
_base_ = ['../../toy/fcn_r18-tiny_1k_toy-scribble.py']
cpp_channels = 64
# lambda_1 of L_p (Eq. 11): the paper's 100 (VOC) made P worse than the baseline on the toy (seed 0: 21.9 vs 29.1
# mIoU), so 10, as issue 11 Sec. 8 says to fall back to (P 31.2)
lambda1 = 10.0
norm_cfg = dict(type='BN', requires_grad=True)  # as the demo's (a base's dict would carry its _scope_ key)
sld_dir = _base_.toy_voc_root + '/psi/sld'
model = dict(
    type='PSISegmentor',
    backbone=dict(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),  # OS16: 16 / 32 / 64 / 128 channels
    neck=dict(type='CPPNeck', in_channels=(16, 32, 64, 128), channels=cpp_channels, radii=(1, 1, 1, 4)),
    decode_head=dict(
        _delete_=True,
        type='CPPSepASPPHead',
        in_channels=128,
        in_index=3,
        channels=64,
        dilations=(1, 2, 3, 4),  # an 8 x 8 map at stride 16
        c1_in_channels=16,
        c1_channels=12,
        cpp_channels=cpp_channels,
        dropout_ratio=0.1,
        num_classes=_base_.num_classes,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=[dict(type='CrossEntropyLoss', avg_non_ignore=True),
                     dict(type='SmoothnessLoss', loss_weight=lambda1)]),
    auxiliary_head=None,
    sld_decision=dict(type='SLDDecision'),
    sld_base_radius=4)  # 128 x 128 scenes
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSLDLabels', sld_dir=sld_dir, stroke_width=3),
    dict(type='RandomResize', scale=_base_.toy_size, ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=_base_.toy_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackWeakSegInputs',
         meta_keys=('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor', 'flip',
                    'flip_direction', 'reduce_zero_label', 'sld_step')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'sld_decision': dict(lr_mult=10.0, decay_mult=0.0)}))
# SLD: T = 3 expansions (after iterations 250, 500, 750), scored against the toy's full masks
custom_hooks = [dict(type='SLDHook', num_steps=3, gt_dir=_base_.toy_voc_root + '/SegmentationClass')]
work_dir = 'work_dirs/psi_toy/psi'
