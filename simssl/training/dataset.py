"""Pretraining data: neighborhoods of library crystals and user trajectories, precomputed once as tensors.

Each frame's neighborhoods are computed once (freud, ``k`` nearest), divided by the frame's
``scale`` (unit-free), optionally subsampled to a fixed number of environments per frame, and
concatenated into one :class:`EnvironmentSet`. Every environment remembers which structure it came
from (the frame-classification target). Splits are by environment with a seed; batches are drawn
by index, so ~200k environments at k=16 take ~60 MB.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import SimsslError
from ..neighbors import concatenate_inputs, model_inputs, model_neighborhoods
from .tasks import Environments


@dataclass(frozen=True)
class DataSpec:
    """Which structures to generate: prototypes, random space groups, noise levels and draws.

    Each field is documented where it is declared.
    """

    #: prototype names, or a subset of the library ('all', 'paper', 'train', 'held_out')
    prototypes: str | tuple[str, ...] = "all"
    #: how many space groups (sampled without replacement from 1..230) get a random crystal
    random_space_groups: int = 0
    noise: tuple[float, ...] = (0.03,)  #: Gaussian position noise, in nearest-neighbor distances
    draws: int = 1  #: independent noisy copies per structure and noise level
    n_particles: int = 4096  #: particles per generated frame (approximately, by replication)
    environments_per_frame: int | None = None  #: keep this many random environments per frame (None: all)


@dataclass
class EnvironmentSet:
    """All training environments as tensors (CPU), plus what they are (for model cards).

    Attributes
    ----------
    bonds : torch.Tensor
        Unit-free bond vectors, (N, k, 3) float32.
    mask : torch.Tensor
        Real bonds, (N, k) bool.
    center_types : torch.Tensor
        (N,) int64.
    neighbor_types : torch.Tensor
        (N, k) int64, -1 on padding.
    structure : torch.Tensor
        Structure id of each environment, (N,) int64.
    shells : torch.Tensor
        Shell spectra of each environment's particle, (N, F) float32 (F = 0 without shells).
    structures : list of str
        Structure id -> name.
    n_types : int
        Particle types seen.
    sources : list of dict
        One entry per frame: structure, noise, seed, particles, environments.
    """

    bonds: torch.Tensor  # float32 (N, k, 3), unit-free
    mask: torch.Tensor  # bool (N, k)
    center_types: torch.Tensor  # int64 (N,)
    neighbor_types: torch.Tensor  # int64 (N, k)
    structure: torch.Tensor  # int64 (N,)
    shells: torch.Tensor  # float32 (N, F)
    structures: list[str]  # structure id -> name
    n_types: int
    sources: list[dict] = field(default_factory=list)  # one dict per frame (see above)

    def __len__(self) -> int:
        return len(self.bonds)

    def batch(self, indices: torch.Tensor) -> Environments:
        """The environments at ``indices`` ((b,) int64 tensor) as :class:`~.tasks.Environments`.

        Bonds are left-packed, so the batch is trimmed to its widest neighborhood: pair work grows
        with the width squared, and cutoff neighborhoods vary in width.
        """
        mask = self.mask[indices]
        width = max(1, int(mask.sum(1).max())) if len(indices) else mask.shape[1]
        return Environments(
            self.bonds[indices, :width],
            mask[:, :width],
            self.center_types[indices],
            self.neighbor_types[indices, :width],
            self.structure[indices],
            self.shells[indices],
        )

    def summary(self) -> dict:
        """JSON-like description for the model card: structures, noise levels, counts."""
        counts = torch.bincount(self.structure, minlength=len(self.structures)).tolist()
        return {
            "environments": len(self),
            "k": int(self.bonds.shape[1]),
            "n_types": self.n_types,
            "structures": self.structures,
            "environments_per_structure": dict(zip(self.structures, counts)),
            "noise_levels": sorted({s["noise"] for s in self.sources if s["noise"] is not None}),
            "frames": len(self.sources),
        }


def library_frames(spec: DataSpec, seed: int) -> Iterator[tuple[str, float, int, object]]:
    """(name, noise, seed, Frame) of the spec's prototypes and ``spec.random_space_groups`` random space
    groups (chosen with ``seed``), at every noise level and draw: :func:`structures.library_frames`.

    Groups in :data:`~.structures.HELD_OUT_SPACE_GROUPS` are never used (:func:`training_space_groups`).

    Parameters
    ----------
    spec : DataSpec
        The structures to generate.
    seed : int
        Seed of the space-group choice and of every frame.

    Yields
    ------
    tuple of (str, float, int, Frame)
    """
    from ..library import structures

    rng = np.random.default_rng(seed)
    prototypes = (
        structures.prototype_names(spec.prototypes) if isinstance(spec.prototypes, str) else list(spec.prototypes)
    )
    groups = training_space_groups(spec.random_space_groups, rng)
    yield from structures.library_frames(prototypes, groups, spec.noise, spec.draws, spec.n_particles, rng)


def training_space_groups(count: int, rng: np.random.Generator) -> list[int]:
    """``count`` distinct space groups drawn from 1-230 with ``rng``, less any in
    :data:`~.structures.HELD_OUT_SPACE_GROUPS` (sorted)."""
    from ..library.structures import HELD_OUT_SPACE_GROUPS

    groups = sorted(rng.choice(np.arange(1, 231), size=count, replace=False).tolist())
    return [group for group in groups if group not in HELD_OUT_SPACE_GROUPS]


def user_frames(paths: Iterable[str], read_options: dict | None = None) -> Iterator[tuple[str, None, None, object]]:
    """(file name, None, None, Frame) for every selected frame of every user trajectory.

    Each file is one structure (named by its file name).

    Parameters
    ----------
    paths : iterable of str
        Trajectory files.
    read_options : dict or None
        Keyword arguments of :func:`simssl.read_frames` (``frames``, ``format``, ``box``).

    Yields
    ------
    tuple of (str, None, None, Frame)
    """
    from ..io import read_frames

    for path in paths:
        for frame in read_frames(path, **(read_options or {})):
            yield Path(path).name, None, None, frame


def build(
    frames: Iterable[tuple], config, environments_per_frame: int | None = None, seed: int = 0, progress: bool = False
) -> EnvironmentSet:
    """Neighborhoods of ``(name, noise, seed, Frame)`` tuples, subsampled per frame, as one EnvironmentSet.

    Parameters
    ----------
    frames : iterable of tuple
        ``(name, noise, seed, Frame)``, e.g. from :func:`library_frames` or :func:`user_frames`;
        frames with the same name share a structure id.
    config : simssl.model.EncoderConfig
        The encoder's neighborhood definition (:func:`simssl.neighbors.model_neighborhoods`); frames of
        different widths are padded to the widest.
    environments_per_frame : int or None
        Keep this many random environments per frame (None: all).
    seed : int
        Seed of the subsampling.
    progress : bool
        Show a progress bar.

    Returns
    -------
    EnvironmentSet

    Raises
    ------
    SimsslError
        If ``frames`` is empty.
    """
    from tqdm.auto import tqdm

    rng = np.random.default_rng(seed)
    names: dict[str, int] = {}
    parts, sources, n_types = [], [], 1
    for name, noise, frame_seed, frame in tqdm(frames, desc="neighborhoods", unit="frame", disable=not progress):
        hood = model_neighborhoods(frame, config)
        rows = np.arange(hood.n_particles)
        if environments_per_frame is not None and environments_per_frame < hood.n_particles:
            rows = np.sort(rng.choice(rows, size=environments_per_frame, replace=False))
        structure = names.setdefault(name, len(names))
        parts.append((*model_inputs(hood, rows), np.full(len(rows), structure)))
        sources.append(
            {
                "structure": name,
                "noise": noise,
                "seed": frame_seed,
                "particles": hood.n_particles,
                "environments": len(rows),
            }
        )
        n_types = max(n_types, hood.n_types)
    if not parts:
        raise SimsslError("no pretraining data: the structure list and the data files are all empty")
    bonds, mask, center, neighbor, shells = concatenate_inputs([part[:5] for part in parts])
    structure = np.concatenate([part[5] for part in parts])
    return EnvironmentSet(
        torch.from_numpy(bonds.astype(np.float32)),
        torch.from_numpy(mask),
        torch.from_numpy(center.astype(np.int64)),
        torch.from_numpy(neighbor.astype(np.int64)),
        torch.from_numpy(structure.astype(np.int64)),
        torch.from_numpy(shells.astype(np.float32)),
        list(names),
        n_types,
        sources,
    )


def split(n: int, validation_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, validation) environment indices: a seeded random split, at least one environment on each side.

    Parameters
    ----------
    n : int
        Number of environments (at least 2).
    validation_fraction : float
        Share of the validation part (rounded, then clamped to 1..n-1).
    seed : int
        Seed of the permutation.

    Returns
    -------
    train, validation : torch.Tensor
        Sorted int64 indices.
    """
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = min(max(1, round(validation_fraction * n)), n - 1)
    return order[n_val:].sort().values, order[:n_val].sort().values


