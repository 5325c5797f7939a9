# WS^2 stage 2 (issue 12, Alg. 1): the segmenter trains on the frames of one pseudo-annotation (PA) version of the A2D
# train videos and is scored with RIC on the PA frames of the val videos (every 10th train video: 3036 = 2748 train
# + 288 val); the test loader is A2D's annotated test frames with A2DMetric (./a2d_frames.py). A PA version is
# written by tools/ws2/make_pa.py (PA.v0) as <data_root>/<pa_dir>/<video_id>/<frame:05d>.png, e.g.
#   python tools/ws2/make_pa.py ACTOR_CFG ACTOR_CKPT ACTION_CFG ACTION_CKPT --out-dir data/A2D/Release/ws2/pa_v0
# pa_selection: None (every PA frame) or a file of selected frame ids (<video_id>/<frame:05d>, one per line).
_base_ = ['./a2d_frames.py']
pa_dir = 'ws2/pa_v0'
pa_selection = None
val_every = 10
crop_size = (224, 224)
# SLIC superpixels of the val frames for RIC's Alg. 2 refinement, computed once and cached (n_segments 100)
superpixel_cache = _base_.data_root + '/ws2/superpixels'  # noqa: F821 (mmengine config variable)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),  # P: the paper names crops only
    dict(type='PackSegInputs'),
]
pa_val_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSuperpixels', cache_dir=superpixel_cache),  # before any geometric transform
    dict(type='LoadAnnotations'),
    dict(type='PackWeakSegInputs'),
]
pa_frames = dict(type='A2DPseudoFrameDataset', data_root=_base_.data_root, split='train',  # noqa: F821
                 pa_dir=pa_dir)
train_dataloader = dict(
    batch_size=12,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(selection=pa_selection, video_list=dict(every=val_every, part='train'), pipeline=train_pipeline,
                 **pa_frames))
val_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(video_list=dict(every=val_every, part='val'), pipeline=pa_val_pipeline, **pa_frames))
val_evaluator = dict(_delete_=True, type='RICMetric')
