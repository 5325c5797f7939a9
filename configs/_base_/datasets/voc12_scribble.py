# PASCAL VOC 2012 + ScribbleSup scribbles (mmseg scope). Scribbles are rasterised into gt_seg_map (255 elsewhere),
# so any stock mmseg model trains on them with partial cross-entropy; validation uses the full masks.
# Layout: data/VOCdevkit/VOC2012/{JPEGImages,SegmentationClass,ScribbleAnnotation/pascal_2012,
#         ImageSets/Segmentation/{train_aug,val}.txt}
dataset_type = 'VOCScribbleDataset'
data_root = 'data/VOCdevkit/VOC2012'
crop_size = (512, 512)
scribble_width = 3
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadScribbleAnnotation', stroke_width=scribble_width),
    dict(type='RandomResize', scale=(2048, 512), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackWeakSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', scribble_path='ScribbleAnnotation/pascal_2012'),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PascalVOCDataset',
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# tools/test.py --tta: multi-scale + flip (mmseg's ratios; PSI's Table 3 "+ multi-scale" row)
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug',
         transforms=[[dict(type='Resize', scale_factor=r, keep_ratio=True) for r in img_ratios],
                     [dict(type='RandomFlip', prob=0., direction='horizontal'),
                      dict(type='RandomFlip', prob=1., direction='horizontal')],
                     [dict(type='LoadAnnotations')], [dict(type='PackWeakSegInputs')]])
]
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
