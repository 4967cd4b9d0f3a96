"""The ``compare`` workflow: features and cross-validated probes of labeled frames, the report and its files.

:func:`compare` reads labels (:func:`~simssl.compare.probes.particle_labels`), draws the folds, computes
both feature sets (:mod:`~simssl.compare.features`), scores a probe on each
(:func:`~simssl.compare.probes.cross_validate`), and with ``out_dir`` writes the pictures
(:mod:`~simssl.compare.figures`) and ``report.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..atomic import AtomicFile, refuse_overwrite
from ..errors import SimsslError
from ..frame import Frame
from ..locking import locked
from .features import PROBES, STEINHARDT_COLUMNS, embedding_features, steinhardt_features
from .figures import plot_pca, plot_roc
from .probes import DEFAULT_L2, ProbeScores, cross_validate, grouped_folds, particle_labels

#: what ``compare(out_dir=...)`` writes there
OUTPUT_FILES = ("roc.png", "pca.png", "report.json")
#: how each grouping of folds (:data:`~simssl.defaults.GROUPINGS`,
#: see :func:`~simssl.compare.probes.grouped_folds`) reads in the report
GROUPING_WORDS = {
    "frame": "grouped by frame (whole frames per fold)",
    "block": "grouped by spatial block (slabs of each frame)",
    "particle": "stratified per particle (neighbors shared between folds: optimistic)",
}


@dataclass
class Report:
    """What :func:`compare` found: class counts and cross-validated scores per feature set.

    Attributes
    ----------
    classes : list
        Distinct labels, sorted.
    counts : list of int
        Particles per class.
    frames, folds, seed : int
        As in :func:`compare`.
    model : dict
        The encoder's name, whether it is trained, and its config.
    probes : dict of str to ProbeScores
        Keyed by the names in :data:`~simssl.compare.features.PROBES`.
    files : list of str
        Files written (with ``out_dir``).
    """

    classes: list
    counts: list[int]
    frames: int
    folds: int
    seed: int
    model: dict
    probes: dict[str, ProbeScores]
    files: list[str] = field(default_factory=list)
    grouping: str = "particle"  #: how folds were drawn (see :func:`~simssl.compare.probes.grouped_folds`)

    def to_dict(self) -> dict:
        """JSON-like report (what ``report.json`` holds)."""
        return {
            "frames": self.frames,
            "particles": int(sum(self.counts)),
            "classes": self.classes,
            "counts": self.counts,
            "folds": self.folds,
            "grouping": self.grouping,
            "seed": self.seed,
            "model": self.model,
            "probes": {name: scores.summary() for name, scores in self.probes.items()},
            "files": self.files,
        }

    def table(self) -> str:
        """A plain-text table: one row per feature set, accuracy and ROC AUC as mean +- std over folds."""
        width = max(len(label) for label in PROBES.values())
        classes = ", ".join(f"{value}: {count}" for value, count in zip(self.classes, self.counts))
        model = f"{self.model.get('name', 'encoder')}" + ("" if self.model.get("trained", True) else " (UNTRAINED)")
        lines = [
            f"{sum(self.counts)} particles in {self.frames} frame(s); classes {classes}; model {model}; "
            f"{self.folds}-fold cross-validation {GROUPING_WORDS[self.grouping]}, multinomial logistic regression",
            f"{'features':<{width}}  {'columns':>7}  {'accuracy':>15}  {'ROC AUC':>15}",
        ]
        for name, scores in self.probes.items():
            lines.append(
                f"{PROBES[name]:<{width}}  {scores.features:>7}  "
                f"{scores.accuracy.mean():>6.4f} +- {scores.accuracy.std():.4f}"
                f"  {scores.auc.mean():>6.4f} +- {scores.auc.std():.4f}"
            )
        return "\n".join(lines)


def compare(
    frames: Frame | Iterable[Frame],
    labels,
    model,
    folds: int = 5,
    seed: int = 0,
    out_dir=None,
    device=None,
    l2: float = DEFAULT_L2,
    force: bool = True,
    folds_by: str = "auto",
) -> Report:
    """Cross-validated linear probes of ``model``'s embeddings and of Steinhardt features on the same labels.

    ``labels``: per particle (a flat array over all frames, or one array per frame), or one label per
    frame (e.g. two groups of frames). With ``out_dir``, also writes ``roc.png`` (out-of-fold ROC
    curves of both probes, one-vs-rest per class when there are more than two),
    ``pca.png`` (embedding principal components colored by label and by q6) and ``report.json``;
    with ``force=False`` existing files there are refused before any work is done, and so are files
    that another live run is writing (their locks are held until the report is written).

    Parameters
    ----------
    frames : Frame or iterable of Frame
        The labeled snapshots.
    labels : array_like or sequence
        Per particle or per frame, as :func:`~simssl.compare.probes.particle_labels` reads them; at least two classes.
    model : Encoder
        The encoder whose embeddings are probed.
    folds : int
        Cross-validation folds.
    seed : int
        Seed of the folds and of the PCA plot's sample.
    out_dir : str, PathLike or None
        Where the pictures and ``report.json`` go (None: nothing is written).
    device : str, torch.device or None
        Where the encoder runs.
    l2 : float
        The probes' L2 penalty.
    force : bool
        Overwrite existing output files.
    folds_by : str
        How folds are grouped so that no test particle's neighbors train the probe: ``"auto"``
        (frames when there are enough, else spatial blocks), ``"frame"``, ``"block"`` or
        ``"particle"`` (the leaky per-particle split); see :func:`~simssl.compare.probes.grouped_folds`.

    Returns
    -------
    Report
    """
    frames = [frames] if isinstance(frames, Frame) else list(frames)
    if not frames:
        raise SimsslError("no frames to compare")
    labels = particle_labels([frame.n_particles for frame in frames], labels)
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise SimsslError(f"every particle has the label {classes[0].item()!r}; comparing needs at least two classes")
    fold, grouping = grouped_folds(labels, frames, folds, seed, by=folds_by)
    files = [os.path.join(out_dir, name) for name in OUTPUT_FILES] if out_dir is not None else []
    if files:
        os.makedirs(out_dir, exist_ok=True)
    with locked(*files):  # held until the report is written: a second compare into out_dir is refused
        for path in files:
            refuse_overwrite(path, force)
        features = {
            "embedding": np.concatenate([embedding_features(model, frame, device) for frame in frames]),
            "steinhardt": np.concatenate([steinhardt_features(frame) for frame in frames]),
        }
        card = getattr(model, "card", None) or {}
        report = Report(
            classes.tolist(),
            counts.tolist(),
            len(frames),
            folds,
            seed,
            {
                "name": card.get("name", "encoder"),
                "trained": card.get("trained", True),
                "config": model.config.to_dict(),
            },
            {name: cross_validate(values, labels, fold, l2) for name, values in features.items()},
            grouping=grouping,
        )
        if out_dir is not None:
            q6 = features["steinhardt"][:, STEINHARDT_COLUMNS.index("q6")]
            report.files = [
                plot_roc(report, labels, files[0]),
                plot_pca(features["embedding"][:, : model.config.dim], labels, q6, files[1], seed),
                files[2],
            ]
            write_json(report.to_dict(), files[2])
    return report


def write_json(data: dict, path: str) -> str:
    """Write ``data`` as indented JSON through a partial file renamed into place.

    Parameters
    ----------
    data : dict
        JSON-serializable data.
    path : str
        Target file; replaced if it exists.

    Returns
    -------
    str
        ``path``.
    """
    with AtomicFile(path, force=True) as target, open(target.temporary, "w") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
    return path
