"""The production embedder: an open_clip model loaded from weights already on disk.

CLIP reads open vocabulary ("woman in a red coat at dusk", "noir", "wide shot")
into the same space as the stills, which is what search and suggestions want
in production. It never downloads: ``clip_checkpoint`` must be one of

* a checkpoint file (``.pt``, ``.pth``, ``.bin``, ``.safetensors``) for the
  architecture named by ``clip_model`` (e.g. ``ViT-B-32``): a LAION/open_clip state
  dict (also one saved by open_clip training, ``{"state_dict": {"module.…"}}``) or
  OpenAI's original TorchScript archive (``ViT-B-32.pt``);
* a folder holding ``open_clip_config.json`` and its weights (a copied Hugging
  Face snapshot), in which case ``clip_model`` is ignored;
* ``hf-hub:org/repo``, served only from the local Hugging Face cache (for
  example after ``huggingface-cli download`` at image build time).

``model_id`` is ``clip:<architecture>:<first 12 hex digits of the weights' sha256>``,
so two checkpoints of one architecture never share stored vectors.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from workbench.embed.base import Embedder, as_rgb, in_batches, l2_normalise, limit_torch_threads, pick_device
from workbench.errors import InvalidInput

__all__ = ["ClipEmbedder"]

HF_HUB_PREFIX = "hf-hub:"
LOCAL_DIR_PREFIX = "local-dir:"
_HOW_TO_PROVIDE = (
    "Set WORKBENCH_EMBEDDER__CLIP_CHECKPOINT to a local open_clip checkpoint file "
    "(e.g. /models/ViT-B-32-laion2b_s34b_b79k.bin, matching WORKBENCH_EMBEDDER__CLIP_MODEL), "
    "a folder with open_clip_config.json and its weights, or 'hf-hub:org/repo' already in the "
    "local Hugging Face cache; or use WORKBENCH_EMBEDDER__NAME=offline."
)
_PROMPT = "a photo of a {}."


@dataclass
class _ClipModel:
    net: Any  # open_clip CLIP model
    prepare: Any  # PIL image -> tensor, the model's own eval transform
    tokenize: Any  # list[str] -> token tensor
    device: Any  # torch.device


@dataclass(frozen=True)
class _Source:
    """Where the weights are: ``open_clip`` arguments plus the file whose hash names the model."""

    model_name: str  # what create_model_and_transforms() gets as model_name
    pretrained: str | None  # and as pretrained (a file path), None for folders
    architecture: str  # for the model_id
    weights_file: Path


def _sha256_prefix(path: Path, length: int = 12) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:length]


def _weights_in_folder(folder: Path) -> Path:
    """The weights file open_clip itself will pick in a folder (so the hash names what is loaded)."""
    from open_clip.factory import _find_checkpoint_in_dir

    if not (folder / "open_clip_config.json").is_file():
        raise InvalidInput(f"The folder {folder} has no open_clip_config.json. {_HOW_TO_PROVIDE}")
    chosen = _find_checkpoint_in_dir(folder)
    if chosen is None:
        raise InvalidInput(
            f"The folder {folder} holds no .safetensors, .bin or .pth weights. {_HOW_TO_PROVIDE}"
        )
    return Path(chosen)


def _is_torchscript(path: Path) -> bool:
    """Whether a checkpoint is a TorchScript archive, the format of OpenAI's own ViT-B-32.pt."""
    import zipfile

    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith("/constants.pkl") or name == "constants.pkl" for name in archive.namelist())


def _load_torchscript_weights(net: Any, path: Path) -> None:
    """Copy the weights of an OpenAI TorchScript checkpoint into an open_clip model of its architecture.

    open_clip reads checkpoints with ``torch.load(weights_only=True)``, which refuses TorchScript
    archives; the archive's tensors are read here instead (its code is never run), then loaded
    strictly, so a checkpoint of another architecture still fails loudly.
    """
    import warnings

    import torch

    with warnings.catch_warnings():
        # torch deprecates TorchScript in favour of torch.export; OpenAI's files are TorchScript all the same.
        warnings.simplefilter("ignore", FutureWarning)
        scripted = torch.jit.load(str(path), map_location="cpu")
    wanted = net.state_dict()
    # OpenAI's archives also carry input_resolution, context_length, vocab_size and the attention mask.
    weights = {key: value for key, value in scripted.state_dict().items() if key in wanted}
    net.load_state_dict(weights, strict=True)


def _locate(model_name: str, checkpoint: str) -> _Source:
    """Resolve the settings to files on this machine, or say how to fix them."""
    checkpoint = checkpoint.strip()
    if not checkpoint:
        raise InvalidInput(f"The CLIP embedder needs a checkpoint and none is set. {_HOW_TO_PROVIDE}")
    if checkpoint.startswith(HF_HUB_PREFIX):
        repo = checkpoint[len(HF_HUB_PREFIX) :]
        from huggingface_hub import snapshot_download

        try:
            # local_files_only: answer from the cache or fail; never reach for the hub.
            folder = Path(snapshot_download(repo, local_files_only=True))
        except Exception as error:  # the hub raises several kinds; all mean "not cached here"
            raise InvalidInput(
                f"{checkpoint} is not in the local Hugging Face cache and will not be downloaded "
                f"at run time. Download it when building the machine. {_HOW_TO_PROVIDE}"
            ) from error
        return _Source(LOCAL_DIR_PREFIX + str(folder), None, checkpoint, _weights_in_folder(folder))
    path = Path(checkpoint.removeprefix(LOCAL_DIR_PREFIX)).expanduser().absolute()
    if path.is_dir():
        return _Source(LOCAL_DIR_PREFIX + str(path), None, path.name, _weights_in_folder(path))
    if path.is_file():
        # An absolute path can never be mistaken for a named open_clip tag (which would download).
        return _Source(model_name, str(path), model_name, path)
    raise InvalidInput(
        f"The CLIP checkpoint {checkpoint!r} does not exist on this machine. {_HOW_TO_PROVIDE}"
    )


