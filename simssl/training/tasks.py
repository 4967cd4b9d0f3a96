"""Self-supervised pretext tasks on particle neighborhoods.

After Spellings et al. (arXiv 2411.14680) and CDSSL (arXiv 2408.17255).

Every task is a small ``nn.Module`` head on the shared :class:`~simssl.model.Encoder` with two
halves:

* ``prepare(batch, generator) -> (inputs, targets)`` corrupts a batch of *clean* unit-free
  neighborhoods (bonds already divided by the frame's ``scale``) with a seeded generator;
* ``forward(out) -> prediction`` and ``loss(prediction, targets, inputs)`` read the encoder's
  per-bond features / embedding of those inputs (an :class:`EncoderOutput`).

:class:`MultiTask` runs one encoder pass over the concatenated inputs of all tasks (each task
gets its own slice of the batch) and returns each task's loss, so the cost per step is that of a
single encoder pass whatever the number of tasks. Losses are normalized to be O(1) at
initialization (regression errors divided by the variance of the corruption), so task weights are
comparable. Units: one is the frame's median nearest-neighbor distance.

Vector targets (shift, denoising displacements, nearest bond) are predicted by covariant
attention heads without bivector duals (``use_duals=False``): outputs are sums of invariant
coefficients times bond vectors, so they rotate and reflect exactly with the input.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from ..model import CovariantAttention
from ..model.encoder import covariant_apply


class Environments(NamedTuple):
    """A batch of neighborhoods as tensors: unit-free bonds, mask, types, the structure each came from and
    the shell spectra of its particle in its (uncorrupted) frame."""

    bonds: torch.Tensor  # float (B, k, 3)
    mask: torch.Tensor  # bool (B, k)
    center_types: torch.Tensor  # long (B,)
    neighbor_types: torch.Tensor  # long (B, k), -1 on padding
    structure: torch.Tensor  # long (B,): index into the dataset's structure names
    shells: torch.Tensor  # float (B, F); F = 0 for encoders without shells

    def slice(self, start: int, stop: int) -> Environments:
        """Rows ``start:stop`` of every field."""
        return Environments(*(t[start:stop] for t in self))

    def to(self, device) -> Environments:
        """Every field moved to ``device`` (str or torch.device)."""
        return Environments(*(t.to(device, non_blocking=True) for t in self))

    def with_bonds(self, bonds: torch.Tensor, mask: torch.Tensor | None = None) -> Environments:
        """A copy with new ``bonds`` (B, k, 3) and, if given, a new ``mask`` (B, k) bool."""
        return self._replace(bonds=bonds, mask=self.mask if mask is None else mask)


class EncoderOutput(NamedTuple):
    """What the heads read: per-bond features (B, k, D), the batch's Geometry, the pooled embedding (B, D)."""

    features: torch.Tensor
    geometry: tuple
    embedding: torch.Tensor

    def slice(self, start: int, stop: int) -> EncoderOutput:
        """Rows ``start:stop`` of the features, every Geometry field and the embedding."""
        geometry = type(self.geometry)(*(t[start:stop] for t in self.geometry))
        return EncoderOutput(self.features[start:stop], geometry, self.embedding[start:stop])


