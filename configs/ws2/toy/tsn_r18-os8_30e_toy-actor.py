# WS^2 stage 1 on the toy benchmark: the actor classifier of ../tsn_r50-os16_100e_a2d-actor.py as mmaction2's
# ResNet-18 at output stride 8 (strides (1, 2, 1, 1): 16x16 Grad-CAM maps of the 128 px frames; ideal blob IoU 78
# vs 57 at OS16), 4 segments, from scratch with AdamW (configs/_base_/datasets/toy_ws2_a2d.py).
_base_ = ['../tsn_r50-os16_100e_a2d-actor.py', '../../_base_/datasets/toy_ws2_a2d.py']
model = dict(backbone=dict(depth=18, pretrained=None, strides=(1, 2, 1, 1)), cls_head=dict(in_channels=512))
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
train_dataloader = dict(batch_size={{_base_.ws2_toy_batch_size}}, num_workers=2,
                        dataset=dict(pipeline=train_pipeline, **toy_videos))
val_dataloader = dict(batch_size={{_base_.ws2_toy_batch_size}}, num_workers=2,
                      dataset=dict(pipeline=test_pipeline, **toy_videos))
test_dataloader = val_dataloader
train_cfg = {{_base_.ws2_toy_train_cfg}}
optim_wrapper = dict(optimizer={{_base_.ws2_toy_optimizer}})
param_scheduler = {{_base_.ws2_toy_param_scheduler}}
default_hooks = {{_base_.ws2_toy_hooks}}
auto_scale_lr = dict(enable=False, base_batch_size={{_base_.ws2_toy_batch_size}})
