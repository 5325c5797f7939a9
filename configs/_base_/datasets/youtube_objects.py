# YouTube-Objects (Prest et al., CVPR 2012): the v1.0 frames of its shots with one video-level class tag each, and the
# segmentation ground truth of Jain & Grauman (ECCV 2014) on every 10th frame of the 126 test shots. Layout:
#   data/YouTube-Objects/v1/<class>/data/<video>/shots/<shot>/frame%04d.jpg
#   data/YouTube-Objects/youtube_masks/<class>/data/<video>/shots/<shot>/labels/%05d.jpg   (greyscale, > 15 = object)
# Names are prefixed (yto_*) so that a model config can inherit this file next to its own base: a classifier takes
# `yto_videos` (YouTubeObjectsVideoDataset, mmaction scope: one sample per shot, label = class index 0..9; split
# 'train' = the shots without masks, 'test' = the shots with masks), a segmenter (mmseg scope) takes
# `yto_frames_dataloader` / `yto_frames_evaluator` as its test loader and evaluator (YouTubeObjectsFrameDataset: the
# masked frames, 11 classes, background + the 10 of YTO_CLASSES).
yto_data_root = 'data/YouTube-Objects'
yto_videos = dict(type='YouTubeObjectsVideoDataset', data_root=yto_data_root)
yto_frames_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBinaryMaskAnnotation'),  # the shot's class where the mask is > 15, else background
    dict(type='PackWeakSegInputs'),
]
yto_frames_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='YouTubeObjectsFrameDataset', data_root=yto_data_root, pipeline=yto_frames_pipeline))
# per-class IoU of the 11 classes; the papers of Table 5 average the IoU of the 10 object classes
yto_frames_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
