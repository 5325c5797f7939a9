# WS^2 stage 1 on the toy benchmark: the actor classifier of ../tsn_r50-os16_100e_a2d-actor.py as mmaction2's
# ResNet-18 at the paper's output stride 16 (strides (1, 2, 2, 1): 8x8 Grad-CAM maps of the 128 px frames), 4
# segments, from scratch with AdamW (configs/_base_/datasets/toy_ws2_a2d.py), batch 8 for 20 epochs. The toy
# plan took output stride 8 (16x16 maps; ideal blob IoU 78 vs 57 at OS16), but a full-width ResNet-18 at OS8 costs
# 7.4 s per batch of 16 clips forward + backward on the 2 shared cores (30 epochs: 45 min) against 2.4 s at OS16, and
# after 6 epochs (72 iterations) at OS8 it was still at the label prior (18.6% top-1).
_base_ = ['../tsn_r50-os16_100e_a2d-actor.py', '../../_base_/datasets/toy_ws2_a2d.py']
model = dict(backbone=dict(depth=18, pretrained=None, strides=(1, 2, 2, 1)), cls_head=dict(in_channels=512))
max_epochs = 20
batch_size = 8
num_segments = 4
train_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments),
    dict(type='RawFrameDecode'),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=num_segments, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
toy_videos = dict(data_root={{_base_.ws2_toy_a2d_root}})
train_dataloader = dict(batch_size=batch_size, num_workers=2,
                        dataset=dict(pipeline=train_pipeline, **toy_videos))
val_dataloader = dict(batch_size=batch_size, num_workers=2,
                      dataset=dict(pipeline=test_pipeline, **toy_videos))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
optim_wrapper = dict(optimizer={{_base_.ws2_toy_optimizer}})
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0, by_epoch=True, begin=0, end=max_epochs,
         convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
auto_scale_lr = dict(enable=False, base_batch_size=batch_size)
