# Toy benchmark: scribbles for training, full masks for validation (mmseg scope).
_base_ = ['./voc12_scribble.py', './toy_metainfo.py']
crop_size = {{_base_.toy_size}}
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadScribbleAnnotation', stroke_width=3),
    dict(type='RandomResize', scale=(128, 128), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackWeakSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        data_root={{_base_.toy_voc_root}},
        metainfo=dict(classes={{_base_.toy_classes}}),
        ann_file='ImageSets/Segmentation/train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2,
    dataset=dict(
        type='BaseSegDataset',
        data_root={{_base_.toy_voc_root}},
        metainfo=dict(classes={{_base_.toy_classes}}),
        img_suffix='.jpg',
        seg_map_suffix='.png',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# tools/test.py --tta: the base's multi-scale + flip at the training range of scales, 0.75-1.5
img_ratios = [0.75, 1.0, 1.25, 1.5]
tta_pipeline = [
    _base_.tta_pipeline[0],
    dict(_base_.tta_pipeline[1],
         transforms=[[dict(type='Resize', scale_factor=r, keep_ratio=True) for r in img_ratios]] +
         _base_.tta_pipeline[1]['transforms'][1:])
]
