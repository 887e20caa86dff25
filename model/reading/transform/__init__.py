"""The one shared transform: any image in, MNIST-like 28x28 digit crops out.

Training and inference both go through :class:`DigitTransform`, so the network only ever
sees what this package produces. It runs as declared stages, each a module with a frozen
parameter class holding every number it uses:

1. ``decode``: file to a grey working image of a known size.
2. ``paper``: ink strength against the local paper level, whatever the polarity.
3. ``lines``: ruled and squared notebook lines cleared.
4. ``segment``: threshold, components, what is not a stroke dropped, pieces merged into digits.
5. ``crop``: MNIST's geometry (stroke width, 20x20 keeping aspect, centre of mass at 28x28's centre).

:class:`TransformParams` holds them all and is stored in the model card.
"""

from model.reading.transform.crop import CropParams, DigitCrop
from model.reading.transform.decode import DecodeParams, ImageError, decode, open_image
from model.reading.transform.lines import LineParams
from model.reading.transform.ops import Box
from model.reading.transform.paper import PaperParams
from model.reading.transform.params import VERSION, TransformParams
from model.reading.transform.pipeline import DigitTransform, Segmentation
from model.reading.transform.reasons import NoDigit, Unreadable
from model.reading.transform.segment import SegmentParams

__all__ = [
    "VERSION",
    "Box",
    "CropParams",
    "DecodeParams",
    "DigitCrop",
    "DigitTransform",
    "ImageError",
    "LineParams",
    "NoDigit",
    "PaperParams",
    "SegmentParams",
    "Segmentation",
    "TransformParams",
    "Unreadable",
    "decode",
    "open_image",
]
