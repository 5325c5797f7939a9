# BBAM on the toy benchmark: the stock toy Faster R-CNN (from scratch) and, after training, BBAMHook.
#   python tools/train.py configs/bbam/toy/faster-rcnn_r18-tiny_fpn_20e_toy-bbam.py
#   python tools/bbam.py configs/bbam/toy/faster-rcnn_r18-tiny_fpn_20e_toy-bbam.py \
#       $(cat work_dirs/bbam_toy/detector/last_checkpoint)
_base_ = ['../../toy/faster-rcnn_r18-tiny_fpn_20e_toy-boxes.py']
bbam_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale={{_base_.toy_size}}, keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
custom_hooks = [
    dict(
        type='BBAMHook',
        pipeline=bbam_pipeline,
        out_dir='data/toy/VOCdevkit/VOC2012/bbam',
        # 128-pixel images: the paper's stride 16 + 48 sqrt(a) is meant for ~500-pixel VOC images, so it is
        # scaled by 128 / 512; everything else is the paper's
        explainer=dict(num_iters=300, lr=0.02, l1_weight=0.007, stride_base=4, stride_scale=12),
        crf=dict(),
        proposals=dict(type='skimage'))
]
work_dir = 'work_dirs/bbam_toy/detector'
