"""PSI's segmentor: DeepLabV3+ with CPP trained on diffused scribbles, plus the SLD loss (Xu et al., ICCV 2021)."""
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import SampleList, add_prefix
from torch import Tensor

from ..functional import psi
from ..functional.psi import SLD_BASE_RADIUS, SLD_STEEPNESS, SLDDecisions


@MODELS.register_module()
class PSISegmentor(EncoderDecoder):
    """:class:`EncoderDecoder` that trains on PSI's label codes and trains the SLD decision function ``g``.

    ``gt_sem_seg`` holds the codes of :func:`~wsseg_mm.functional.psi.encode_sld_labels` (written by
    ``LoadSLDLabels``): the heads train on the current labels ``y_t`` (``L_seg``, Eq. 11, with whatever
    ``loss_decode`` they have, e.g. cross-entropy + :class:`SmoothnessLoss`), and ``loss_sld`` (Eq. 12) trains
    ``g`` from ``y_0``, ``y_t`` and the detached prediction. As ``L_seg`` does not involve ``g`` and ``L_sld``
    sees the prediction detached, one backward of their sum is the paper's alternation. Plain labels (no code
    of 128 or more) decode to ``y_0 = y_t``; inference is that of :class:`EncoderDecoder`.

    The SLD step ``t`` of an image (which sets the radius of ``Omega_c``) is its metainfo ``sld_step`` when
    packed, else ``self.sld_step`` (a hook may advance it).

    Args:
        backbone, decode_head, neck, auxiliary_head, train_cfg, test_cfg, data_preprocessor, pretrained,
            init_cfg: as :class:`EncoderDecoder`.
        sld_decision: config of ``g`` (:class:`SLDDecision`).
        sld_base_radius: ``r_0`` of ``r_t = r_0 (t + 1)``, in label pixels.
        sld_steepness: ``k`` of Eq. 9.
        sld_seg_weight: ``lambda_2`` of Eq. 12.
        sld_step: step ``t`` used for images without ``sld_step`` metainfo.
    """

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 neck: Optional[dict] = None,
                 auxiliary_head: Optional[dict] = None,
                 sld_decision: dict = dict(type='SLDDecision'),
                 sld_base_radius: int = SLD_BASE_RADIUS,
                 sld_steepness: float = SLD_STEEPNESS,
                 sld_seg_weight: float = 1.0,
                 sld_step: int = 0,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone=backbone, decode_head=decode_head, neck=neck, auxiliary_head=auxiliary_head,
                         train_cfg=train_cfg, test_cfg=test_cfg, data_preprocessor=data_preprocessor,
                         pretrained=pretrained, init_cfg=init_cfg)
        self.sld_decision = MODELS.build(sld_decision)
        self.sld_base_radius = sld_base_radius
        self.sld_steepness = sld_steepness
        self.sld_seg_weight = sld_seg_weight
        self.sld_step = sld_step

    @property
    def ignore_index(self) -> int:
        return self.decode_head.ignore_index

    def decode_labels(self, data_samples: SampleList) -> Tuple[Tensor, Tensor]:
        """(N, H, W) int64 scribbles ``y_0`` and current labels ``y_t`` from the batch's ``gt_sem_seg`` codes."""
        codes = torch.stack([sample.gt_sem_seg.data[0] for sample in data_samples])
        return psi.decode_sld_labels(codes, self.ignore_index)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        """``decode.*`` (and ``aux.*``) losses of the heads on ``y_t``, and ``loss_sld``."""
        scribbles, labels = self.decode_labels(data_samples)
        current = [SegDataSample(metainfo=sample.metainfo, gt_sem_seg=PixelData(data=y[None]))
                   for sample, y in zip(data_samples, labels)]
        x = self.extract_feat(inputs)
        seg_logits = self.decode_head(x)
        losses = add_prefix(self.decode_head.loss_by_feat(seg_logits, current), 'decode')
        if self.with_auxiliary_head:
            losses.update(self._auxiliary_head_forward_train(x, current))
        losses['loss_sld'] = self.sld_loss(seg_logits.detach(), scribbles, labels, data_samples)
        return losses

    def sld_decide(self, probs: Tensor, labels: Tensor, step: int) -> SLDDecisions:
        """Eq. 6-9 for one image with this model's ``g``: (C, H, W) softmax ``M``, (H, W) ``y_t``, step ``t``.
        With :func:`~wsseg_mm.functional.psi.sld_expand` it gives the labels of the next step."""
        return psi.sld_decide(probs, labels, psi.sld_radius(step, self.sld_base_radius), self.sld_decision,
                              self.sld_steepness, self.ignore_index)

    def sld_loss(self, seg_logits: Tensor, scribbles: Tensor, labels: Tensor,
                 data_samples: SampleList) -> Tensor:
        """Mean ``L_sld`` over the images with labels; gradients reach ``g`` only.

        Args:
            seg_logits: (N, C, h, w) logits (detached); they are resized to the label size (N, H, W) of
                ``scribbles`` and ``labels`` and each image is cropped to its ``img_shape`` (the batch padding
                is no part of ``Omega_c``).
        """
        probs = resize(seg_logits.detach(), size=labels.shape[-2:], mode='bilinear',
                       align_corners=self.align_corners).softmax(dim=1)
        terms: List[Tensor] = []
        for prob, y0, yt, sample in zip(probs, scribbles, labels, data_samples):
            h, w = sample.metainfo.get('img_shape', yt.shape)[:2]
            prob, y0, yt = prob[:, :h, :w], y0[:h, :w], yt[:h, :w]
            decided = self.sld_decide(prob, yt, sample.metainfo.get('sld_step', self.sld_step))
            if len(decided.classes):
                terms.append(psi.sld_loss(decided.binarized, decided.classes, decided.regions, y0, prob.argmax(0),
                                          self.sld_seg_weight))
        if not terms:  # still a graph through g, so that distributed training sees every parameter used
            return sum(p.sum() for p in self.sld_decision.parameters()) * 0
        return torch.stack(terms).mean()
