# Semantic pseudo labels (palette PNGs, 255 = ignore) of VOC 2012 train_aug, for a stock mmseg model.
# Point pseudo_label_dir at the folder a wsseg_mm method wrote; validation uses the real val masks.
_base_ = ['mmseg::_base_/datasets/pascal_voc12_aug.py']
data_root = 'data/VOCdevkit/VOC2012'
pseudo_label_dir = 'pseudo_labels/sem'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PascalVOCDataset',
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', seg_map_path=pseudo_label_dir),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        pipeline={{_base_.train_pipeline}}))
