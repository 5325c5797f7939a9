# Instance pseudo labels (COCO JSON, RLE masks) of VOC 2012 train_aug, for a stock mmdet Mask R-CNN.
_base_ = ['mmdet::_base_/datasets/coco_instance.py']
data_root = 'data/VOCdevkit/VOC2012/'
pseudo_label_file = 'pseudo_labels/instances.json'
metainfo = dict(classes=('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
                         'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
                         'train', 'tvmonitor'))
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file=pseudo_label_file,
        data_prefix=dict(img='JPEGImages/')))
# VOC val instance masks as COCO JSON, written by tools/dataset_converters/voc_instances_to_coco.py
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/voc12_val_instances.json',
        data_prefix=dict(img='JPEGImages/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/voc12_val_instances.json')
test_evaluator = val_evaluator
