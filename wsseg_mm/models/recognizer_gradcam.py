"""Grad-CAM of any mmaction ``Recognizer2D`` / ``Recognizer3D`` (WS^2 Stage 1, Chen et al., CVPR 2020, Eq. 4-5).

The recognizer is used as it is: ``extract_feat(inputs, stage='head')`` gives the head's raw ``cls_score`` (before
any softmax or clip averaging), whose column ``c`` is ``y^c``. The feature maps ``A`` are captured where they enter
``cls_head`` (the paper's "last convolutional features"), or at the output of any named module.

How the gradient is taken: a hook hands the network a *copy* of ``A`` built from a detached leaf, and
``torch.autograd.grad(y^c, leaf)`` gives ``dy^c/dA``. So

* in-place operations after the target layer (ConvModule's ``ReLU(inplace=True)``) act on the copy, never on ``A``
  nor on the leaf, and the gradient is the one with respect to ``A`` as the layer produced it. No module backward
  hook is used: mmaction's GradCAM relies on the deprecated ``register_backward_hook`` (torch warns it will be
  removed), and its replacement ``register_full_backward_hook`` fails on such a layer ("Output 0 of
  BackwardHookFunction is a view and is being modified inplace", measured on ResNet3d's ``conv1.bn``);
* no parameter's ``.grad`` is written, the backbone before ``A`` is not back-propagated through, and no hook stays
  registered; the recognizer's train / eval mode is restored (it runs in eval mode, as at test time).

Rows: ``cls_score`` has one row per clip for ``Recognizer2D`` (the head averages its segments, so the segments are
the map's time axis, ``T'`` = segments) and one row per clip view for ``Recognizer3D`` (``R = N x views``; ``A`` is
(R, M, T', H', W')). Maps come out per row, as ``mmaction.utils.GradCAM`` does.
"""
from typing import List, NamedTuple, Optional, Sequence, Union

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from mmengine.registry import DefaultScope
from torch import Tensor, nn

from ..functional.gradcam import gradcam_map, resize_maps

__all__ = ['RecognizerGradCAM', 'GradCAMOutput']

RESIZE_MODES = (None, 'bilinear', 'trilinear')


class GradCAMOutput(NamedTuple):
    """What :class:`RecognizerGradCAM` returns (R rows: clips for 2D, clip views for 3D recognizers).

    Attributes:
        maps: (R, K, T', H', W') Grad-CAM maps ``S`` (Eq. 4) of the K target classes; (R, K, T', H, W) after
            ``resize='bilinear'``, (R, K, T, H, W) after ``resize='trilinear'``.
        scores: (R, C) pre-softmax class scores of the head.
        targets: (R, K) int64 target classes of each row.
    """
    maps: Tensor
    scores: Tensor
    targets: Tensor


