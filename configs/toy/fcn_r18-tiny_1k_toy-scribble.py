# Stock mmseg FCN (ResNet-18 V1c at a quarter of the width, from scratch) trained on the toy scribbles:
# the demo's baseline, and the naive reference for PSI. ~2 minutes on 2 CPU cores.
_base_ = [
    'mmseg::_base_/models/fcn_r50-d8.py', '../_base_/datasets/toy_voc_scribble.py',
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_20k.py'
]
custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
num_classes = 7
max_iters = 1000
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    pretrained=None,  # offline toy run: trained from scratch
    backbone=dict(depth=18, stem_channels=16, base_channels=16, norm_cfg=norm_cfg),
    # partial cross-entropy: average over the scribbled pixels only, not over the ~95% left unlabelled (255)
    decode_head=dict(in_channels=128, channels=64, num_classes=num_classes, norm_cfg=norm_cfg,
                     loss_decode=dict(avg_non_ignore=True)),
    auxiliary_head=dict(in_channels=64, channels=32, num_classes=num_classes, norm_cfg=norm_cfg,
                        loss_decode=dict(avg_non_ignore=True)))
optim_wrapper = dict(optimizer=dict(lr=0.02, weight_decay=1e-4))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters, by_epoch=False)]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=max_iters // 2, max_keep_ckpts=2))
env_cfg = dict(cudnn_benchmark=False)
# Seeded so that `make demo` prints the figures the README quotes (data order, augmentation and init).
randomness = dict(seed=0)
