"""Live order analysis inside HOOMD-blue (4.x, 5.x): per-particle q_l, embeddings and structures logged into GSD files.

Wire it in as a writer and log it with HOOMD's own Logger::

    analyzer = simssl.plugins.hoomd.OrderAnalyzer(model="default", steinhardt=(4, 6))
    sim.operations.writers.append(hoomd.write.CustomWriter(action=analyzer, trigger=hoomd.trigger.Periodic(1000)))
    logger = hoomd.logging.Logger(categories=["particle", "string"])
    logger.add(analyzer)
    sim.operations.writers.append(
        hoomd.write.GSD(trigger=hoomd.trigger.Periodic(1000), filename="run.gsd", logger=logger)
    )

Each GSD frame then holds ``log/particles/simssl/plugins/hoomd/OrderAnalyzer/<name>`` (``q4``, ``q6``,
``embedding``) in tag order, the order of ``particles/position``.

With ``identify=True`` (structure identification, as ``simssl identify``) the analyzer also logs,
per particle, ``structure`` (int32 index into ``analyzer.structure_names``, 0 = ``"liquid"``, -1 = ``"other"``),
``structure_confidence`` and ``structure_distance`` (float32) and ``nucleus`` (int32 nucleus id,
0 = the largest nucleus, -1 = disordered), and offers three scalars of the frame (HOOMD category
``"scalar"``): ``ordered_fraction``, ``n_nuclei`` and ``largest_nucleus`` (in particles). A Logger
with ``categories=["particle", "scalar", "string"]`` puts them into the GSD file (the scalars at
``log/simssl/plugins/hoomd/OrderAnalyzer/<name>``); a ``categories=["scalar"]`` Logger can feed
``hoomd.write.Table`` to print the ordered fraction as the run goes.

The run record (what was computed, with which model, and the names behind the ``structure``
indices) is the loggable ``fingerprint`` (HOOMD category ``"string"``: JSON text). A Logger whose
categories include ``"string"`` stores it in every frame at
``log/simssl/plugins/hoomd/OrderAnalyzer/fingerprint``, where ``simssl info`` and ``simssl plot``
read it, as they read the record of ``simssl process``; without it they cannot name the structures::

    logger = hoomd.logging.Logger(categories=["particle", "scalar", "string"])
    logger.add(analyzer)

The loggable names are :data:`LOGGABLE` (per particle), :data:`SCALARS` (with identification
only) and :data:`RECORD`; an analyzer exports exactly the quantities it is configured for
(``analyzer.loggables``).
The computing is done by :class:`simssl.live.LiveAnalyzer`; this module only reads HOOMD's state.
HOOMD-blue is imported on first use of ``OrderAnalyzer``, so the module itself imports without it.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import freud
import numpy as np

from simssl.defaults import STEINHARDT_DEGREES
from simssl.errors import SimsslError
from simssl.io.records import RECORD_NAME, record_text
from simssl.live import LiveAnalyzer
from simssl.nuclei import SUMMARY_NAMES

#: per-particle quantities an OrderAnalyzer can log: the embedding, q_l for l = 1..MAX_DEGREE, and identification's
MAX_DEGREE = 12
IDENTIFICATION = ("structure", "structure_confidence", "structure_distance", "nucleus")
LOGGABLE = ("embedding", *(f"q{degree}" for degree in range(1, MAX_DEGREE + 1)), *IDENTIFICATION)
#: per-frame scalars (HOOMD category "scalar") an OrderAnalyzer with ``identify=True`` logs
SCALARS = SUMMARY_NAMES  # ordered_fraction, n_nuclei, largest_nucleus
#: the run record (HOOMD category "string", JSON text) that ``simssl info`` and ``simssl plot`` read
RECORD = RECORD_NAME

#: what the loggables say about themselves (``help`` and HOOMD's documentation of the class)
DESCRIPTIONS = {
    "embedding": "Order embeddings (N, D), float32, in tag order.",
    "structure": "Identified structure (N,), int32 index into ``structure_names`` (0: liquid, -1: other); tag order.",
    "structure_confidence": "Calibrated probability of the identified structure (N,), float32, in tag order.",
    "structure_distance": "Distance to the nearest reference environment (N,), float32, in tag order.",
    "nucleus": "Nucleus id (N,), int32: 0 the largest nucleus, 1 the next, ..., -1 disordered; in tag order.",
    "ordered_fraction": "Fraction of the particles identified as ordered (structure > 0), float.",
    "n_nuclei": "Number of nuclei (clusters of neighboring ordered particles), int.",
    "largest_nucleus": "Particles in the largest nucleus, int.",
    RECORD: "The run record, JSON text: analyses, model, structure names (read by simssl info and simssl plot).",
}

#: where the GSD writer stores the logged arrays: ``log/particles/<NAMESPACE>/<name>``
NAMESPACE = "/".join((*__name__.split("."), "OrderAnalyzer"))  # HOOMD names it after module and class

NOT_ATTACHED = (
    "OrderAnalyzer is not attached to a simulation: add it to sim.operations "
    "(sim.operations.writers.append(hoomd.write.CustomWriter(action=analyzer, trigger=...))) before logging it"
)

INSTALL_HINT = (
    "HOOMD-blue is distributed through conda-forge, not PyPI: install it with `conda install -c conda-forge hoomd`"
)


def __getattr__(name):
    """Define ``OrderAnalyzer`` on first access, importing HOOMD-blue only then."""
    if name == "OrderAnalyzer":
        globals()[name] = _define_order_analyzer()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _import_hoomd():
    try:
        import hoomd
    except ImportError as error:
        raise ImportError(
            f"simssl.plugins.hoomd.OrderAnalyzer needs HOOMD-blue, which is not importable here ({error}); "
            f"{INSTALL_HINT}"
        ) from error
    return hoomd


class _OrderAnalyzerBase:
    """Per-particle Steinhardt q_l, order embeddings and structures of a running HOOMD-blue simulation.

    Parameters are those of :class:`simssl.live.LiveAnalyzer`: ``model`` (``"default"``, a
    checkpoint path, ``"random"`` for tests, a loaded Encoder, or None for no embedding),
    ``steinhardt`` degrees (1..12), ``k`` nearest neighbors, the torch ``device`` of the model,
    ``identify`` (also name every particle's structure and nucleus) and ``references`` (user
    reference structures for ``identify``: ``(name, trajectory path)`` pairs).

    Append it to ``sim.operations.writers`` through ``hoomd.write.CustomWriter(action=..., trigger=...)``
    and add it to a ``hoomd.logging.Logger(categories=["particle", "string"])``: it exposes exactly the
    configured quantities as per-particle loggables (``analyzer.loggables``), in tag order. With
    ``identify=True`` these include ``structure``, ``structure_confidence``, ``structure_distance``
    and ``nucleus``, and the scalar loggables ``ordered_fraction``, ``n_nuclei`` and
    ``largest_nucleus`` (category ``"scalar"``: add it to the Logger's categories) describe the
    frame; without ``identify`` there are no scalar loggables. The run record ``fingerprint``
    (category ``"string"``) lets ``simssl info`` and ``simssl plot`` name the structures. Values are
    computed once per state, by the writer's trigger or on demand when a logger asks at a step the
    trigger skipped, so every GSD frame logs the order of its own configuration, the first included
    (also after ``set_snapshot``/``set_box`` or a restart at an already analyzed step).
    The analyzer must be in ``sim.operations`` (a Logger alone does not attach it), and the GSD writer
    should keep its default filter (``hoomd.filter.All()``): the logged arrays cover every particle.

    Reading the state: on a CPU device the rank-local snapshot is copied out of HOOMD's memory; on a
    GPU device (with a CUDA build of torch) the arrays are wrapped zero-copy as CUDA tensors
    (``__cuda_array_interface__``) and copied on the GPU, so HOOMD's particle data never migrates to
    the host (only positions, types and tags travel, to freud's neighbor query). Under MPI (more than one
    rank) every rank takes part in gathering the whole system to rank 0 (``State.get_snapshot``) and
    rank 0 computes; the other ranks log nothing (HOOMD's GSD writer writes rank 0's values).
    """

    def __init__(
        self,
        model="default",
        steinhardt=STEINHARDT_DEGREES,
        k: int | None = None,
        device=None,
        identify: bool = False,
        references=(),
    ):
        super().__init__()
        self.live = LiveAnalyzer(
            model=model, steinhardt=steinhardt, k=k, device=device, identify=identify, references=references
        )
        unsupported = [name for name in self.live.names if name not in LOGGABLE]
        if unsupported:
            raise SimsslError(
                f"OrderAnalyzer logs q1..q{MAX_DEGREE}, embedding and (with identify) {', '.join(IDENTIFICATION)}; "
                f"it cannot log {', '.join(unsupported)}"
            )
        # HOOMD's Logger reads the loggables from ``_export_dict``; keep only the configured quantities
        exported = [*self.live.names, *(SCALARS if self.live.structure_names else ()), RECORD]
        self._export_dict = {name: type(self)._export_dict[name] for name in exported}
        self._simulation = None
        self._forget()

    @property
    def names(self) -> list[str]:
        """The configured per-particle quantities, e.g. ``['q4', 'q6', 'embedding']``."""
        return self.live.names

    @property
    def structure_names(self) -> tuple[str, ...]:
        """Names of the logged ``structure`` indices (0 is ``"liquid"``); empty without ``identify``."""
        return self.live.structure_names

    @property
    def run_record(self) -> dict:
        """What this analyzer computes (:meth:`simssl.live.LiveAnalyzer.run_record`), logged as :data:`RECORD`."""
        import hoomd

        return self.live.run_record(f"HOOMD-blue {hoomd.version.version} (live: OrderAnalyzer)", "hoomd")

    @property
    def order(self) -> dict | None:
        """The last analyzed state's ``ordered_fraction``, ``n_nuclei`` and ``largest_nucleus``.

        None without ``identify``, before the first analysis, and on MPI ranks other than 0.
        """
        return self._order

    def attach(self, simulation) -> None:
        """Join ``simulation`` (HOOMD calls this when the writer holding the analyzer is attached)."""
        super().attach(simulation)
        # Action.attach receiving the simulation is HOOMD's public route to its timestep and device (``self._state``
        # offers neither). A weak reference: the simulation already holds this analyzer through its writer.
        self._simulation = weakref.ref(simulation)
        self._forget()

    def detach(self) -> None:
        """Leave the simulation (HOOMD calls this when the writer is removed); cached values are dropped."""
        super().detach()
        self._simulation = None
        self._forget()

    def _forget(self) -> None:
        """Drop the cached state and results."""
        self._inputs: _StateInputs | None = None
        self._results: dict[str, np.ndarray] = {}
        self._order: dict | None = None

    def act(self, timestep: int) -> None:
        """Compute every configured quantity for the current state at ``timestep``.

        The state is read on every call, but computed only when it differs from the one analyzed
        last (step, box, positions, types or tags): writer and logger asking at the same step share
        one computation, and a state changed without advancing the step (``set_snapshot``,
        ``set_box``, a new simulation restarted at the same step) is analyzed afresh.
        """
        inputs = self._read_state(timestep)
        if inputs is None:  # an MPI rank other than 0: rank 0 computes
            self._results, self._order = {}, None
        elif self._inputs is None or not inputs.same_as(self._inputs):
            box = freud.box.Box.from_box(inputs.box)
            self._results = self.live.compute(
                box, inputs.position, inputs.typeid, inputs.tag, type_names=inputs.type_names, step=timestep
            )
            self._order = self.live.order
            self._inputs = inputs

    def _logged(self, name: str):
        """The value of ``name`` at the current timestep (None on MPI ranks other than 0).

        ``name`` is a per-particle quantity or one of :data:`SCALARS` (from the frame's order summary).
        Detached, it raises rather than log nothing: HOOMD's Logger would turn the usual
        ``DataAccessError`` into a missing GSD chunk, which GSD readers fill with frame 0's values.
        """
        if self._simulation is None:
            raise SimsslError(NOT_ATTACHED)
        self.act(self._simulation().timestep)
        if name in SCALARS:
            return None if self._order is None else self._order[name]
        return self._results.get(name)

    def _read_state(self, timestep: int) -> _StateInputs | None:
        """Box, positions, type ids and tags of the simulation now (None on MPI ranks other than 0)."""
        import hoomd
        import torch

        state, device = self._state, self._simulation().device
        hoomd_box = state.box
        box = (hoomd_box.Lx, hoomd_box.Ly, hoomd_box.Lz, hoomd_box.xy, hoomd_box.xz, hoomd_box.yz)
        type_names = tuple(state.particle_types)
        if device.communicator.num_ranks > 1:
            snapshot = (
                state.get_snapshot()
            )  # collective: every rank must call it; rank 0 gets all particles in tag order
            if snapshot.communicator.rank != 0:
                return None
            particles = snapshot.particles
            return _StateInputs(
                timestep, box, type_names, np.array(particles.position), np.array(particles.typeid), None
            )
        on_gpu = isinstance(device, hoomd.device.GPU) and torch.cuda.is_available()  # else read through the host
        with state.gpu_local_snapshot if on_gpu else state.cpu_local_snapshot as snapshot:
            particles = snapshot.particles
            position, typeid, tag = (
                _copy_out(array, on_gpu) for array in (particles.position, particles.typeid, particles.tag)
            )
        return _StateInputs(timestep, box, type_names, position, typeid, tag)


@dataclass(frozen=True, eq=False)
class _StateInputs:
    """What an analysis reads from the simulation; arrays are numpy, or CUDA tensors on a GPU device."""

    timestep: int
    box: tuple[float, ...]  # Lx, Ly, Lz, xy, xz, yz (plain floats: no freud object outlives an analysis)
    type_names: tuple[str, ...]
    position: object
    typeid: object
    tag: object  # None when the rows are already in tag order (the MPI snapshot)

    def same_as(self, other: _StateInputs) -> bool:
        """Whether ``other`` describes exactly the same state (bitwise equal arrays)."""
        return (
            self.timestep == other.timestep
            and self.box == other.box
            and self.type_names == other.type_names
            and all(
                _equal(a, b)
                for a, b in ((self.position, other.position), (self.typeid, other.typeid), (self.tag, other.tag))
            )
        )


def _equal(a, b) -> bool:
    """Bitwise equality of two numpy arrays or two torch tensors (or both None)."""
    if a is None or b is None:
        return a is b
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and bool(np.array_equal(a, b))
    import torch

    return bool(torch.equal(a, b))


def _copy_out(array, on_gpu: bool):
    """A copy of a local-snapshot array that stays valid after the snapshot context closes.

    On the GPU: a zero-copy CUDA tensor view of HOOMD's buffer, cloned on the device. On the CPU:
    a numpy copy (HOOMD's documented way out of ``cpu_local_snapshot``).
    """
    if on_gpu:
        import torch

        return torch.as_tensor(array, device="cuda").clone()
    return np.array(array, copy=True)


def _logged_property(name: str):
    """The getter HOOMD's ``log`` decorator turns into the loggable ``name`` (per particle, or one of ``SCALARS``)."""

    def getter(self):
        return self._logged(name)

    getter.__name__ = getter.__qualname__ = name
    getter.__doc__ = DESCRIPTIONS.get(name, f"Steinhardt {name} (N,), float32, in tag order.")
    return getter


def _record_text(self) -> str:
    return record_text(self.run_record)


_record_text.__name__ = _record_text.__qualname__ = RECORD
_record_text.__doc__ = DESCRIPTIONS[RECORD]


def _define_order_analyzer():
    """Build ``OrderAnalyzer``: a ``hoomd.custom.Action`` with one loggable per name in ``LOGGABLE``, ``SCALARS``
    and ``RECORD``.

    HOOMD collects loggables when the class is created (its metaclass consumes what ``log`` marked),
    so the properties are decorated here, right before the class is made: ``LOGGABLE`` in category
    ``"particle"``, ``SCALARS`` in ``"scalar"``, ``RECORD`` in ``"string"`` (HOOMD's GSD writer stores
    strings as NUL-terminated int8 arrays). Not ``requires_run``: its ``DataAccessError`` would
    make HOOMD's Logger log nothing; the getters raise ``NOT_ATTACHED`` instead.
    """
    hoomd = _import_hoomd()
    loggables = {name: hoomd.logging.log(_logged_property(name), category="particle") for name in LOGGABLE}
    loggables.update({name: hoomd.logging.log(_logged_property(name), category="scalar") for name in SCALARS})
    loggables[RECORD] = hoomd.logging.log(_record_text, category="string")
    namespace = {
        "__module__": __name__,
        "__qualname__": "OrderAnalyzer",
        "__doc__": _OrderAnalyzerBase.__doc__,
        **loggables,
    }
    return type(hoomd.custom.Action)("OrderAnalyzer", (_OrderAnalyzerBase, hoomd.custom.Action), namespace)