class ClipEmbedder(Embedder):
    """An open_clip model (ViT-B-32 by default) from a local checkpoint.

    >>> embedder = ClipEmbedder("ViT-B-32", "/models/vit-b-32.safetensors")  # doctest: +SKIP
    >>> embedder.embed_texts(["rain on a neon street"]).shape                 # doctest: +SKIP
    (1, 512)
    """

    def __init__(self, model_name: str, checkpoint: str, device: str = "auto", batch_size: int = 16) -> None:
        super().__init__()
        self.source = _locate(model_name, checkpoint)
        self.device_setting = device
        self.batch_size = max(1, batch_size)
        self._model_id: str | None = None
        self._dimension: int | None = None
        self._label_vectors: Any = None

    @property
    def model_id(self) -> str:  # type: ignore[override]
        """``clip:<architecture>:<sha256[:12] of the weights>``, hashed once per process."""
        if self._model_id is None:
            self._model_id = f"clip:{self.source.architecture}:{_sha256_prefix(self.source.weights_file)}"
        return self._model_id

    @property
    def dimension(self) -> int:  # type: ignore[override]
        """Length of the vectors; read from the model config without loading the weights."""
        if self._dimension is None:
            self._dimension = int(self._config()["embed_dim"])
        return self._dimension

    def _config(self) -> dict[str, Any]:
        import json

        from open_clip import get_model_config

        if self.source.model_name.startswith(LOCAL_DIR_PREFIX):
            folder = Path(self.source.model_name[len(LOCAL_DIR_PREFIX) :])
            return dict(json.loads((folder / "open_clip_config.json").read_text())["model_cfg"])
        config = get_model_config(self.source.model_name)
        if config is None:
            raise InvalidInput(
                f"open_clip knows no architecture called {self.source.model_name!r}; "
                "set WORKBENCH_EMBEDDER__CLIP_MODEL to one of open_clip.list_models()."
            )
        return dict(config)

    def _load(self) -> _ClipModel:
        # Tokenizers of Hugging Face text towers are looked up by name; keep them in the cache.
        os.environ["HF_HUB_OFFLINE"] = "1"
        import open_clip

        limit_torch_threads()
        device = pick_device(self.device_setting)
        self._config()  # a clear error for an unknown architecture before open_clip's own
        scripted = self.source.pretrained is not None and _is_torchscript(self.source.weights_file)
        try:
            net, _, prepare = open_clip.create_model_and_transforms(
                self.source.model_name, pretrained=None if scripted else self.source.pretrained, device=device
            )
            if scripted:
                _load_torchscript_weights(net, self.source.weights_file)
        except RuntimeError as error:
            raise InvalidInput(
                f"The checkpoint {self.source.weights_file} does not fit the open_clip architecture "
                f"{self.source.architecture!r} ({error}). {_HOW_TO_PROVIDE}"
            ) from error
        net.eval()
        tokenize = open_clip.get_tokenizer(self.source.model_name)
        return _ClipModel(net, prepare, tokenize, device)

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """One unit vector per still, shape ``(n, dimension)``."""
        if len(images) == 0:
            return self._empty()
        import torch

        model = self._loaded()
        parts = []
        for batch in in_batches(images, self.batch_size):
            pixels = torch.stack([model.prepare(as_rgb(image)) for image in batch]).to(model.device)
            with torch.inference_mode():
                parts.append(model.net.encode_image(pixels, normalize=True).float().cpu().numpy())
        return l2_normalise(np.concatenate(parts))

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text, in the same space as the stills."""
        if len(texts) == 0:
            return self._empty()
        import torch

        model = self._loaded()
        parts = []
        for batch in in_batches([str(text) for text in texts], self.batch_size):
            tokens = model.tokenize(list(batch)).to(model.device)
            with torch.inference_mode():
                parts.append(model.net.encode_text(tokens, normalize=True).float().cpu().numpy())
        return l2_normalise(np.concatenate(parts))

    def describe_image(
        self, image: Image.Image, top: int = 5, min_probability: float = 0.01
    ) -> list[tuple[str, float]]:
        """Zero-shot ImageNet labels for a still, likeliest first.

        The first call embeds the 1000 class names once (a few seconds on a CPU).
        """
        import torch

        model = self._loaded()
        labels = self._labels()
        still = torch.from_numpy(self.embed_images([image])[0])
        scale = float(model.net.logit_scale.exp().clamp(max=100).item())
        probabilities = (scale * (labels @ still)).softmax(dim=-1)
        top_p, top_i = probabilities.topk(max(1, top))
        from open_clip import IMAGENET_CLASSNAMES

        return [
            (IMAGENET_CLASSNAMES[int(i)], float(p))
            for p, i in zip(top_p.tolist(), top_i.tolist(), strict=True)
            if p >= min_probability
        ]

    def _labels(self) -> Any:
        import torch
        from open_clip import IMAGENET_CLASSNAMES

        self._loaded()
        with self._load_lock:
            if self._label_vectors is None:
                prompts = [_PROMPT.format(name) for name in IMAGENET_CLASSNAMES]
                self._label_vectors = torch.from_numpy(self.embed_texts(prompts))
        return self._label_vectors
