# WS^2 stage 1 (Chen et al., CVPR 2020, Sec. 3.1, 5.2): the action classifier, I3D ResNet-50 fine-tuned from
# mmaction2's Kinetics-400 weights on the A2D train videos that show one action (paper: 2639 videos, 76.60% test
# accuracy), scored on the test videos with one action. Grad-CAM reads the input of cls_head: (2048, t/8, h, w) at
# spatial output stride 16 (the last spatial downsampling removed; conv1, pool1 and pool2 halve time: t' = t/8).
# The paper gives no schedule: mmaction2's Kinetics-400 I3D recipe (32 frames at interval 2, SGD, 100 epochs) on
# A2D's extracted frames (see configs/_base_/datasets/a2d_video.py).
_base_ = ['mmaction::recognition/i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py']
custom_imports = dict(imports=['wsseg_mm'], allow_failed_imports=False)
num_classes = 9  # A2D_ACTIONS
# the whole network starts from Kinetics-400 (load_from; its 400-way fc is left out, shapes differ), so the
# backbone does not inflate ImageNet weights first
model = dict(backbone=dict(pretrained=None, pretrained2d=False, spatial_strides=(1, 2, 2, 1)),
             cls_head=dict(num_classes=num_classes))
load_from = ('https://download.openmmlab.com/mmaction/v1.0/recognition/i3d/'
             'i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb/'
             'i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb_20220812-e213c223.pth')
a2d_videos = dict(type='A2DVideoDataset', data_root='data/A2D/Release', label_type='action', single_label=True)
train_pipeline = [
    dict(type='SampleFrames', clip_len=32, frame_interval=2, num_clips=1),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.8), random_crop=False, max_wh_scale_gap=0),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='SampleFrames', clip_len=32, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='SampleFrames', clip_len=32, frame_interval=2, num_clips=10, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='ThreeCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(dataset=dict(_delete_=True, split='train', pipeline=train_pipeline, **a2d_videos))
val_dataloader = dict(dataset=dict(_delete_=True, split='test', pipeline=val_pipeline, test_mode=True, **a2d_videos))
test_dataloader = dict(dataset=dict(_delete_=True, split='test', pipeline=test_pipeline, test_mode=True,
                                    **a2d_videos))
