# WS^2 stage 1 (Chen et al., CVPR 2020, Sec. 3.1, 5.2): the actor classifier, TSN ResNet-50 from ImageNet on the A2D
# train videos that show one actor (paper: 2794 videos, 87.74% test accuracy), scored on the test videos with one
# actor. Grad-CAM reads the input of cls_head: the last conv features, at output stride 16 (Sec. 3.1's "16x
# smaller" maps), so the last downsampling is removed. The paper gives no schedule: mmaction2's Kinetics-400 TSN
# recipe (8 segments, SGD, 100 epochs) on A2D's extracted frames (see configs/_base_/datasets/a2d_video.py).
_base_ = ['mmaction::recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb.py']
custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
num_classes = 7  # A2D_ACTORS
model = dict(backbone=dict(strides=(1, 2, 2, 1)), cls_head=dict(num_classes=num_classes))
a2d_videos = dict(type='A2DVideoDataset', data_root='data/A2D/Release', label_type='actor', single_label=True)
train_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.875, 0.75, 0.66), random_crop=False,
         max_wh_scale_gap=1),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=25, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TenCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(dataset=dict(_delete_=True, split='train', pipeline=train_pipeline, **a2d_videos))
val_dataloader = dict(dataset=dict(_delete_=True, split='test', pipeline=val_pipeline, test_mode=True, **a2d_videos))
test_dataloader = dict(dataset=dict(_delete_=True, split='test', pipeline=test_pipeline, test_mode=True,
                                    **a2d_videos))