@MODELS.register_module()
class RecognizerGradCAM(BaseModule):
    """Grad-CAM maps of a trained action recognizer for given target classes.

    Args:
        recognizer: an mmaction ``Recognizer2D`` / ``Recognizer3D`` module, or its config dict (built in the
            mmaction scope).
        target_layer: name of the module whose output is ``A`` (``'backbone.layer3'``; mmaction's slash form
            ``'backbone/layer4/1/relu'`` is accepted too). None: the input of ``cls_head`` (the last features).
        per_slice: False: Eq. 5, one weight vector per map (gradient averaged over t' h' w'). True: one per time
            slice (over h' w' only), as ``mmaction.utils.GradCAM``; for a ``Recognizer2D`` each segment's frame then
            gets its own 2D Grad-CAM. Under a GAP + linear head (``I3DHead``, ``TSNHead``) both agree at the last
            features, where the gradient is constant over (t', h', w').
        init_cfg: mmengine initialisation config of the wrapper.
    """

    def __init__(self, recognizer: Union[dict, nn.Module], target_layer: Optional[str] = None,
                 per_slice: bool = False, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(recognizer, dict):
            with DefaultScope.overwrite_default_scope('mmaction'):
                recognizer = MODELS.build(recognizer)
        if not isinstance(recognizer, nn.Module) or not hasattr(recognizer, 'extract_feat'):
            raise TypeError(f'recognizer must be an mmaction Recognizer2D / Recognizer3D or its config, got '
                            f'{type(recognizer).__name__}')
        if getattr(recognizer, 'cls_head', None) is None:
            raise ValueError('the recognizer has no cls_head: Grad-CAM needs class scores; add a cls_head to its '
                             'config')
        self.recognizer = recognizer
        self.target_layer = None if target_layer is None else target_layer.replace('/', '.')
        self.per_slice = per_slice
        if self.target_layer is not None:
            modules = dict(recognizer.named_modules())
            if self.target_layer not in modules:
                candidates = [n for n in modules if n.startswith(self.target_layer.rpartition('.')[0])][:10]
                raise KeyError(f'target_layer {target_layer!r} is no module of the recognizer; names look like '
                               f'{candidates} (see recognizer.named_modules())')

    def _target_module(self) -> nn.Module:
        if self.target_layer is None:
            return self.recognizer.cls_head
        return dict(self.recognizer.named_modules())[self.target_layer]

    def _register_capture(self, captured: List[Tensor]):
        """Hook that swaps ``A`` for a copy of a detached leaf (kept in ``captured``) during one forward pass."""

        def leaf_copy(tensor) -> Tensor:
            if not isinstance(tensor, Tensor):
                raise TypeError(f'the target layer ({self.target_layer or "input of cls_head"}) gives a '
                                f'{type(tensor).__name__}, not a tensor; choose a layer with one feature map')
            # own storage: the layer's output tensor may still be modified in place by whoever else holds it
            leaf = tensor.detach().clone().requires_grad_(True)
            captured.append(leaf)
            return leaf.clone()

        module = self._target_module()
        if self.target_layer is None:

            def pre_hook(_, args, kwargs):
                if not args:
                    raise TypeError('cls_head was called without positional features; set target_layer instead')
                return (leaf_copy(args[0]), *args[1:]), kwargs

            return module.register_forward_pre_hook(pre_hook, with_kwargs=True)
        return module.register_forward_hook(lambda _, args, output: leaf_copy(output))

    def preprocess(self, data: dict) -> Tensor:
        """Raw frames as the dataloader gives them (``{'inputs': [...], 'data_samples': [...]}``) -> the
        recognizer's normalised ``inputs`` via its ``data_preprocessor``."""
        return self.recognizer.data_preprocessor(data, False)['inputs']

    def forward(self,
                inputs: Union[Tensor, dict],
                targets: Union[None, int, Sequence[int], Tensor] = None,
                resize: Optional[str] = None) -> GradCAMOutput:
        """Grad-CAM maps of the target classes.

        Args:
            inputs: preprocessed recognizer inputs, (N, S, C, H, W) for ``Recognizer2D`` (S segments) or
                (N, V, C, T, H, W) for ``Recognizer3D`` (V views); or a dataloader batch dict of raw frames, which the
                recognizer's ``data_preprocessor`` normalises.
            targets: None (each row's top-scoring class), a class index or a sequence of K class indices (the same for
                every row), or an int tensor (N, K) / (N, ) per clip (repeated over the V views of a 3D clip) or
                (R, K) per row.
            resize: None (feature size), ``'bilinear'`` (each slice to the frame size H, W; slice k then lies on frame
                ``slice_frames(T, T')[k]``) or ``'trilinear'`` (to (T, H, W), as ``mmaction.utils.GradCAM``).

        Returns:
            :class:`GradCAMOutput` (maps, scores, targets).
        """
        if resize not in RESIZE_MODES:
            raise ValueError(f'resize must be one of {RESIZE_MODES}, got {resize!r}')
        if isinstance(inputs, dict):
            inputs = self.preprocess(inputs)
        if inputs.dim() not in (5, 6):
            raise ValueError(f'inputs must be (N, S, C, H, W) (Recognizer2D) or (N, V, C, T, H, W) (Recognizer3D), '
                             f'got shape {tuple(inputs.shape)}')
        # enable_grad: callers may run inside torch.no_grad() (test loops, tools)
        with torch.enable_grad():
            features, scores = self._features_and_scores(inputs)
            targets = self._targets(targets, scores, inputs.shape[0])
            maps = []
            for k in range(targets.shape[1]):
                # rows are independent in eval mode: the gradient of the summed scores is each row's own gradient
                score = scores.gather(1, targets[:, k:k + 1]).sum()
                grads, = torch.autograd.grad(score, features, retain_graph=k + 1 < targets.shape[1],
                                             allow_unused=True)
                if grads is None:
                    raise RuntimeError(f'the class scores do not depend on target_layer {self.target_layer!r}')
                acts, grads = self._per_row(features.detach(), grads, scores.shape[0])
                maps.append(gradcam_map(acts, grads, per_slice=self.per_slice))
        maps = torch.stack(maps, dim=1)
        if resize is not None:
            num_frames = inputs.shape[1] if inputs.dim() == 5 else inputs.shape[-3]
            size = inputs.shape[-2:] if resize == 'bilinear' else (num_frames, *inputs.shape[-2:])
            maps = resize_maps(maps, size)
        return GradCAMOutput(maps=maps, scores=scores.detach(), targets=targets)

    def _features_and_scores(self, inputs: Tensor):
        """One eval-mode forward pass: the leaf holding ``A`` and the head's (R, C) ``cls_score``."""
        captured: List[Tensor] = []
        was_training = self.recognizer.training
        handle = self._register_capture(captured)
        self.recognizer.eval()
        try:
            scores, _ = self.recognizer.extract_feat(inputs, stage='head')
        finally:
            handle.remove()
            self.recognizer.train(was_training)
        if len(captured) != 1:
            raise RuntimeError(f'the target layer ({self.target_layer or "input of cls_head"}) ran {len(captured)} '
                               'times in one forward pass; choose a module that runs once')
        return captured[0], scores

    @staticmethod
    def _per_row(features: Tensor, grads: Tensor, num_rows: int):
        """(rows x segments, M, H', W') 2D features or (rows, M, T', H', W') 3D features -> (R, M, T', H', W')."""
        if features.dim() == 5 and features.shape[0] == num_rows:
            return features, grads
        if features.dim() == 4 and features.shape[0] % num_rows == 0:
            segments = features.shape[0] // num_rows
            return tuple(x.view(num_rows, segments, *x.shape[1:]).transpose(1, 2) for x in (features, grads))
        raise ValueError(f'cannot match features of shape {tuple(features.shape)} to the {num_rows} rows of '
                         'cls_score: expected (rows x segments, M, H\', W\') or (rows, M, T\', H\', W\')')

    @staticmethod
    def _targets(targets, scores: Tensor, num_clips: int) -> Tensor:
        """Target classes as an (R, K) int64 tensor on the scores' device."""
        num_rows, num_classes = scores.shape
        if targets is None:
            targets = scores.argmax(dim=1, keepdim=True)
        elif isinstance(targets, int) or (isinstance(targets, Sequence) and not isinstance(targets, str)):
            targets = torch.as_tensor(targets, dtype=torch.long, device=scores.device).view(1, -1)
            targets = targets.expand(num_rows, -1)
        elif isinstance(targets, Tensor):
            targets = targets.to(device=scores.device, dtype=torch.long)
            targets = targets.view(-1, 1) if targets.dim() <= 1 else targets
            if targets.shape[0] == num_clips and num_rows % num_clips == 0:
                targets = targets.repeat_interleave(num_rows // num_clips, dim=0)
            if targets.dim() != 2 or targets.shape[0] != num_rows:
                raise ValueError(f'targets of shape {tuple(targets.shape)} match neither the {num_clips} clips nor '
                                 f'the {num_rows} rows of cls_score')
        else:
            raise TypeError(f'targets must be None, an int, a sequence of ints or a tensor, got {type(targets)}')
        if targets.shape[1] == 0:
            raise ValueError('targets is empty: give at least one target class (or None for the top class)')
        if targets.min() < 0 or targets.max() >= num_classes:
            raise ValueError(f'target classes must lie in [0, {num_classes}), got {targets.unique().tolist()}')
        return targets.contiguous()
