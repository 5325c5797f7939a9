# A2D (Xu et al., CVPR 2015) videos with video-level actor + action labels (mmaction scope), for WS^2.
# Layout: data/A2D/Release/{videoset.csv, pngs320H/<vid>/%05d.png, Annotations/mat/<vid>/%05d.mat}
# (pngs320H: the frames of clips320H/<vid>.mp4, e.g. extracted with mmaction's tools/data/build_rawframes.py).
dataset_type = 'A2DVideoDataset'
data_root = 'data/A2D/Release'
clip_len = 16
train_pipeline = [
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=1),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=1, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', label_type='both',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', label_type='both', pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader
# multi-label video tags: mean average precision over the 7 actors + 9 actions
val_evaluator = dict(type='AccMetric', metric_list=('mean_average_precision', ))
test_evaluator = val_evaluator
