"""The sample library: public-domain photos every new workbench starts with.

The pictures ship inside scikit-image (its bundled ``skimage/data`` folder), so
nothing is downloaded. Each one's licence, as scikit-image documents it, is
recorded below and copied into the image caption.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench.accounts import Accounts, User
from workbench.library.catalog import Library
from workbench.library.model import IngestResult

__all__ = ["SAMPLES", "Sample", "samples_folder", "load_samples", "samples_user"]

SAMPLES_EMAIL = "samples@workbench.local"


@dataclass(frozen=True)
class Sample:
    file: str
    title: str
    tags: tuple[str, ...]
    licence: str


SAMPLES: tuple[Sample, ...] = (
    Sample("astronaut.png", "Astronaut portrait", ("space", "portrait", "people"), "public domain (NASA)"),
    Sample("camera.png", "Cameraman on a tripod", ("people", "black and white", "film"), "CC0 (Lav Varshney)"),
    Sample("chelsea.png", "Chelsea the cat", ("animal", "cat", "portrait"), "CC0 (Stefan van der Walt)"),
    Sample("coffee.png", "Cup of coffee", ("still life", "morning", "food"), "CC0 (Rachel Michetti)"),
    Sample("rocket.jpg", "Rocket on the launch pad", ("space", "machine", "launch"), "public domain (SpaceX)"),
    Sample("horse.png", "Horse silhouette", ("animal", "silhouette", "black and white"), "CC0 (Andreas Preuss)"),
    Sample("coins.png", "Old coins", ("still life", "money", "black and white"), "no known copyright restrictions"),
    Sample("hubble_deep_field.jpg", "Hubble deep field", ("space", "stars", "night"), "public domain (NASA)"),
    Sample("brick.png", "Brick wall", ("texture", "city", "wall"), "CC0 (CC0Textures)"),
    Sample("grass.png", "Grass", ("texture", "nature", "field"), "CC0 (CC0Textures)"),
    Sample("gravel.png", "Gravel", ("texture", "ground"), "CC0 (CC0Textures)"),
    Sample("clock_motion.png", "Clock with motion blur", ("time", "motion", "black and white"), "public domain (Stefan van der Walt)"),
    Sample("text.png", "Hand-written text", ("text", "paper", "black and white"), "public domain"),
)


def samples_folder() -> Path:
    """Where scikit-image keeps its bundled photos."""
    import skimage

    return Path(skimage.__file__).parent / "data"


def samples_user(accounts: Accounts) -> User:
    """The system user that owns the public sample images."""
    return accounts.find_by_email(SAMPLES_EMAIL) or accounts.create_user(
        SAMPLES_EMAIL, display_name="Sample library", plan="free"
    )


def load_samples(accounts: Accounts, library: Library, *, wait: bool = False) -> IngestResult:
    """Add the sample photos as public images (once: a second call adds nothing new)."""
    owner = samples_user(accounts)
    result = IngestResult()
    folder = samples_folder()
    for sample in SAMPLES:
        path = folder / sample.file
        if not path.exists():
            result.errors[sample.file] = "not shipped by this scikit-image version"
            continue
        image, new = library.ingest_new(
            owner, path, tags=("sample", *sample.tags), caption=f"{sample.title} — {sample.licence}",
            visibility="public", origin="sample", wait=wait,
        )
        (result.added if new else result.duplicates).append(image)
    return result