def encode(encoder, inputs: Environments) -> EncoderOutput:
    """One encoder pass: per-bond features and the embedding that ``Encoder.forward`` would return.

    Parameters
    ----------
    encoder : Encoder
        The shared encoder.
    inputs : Environments
        A batch of B neighborhoods.

    Returns
    -------
    EncoderOutput
        Features (B, k, D), Geometry, embedding (B, D).
    """
    features, geometry = encoder.bond_features(inputs.bonds, inputs.mask, inputs.center_types, inputs.neighbor_types)
    return EncoderOutput(features, geometry, encoder.pool(features, geometry, inputs.shells))


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` (B, k, ...) over real bonds (and any trailing axes).

    Parameters
    ----------
    values : torch.Tensor
        Per-bond values, (B, k, ...).
    mask : torch.Tensor
        Real bonds, (B, k) bool.

    Returns
    -------
    torch.Tensor
        A scalar (0 when no bond is real).
    """
    weights = mask.reshape(mask.shape + (1,) * (values.ndim - mask.ndim)).expand_as(values).to(values.dtype)
    return (values * weights).sum() / weights.sum().clamp_min(1.0)


def gaussian(shape, sigma: float, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """Seeded N(0, sigma^2) noise drawn on the generator's device, returned like ``like``.

    Parameters
    ----------
    shape : tuple of int
        Shape of the noise.
    sigma : float
        Standard deviation.
    generator : torch.Generator
        Source of the noise.
    like : torch.Tensor
        The result gets its dtype and device.
    """
    return (sigma * torch.randn(shape, generator=generator, device=generator.device)).to(like)


def covariant_head(config, n_vectors: int, reduce: bool) -> CovariantAttention:
    """A rank-2 covariant attention head reading [features, |r|] and the pair invariants.

    It has no duals, so it is reflection-equivariant.

    Parameters
    ----------
    config : EncoderConfig
        The encoder's config (dim, width, score_hidden, activation, normalize_products).
    n_vectors : int
        Output vectors.
    reduce : bool
        One output per neighborhood (True) or per bond (False).
    """
    n_pair = 4 if config.normalize_products else 2
    return CovariantAttention(
        config.dim + 1,
        n_pair,
        config.width,
        config.score_hidden,
        n_vectors,
        reduce=reduce,
        activation=config.activation,
        use_duals=False,
        gated=config.gated,
    )


def covariant_output(head: CovariantAttention, out: EncoderOutput) -> torch.Tensor:
    """Apply a covariant head to an encoder output (vectors in the same frame as the input bonds).

    Returns
    -------
    torch.Tensor
        (B, n_vectors, 3) for a reducing head, else (B, k, n_vectors, 3).
    """
    return covariant_apply(head, out.features, out.geometry)


class Task(nn.Module):
    """Base of the pretext tasks: a name, a ``prepare`` corruption and a head with its loss.

    Subclasses take the encoder's :class:`~simssl.model.EncoderConfig` as first constructor
    argument and implement ``forward(out: EncoderOutput) -> prediction``.
    """

    name = "task"
    #: True: the task reads every row of the multi-task batch (its prepare must not corrupt);
    #: False: a slice of its own
    whole_batch = False

    def prepare(self, batch: Environments, generator: torch.Generator) -> tuple[Environments, torch.Tensor]:
        """Corrupt a clean batch: (corrupted inputs, targets).

        Parameters
        ----------
        batch : Environments
            B clean neighborhoods.
        generator : torch.Generator
            Source of the corruption (seeded, for reproducible runs).

        Returns
        -------
        inputs : Environments
            B corrupted neighborhoods.
        targets : torch.Tensor
            What :meth:`loss` compares the prediction with; its shape is given in each task's docstring.
        """
        raise NotImplementedError

    def loss(self, prediction: torch.Tensor, targets: torch.Tensor, inputs: Environments) -> torch.Tensor:
        """The scalar loss of ``prediction`` against ``targets``.

        Parameters
        ----------
        prediction : torch.Tensor
            The head's output (``forward(out)``), shaped like ``targets`` (logits for classification).
        targets : torch.Tensor
            From :meth:`prepare`.
        inputs : Environments
            The corrupted batch (its mask weights per-bond losses).

        Returns
        -------
        torch.Tensor
            A float32 scalar.
        """
        raise NotImplementedError


class NoisyBondTask(Task):
    """Half of each neighborhood's bonds get N(0, noise^2) noise; classify every bond as noisy or clean (BCE).

    Parameters
    ----------
    config : EncoderConfig
        The encoder's config.
    noise : float
        Noise standard deviation (unit-free).

    Targets: (B, k), 1.0 for noisy bonds; predictions: (B, k) logits.
    """

    name = "noisy_bond"

    def __init__(self, config, noise: float = 0.5):
        super().__init__()
        self.noise = noise
        self.head = nn.Linear(config.dim, 1)

    def prepare(self, batch, generator):
        keys = torch.rand(batch.mask.shape, generator=generator, device=generator.device).to(batch.bonds.device)
        keys = keys.masked_fill(~batch.mask, 2.0)  # padding sorts last
        rank = keys.argsort(1).argsort(1)  # each bond's position in a random order of the real bonds
        noisy = rank < (batch.mask.sum(1, keepdim=True) // 2)
        bonds = batch.bonds + gaussian(batch.bonds.shape, self.noise, generator, batch.bonds) * noisy[..., None]
        return batch.with_bonds(bonds), noisy.to(batch.bonds.dtype)

    def forward(self, out):
        return self.head(out.features)[..., 0]

    def loss(self, prediction, targets, inputs):
        return masked_mean(
            F.binary_cross_entropy_with_logits(prediction.float(), targets.float(), reduction="none"), inputs.mask
        )


class ShiftTask(Task):
    """The center is displaced: every bond moves by one random vector s ~ N(0, shift^2 I); regress s covariantly.

    Parameters
    ----------
    config : EncoderConfig
        The encoder's config.
    shift : float
        Standard deviation of s per component (unit-free).

    Targets and predictions: (B, 3).
    """

    name = "shift"

    def __init__(self, config, shift: float = 0.1):
        super().__init__()
        self.shift = shift
        self.head = covariant_head(config, 1, reduce=True)

    def prepare(self, batch, generator):
        shift = gaussian((len(batch.bonds), 3), self.shift, generator, batch.bonds)
        return batch.with_bonds((batch.bonds + shift[:, None, :]) * batch.mask[..., None]), shift

    def forward(self, out):
        return covariant_output(self.head, out)[:, 0]

    def loss(self, prediction, targets, inputs):
        return F.mse_loss(prediction.float(), targets.float()) / self.shift**2


class DenoisingTask(Task):
    """All bonds get N(0, noise^2) noise; predict each bond's clean-minus-noisy displacement.

    The prediction comes from a per-bond covariant head.

    Parameters
    ----------
    config : EncoderConfig
        The encoder's config.
    noise : float
        Noise standard deviation (unit-free).

    Targets and predictions: (B, k, 3).
    """

    name = "denoising"

    def __init__(self, config, noise: float = 0.2):
        super().__init__()
        self.noise = noise
        self.head = covariant_head(config, 1, reduce=False)

    def prepare(self, batch, generator):
        noise = gaussian(batch.bonds.shape, self.noise, generator, batch.bonds) * batch.mask[..., None]
        return batch.with_bonds(batch.bonds + noise), -noise

    def forward(self, out):
        return covariant_output(self.head, out)[:, :, 0]

    def loss(self, prediction, targets, inputs):
        return masked_mean((prediction.float() - targets.float()).square(), inputs.mask) / self.noise**2


class DistanceDenoisingTask(Task):
    """CDSSL-style: all bonds get N(0, noise^2) noise; predict each bond's clean length.

    An invariant head predicts a correction to the noisy length.

    Parameters
    ----------
    config : EncoderConfig
        The encoder's config.
    noise : float
        Noise standard deviation (unit-free).

    Targets and predictions: (B, k) lengths.
    """

    name = "distance_denoising"

    def __init__(self, config, noise: float = 0.2):
        super().__init__()
        self.noise = noise
        self.head = nn.Linear(config.dim, 1)
        nn.init.zeros_(self.head.weight)  # start from "the noisy length is the clean one": loss ~1
        nn.init.zeros_(self.head.bias)

    def prepare(self, batch, generator):
        noise = gaussian(batch.bonds.shape, self.noise, generator, batch.bonds) * batch.mask[..., None]
        return batch.with_bonds(batch.bonds + noise), batch.bonds.norm(dim=-1)

    def forward(self, out):
        return out.geometry.lengths[..., 0] + self.head(out.features)[..., 0]

    def loss(self, prediction, targets, inputs):
        return masked_mean((prediction.float() - targets.float()).square(), inputs.mask) / self.noise**2


class NearestBondTask(Task):
    """The nearest bond is removed (masked); regress its vector from the remaining ones with a covariant head.

    Parameters
    ----------
    config : EncoderConfig
        The encoder's config.

    Targets and predictions: (B, 3).
    """

    name = "nearest_bond"

    def __init__(self, config):
        super().__init__()
        self.head = covariant_head(config, 1, reduce=True)

    def prepare(self, batch, generator):
        lengths = batch.bonds.norm(dim=-1).masked_fill(~batch.mask, float("inf"))
        nearest = lengths.argmin(1)
        rows = torch.arange(len(nearest), device=nearest.device)
        mask = batch.mask.clone()
        mask[rows, nearest] = False
        return batch.with_bonds(batch.bonds * mask[..., None], mask), batch.bonds[rows, nearest]

    def forward(self, out):
        return covariant_output(self.head, out)[:, 0]

    def loss(self, prediction, targets, inputs):
        return (prediction.float() - targets.float()).square().sum(-1).mean()


def invariant_descriptor(bonds: torch.Tensor, mask: torch.Tensor, bins: int, lengths: int) -> torch.Tensor:
    """Rotation- and permutation-invariant summary of clean neighborhoods, (B, lengths + bins).

    The ``lengths`` shortest bond lengths in increasing order (missing ones as trailing zeros)
    followed by a soft histogram of the cosines of all bond-pair angles (Gaussian kernels on
    [-1, 1], normalized to sum 1): the
    radial and angular content of a neighborhood, both cheap and exactly invariant.

    Parameters
    ----------
    bonds : torch.Tensor
        Bond vectors, (B, k, 3).
    mask : torch.Tensor
        Real bonds, (B, k) bool.
    bins : int
        Histogram bins.
    lengths : int
        Sorted bond lengths kept.

    Returns
    -------
    torch.Tensor
        (B, lengths + bins), in the bonds' dtype.
    """
    sorted_lengths = bonds.norm(dim=-1).masked_fill(~mask, float("inf")).sort(1).values[:, :lengths]
    sorted_lengths = sorted_lengths.masked_fill(sorted_lengths.isinf(), 0.0)
    sorted_lengths = F.pad(sorted_lengths, (0, lengths - sorted_lengths.shape[1]))
    units = F.normalize(bonds, dim=-1)
    cosines = units @ units.transpose(1, 2)
    pair = mask[:, :, None] & mask[:, None, :] & ~torch.eye(mask.shape[1], dtype=torch.bool, device=mask.device)
    centers = torch.linspace(-1, 1, bins, device=bonds.device, dtype=bonds.dtype)
    kernel = torch.exp(-0.5 * ((cosines[..., None] - centers) * (bins - 1) / 2).square()) * pair[..., None]
    histogram = kernel.sum((1, 2))
    return torch.cat([sorted_lengths, histogram / histogram.sum(-1, keepdim=True).clamp_min(1e-12)], dim=-1)


class AutoencoderTask(Task):
    """Bottleneck autoencoder: embedding -> ``bottleneck`` numbers -> MLP -> :func:`invariant_descriptor`.

    The target is the descriptor of the clean neighborhood.

    Parameters
    ----------
    config : EncoderConfig
        The encoder's config (its ``dim``).
    bottleneck : int
        Width of the bottleneck.
    bins : int
        Angle-histogram bins of the descriptor.
    lengths : int
        Shortest bond lengths in the descriptor.

    Targets and predictions: (B, lengths + bins).
    """

    name = "autoencoder"

    def __init__(self, config, bottleneck: int = 4, bins: int = 16, lengths: int = 16):
        super().__init__()
        self.bins = bins
        self.lengths = lengths
        self.head = nn.Sequential(
            nn.Linear(config.dim, bottleneck),
            nn.Linear(bottleneck, config.dim),
            nn.SiLU(),
            nn.Linear(config.dim, lengths + bins),
        )

    def prepare(self, batch, generator):
        return batch, invariant_descriptor(batch.bonds, batch.mask, self.bins, self.lengths)

    def forward(self, out):
        return self.head(out.embedding)

    def loss(self, prediction, targets, inputs):
        return F.mse_loss(prediction.float(), targets.float())


class FrameClassificationTask(Task):
    """Which structure did an environment come from: cross-entropy over the dataset's structure ids.

    Under :class:`MultiTask` it reads every environment of the batch, the other tasks' corrupted
    ones included: the structure is still known, and the corruptions (shifted centers, noisy or
    missing bonds) teach the embedding to name the structure through noise, at no extra cost.

    Parameters
    ----------
    config : EncoderConfig
        The encoder's config.
    n_structures : int
        Number of structure ids (classes).

    Targets: (B,) int64 structure ids; predictions: (B, n_structures) logits.
    """

    name = "frame_classification"
    whole_batch = True

    def __init__(self, config, n_structures: int):
        super().__init__()
        self.head = nn.Linear(config.dim, n_structures)

    def prepare(self, batch, generator):
        return batch, batch.structure

    def forward(self, out):
        return self.head(out.embedding)

    def loss(self, prediction, targets, inputs):
        return F.cross_entropy(prediction.float(), targets)


TASKS = {
    task.name: task
    for task in (
        NoisyBondTask,
        ShiftTask,
        DenoisingTask,
        DistanceDenoisingTask,
        NearestBondTask,
        AutoencoderTask,
        FrameClassificationTask,
    )
}


def build_task(name: str, config, n_structures: int, **options) -> Task:
    """A task head by name; ``options`` are its constructor's keyword arguments (noise, shift, bottleneck, ...).

    Parameters
    ----------
    name : str
        A key of :data:`TASKS`; unknown names raise ``ValueError``.
    config : EncoderConfig
        The encoder's config.
    n_structures : int
        Structure ids (used by the frame-classification task only).
    **options
        Constructor keyword arguments of the task.

    Returns
    -------
    Task
    """
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose from {sorted(TASKS)}")
    if name == FrameClassificationTask.name:
        options["n_structures"] = n_structures
    return TASKS[name](config, **options)


class MultiTask(nn.Module):
    """The encoder plus weighted pretext tasks; ``forward(prepared)`` returns {task: loss} from one encoder pass.

    ``prepare(batch, generator)`` splits the batch into one contiguous slice per task and corrupts
    each; tasks marked ``whole_batch`` get no slice but read all the rows after that. The
    concatenated inputs go through the encoder once (on any device, under DDP too, since everything
    happens inside ``forward``).

    Parameters
    ----------
    encoder : Encoder
        The shared encoder.
    tasks : dict of str to Task
        The task heads by name.
    weights : dict of str to float
        Loss weight of every task in ``tasks``.
    """

    def __init__(self, encoder, tasks: dict[str, Task], weights: dict[str, float]):
        super().__init__()
        self.encoder = encoder
        self.tasks = nn.ModuleDict(tasks)
        self.weights = {name: float(weights[name]) for name in tasks}

    @property
    def n_slices(self) -> int:
        """How many tasks get a slice of their own (a batch needs at least this many rows)."""
        return sum(not task.whole_batch for task in self.tasks.values())

    def prepare(self, batch: Environments, generator: torch.Generator):
        """(inputs, targets, bounds): concatenated corrupted inputs, per-task targets, per-task row ranges.

        Parameters
        ----------
        batch : Environments
            Clean environments; at least :attr:`n_slices` rows.
        generator : torch.Generator
            Source of the corruptions.

        Returns
        -------
        inputs : Environments
            The corrupted rows, in task order (the same number of rows as ``batch``).
        targets : dict of str to torch.Tensor
        bounds : dict of str to tuple of (int, int)
            Each task's ``(start, stop)`` rows of ``inputs``.
        """
        sliced = [(name, task) for name, task in self.tasks.items() if not task.whole_batch]
        edges = torch.linspace(0, len(batch.bonds), len(sliced) + 1).round().long().tolist()
        parts, targets, bounds = [], {}, {}
        for (name, task), start, stop in zip(sliced, edges[:-1], edges[1:]):
            task_inputs, targets[name] = task.prepare(batch.slice(start, stop), generator)
            parts.append(task_inputs)
            bounds[name] = (start, stop)
        inputs = Environments(*(torch.cat(columns) for columns in zip(*parts))) if parts else batch
        for name, task in self.tasks.items():
            if task.whole_batch:
                _, targets[name] = task.prepare(inputs, generator)
                bounds[name] = (0, len(inputs.bonds))
        return inputs, targets, bounds

    def forward(self, inputs: Environments, targets: dict, bounds: dict) -> dict[str, torch.Tensor]:
        """{task: scalar loss} from one encoder pass; tasks with an empty slice are left out.

        Parameters
        ----------
        inputs : Environments
            The corrupted rows from :meth:`prepare` (on the model's device).
        targets : dict of str to torch.Tensor
            Per-task targets from :meth:`prepare`.
        bounds : dict of str to tuple of (int, int)
            Per-task rows from :meth:`prepare`.
        """
        out = encode(self.encoder, inputs)
        losses = {}
        for name, task in self.tasks.items():
            start, stop = bounds[name]
            if stop > start:
                losses[name] = task.loss(task(out.slice(start, stop)), targets[name], inputs.slice(start, stop))
        return losses

    def total(self, losses: dict[str, torch.Tensor]) -> torch.Tensor:
        """The weighted sum of the task losses (``losses`` as returned by :meth:`forward`)."""
        return sum(self.weights[name] * loss for name, loss in losses.items())
