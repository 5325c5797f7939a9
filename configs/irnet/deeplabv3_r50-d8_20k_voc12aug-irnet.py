# Stock mmseg DeepLabV3 (R-50-D8) trained on IRNet's semantic pseudo labels of VOC 2012 train_aug
# (tools/irnet/make_pseudo_labels.py --out-dir data/VOCdevkit/VOC2012/irnet/pseudo), scored on the real val masks.
_base_ = ['mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py']
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PascalVOCDataset',
        data_root='data/VOCdevkit/VOC2012',
        data_prefix=dict(img_path='JPEGImages', seg_map_path='irnet/pseudo/sem'),
        ann_file='ImageSets/Segmentation/train_aug.txt',
        pipeline={{_base_.train_pipeline}}))
