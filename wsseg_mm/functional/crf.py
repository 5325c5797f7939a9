"""Fully connected CRF (Kraehenbuehl & Koltun, NIPS 2011) as plain numpy functions around ``pydensecrf``.

Shape legend used in the docstrings:

* ``K`` -- number of labels (classes) of the CRF; ``H, W`` -- image height and width.

IRNet (Ahn et al., CVPR 2019, Sec. 4.2) refines the two thresholded CAM label maps with a dense CRF before
mining inter-pixel relations; BBAM refines soft masks the same way. The energy is the usual one:

* unary: ``-log p(label)`` per pixel, from a hard label map (:func:`dense_crf_labels`, the annotated label
  gets probability ``gt_prob`` and the others share the rest) or from soft probabilities
  (:func:`dense_crf_probs`);
* pairwise: a Gaussian (smoothness) kernel on pixel positions and a bilateral (appearance) kernel on
  positions and RGB colours, both with a Potts compatibility.

The defaults are those of the IRNet authors' pseudo-label code: 10 mean-field iterations, Gaussian
``sxy=3, compat=3``, bilateral ``sxy=50, srgb=5, compat=10`` and ``gt_prob=0.7``.
"""
import numpy as np
import pydensecrf.densecrf as dcrf

__all__ = ['dense_crf_labels', 'dense_crf_probs']

# Smallest probability turned into a unary: -log(1e-5) ~ 11.5 keeps the energy finite for zero-probability
# labels while still being large compared with the pairwise terms.
_PROB_EPS = 1e-5