#: shuffled environments are sorted by width within windows of this many batches (see :func:`batches`)
BUCKET_BATCHES = 64


def batches(
    data: EnvironmentSet,
    indices: torch.Tensor,
    batch_size: int,
    generator: torch.Generator | None = None,
    rank: int = 0,
    world: int = 1,
    min_size: int = 1,
) -> Iterator[Environments]:
    """Batches of ``data[indices]``, shuffled with ``generator`` (None: in order).

    Shuffled batches of neighborhoods of varying width (cutoff encoders) are width-bucketed: within
    each window of :data:`BUCKET_BATCHES` batches the
    environments are sorted by neighbor count before being cut into batches, whose order is then
    shuffled, so each batch is trimmed to a width close to its members' (cutoff neighborhoods vary).

    With ``world`` > 1 each rank takes an equal, disjoint shard (the remainder is dropped) so that
    every rank runs the same number of steps, as DDP requires. A last batch smaller than
    ``min_size`` is dropped (multi-task training needs one environment per sliced task).

    Parameters
    ----------
    data : EnvironmentSet
        All environments.
    indices : torch.Tensor
        Rows of ``data`` to draw from, (n,) int64.
    batch_size : int
        Environments per batch.
    generator : torch.Generator or None
        Shuffles ``indices``; None keeps their order.
    rank, world : int
        This process's rank and the number of processes.
    min_size : int
        Smallest last batch kept.

    Yields
    ------
    Environments
    """
    if generator is not None:
        indices = indices[torch.randperm(len(indices), generator=generator)]
    per_rank = len(indices) // world
    shard = indices[rank * per_rank : (rank + 1) * per_rank]
    starts = list(range(0, n_batches(len(indices), batch_size, world, min_size) * batch_size, batch_size))
    counts = data.mask[shard].sum(1)
    if generator is not None and len(counts) and counts.min() < counts.max():
        # similar widths share a batch (pair work ~ width^2), then batches are shuffled
        shard = shard[: starts[-1] + batch_size] if starts else shard
        window = BUCKET_BATCHES * batch_size
        counts = counts[: len(shard)]
        shard = torch.cat(
            [part[counts[start : start + window].argsort(stable=True)] for start, part in _windows(shard, window)]
        )
        starts = [starts[i] for i in torch.randperm(len(starts), generator=generator).tolist()]
    for start in starts:
        yield data.batch(shard[start : start + batch_size])


def _windows(values: torch.Tensor, size: int):
    """``(start, values[start:start + size])`` for consecutive windows."""
    return ((start, values[start : start + size]) for start in range(0, len(values), size))


def n_batches(n: int, batch_size: int, world: int = 1, min_size: int = 1) -> int:
    """Steps per epoch of :func:`batches` over ``n`` indices.

    Parameters
    ----------
    n : int
        Number of indices.
    batch_size, world, min_size : int
        As in :func:`batches`.

    Returns
    -------
    int
    """
    per_rank = n // world
    return per_rank // batch_size + (per_rank % batch_size >= max(1, min_size))
