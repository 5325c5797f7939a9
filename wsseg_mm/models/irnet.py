"""IRNet: inter-pixel relation network over a frozen backbone (mmseg scope)."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.segmentors import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList
from torch import Tensor

from .utils import resnet_levels


@MODELS.register_module()
class IRNet(BaseSegmentor):
    """A frozen ResNet feeding :class:`IRNetHead`; trained on mined inter-pixel relations (``gt_sem_seg``).

    ``predict`` adds ``pred_boundary`` (PixelData (1, h, w), the class-boundary map averaged over a horizontal
    flip) and ``pred_displacement`` (PixelData (2, h, w), dy and dx in pixels of that grid) on the stride-4 grid
    (h, w = ceil(H / 4), ceil(W / 4)); IRNet's label synthesis (``tools/irnet/make_pseudo_labels.py``) turns
    them and the CAMs into pseudo labels.

    Args:
        backbone (dict): a ResNet (same architecture as the CAM classifier). Its weights stay frozen and its
            norm layers in eval mode, as in the paper; ``init_cfg`` loads ImageNet (or, on the toy benchmark,
            the trained CAM classifier's backbone).
        head (dict): an :class:`IRNetHead`.
        test_cfg (dict): ``flip`` (average the boundary map over a horizontal flip) and ``scale`` (1.0: the image
            is resized by this factor before the head; the boundary map is brought back to the stride-4 grid of
            the original image, where the CAMs are, and the displacement field stays on the finer grid, in its
            cells, for the instance map).
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        self.train_cfg = train_cfg
        self.test_cfg = dict(dict(flip=True, scale=1.0), **(test_cfg or {}))
        for param in self.backbone.parameters():
            param.requires_grad = False

    def train(self, mode: bool = True) -> 'IRNet':
        super().train(mode)
        self.backbone.eval()  # frozen: batch statistics must not drift either
        return self

    def extract_feat(self, inputs: Tensor) -> List[Tensor]:
        with torch.no_grad():
            return [x.detach() for x in resnet_levels(self.backbone, inputs)]

    def _forward(self, inputs: Tensor, data_samples: OptSampleList = None):
        return self.head(self.extract_feat(inputs))

    def loss(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        return self.head.loss(self.extract_feat(inputs), data_samples)

    @torch.no_grad()
    def boundary_and_displacement(self, image: Tensor):
        """(1, 3, H, W) normalised image -> boundary (h, w) on the stride-4 grid (h, w = ceil(H / 4), ceil(W / 4))
        and displacement (2, h', w') on the stride-4 grid of the image resized by ``test_cfg.scale`` (h' = h at
        scale 1)."""
        h, w = -(-image.shape[-2] // 4), -(-image.shape[-1] // 4)
        scale = self.test_cfg.get('scale', 1.0)
        if scale != 1:
            image = F.interpolate(image, scale_factor=scale, mode='bilinear', align_corners=False)
        fine_h, fine_w = -(-image.shape[-2] // 4), -(-image.shape[-1] // 4)
        batch = torch.cat([image, image.flip(-1)]) if self.test_cfg['flip'] else image
        boundary, displacement = self.head(self.extract_feat(batch))
        boundary = boundary[:, 0]
        if self.test_cfg['flip']:
            boundary = (boundary[0] + boundary[1].flip(-1)) / 2
        else:
            boundary = boundary[0]
        boundary = boundary[:fine_h, :fine_w]
        if scale != 1:
            boundary = F.interpolate(boundary[None, None], (h, w), mode='bilinear', align_corners=False)[0, 0]
        return boundary, displacement[0, :, :fine_h, :fine_w]

    def predict(self, inputs: Tensor, data_samples: OptSampleList = None) -> SampleList:
        from mmseg.structures import SegDataSample
        if data_samples is None:
            data_samples = [SegDataSample() for _ in inputs]
        for image, sample in zip(inputs, data_samples):
            h, w = sample.metainfo.get('img_shape', image.shape[-2:])
            boundary, displacement = self.boundary_and_displacement(image[None, :, :h, :w])
            sample.set_data(dict(pred_boundary=PixelData(data=boundary[None]),
                                 pred_displacement=PixelData(data=displacement)))
        return data_samples

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """(N, 3, H, W) -> (N, 1, H, W) boundary map at the input resolution."""
        boundary, _ = self._forward(inputs)
        return F.interpolate(boundary, inputs.shape[-2:], mode='bilinear', align_corners=False)
