"""The one shared transform: any image in, MNIST-like 28x28 digit crops out.

Training and inference both go through :class:`DigitTransform`, so the network only ever
sees what this package produces. It runs as declared stages, each a module with a frozen
parameter class holding every number it uses (each with its range, ``bounds``), and a callable
made from those parameters (``stage.Stage``, as torchvision's ``transforms.v2`` makes them):

1. ``decode`` (``Decode``): file to a grey working image of a known size (``WorkImage``).
2. ``paper`` (``Paper``): ink strength against the local paper level, whatever the polarity (``Inked``).
3. ``lines`` (``Lines``): ruled and squared notebook lines cleared (``Cleared``).
4. ``segment`` (``Segment``): threshold, components, what is not a stroke dropped, pieces merged
   into digits (``Found``), or the reason there are none (``NoDigit``).
5. ``crop`` (``Crop``): MNIST's geometry (stroke width, 20x20 keeping aspect, centre of mass at
   28x28's centre) for each digit (``DigitCrop``).
6. ``strip`` (``Strip``): the main line of writing at a fixed height, its stroke brought to one
   range of widths, for the number reader (``NumberStrip``).

:class:`TransformParams` holds them all and is stored in the model card.
"""

from model.reading.transform.crop import CropParams, DigitCrop
from model.reading.transform.decode import DecodeParams, ImageError, upright
from model.reading.transform.lines import LineParams
from model.reading.transform.ops import Box
from model.reading.transform.paper import PaperParams
from model.reading.transform.params import VERSION, TransformParams
from model.reading.transform.pipeline import DigitTransform, Segmentation
from model.reading.transform.reasons import NoDigit, Unreadable
from model.reading.transform.segment import SegmentParams
from model.reading.transform.strip import NumberStrip, StripParams

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
    "NumberStrip",
    "PaperParams",
    "SegmentParams",
    "Segmentation",
    "StripParams",
    "TransformParams",
    "Unreadable",
    "upright",
]
