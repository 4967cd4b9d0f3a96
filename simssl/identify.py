"""Per-particle structure identification: each particle named after the nearest reference environment
of the structure library, or ``other`` when it is like none of them.

The references, the resolution between similar prototypes, the open-set rule and the confidence
are :mod:`simssl.library.references`'s (:class:`~simssl.library.references.Library`). This module
runs them: :class:`Identify` is the compute object that names particles from the embedding of the
stage before it (:func:`identification` builds Embedding -> Identify -> Nuclei), and
:func:`model_library` finds a model's library: the default model's ships in the package
(``simssl/library/default_references.npz``), others are built once (minutes) and cached in
:func:`~simssl.cache.cache_directory`.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from .cache import cache_directory
from .compute import model_identity
from .defaults import AVERAGE_SUFFIX
from .errors import OutputInUse, SimsslError, SimsslWarning
from .frame import Frame
from .library.references import (
    FIRST_SHELL,
    LIQUID,
    ORDERING_RANKS,
    OTHER,
    OUTPUT_NAMES,
    RECIPE_VERSION,
    Featurizer,
    Library,
    build_library,
)
from .neighbors import Nearest, Neighborhoods, nearest_bonds, plan_neighborhoods

__all__ = ["LIQUID", "OTHER", "Identify", "Library", "identification", "library_for", "model_library"]


def model_library(model, device=None, progress: bool = True) -> Library:
    """The identification library of ``model``: shipped (default model), cached, or built now and cached.

    Parameters
    ----------
    model : simssl.model.Encoder
    device : str or None
    progress : bool
        Show a progress bar while building.
    """
    from .library import shipped_references_path

    digest = model_identity(model)["sha256"]
    shipped = shipped_references_path()
    candidates = [shipped, cache_directory() / f"references-{digest[:16]}-v{RECIPE_VERSION}.npz"]
    for path in candidates:
        if path.exists():
            library = Library.load(path)
            if library is not None and library.model == digest:
                return library
    library = build_library(model, device=device, progress=progress)
    try:
        candidates[1].parent.mkdir(parents=True, exist_ok=True)
        library.save(candidates[1])
    except OutputInUse:
        pass  # another process is caching these same references right now
    except OSError as error:
        warnings.warn(f"could not cache the references in {candidates[1]} ({error})", SimsslWarning, stacklevel=2)
    return library


class Identify:
    """Per-particle structure identification: the nearest reference environment of the structure library.

    For every particle: ``structure`` (int32 index into :attr:`structure_names`; 0 is ``"liquid"``,
    -1 ``"other"``, like none of the references), ``structure_confidence`` (calibrated probability,
    float32) and ``structure_distance`` (to the nearest reference, in standardized feature units,
    float32); with ``ordering``, the chemical ordering of two-type frames, ``ordering`` (int32 index
    into :attr:`ordering_names`: 0 ``"disordered"``, -1 ``"none"``). See
    :mod:`simssl.library.references` for the references, the open-set rule and the calibration.

    Identification is a stage of a run: :class:`~simssl.compute.Embedding` (``average=True``) ->
    ``Identify(library)`` -> :class:`~simssl.nuclei.Nuclei`; it reads the embedding and its neighbor
    average of the stage before it by name (:func:`identification` builds the three). Given a model
    instead of a library, it is the whole of it in one object: the model's library is loaded on first
    use (shipped, cached or built, see :func:`model_library`) and :meth:`compute` runs the three
    stages on a frame by itself.

    Parameters
    ----------
    library : Library or simssl.model.Encoder
        The references, or a loaded encoder (see :func:`simssl.load_model`) for the one-object form.
    references : dict of str to list of Frame, or None
        One-object form: user reference structures, ``{name: frames}`` (every particle of the frames
        is that structure), added to the library's.
    device, batch_size, compile
        One-object form: as in :class:`simssl.compute.Embedding`.
    embedding : bool
        One-object form: also return ``embedding`` (and ``embedding_avg`` with ``average``).
    average : bool
        With ``embedding``: also ``embedding_avg``.
    progress : bool
        Show a progress bar when the library references of a new model are built (minutes, once).
    ordering : bool
        Also ``ordering``: which binary prototype's chemical order each crystalline particle's types
        follow (:meth:`Library.order`), ``"disordered"`` for types placed at random.

    Attributes
    ----------
    model : simssl.model.Encoder or None
        The one-object form's model.
    """

    def __init__(
        self,
        library,
        references: dict | None = None,
        device: str | None = None,
        batch_size: int | None = None,
        compile: bool | None = None,
        embedding: bool = False,
        average: bool = False,
        progress: bool = True,
        ordering: bool = False,
    ):
        self.ordering = ordering
        #: the model of the one-object form (None for a stage)
        self.model = None if isinstance(library, Library) else library
        if self.model is None and references:
            raise SimsslError("user references need the model that featurizes them: give Identify the model")
        self._given = library if self.model is None else None
        self._one_object = dict(
            references=references,
            device=device,
            batch_size=batch_size,
            compile=compile,
            embedding=embedding,
            average=average,
            progress=progress,
        )

    @functools.cached_property
    def library(self) -> Library:
        """The references in use: the one given, or (one-object form) the model's, loaded on first use."""
        if self.model is None:
            return self._given
        options = self._one_object
        return library_for(self.model, options["references"], device=options["device"], progress=options["progress"])

    @functools.cached_property
    def stages(self) -> list | None:
        """The one-object form's compute objects (:func:`identification`); None for a stage."""
        if self.model is None:
            return None
        options = {key: value for key, value in self._one_object.items() if key not in ("references", "progress")}
        return identification(self.model, self.library, **options, ordering=self.ordering)

    @property
    def neighbors(self) -> Nearest | None:
        """What it reads besides the embedding: every particle's first shell (close-packed stacking, see
        :meth:`Library.classify`) or, with ``ordering``, its 18 nearest, from the k-nearest query the frame's
        neighbor plan makes anyway (None in the one-object form, which plans its own stages)."""
        if self.model is not None:
            return None
        return Nearest(max(ORDERING_RANKS) if self.ordering else FIRST_SHELL)

    @property
    def ordering_names(self) -> tuple[str, ...]:
        """Names of the ``ordering`` indices; index 0 is ``"disordered"``, -1 (the last) ``"none"``."""
        return self.library.orderings

    @property
    def requires(self) -> tuple[str, ...]:
        """The quantities of the stage before it that it reads (none in the one-object form)."""
        return () if self.model is not None else ("embedding", "embedding" + AVERAGE_SUFFIX)

    @property
    def structure_names(self) -> tuple[str, ...]:
        """Names of the ``structure`` indices; index 0 is ``"liquid"``, the last (-1) ``"other"``."""
        return self.library.names

    @property
    def names(self) -> list[str]:
        """The quantities :meth:`compute` returns (in the one-object form, those of all three stages)."""
        if self.model is not None:
            return [name for stage in self.stages for name in stage.names]
        return [*OUTPUT_NAMES, *(["ordering"] if self.ordering else [])]

    def parameters(self) -> dict:
        """Everything that decides the results (JSON-like), the structure names included (``simssl info`` shows them).

        Returns
        -------
        dict
            ``kind`` (``"Identify"``), ``references`` (sha256 of the references), ``model`` (the sha256 their
            features come from), ``structures``, ``aliases``, ``temperature``; in the one-object form also
            ``stages``, the parameters of the Embedding and Nuclei it runs.
        """
        library = self.library
        record = {
            "kind": "Identify",
            "references": library.digest(),
            "model": library.model,
            "structures": list(library.names),
            "aliases": library.aliases,
            "temperature": library.temperature,
            "orderings": list(library.orderings) if self.ordering else None,
        }
        if self.model is not None:
            record["stages"] = [stage.parameters() for stage in self.stages if stage is not self.stages[1]]
        return record

    def compute(
        self, frame: Frame, neighborhoods: Neighborhoods | None = None, upstream: dict | None = None
    ) -> dict[str, np.ndarray]:
        """The quantities of :attr:`names` for ``frame``.

        Parameters
        ----------
        frame : Frame
        neighborhoods : Neighborhoods or None
            The view of :attr:`neighbors` (None: built here).
        upstream : dict of str to numpy.ndarray
            ``embedding`` and ``embedding_avg`` (N, D) of this frame (not needed in the one-object form).
        """
        if self.model is not None:
            from .compute import analyze_frame

            return analyze_frame(frame, self.stages)
        missing = [name for name in self.requires if name not in (upstream or {})]
        if missing:
            raise SimsslError(
                f"Identify reads {', '.join(missing)} of an Embedding stage: run it with simssl.analyze_frame(frame, "
                "simssl.identify.identification(model)), or give Identify the model"
            )
        features = np.concatenate([upstream[name] for name in self.requires], axis=1)
        if neighborhoods is None:
            neighborhoods = plan_neighborhoods(frame, [self.neighbors])[self.neighbors]
        result = self.library.classify(features, *nearest_bonds(neighborhoods, FIRST_SHELL))
        if self.ordering:
            result["ordering"] = self.library.order(result["structure"], neighborhoods, features)
        return result

    __call__ = compute


