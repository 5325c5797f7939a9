"""The CAM classifier of IRNet's first stage (mmseg scope)."""
import math
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.segmentors import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor, nn

from ..functional.cam import cams_to_semantic, class_activation_maps, normalize_cams

DEFAULT_TEST_CFG = dict(scales=(1.0, 0.5, 1.5, 2.0), flip=True, bg_threshold=0.15, cam_stride=4)


@MODELS.register_module()
class CAMClassifier(BaseSegmentor):
    """Multi-label image classifier whose ``predict`` returns class activation maps (IRNet, Sec. 4.1).

    backbone -> global average pooling -> 1x1 classification layer (no bias) -> multi-label soft-margin loss.
    The CAM of class c is the ReLU of the class-weighted last features divided by its spatial maximum (Eq. 1);
    it is zero for classes not among the image's labels. At inference CAMs are summed over ``test_cfg.scales``
    (and horizontal flips) before normalisation, and ``pred_sem_seg`` is the argmax of
    ``[bg_threshold, CAMs]``, so ``tools/test.py`` scores CAMs with mmseg's ``IoUMetric``.

    Args:
        backbone (dict): e.g. mmseg ``ResNet`` with ``strides=(1, 2, 2, 1)`` (output stride 16, as IRNet).
        num_classes (int): classes including background; the classifier has ``num_classes - 1`` outputs.
        in_channels (int): channels of the last backbone output.
        test_cfg (dict): ``scales``, ``flip``, ``bg_threshold`` (0.15: the authors' CAM evaluation) and
            ``cam_stride`` (4: resolution of the strided CAMs kept for IRNet's label synthesis).
        data_preprocessor (dict): an mmseg ``SegDataPreProcessor``.
    """

    def __init__(self,
                 backbone: dict,
                 num_classes: int,
                 in_channels: int,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.num_classes = num_classes
        self.classifier = nn.Conv2d(in_channels, num_classes - 1, 1, bias=False)
        self.train_cfg = train_cfg
        self.test_cfg = dict(DEFAULT_TEST_CFG, **(test_cfg or {}))

    def extract_feat(self, inputs: Tensor) -> Tensor:
        """(N, 3, H, W) -> (N, C, H/16, W/16) last backbone features."""
        return self.backbone(inputs)[-1]

    def _forward(self, inputs: Tensor, data_samples: OptSampleList = None) -> Tensor:
        """(N, 3, H, W) -> (N, K) class logits (K = num_classes - 1)."""
        features = self.extract_feat(inputs)
        return self.classifier(F.adaptive_avg_pool2d(features, 1)).flatten(1)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        missing = [s.metainfo.get('img_path', '?') for s in data_samples if 'gt_img_labels' not in s]
        if missing:
            raise ValueError(f'{type(self).__name__} trains on image-level labels, but the data samples have no '
                             f'gt_img_labels (e.g. {missing[0]}): set num_classes in the PackWeakSegInputs of '
                             f"train_dataloader.dataset.pipeline (dict(type='PackWeakSegInputs', "
                             f'num_classes={self.num_classes}), background included), and use a dataset that gives '
                             "image-level labels (VOCImageLabelDataset)")
        targets = torch.stack([s.gt_img_labels[1:] for s in data_samples]).to(inputs.device)
        logits = self._forward(inputs)
        with torch.no_grad():
            acc = ((logits > 0).float() == targets).float().mean() * 100
        return dict(loss_cls=F.multilabel_soft_margin_loss(logits, targets), acc_cls=acc)

    @torch.no_grad()
    def compute_cams(self, image: Tensor, labels: Sequence[int]) -> Dict[str, Tensor]:
        """Multi-scale, flip-augmented CAMs of one image for the given classes.

        Args:
            image: (1, 3, H, W) normalised image.
            labels: 1-based class indices present in the image.

        Returns:
            ``high_res`` (K, H, W) and ``strided`` (K, ceil(H / s), ceil(W / s)) CAMs, each normalised to max 1,
            for the K given classes in the given order (s = ``test_cfg.cam_stride``).
        """
        cfg = self.test_cfg
        h, w = image.shape[-2:]
        strided_size = (math.ceil(h / cfg['cam_stride']), math.ceil(w / cfg['cam_stride']))
        weight = self.classifier.weight[[c - 1 for c in labels]]
        high_res = image.new_zeros(len(labels), h, w)
        strided = image.new_zeros(len(labels), *strided_size)
        for scale in cfg['scales']:
            scaled = image if scale == 1 else F.interpolate(
                image, size=(round(h * scale), round(w * scale)), mode='bilinear', align_corners=False)
            batch = torch.cat([scaled, scaled.flip(-1)]) if cfg['flip'] else scaled
            cams = class_activation_maps(self.extract_feat(batch), weight)
            if cfg['flip']:
                cams = cams[:1] + cams[1:].flip(-1)
            high_res += F.interpolate(cams, (h, w), mode='bilinear', align_corners=False)[0]
            strided += F.interpolate(cams, strided_size, mode='bilinear', align_corners=False)[0]
        return dict(high_res=normalize_cams(high_res), strided=normalize_cams(strided))

    def image_labels(self, inputs: Tensor, data_sample) -> List[int]:
        """The image's labels: ground-truth ``img_labels`` when packed, otherwise the classifier's (logit > 0)."""
        if 'img_labels' in data_sample.metainfo:
            return [int(c) for c in data_sample.metainfo['img_labels']]
        return [int(c) + 1 for c in torch.nonzero(self._forward(inputs)[0] > 0).flatten()]

    def predict(self, inputs: Tensor, data_samples: OptSampleList = None) -> SampleList:
        """Adds ``cams`` (PixelData (num_classes - 1, H, W), zero for absent classes) and ``pred_sem_seg``."""
        from mmseg.structures import SegDataSample
        if data_samples is None:
            data_samples = [SegDataSample(metainfo=dict(ori_shape=inputs.shape[-2:])) for _ in inputs]
        for image, sample in zip(inputs, data_samples):
            labels = self.image_labels(image[None], sample)
            h, w = sample.metainfo.get('img_shape', image.shape[-2:])
            cams = self.compute_cams(image[None, :, :h, :w], labels)['high_res']
            ori_shape = sample.metainfo.get('ori_shape', (h, w))
            if tuple(ori_shape) != (h, w):
                cams = F.interpolate(cams[None], ori_shape, mode='bilinear', align_corners=False)[0]
            full = cams.new_zeros(self.num_classes - 1, *cams.shape[-2:])
            full[[c - 1 for c in labels]] = cams
            sample.set_data(dict(
                cams=PixelData(data=full),
                pred_sem_seg=PixelData(data=cams_to_semantic(cams, labels, self.test_cfg['bg_threshold'])[None])))
        return data_samples

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """(N, 3, H, W) -> (N, num_classes, H, W) scores: the background threshold and the CAMs of the
        predicted classes (single scale), in mmseg's segmentor interface."""
        features = self.extract_feat(inputs)
        logits = self.classifier(F.adaptive_avg_pool2d(features, 1)).flatten(1)
        cams = normalize_cams(class_activation_maps(features, self.classifier.weight)) * (logits > 0)[..., None, None]
        cams = F.interpolate(cams, inputs.shape[-2:], mode='bilinear', align_corners=False)
        return F.pad(cams, (0, 0, 0, 0, 1, 0), value=self.test_cfg['bg_threshold'])
