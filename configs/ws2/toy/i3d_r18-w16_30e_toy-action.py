# WS^2 stage 1 on the toy benchmark: the action classifier of ../i3d_r50-os16_100e_a2d-action.py as a ResNet3d-18 of
# 16 base channels, from scratch with AdamW (configs/_base_/datasets/toy_ws2_a2d.py). conv1 (3, 7, 7) and pool1 keep
# time, pool2 halves it: 8 frames at interval 2 give (128, 4, 8, 8) features at spatial output stride 16, and
# Grad-CAM slice k lands on frame 4k + 1, the annotated frames 1 / 5 / 9 / 13 of the toy clips.
_base_ = ['../i3d_r50-os16_100e_a2d-action.py', '../../_base_/datasets/toy_ws2_a2d.py']
model = dict(
    backbone=dict(depth=18, base_channels=16, conv1_kernel=(3, 7, 7), conv1_stride_t=1, pool1_stride_t=1,
                  with_pool2=True, inflate=(1, 1, 1, 1)),
    cls_head=dict(in_channels=128))
load_from = None
train_pipeline = [
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1),
    dict(type='RawFrameDecode'),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='FormatShape', input_format='NCTHW'),
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
# WS^2 stage 1 (tools/ws2/make_pa.py reads ws2_pa of the action config): the toy's 4 annotated frames per clip,
# 1 / 5 / 9 / 13, where the 4 time slices of this network land
ws2_pa = dict(frames_per_video=4)
