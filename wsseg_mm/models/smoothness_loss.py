"""PSI's smoothness term L_p (Xu et al., ICCV 2021, Eq. 11) as a decode-head loss."""
from mmseg.registry import MODELS
from torch import Tensor, nn

from ..functional.psi import smoothness_l1


@MODELS.register_module()
class SmoothnessLoss(nn.Module):
    """``loss_weight * L_p`` on the softmax of the logits: the mean L1 difference of each pixel's prediction
    with its 8 neighbours (:func:`~wsseg_mm.functional.psi.smoothness_l1`). Needs no label.

    Usable as an entry of any mmseg head's ``loss_decode`` list, next to the cross-entropy; heads call it on
    the logits resized to the label size, so ``M`` is taken at label size (ours).

    Args:
        loss_weight: ``lambda_1`` (100 for VOC in the paper).
        loss_name: key in the loss dict; must start with ``loss_`` to be summed into the total.
    """

    def __init__(self, loss_weight: float = 1.0, loss_name: str = 'loss_smooth') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor = None, weight=None, ignore_index: int = 255,
                **kwargs) -> Tensor:
        """(N, C, H, W) logits -> scalar; ``target``, ``weight`` and ``ignore_index`` are unused."""
        return self.loss_weight * smoothness_l1(pred.softmax(dim=1))

    @property
    def loss_name(self) -> str:
        return self._loss_name
