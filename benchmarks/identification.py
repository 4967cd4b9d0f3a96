"""How often does ``simssl identify`` name a particle's structure right? Thermal crystals, held-out prototypes, nuclei.

No training: the default model's shipped references (:mod:`simssl.identify`: the 60 library
prototypes at noise 0-0.12, the liquid, similar prototypes merged) name every particle.

* Thermal crystals (the LAMMPS runs of ``thermal_crystals.py``, cached in ``--cache``; ~9 min of MD
  the first time): per T / T_m, the fraction of particles identified as their run's structure
  (cF4-Cu for fcc, hP2-Mg for hcp, cI2-W for bcc, cF8-C for cubic diamond, ``liquid`` for the liquids),
  out of all the classifier's structures, next to PTM (fcc/hcp/bcc/cubic and hexagonal diamond/Other)
  and adaptive CNA (+ IdentifyDiamond, cubic and hexagonal), which choose among 6. Also the ordered
  fraction each method reports.
* Held-out prototypes: the 44 prototypes pretraining never saw, fresh noise draws at ``--sigma``
  (several); a particle is right when it is named its prototype or a structure the prototype's
  sites are merged into (``References.aliases``). Also the 6 prototypes the seed paper trained on.
* Nuclei: the bundled example (a Lennard-Jones melt crystallizing) and the Lennard-Jones nucleation
  run of ``nucleation.py``: per frame the identified ordered fraction and largest nucleus, next to
  q6_avg > 0.35 and PTM (ordered = not Other) with nuclei of those ordered particles clustered the same
  way. Writes ``figures/nucleation_largest_cluster.png``.

* Open-set parts (``open_set_parts.py``, which says what each measures): ``diamond`` (cubic vs
  hexagonal Stillinger-Weber diamond at 0.25-1.0 T_m), ``fluids`` (HPMC hard-sphere fluids, LJ
  vapours: named any crystal), ``defects`` (polycrystal, slab, ideal gas, jammed packing: what grain
  boundaries, surfaces, cores, gas and glass are named), ``binary`` (chemical ordering of binary
  prototypes with noise and antisites, random solid solutions) and ``stacking`` (stacking faults,
  twins and random stackings against the first-shell truth). Their data: ``hard_spheres.py``
  (``--fluid-cache``), ``lj_systems.py`` and ``thermal_crystals.py`` (``--cache``), made on first use.

Prints markdown tables and appends them under ``## identification`` in ``benchmarks/RESULTS.md``.

    python benchmarks/identification.py
    python benchmarks/identification.py --no-append --particles 400 --parts prototypes
    python benchmarks/identification.py --no-append --parts diamond,fluids,defects,binary,stacking
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import open_set_parts
from common import publish
from hard_spheres import CACHE as HARD_SPHERE_CACHE
from lj_systems import POLYCRYSTAL
from noise_classification import cell, common_arguments, load
from thermal_crystals import BUCKETS, CLASSES, HERE, bucket_name, ovito_classes, simulate

import simssl
from simssl.compute import Steinhardt
from simssl.identify import Identify
from simssl.library.structures import crystal, prototype_names
from simssl.nuclei import evenly_spaced, nuclei, order_summary
from simssl.plugins.ovito import ptm

HEADING = "## identification"
LIBRARY_NAME = {"fcc": "cF4-Cu", "hcp": "hP2-Mg", "bcc": "cI2-W", "diamond": "cF8-C"}
LIQUID_CLASS = CLASSES.index("liquid")
Q6_THRESHOLD = 0.35
#: the benchmark's parts (``--parts``): the closed-set ones here, the open-set ones in open_set_parts.py
PARTS = (
    "thermal", "prototypes", "nuclei", "diamond", "fluids", "liquids", "defects", "binary", "stacking", "calibration"
)  # fmt: skip
#: the thermal part's runs (hexagonal diamond is the ``diamond`` part's, next to cubic diamond)
THERMAL_SYSTEMS = ("fcc", "hcp", "bcc", "diamond")
#: atoms per system of the cached thermal runs (thermal_crystals.py's default)
THERMAL_ATOMS = 4000


def thermal(identify: Identify, args) -> list[str]:
    """Markdown: per bucket, right-structure accuracy and reported ordered fraction of identification, PTM, a-CNA."""
    names = identify.structure_names
    right, ordered = {}, {}
    for system in THERMAL_SYSTEMS:
        for bucket in BUCKETS:
            path, _ = simulate(system, bucket, args)
            want = 0 if bucket == "liquid" else names.index(LIBRARY_NAME[system])
            want_class = LIQUID_CLASS if bucket == "liquid" else CLASSES.index(system)
            for frame in simssl.read_frames(path):
                found = identify.compute(frame)["structure"]
                classes = ovito_classes(frame)
                for method, hit, order in (
                    ("identify", found == want, found > 0),
                    ("ptm", classes["ptm"] == want_class, classes["ptm"] != LIQUID_CLASS),
                    ("cna", classes["cna"] == want_class, classes["cna"] != LIQUID_CLASS),
                ):
                    right.setdefault((bucket, method), []).append(hit)
                    ordered.setdefault((bucket, method), []).append(order)
            print(f"{system} {bucket_name(bucket)} done", flush=True)
    lines = [
        f"| T / T_m | identify (of {len(names)}) | PTM (of {len(CLASSES)}) | a-CNA (of {len(CLASSES)}) "
        "| ordered: identify | PTM | a-CNA |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for bucket in BUCKETS:
        accuracy = [cell(float(np.mean(np.concatenate(right[bucket, m])))) for m in ("identify", "ptm", "cna")]
        fraction = [f"{np.mean(np.concatenate(ordered[bucket, m])):.3f}" for m in ("identify", "ptm", "cna")]
        lines.append(f"| {bucket_name(bucket)} | " + " | ".join(accuracy + fraction) + " |")
    return lines


def prototypes(identify: Identify, args) -> list[str]:
    """Markdown: per subset and noise, the fraction of particles named their prototype (or what it merges into)."""
    names, aliases = identify.structure_names, identify.library.aliases
    lines = [
        "| prototypes | " + " | ".join(f"sigma {s:g}" for s in args.sigmas) + " | hardest (first sigma) |",
        "|---|" + "---:|" * len(args.sigmas) + "---|",
    ]
    for subset in ("held_out", "train"):
        subset_names = prototype_names(subset)
        cells, worst = [], ""
        for level, sigma in enumerate(args.sigmas):
            scores = {}
            for index, name in enumerate(subset_names):
                frame = crystal(name, args.particles, noise=sigma, seed=[args.seed, 7, level, index])
                found = np.asarray(names)[identify.compute(frame)["structure"]]
                scores[name] = float(np.isin(found, [name, *aliases.get(name, [])]).mean())
            cells.append(cell(float(np.mean(list(scores.values())))))
            if level == 0:
                worst = ", ".join(f"{n} {scores[n]:.2f}" for n in sorted(scores, key=scores.get)[:4])
        lines.append(f"| {subset.replace('_', '-')} ({len(subset_names)}) | " + " | ".join(cells) + f" | {worst} |")
    return lines


def ptm_ordered(frame) -> np.ndarray:
    """(N,) bool: PTM (OVITO, default structures and RMSD cutoff) finds any structure (not Other)."""
    return ptm(frame) != 0


def nucleation_series(identify: Identify, path) -> dict[str, np.ndarray]:
    """Per frame of ``path``: step, and per criterion (identify, q6_avg, PTM) ordered fraction and largest nucleus."""
    series = {"step": []}
    q6 = Steinhardt(l=(6,), average=True)
    for frame in simssl.read_frames(str(path)):
        series["step"].append(frame.step)
        found = identify.compute(frame)
        orders = {
            "identify": found["structure"] > 0,
            "q6_avg": q6.compute(frame)["q6_avg"] > Q6_THRESHOLD,
            "ptm": ptm_ordered(frame),
        }
        for name, ordered in orders.items():
            nucleus = found["nucleus"] if name == "identify" else nuclei(frame, ordered)
            summary = order_summary(ordered.astype(np.int32), nucleus)
            series.setdefault(f"{name} fraction", []).append(summary["ordered_fraction"])
            series.setdefault(f"{name} largest", []).append(summary["largest_nucleus"])
    return {key: np.asarray(value) for key, value in series.items()}


def nucleation_lines(label: str, series: dict[str, np.ndarray], rows: int = 8) -> list[str]:
    shown = evenly_spaced(len(series["step"]), rows)
    lines = [
        f"{label}: ordered fraction and largest nucleus (particles) per frame",
        "",
        "| step | identify | q6_avg > 0.35 | PTM | largest: identify | q6_avg | PTM |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i in shown:
        fractions = [f"{series[f'{m} fraction'][i]:.3f}" for m in ("identify", "q6_avg", "ptm")]
        largest = [str(series[f"{m} largest"][i]) for m in ("identify", "q6_avg", "ptm")]
        lines.append(f"| {series['step'][i]} | " + " | ".join(fractions + largest) + " |")
    return lines


def figure(curves: dict[str, dict[str, np.ndarray]], path: Path) -> None:
    """Largest nucleus per frame, one panel per trajectory, one line per criterion."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 3.6), squeeze=False)
    for axis, (title, series) in zip(axes[0], curves.items()):
        for method, style in (("identify", "o-"), ("q6_avg", "s--"), ("ptm", "^:")):
            label = method.replace("_avg", "_avg > 0.35")
            axis.plot(series["step"], series[f"{method} largest"], style, ms=3, label=label)
        axis.set_title(title, fontsize=9)
        axis.set_xlabel("step")
        axis.set_ylabel("largest nucleus (particles)")
        axis.legend(fontsize=7)
    panels.tight_layout()
    panels.savefig(path, dpi=110)
    plt.close(panels)


