# Stock mmdet Mask R-CNN (half-width R-18 + FPN, from scratch) trained on IRNet's toy instance pseudo labels.
_base_ = ['../../toy/mask-rcnn_r18-tiny_fpn_20e_toy-pseudo.py']
train_dataloader = dict(dataset=dict(ann_file='irnet/pseudo/instances.json'))
