# PASCAL-Context (VOC 2010, 59 classes + background) + ScribbleSup scribbles (mmseg scope): as voc12_scribble.py,
# validated on mmseg's PascalContextDataset masks (its converter's SegmentationClassContext, 0 = background).
# Layout: data/VOCdevkit/VOC2010/{JPEGImages,SegmentationClassContext,ScribbleAnnotation/pascal_context,
#         ImageSets/SegmentationContext/{train,val}.txt}
# (the folder of the scribble files is ours: put the ScribbleSup PASCAL-Context XML files there, or set
# train_dataloader.dataset.data_prefix.scribble_path)
_base_ = ['./voc12_scribble.py']
dataset_type = 'ContextScribbleDataset'
data_root = 'data/VOCdevkit/VOC2010'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(520, 520), keep_ratio=True),  # mmseg's pascal_context.py
    dict(type='LoadAnnotations'),
    dict(type='PackWeakSegInputs'),
]
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', scribble_path='ScribbleAnnotation/pascal_context'),
        ann_file='ImageSets/SegmentationContext/train.txt'))
val_dataloader = dict(
    dataset=dict(
        type='PascalContextDataset',
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassContext'),
        ann_file='ImageSets/SegmentationContext/val.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