def main(argv=None) -> int:
    parser = common_arguments(__doc__.split("\n\n")[0], particles=1000)
    parser.add_argument("--cache", type=Path, default=HERE / ".thermal_cache", help="cached LAMMPS dumps")
    parser.add_argument("--sigmas", type=lambda s: [float(x) for x in s.split(",")], default=[0.05, 0.1])
    parser.add_argument(
        "--fluid-cache", type=Path, default=HARD_SPHERE_CACHE, help="cached HOOMD hard-sphere runs (hard_spheres.py)"
    )
    parser.add_argument(
        "--polycrystal-particles",
        type=int,
        default=POLYCRYSTAL["n_particles"],
        help=f"particles of the static polycrystal of the defects part (default: {POLYCRYSTAL['n_particles']})",
    )
    parser.add_argument(
        "--parts",
        type=lambda s: set(s.split(",")),
        default=set(PARTS),
        help=f"comma-separated subset of {', '.join(PARTS)} (default: all)",
    )
    args = parser.parse_args(argv)
    if args.parts - set(PARTS):
        parser.error(f"unknown part(s) {', '.join(sorted(args.parts - set(PARTS)))}; choose from {', '.join(PARTS)}")
    model = load(args)
    identify = Identify(model, device=args.device, compile=args.compile)
    thermal_args = type("ThermalArgs", (), {"seed": args.seed, "particles": THERMAL_ATOMS, "cache": args.cache})
    lines = [
        f"- references: the default model's shipped ones, {len(identify.structure_names)} structures "
        f"({len(identify.library.aliases)} prototypes wholly or partly merged into simpler ones); no fitting",
    ]
    if "thermal" in args.parts:
        lines += [
            "",
            "Thermal crystals (fraction of particles named their run's structure; ordered = not liquid / not Other):",
            "",
            *thermal(identify, thermal_args),
        ]
    if "prototypes" in args.parts:
        lines += [
            "",
            f"Library prototypes, {args.particles} particles each, fresh noise draws (right = named the prototype "
            "or a structure its sites merge into):",
            "",
            *prototypes(identify, args),
        ]
    if "nuclei" in args.parts:
        from nucleation import nucleation_trajectory

        curves = {
            "bundled example (LAMMPS LJ melt crystallizing)": nucleation_series(identify, simssl.example_path()),
            "LJ nucleation run (nucleation.py)": nucleation_series(identify, nucleation_trajectory(args.cache)),
        }
        for label, series in curves.items():
            lines += ["", *nucleation_lines(label, series)]
        figure(curves, HERE / "figures" / "nucleation_largest_cluster.png")
        lines += ["", "- figure: `benchmarks/figures/nucleation_largest_cluster.png`"]
    open_set = {
        "diamond": ("Cubic vs hexagonal diamond (Stillinger-Weber Si, LAMMPS, thermal_crystals.py): fraction named "
                    "right, `other` counted wrong", lambda: open_set_parts.diamond(identify, thermal_args)),
        "fluids": ("Fluids that must not be called crystals: fraction of particles named any crystal",
                   lambda: open_set_parts.fluids(identify, args)),
        "liquids": ("Every kind of disorder (simssl.library.liquids), fresh frames: fraction named liquid or other",
                    lambda: open_set_parts.liquids(identify, args)),
        "defects": ("Grain boundaries, free surfaces, a gas and a glass: what each region is named",
                    lambda: open_set_parts.defects(identify, args)),
        "binary": ("Chemical ordering of binary crystals and random solid solutions",
                   lambda: open_set_parts.binary(model, identify, args)),
        "stacking": ("Stacking faults and twins (issue 24 item 2): fcc/hcp per particle against the first-shell truth",
                     lambda: open_set_parts.stacking(identify, args)),
        "calibration": ("Is structure_confidence calibrated on data it was not fitted on?",
                        lambda: open_set_parts.calibration(identify, thermal_args)),
    }  # fmt: skip
    for part, (title, run) in open_set.items():
        if part in args.parts:
            lines += ["", f"{title}:", "", *run()]
            print(f"{part} done", flush=True)
    publish(args, argv, lines, HEADING)
    return 0


if __name__ == "__main__":
    sys.exit(main())
