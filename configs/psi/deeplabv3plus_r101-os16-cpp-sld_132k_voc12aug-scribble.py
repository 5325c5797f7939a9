# PSI (Xu et al., ICCV 2021) on PASCAL VOC 2012 + ScribbleSup: DeepLabV3+ (ResNet-101, output stride 16) with the
# CPP neck, trained on the scribbles plus the labels SLD has diffused so far (LoadSLDLabels), with the smoothness
# term (lambda_1 = 100) and the SLD decision function g (PSISegmentor). Scored on the full val masks.
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py', '../_base_/datasets/voc12_scribble.py',
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_40k.py'
]
custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
num_classes = 21
cpp_channels = 256
# {sld_dir}/state.json ({"step": t}) and {sld_dir}/step_<t>/<name>.png: the SLD labels of each step
sld_dir = _base_.data_root + '/psi/sld'
model = dict(
    type='PSISegmentor',
    data_preprocessor=dict(size=_base_.crop_size),
    pretrained='open-mmlab://resnet101_v1c',
    # output stride 16 (the mmseg base is OS8); X1-X4 = Conv2-Conv5 at strides 4 / 8 / 16 / 16
    backbone=dict(depth=101, strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),
    neck=dict(type='CPPNeck', in_channels=(256, 512, 1024, 2048), channels=cpp_channels, radii=(1, 1, 1, 4)),
    decode_head=dict(
        type='CPPSepASPPHead',
        dilations=(1, 6, 12, 18),
        cpp_channels=cpp_channels,
        num_classes=num_classes,
        loss_decode=[
            dict(type='CrossEntropyLoss', avg_non_ignore=True),  # partial CE on y_t (Eq. 10)
            dict(type='SmoothnessLoss', loss_weight=100.0),  # lambda_1 L_p (Eq. 11)
        ]),
    auxiliary_head=None,
    sld_decision=dict(type='SLDDecision'),
    sld_base_radius=16,
    sld_seg_weight=1.0)  # lambda_2 (Eq. 12)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSLDLabels', sld_dir=sld_dir, stroke_width=_base_.scribble_width),
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=_base_.crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomRotate', prob=1.0, degree=10),  # the paper's [-10, 10] degrees; no photometric distortion
    # mmseg's meta keys and the SLD step (the radius of Omega_c)
    dict(type='PackWeakSegInputs',
         meta_keys=('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor', 'flip',
                    'flip_direction', 'reduce_zero_label', 'sld_step')),
]
# Sec. 5.2: 200 epochs of train_aug; batch 16 (ours, the paper is silent) = 132k iterations
max_iters = 132000
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
# Sec. 5.2: SGD, momentum 0.9, lr 0.001, weight decay 0.001, poly decay (power 0.9: ours); g learns ten times
# faster than the network, without weight decay (ours; the paper is silent)
optim_wrapper = dict(
    optimizer=dict(lr=0.001, weight_decay=0.001),
    paramwise_cfg=dict(custom_keys={'sld_decision': dict(lr_mult=10.0, decay_mult=0.0)}))
param_scheduler = [dict(type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters // 10)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=max_iters // 10))
# SLD (Sec. 3.3): T + 1 equal stages; after each of the first T every train_aug image is expanded (original size, no
# augmentation) into {sld_dir}/step_<t+1>/ and state.json moves the pipeline above to it. The SBD masks score the
# labels (log: labelled fraction, accuracy); sld_dir is the LoadSLDLabels one above.
custom_hooks = [dict(type='SLDHook', num_steps=3, gt_dir=_base_.data_root + '/SegmentationClassAug')]
