"""The GA-attention encoder: products and invariants (``ga``), attention layers (``layers``), the
:class:`Encoder` and its config (``encoder``), gradient-based equivariant outputs (``gradients``),
batched inference (``inference``), checkpoint files (``checkpoint``) and getting a model by name or
path (``loading``)."""

from .encoder import Encoder, EncoderConfig
from .gradients import equivariant_outputs
from .inference import embed, equivariant
from .layers import CovariantAttention, GAAttention
from .loading import default_model_path, load_model, random_model, save

__all__ = [
    "CovariantAttention",
    "Encoder",
    "EncoderConfig",
    "GAAttention",
    "default_model_path",
    "embed",
    "equivariant",
    "equivariant_outputs",
    "load_model",
    "random_model",
    "save",
]