def _check_image(image: np.ndarray) -> np.ndarray:
    """Validate an (H, W, 3) uint8 RGB image and return a C-contiguous copy (pydensecrf reads raw memory)."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'image must have shape (H, W, 3), got {image.shape}')
    if image.dtype != np.uint8:
        raise TypeError(f'image must be uint8 RGB, got dtype {image.dtype}')
    return np.ascontiguousarray(image)


def _mean_field(image: np.ndarray, unary: np.ndarray, iterations: int, gaussian_sxy: float,
                gaussian_compat: float, bilateral_sxy: float, bilateral_srgb: float,
                bilateral_compat: float) -> np.ndarray:
    """Run ``iterations`` mean-field steps of the dense CRF.

    Args:
        image: (H, W, 3) uint8 C-contiguous RGB image (the bilateral kernel's colour features).
        unary: (K, H * W) float32 C-contiguous unary energies (-log probabilities).
        iterations: number of mean-field iterations.
        gaussian_sxy, gaussian_compat: spatial std (pixels) and Potts weight of the smoothness kernel.
        bilateral_sxy, bilateral_srgb, bilateral_compat: spatial std (pixels), colour std (RGB levels) and
            Potts weight of the appearance kernel.

    Returns:
        (K, H, W) float32 approximate marginals; they sum to 1 over K.
    """
    if iterations < 0:
        raise ValueError(f'iterations must be >= 0, got {iterations}')
    height, width = image.shape[:2]
    n_labels = unary.shape[0]
    crf = dcrf.DenseCRF2D(width, height, n_labels)
    crf.setUnaryEnergy(unary)
    crf.addPairwiseGaussian(sxy=gaussian_sxy, compat=gaussian_compat)
    crf.addPairwiseBilateral(sxy=bilateral_sxy, srgb=bilateral_srgb, rgbim=image, compat=bilateral_compat)
    marginals = np.array(crf.inference(iterations), dtype=np.float32)
    return marginals.reshape(n_labels, height, width)


def dense_crf_labels(image: np.ndarray,
                     labels: np.ndarray,
                     n_labels: int,
                     iterations: int = 10,
                     gt_prob: float = 0.7,
                     gaussian_sxy: float = 3,
                     gaussian_compat: float = 3,
                     bilateral_sxy: float = 50,
                     bilateral_srgb: float = 5,
                     bilateral_compat: float = 10) -> np.ndarray:
    """Refine a hard label map with a dense CRF.

    Args:
        image: (H, W, 3) uint8 RGB image.
        labels: (H, W) integer label map with values in ``[0, n_labels)``; every value is a real label
            (there is no "unsure" value).
        n_labels: K, the number of CRF labels.
        iterations: mean-field iterations (IRNet: 10).
        gt_prob: probability given to the annotated label of each pixel; the other ``K - 1`` labels share
            ``1 - gt_prob`` equally (IRNet: 0.7, i.e. the thresholded CAM is trusted only moderately).
        gaussian_sxy, gaussian_compat: smoothness kernel, spatial std in pixels and Potts weight.
        bilateral_sxy, bilateral_srgb, bilateral_compat: appearance kernel, spatial std in pixels, colour std
            in RGB levels and Potts weight.

    Returns:
        (H, W) int64 refined labels, the argmax of the CRF marginals. With ``n_labels == 1`` every pixel is
        label 0 and no CRF is run.
    """
    image = _check_image(image)
    labels = np.asarray(labels)
    if labels.shape != image.shape[:2]:
        raise ValueError(f'labels {labels.shape} and image {image.shape} must have the same (H, W)')
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f'labels must be integers, got dtype {labels.dtype}')
    if n_labels < 1:
        raise ValueError(f'n_labels must be >= 1, got {n_labels}')
    if labels.size and (labels.min() < 0 or labels.max() >= n_labels):
        raise ValueError(f'labels must lie in [0, {n_labels}), got values in [{labels.min()}, {labels.max()}]')
    if not 0 < gt_prob < 1:
        raise ValueError(f'gt_prob must lie in (0, 1), got {gt_prob}')
    if n_labels == 1:
        # A single label has nothing to compete with (and 1 - gt_prob would have no label to go to).
        return np.zeros(labels.shape, dtype=np.int64)

    flat = labels.reshape(-1).astype(np.int64)
    unary = np.full((n_labels, flat.size), -np.log((1.0 - gt_prob) / (n_labels - 1)), dtype=np.float32)
    unary[flat, np.arange(flat.size)] = -np.log(gt_prob)
    marginals = _mean_field(image, unary, iterations, gaussian_sxy, gaussian_compat, bilateral_sxy,
                            bilateral_srgb, bilateral_compat)
    return marginals.argmax(axis=0).astype(np.int64)


def dense_crf_probs(image: np.ndarray,
                    probs: np.ndarray,
                    iterations: int = 10,
                    gaussian_sxy: float = 3,
                    gaussian_compat: float = 3,
                    bilateral_sxy: float = 50,
                    bilateral_srgb: float = 5,
                    bilateral_compat: float = 10) -> np.ndarray:
    """Refine soft class probabilities with a dense CRF and return the refined marginals.

    Args:
        image: (H, W, 3) uint8 RGB image.
        probs: (K, H, W) probabilities, summing to 1 over K at each pixel. The unary is ``-log p`` with ``p``
            clipped to ``[1e-5, 1]`` so that zero probabilities stay finite.
        iterations, gaussian_sxy, gaussian_compat, bilateral_sxy, bilateral_srgb, bilateral_compat: as in
            :func:`dense_crf_labels`.

    Returns:
        (K, H, W) float32 refined marginals, summing to 1 over K.
    """
    image = _check_image(image)
    probs = np.asarray(probs)
    if probs.ndim != 3 or probs.shape[1:] != image.shape[:2]:
        raise ValueError(f'probs {probs.shape} must have shape (K, H, W) matching image {image.shape}')
    if probs.shape[0] < 1:
        raise ValueError(f'probs must have at least one label, got shape {probs.shape}')
    unary = -np.log(np.clip(probs.reshape(probs.shape[0], -1), _PROB_EPS, 1.0))
    unary = np.ascontiguousarray(unary, dtype=np.float32)
    return _mean_field(image, unary, iterations, gaussian_sxy, gaussian_compat, bilateral_sxy, bilateral_srgb,
                       bilateral_compat)
