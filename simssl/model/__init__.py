"""The GA-attention encoder as torch modules only (tensors in, tensors out): products and invariants (``ga``),
attention layers (``layers``), the :class:`Encoder` and its config (``encoder``) and gradient-based
equivariant outputs (``gradients``).

Nothing here reads files or builds neighborhoods: :mod:`simssl.embedding` turns Frames and
Neighborhoods into model inputs and runs the model in batches, :mod:`simssl.checkpoints` reads and
writes model files.
"""

from .encoder import Encoder, EncoderConfig
from .gradients import equivariant_outputs
from .layers import CovariantAttention, GAAttention

__all__ = ["CovariantAttention", "Encoder", "EncoderConfig", "GAAttention", "equivariant_outputs"]