def library_for(model, references: dict | None = None, device=None, progress: bool = True) -> Library:
    """The model's library references (:func:`model_library`) plus user structures ``{name: frames}``.

    Parameters
    ----------
    model : simssl.model.Encoder
    references : dict of str to list of Frame, or None
        User structures: every particle of the frames is that structure.
    device : str or None
    progress : bool
        Show a progress bar while building the library references of a new model.
    """
    library = model_library(model, device=device, progress=progress)
    if not references:
        return library
    featurize = Featurizer(model, device)
    return library.with_user_references(
        {name: np.concatenate([featurize(frame) for frame in frames]) for name, frames in references.items()}
    )


def identification(
    model,
    library: Library | None = None,
    *,
    device=None,
    batch_size=None,
    compile=None,
    embedding: bool = False,
    average: bool = False,
    nuclei: bool = True,
    ordering: bool = False,
) -> list:
    """The compute objects of structure identification: Embedding -> Identify -> Nuclei.

    Parameters
    ----------
    model : simssl.model.Encoder
    library : Library or None
        Default: :func:`library_for` of the model.
    device, batch_size, compile
        As in :class:`simssl.compute.Embedding`.
    embedding : bool
        The run writes ``embedding`` (and ``embedding_avg`` with ``average``) too.
    average : bool
        With ``embedding``: also ``embedding_avg``.
    nuclei : bool
        Also the nuclei of ordered neighbors (:class:`~simssl.nuclei.Nuclei`).
    ordering : bool
        Also the chemical ordering (:class:`Identify`'s ``ordering``).

    Returns
    -------
    list
        Run them with :func:`simssl.analyze_frame` or ``simssl.process(..., analyzers=...)``.
    """
    from .compute import Embedding
    from .nuclei import Nuclei

    written = (("embedding", "embedding" + AVERAGE_SUFFIX) if average else ("embedding",)) if embedding else ()
    stages = [
        Embedding(model, device=device, batch_size=batch_size, compile=compile, average=True, publish=written),
        Identify(library_for(model, device=device) if library is None else library, ordering=ordering),
    ]
    return stages + ([Nuclei()] if nuclei else [])
