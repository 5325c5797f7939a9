# WS^2 stage 2 on the toy benchmark: the segmenter of ../deeplabv2_r101-os8_20e_a2d-pa.py as the demo's
# quarter-width ResNet-18 V1c (from scratch) at output stride 8 with DeepLabV2Head, 96 px random crops of the 128 px
# frames, batch 12, AdamW, 700 iterations (~10 epochs of the 216 train clips' 864 PA.v0 frames), RIC on the 24 val
# clips' PA frames every 70 iterations (~ once per epoch, as Alg. 1), best-RIC checkpoint, early stopping.
_base_ = ['../deeplabv2_r101-os8_20e_a2d-pa.py', '../../_base_/datasets/toy_ws2_a2d.py']
max_iters = 700
val_interval = 70
crop_size = (96, 96)
toy_root = _base_.ws2_toy_a2d_root
model = dict(
    data_preprocessor=dict(size=crop_size),
    pretrained=None,  # offline toy run: trained from scratch
    backbone=dict(depth=18, stem_channels=16, base_channels=16),
    decode_head=dict(in_channels=128))
toy_pa = dict(data_root=toy_root)
train_dataloader = dict(
    num_workers=2,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(pipeline=[dict(t, crop_size=crop_size) if t['type'] == 'RandomCrop' else t
                           for t in _base_.train_pipeline], **toy_pa))
val_dataloader = dict(
    num_workers=2,
    dataset=dict(pipeline=[dict(t, cache_dir=toy_root + '/ws2/superpixels') if t['type'] == 'LoadSuperpixels' else t
                           for t in _base_.pa_val_pipeline], **toy_pa))
test_dataloader = dict(num_workers=2, dataset=dict(data_root=toy_root))
optim_wrapper = dict(optimizer=_base_.ws2_toy_optimizer)
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
default_hooks = dict(logger=dict(interval=10, log_metric_by_epoch=False),
                     checkpoint=dict(by_epoch=False, interval=val_interval))
# early stopping counts validations: 3 without a RIC gain of 0.1 = 210 iterations
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
# the selection: the actor classifier sees cut-and-paste patches at the toy frames' 128 px (A2D: its 224 px crops); D
# a quarter as wide (16 base channels: about 1/16 of the FLOPs of the default 64, ~0.8 GFLOPs per 64 px patch forward
# + backward at 64, which made the toy's selection alone take most of an hour on 2 cores)
ws2_select = dict(actor_patch_size=128, base_channels=16)
