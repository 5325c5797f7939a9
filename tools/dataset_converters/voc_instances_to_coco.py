"""Write VOC instance ground truth (SegmentationObject) as COCO JSON, for mmdet evaluation of instance pseudo labels.

    python tools/dataset_converters/voc_instances_to_coco.py data/VOCdevkit/VOC2012 --split val \
        --out data/VOCdevkit/VOC2012/annotations/voc12_val_instances.json
    # toy benchmark: add --toy (its six classes instead of VOC's twenty)
"""
import argparse

from wsseg_mm.datasets.converters import voc_instances_to_coco
from wsseg_mm.metainfo import TOY_CLASSES, VOC_CLASSES


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('voc_root', help='the VOC2012 folder')
    parser.add_argument('--split', default='val', help='list in ImageSets/Segmentation')
    parser.add_argument('--out', required=True, help='output JSON')
    parser.add_argument('--toy', action='store_true', help='use the toy benchmark classes')
    args = parser.parse_args(argv)
    writer = voc_instances_to_coco(args.voc_root, args.split, TOY_CLASSES if args.toy else VOC_CLASSES)
    writer.dump(args.out)
    print(f'{len(writer.images)} images, {len(writer.annotations)} instances -> {args.out}')


if __name__ == '__main__':
    main()
