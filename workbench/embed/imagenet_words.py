"""Words for the 1000 ImageNet things: a readable name and a description of each.

The offline embedder's classifier knows these 1000 things; to match a query
("trousers", "a red apple") against them it needs more than one bare name each
("jean", "Granny Smith"). Everything here is read from installed packages:

* readable names: open_clip's curated list (``IMAGENET_CLASSNAMES``: "tabby cat",
  "Granny Smith apple"), else torchvision's first WordNet lemma ("tabby");
* descriptions: WordNet lemmas and gloss of each class, shipped by timm
  (``timm/data/_info``): "jean, blue jean, denim: (usually plural) close-fitting
  trousers of heavyweight denim...".
"""

from __future__ import annotations

from importlib import resources

__all__ = ["class_names", "class_terms", "class_descriptions", "EVERYDAY_WORDS"]

# Everyday words WordNet leaves out of a class ("motorbike" for a moped, "trousers" for jeans),
# keyed by the readable name. Only plain synonyms and the kind of thing: no word that names
# another class, so a query never leaves the class it means.
EVERYDAY_WORDS = {
    "moped": "motorcycle, motorbike",
    "vespa": "motor scooter, motorbike",
    "Granny Smith apple": "apple, fruit",
    "jeans": "trousers, pants, denim",
    "swim trunks / shorts": "shorts, swimwear",
    "one-piece bathing suit": "swimsuit, swimwear",
    "T-shirt": "shirt, top",
    "sweatshirt": "hoodie, jumper",
    "cardigan": "sweater, jumper, knitwear",
    "trench coat": "coat, raincoat",
    "fur coat": "coat",
    "gown": "dress, evening dress",
    "miniskirt": "skirt",
    "Windsor tie": "necktie, tie",
    "slip-on shoe": "shoe, loafer",
    "ox": "cow, cattle, bull",
    "ram (adult male sheep)": "sheep",
    "common sorrel horse": "horse, pony",
    "stupa": "temple, shrine",
    "triumphal arch": "monument, arch, landmark",
    "megalith": "standing stones, monument",
    "obelisk": "monument, landmark",
    "suspension bridge": "bridge, landmark",
    "through arch bridge": "bridge",
    "bell tower": "tower, church tower",
    "palace": "royal residence, landmark",
    "castle": "fortress, landmark",
}


def class_names() -> list[str]:
    """The 1000 ImageNet classes in classifier order, as a person would name them."""
    try:
        from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES

        return list(IMAGENET_CLASSNAMES)
    except ImportError:  # open_clip is optional at run time for the offline embedder
        import torchvision

        return list(torchvision.models.EfficientNet_B0_Weights.IMAGENET1K_V1.meta["categories"])


def class_terms() -> list[str]:
    """Each class's readable name with its everyday words: "moped, motorcycle, motorbike"."""
    return [name + _extra(name) for name in class_names()]


def class_descriptions() -> list[str]:
    """'lemmas: gloss' for each class in classifier order; the readable names when timm is absent."""
    try:
        folder = resources.files("timm.data") / "_info"
        synsets = (folder / "imagenet_synsets.txt").read_text().split()
        lemmas = _table((folder / "imagenet_synset_to_lemma.txt").read_text())
        glosses = _table((folder / "imagenet_synset_to_definition.txt").read_text())
    except (ImportError, FileNotFoundError):
        return class_names()
    if len(synsets) != 1000:
        return class_names()
    names = class_names()
    return [
        f"{lemmas.get(s, '')}{_extra(name)}: {glosses.get(s, '')}" for s, name in zip(synsets, names, strict=True)
    ]


def _extra(name: str) -> str:
    words = EVERYDAY_WORDS.get(name)
    return f", {words}" if words else ""


def _table(text: str) -> dict[str, str]:
    rows = (line.split("\t", 1) for line in text.splitlines() if "\t" in line)
    return {key: value.strip() for key, value in rows}
