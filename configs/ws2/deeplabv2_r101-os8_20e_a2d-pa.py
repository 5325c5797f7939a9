# WS^2 stage 2 (Chen et al., CVPR 2020, Sec. 3.3, 5.2): the DeepLab-v2 segmenter (ResNet-101 V1c from ImageNet at
# output stride 8, DeepLabV2Head: the sum of 3x3 classifiers with dilations 6/12/18/24) trained on one PA version of
# the A2D train videos (configs/_base_/datasets/a2d_pa_frames.py: pa_dir, pa_selection), 224x224 random crops, batch
# 12, SGD momentum 0.9, poly lr 7e-4 power 0.9, full-frame test. Alg. 1: RIC on the val videos' PA frames after
# every epoch, the best-RIC checkpoint kept, training stopped when RIC stops improving.
# The paper gives neither epochs nor weight decay. Proposals: weight decay 5e-4 (DeepLab-v2's own recipe);
# at most 20 epochs (DeepLab-v2's 20k iterations at batch 10 on VOC's 10582 images), of ~690 iterations on the
# ~8.2k selected PA.v0 frames; early stopping after 3 epochs without a RIC gain of 0.1 (points, RIC in percent).
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py', '../_base_/datasets/a2d_pa_frames.py',
    'mmseg::_base_/default_runtime.py', '../_base_/schedules/epoch_poly.py'
]
custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
num_classes = 44  # A2D_SEG_CLASSES: background + 43 actor-action pairs
max_epochs = 20
norm_cfg = dict(type='BN', requires_grad=True)  # one GPU, batch 12
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101, norm_cfg=norm_cfg),  # the base's dilations (1, 1, 2, 4), strides (1, 2, 1, 1): OS8
    decode_head=dict(_delete_=True, type='DeepLabV2Head', in_channels=2048, in_index=3, dilations=(6, 12, 18, 24),
                     num_classes=num_classes, align_corners=False,
                     # averaged over the labelled pixels: the PAs' 255 regions are ignored
                     loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                                      avg_non_ignore=True)),
    auxiliary_head=None)
optim_wrapper = dict(optimizer=dict(lr=7e-4, momentum=0.9, weight_decay=5e-4))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_epochs, by_epoch=True,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=1, save_best='RIC', rule='greater'))
custom_hooks = [dict(type='EarlyStoppingHook', monitor='RIC', rule='greater', patience=3, min_delta=0.1)]
log_processor = dict(by_epoch=True)
