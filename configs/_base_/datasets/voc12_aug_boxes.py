# PASCAL VOC 2012 train_aug boxes (mmdet scope) for box-supervised methods (BBAM): mmdet's VOC pipeline on
# WeakVOCDataset, which clips boxes reaching outside the image and reports skipped images.
_base_ = ['mmdet::_base_/datasets/voc0712.py']
data_root = 'data/VOCdevkit/'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='WeakVOCDataset',
        data_root=data_root,
        ann_file='VOC2012/ImageSets/Segmentation/train_aug.txt',
        data_prefix=dict(sub_data_root='VOC2012/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32, bbox_min_size=32),
        pipeline={{_base_.train_pipeline}},
        backend_args={{_base_.backend_args}}))
val_dataloader = dict(
    dataset=dict(
        type='WeakVOCDataset',
        data_root=data_root,
        ann_file='VOC2012/ImageSets/Segmentation/val.txt',
        data_prefix=dict(sub_data_root='VOC2012/')))
test_dataloader = val_dataloader
