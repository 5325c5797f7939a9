# WS^2 stage 2 on YouTube-Objects (Chen et al., CVPR 2020, Table 5): the A2D segmenter recipe
# (./deeplabv2_r101-os8_20e_a2d-pa.py: DeepLab-v2 ResNet-101 at OS8, 224x224 crops, batch 12, SGD poly lr 7e-4, RIC
# after every epoch, early stopping) on one PA version of the shots, 11 classes (background + the 10 of YTO_CLASSES;
# PA labels = class index + 1, written by tools/ws2/make_pa.py with the class classifier alone,
# configs/ws2/tsn_r50-os16_100e_yto-actor.py, ws2_pa.with_action=False):
#   python tools/ws2/make_pa.py configs/ws2/tsn_r50-os16_100e_yto-actor.py CKPT --split all \
#       --out-dir data/YouTube-Objects/ws2/pa_v0
# Test: the masked frames of the 126 test shots (Jain & Grauman's ground truth), ObjectIoUMetric: object_mIoU = the
# mean IoU of the 10 object classes, Table 5's figure (WS^2: 64.7).
# P (the paper is silent): the PA frames of every shot, test shots included (only their class tag is used, as the
# video-level tags of the weakly supervised methods of Table 5; their masks score the test and, as a diagnostic, the
# PAs), every 10th shot is val for RIC.
_base_ = ['./deeplabv2_r101-os8_20e_a2d-pa.py', '../_base_/datasets/youtube_objects.py']
num_classes = 11  # YTO_SEG_CLASSES
pa_split = 'all'
superpixel_cache = _base_.yto_data_root + '/ws2/superpixels'  # noqa: F821 (mmengine config variable)
model = dict(decode_head=dict(num_classes=num_classes))
yto_pa_frames = dict(type='YouTubeObjectsPseudoFrameDataset', data_root=_base_.yto_data_root,  # noqa: F821
                     split=pa_split, pa_dir=_base_.pa_dir)  # noqa: F821
yto_pa_val_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSuperpixels', cache_dir=superpixel_cache),  # before any geometric transform
    dict(type='LoadAnnotations'),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(dataset=dict(
    _delete_=True, selection=_base_.pa_selection, pipeline=_base_.train_pipeline,  # noqa: F821
    video_list=dict(every=_base_.val_every, part='train'), **yto_pa_frames))  # noqa: F821
val_dataloader = dict(dataset=dict(_delete_=True, video_list=dict(every=_base_.val_every, part='val'),  # noqa: F821
                                   pipeline=yto_pa_val_pipeline, **yto_pa_frames))
test_dataloader = dict(_delete_=True, **_base_.yto_frames_dataloader)  # noqa: F821
test_evaluator = dict(_delete_=True, type='ObjectIoUMetric')
