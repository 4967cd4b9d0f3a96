"""Order embeddings and Steinhardt q_l as an MDAnalysis analysis, serial or on MDAnalysis' parallel backends.

::

    import MDAnalysis as mda
    from simssl.plugins.mdanalysis import OrderEmbedding

    u = mda.Universe("run.data", "run.lammpstrj", format="LAMMPSDUMP")
    analysis = OrderEmbedding(u.select_atoms("type 1"), model="default", steinhardt=(4, 6)).run(step=10)
    analysis.results.q6           # (frames, N)
    analysis.results.embedding    # (frames, N, D)
    OrderEmbedding(u.atoms).run(backend="multiprocessing", n_workers=4)

Each frame becomes a :class:`~simssl.frame.Frame` through
:func:`simssl.io.convert.frame_from_mdanalysis`, the same conversion ``simssl process`` uses for
LAMMPS dumps, holding only the atomgroup's atoms, so neighbors are found among them. The computing
is :class:`simssl.live.LiveAnalyzer`'s, so values equal offline ones.
"""

from __future__ import annotations

import multiprocessing

import numpy as np

try:
    from MDAnalysis.analysis.base import AnalysisBase
    from MDAnalysis.analysis.results import ResultsGroup
    from MDAnalysis.core.groups import UpdatingAtomGroup
    from MDAnalysis.exceptions import NoDataError
except ImportError as error:  # MDAnalysis is a core dependency; say so if an install lost it
    raise ImportError(
        f"simssl.plugins.mdanalysis needs MDAnalysis ({error}); install it with `pip install MDAnalysis`"
    ) from error

from simssl.defaults import STEINHARDT_DEGREES
from simssl.devices import pin_threads
from simssl.errors import SimsslError
from simssl.io.convert import frame_from_mdanalysis
from simssl.io.types import type_ids
from simssl.live import LiveAnalyzer


class OrderEmbedding(AnalysisBase):
    """Per-atom order embeddings and Steinhardt q_l of an atomgroup over a trajectory.

    Parameters
    ----------
    atomgroup : MDAnalysis.core.groups.AtomGroup
        The atoms to analyze (N of them, not an updating group); neighbors are searched among
        these atoms only.
    model : str, PathLike, Encoder or None
        ``"default"``, a checkpoint path, ``"random"`` (untrained, tests only), a loaded
        :class:`~simssl.model.Encoder`, or None for Steinhardt only.
    steinhardt : sequence of int
        Steinhardt degrees (``q4``, ``q6``, ...); empty for none.
    k : int or None
        Widen the shared k-nearest query to at least ``k`` neighbors (default: what the analyses read).
    device : str, torch.device or None
        Torch device of the model (default: CUDA when available).
    **kwargs
        Passed to :class:`~MDAnalysis.analysis.base.AnalysisBase` (``verbose``).

    After :meth:`run`, ``results`` holds one array per quantity with a leading frame axis
    (``q6`` (frames, N), ``embedding`` (frames, N, D)), ``frames`` (trajectory indices) and ``steps``
    (the simulation timestep; the trajectory index where the format records none). Atom types are the
    atomgroup's ``types``, numbered as ``simssl process`` numbers them ('2' before '10').

    ``run(backend="multiprocessing" | "dask", n_workers=n)`` splits the frames among workers; each
    worker loads the model itself on first use (the model is never pickled, except a loaded Encoder
    given as ``model``) and runs torch on one thread.
    """

    _analysis_algorithm_is_parallelizable = True

    @classmethod
    def get_supported_backends(cls):
        """The backends :meth:`run` accepts: serial, multiprocessing and dask."""
        return ("serial", "multiprocessing", "dask")

    def __init__(
        self,
        atomgroup,
        model="default",
        steinhardt=STEINHARDT_DEGREES,
        k: int | None = None,
        device=None,
        **kwargs,
    ):
        if isinstance(atomgroup, UpdatingAtomGroup):
            raise SimsslError(
                "OrderEmbedding needs a fixed set of atoms (results are (frames, N) arrays); "
                "select without updating=True"
            )
        super().__init__(atomgroup.universe.trajectory, **kwargs)
        self._atomgroup = atomgroup
        self._settings = dict(model=model, steinhardt=steinhardt, k=k, device=device)
        self._live: LiveAnalyzer | None = None
        self._source = getattr(self._trajectory, "filename", None)  # for error messages
        try:
            self._types, self._type_names = type_ids(atomgroup.types)
        except NoDataError:  # a topology without types: one type
            self._types, self._type_names = None, None

    def __getstate__(self):
        """Pickle without the loaded analyzer (workers load their own model)."""
        return {**self.__dict__, "_live": None}

    def __setstate__(self, state):
        """Unpickled in a worker process: run torch on one thread there.

        Workers share the machine's cores, and torch's OpenMP thread pool (GNU libgomp) is not
        fork-safe: a forked worker whose parent already ran torch hangs in its first parallel op.
        """
        self.__dict__.update(state)
        if multiprocessing.parent_process() is not None:
            pin_threads(1)

    def _prepare(self):
        if self._live is None:
            self._live = LiveAnalyzer(**self._settings)
        self.results.per_frame = []  # one {name: array} per frame; split by name in _conclude
        self.results.steps = []

    def _single_frame(self):
        ts = self._ts
        frame = frame_from_mdanalysis(
            ts, self._atomgroup.positions, self._types, self._type_names, source=self._source, index=ts.frame
        )
        self.results.per_frame.append(self._live.analyze(frame))
        self.results.steps.append(frame.output_step)

    def _get_aggregator(self):
        """Workers' per-frame lists concatenate in frame order (MDAnalysis keeps the workers' order)."""
        return ResultsGroup(lookup={"per_frame": ResultsGroup.flatten_sequence, "steps": ResultsGroup.flatten_sequence})

    def _conclude(self):
        per_frame = self.results.pop("per_frame")
        for name in per_frame[0] if per_frame else ():
            self.results[name] = np.stack([quantities[name] for quantities in per_frame])
        self.results.steps = np.asarray(self.results.steps, dtype=np.int64)
        self.results.frames = np.asarray(self.frames, dtype=np.int64)
