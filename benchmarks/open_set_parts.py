"""The open-set parts of ``identification.py``: systems where the right answer is often *no* library crystal.

Each part returns markdown lines (``identification.py --parts ...`` prints and publishes them):

* ``diamond``: cubic and hexagonal diamond of Stillinger-Weber silicon from real MD
  (``thermal_crystals.py``) at 0.25-1.0 T_m: the fraction named its own diamond (``other`` counts
  as wrong), next to OVITO's IdentifyDiamond and PTM (no cutoff) on the same frames.
* ``fluids``: equilibrated hard-sphere fluids (HOOMD HPMC, ``hard_spheres.py``) at packing fractions
  0.05-0.45 and Lennard-Jones vapours (``lj_systems.py``): the fraction named any crystal
  (``structure > 0``), next to PTM (OVITO's defaults) and adaptive CNA.
* ``defects``: a 16-grain fcc polycrystal and an fcc (001) slab, each static (Gaussian noise) and
  thermal (LAMMPS, about 0.5 T_m), an ideal gas and a jammed soft-sphere packing
  (``simssl.library.defects``): per region (grain boundary, near it, core; surface, subsurface,
  core: from the construction), the fraction named a crystal that is not close-packed, any
  crystal, ``other``, liquid and fcc; PTM and adaptive CNA on the same particles. Regions come from
  the construction, and for the polycrystal also from adaptive CNA ("not fcc by a-CNA").
* ``binary``: every binary prototype (``simssl.library.binaries``) at noise 0.05 and 0.10, with no
  and with 10 % antisites: the fraction whose ``ordering`` is the prototype; random solid
  solutions: the fraction named ``disordered``; PTM's ordering types where it has one (B2, L1_2,
  L1_0, zincblende/wurtzite).
* ``stacking``: an fcc|hcp|twin stack and a random stacking at noise 0.05, the random-stacked
  hard-sphere crystal from HPMC, and the crystallized LJ nucleation run: per-particle fcc/hcp
  agreement with the first-shell truth (``simssl.library.defects.stacking_truth``) and the counts of
  fcc, hcp, hP4-La, other structures and ``other``, from identification and from PTM.

Forward compatible with the open-set classifier: ``structure == -1`` is ``other`` (a name table with
``"other"`` last is used whether or not ``structure_names`` has it yet), and a classifier without
``ordering`` (``Identify(..., ordering=True)`` raises ``TypeError``) leaves those cells ``-`` while the
baselines still print.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from hard_spheres import CRYSTAL_PACKING, PACKING_FRACTIONS, fluid, stacked_crystal, statistics
from lj_systems import POLYCRYSTAL, SLAB, VAPOURS, thermal_polycrystal, thermal_slab, vapour
from noise_classification import cell
from ovito.modifiers import CommonNeighborAnalysisModifier as CNA
from ovito.modifiers import PolyhedralTemplateMatchingModifier as PTM
from thermal_crystals import FRACTIONS, PTM_CLASSES, simulate

import simssl
from simssl.library.binaries import binary_crystal, binary_prototype_names, solid_solution
from simssl.library.defects import (
    FCC_HCP_TWIN,
    amorphous_packing,
    close_packed_stack,
    ideal_gas,
    polycrystal,
    random_stacking,
    slab,
)
from simssl.plugins.ovito import adaptive_cna, identify_diamond, ptm

OTHER = "other"
LIQUID = "liquid"
FCC, HCP, DHCP = "cF4-Cu", "hP2-Mg", "hP4-La"
#: the library's close-packed stackings (fcc, hcp and their polytypes): fine names at an fcc boundary
CLOSE_PACKED = (FCC, HCP, DHCP, "hR3-Sm")
#: what the library calls each diamond. The shipped hP4-C (AFLOW A_hP4_186, three neighbors at the
#: shortest distance) is NOT lonsdaleite: add the lonsdaleite reference's name here once it exists.
DIAMOND_NAMES = {"diamond": ("cF8-C",), "hex_diamond": ("hP4-Si",)}
DIAMOND_TYPES = {"diamond": (1, 2, 3), "hex_diamond": (4, 5, 6)}  # IdentifyDiamond, with 1st/2nd neighbors
PTM_DIAMOND = {"diamond": PTM.Type.CUBIC_DIAMOND, "hex_diamond": PTM.Type.HEX_DIAMOND}
#: polycrystal regions by distance to the nearest boundary plane (nearest-neighbor distances; the slab's by
#: depth likewise): the first shell crosses a boundary below 1; the model's view (shells to 1.9 plus a
#: neighbor average) reaches about 3
REGIONS = ((0.0, 1.0), (1.0, 3.0), (3.0, np.inf))
STATIC_NOISE = 0.02
#: the ideal gas's number density: any other gives the same answers (identification, PTM and a-CNA are unit-free)
GAS_DENSITY = 1.0
AMORPHOUS = dict(n_particles=4000, packing_fraction=0.64)
BINARY_NOISE = (0.05, 0.10)
ANTISITES = 0.10
#: PTM's ordering type(s) of each binary prototype it knows
PTM_ORDERING = {
    "B2-CsCl": (PTM.OrderingType.B2,),
    "B3-ZnS": (PTM.OrderingType.ZINCBLENDE_WURTZITE,),
    "B4-ZnS": (PTM.OrderingType.ZINCBLENDE_WURTZITE,),
    "L1_2-Cu3Au": (PTM.OrderingType.L12_A, PTM.OrderingType.L12_B),
    "L1_0-CuAu": (PTM.OrderingType.L10,),
}
#: solid solutions: (one-component lattice, fraction of B)
SOLID_SOLUTIONS = (("cF4-Cu", 0.5), ("cF4-Cu", 0.25), ("cI2-W", 0.5))
PTM_ALL = (*PTM_CLASSES, PTM.Type.SC)  # PTM with every template our binaries need (ordering: no RMSD cutoff)
STACKING_NOISE = 0.05
RANDOM_LAYERS = 30
STACK_PARTICLES = 4000


def name_table(identify) -> np.ndarray:
    """Structure names indexed by ``structure``, with ``"other"`` at index -1 whether or not the classifier has it."""
    names = list(identify.structure_names)
    return np.array(names if names[-1] == OTHER else [*names, OTHER])


def ordering_identify(model, args):
    """``Identify(model, ordering=True)``, or None where the installed classifier has no ordering output."""
    from simssl.identify import Identify

    try:
        return Identify(model, device=args.device, compile=args.compile, ordering=True)
    except TypeError:
        return None


def names_of(identify, frame) -> np.ndarray:
    """(N,) str: the structure name identification gives every particle of ``frame``."""
    return name_table(identify)[identify.compute(frame)["structure"]]


def fraction(mask) -> str:
    return cell(float(np.mean(mask))) if np.size(mask) else "-"


def top(names: np.ndarray, exclude=(LIQUID, OTHER), count: int = 3) -> str:
    """The most frequent names (besides ``exclude``) and their fractions of all ``names``."""
    common = Counter(names[~np.isin(names, exclude)].tolist()).most_common(count)
    return ", ".join(f"{name} {n / len(names):.2f}" for name, n in common) or "-"


def crystal(names: np.ndarray) -> np.ndarray:
    """(N,) bool: named a crystal (neither liquid nor other)."""
    return ~np.isin(names, (LIQUID, OTHER))


def diamond(identify, args) -> list[str]:
    """Markdown: cubic and hexagonal SW diamond at each T / T_m, named right by identify, IdentifyDiamond, PTM."""
    names_found = {}
    lines = [
        "| T / T_m | cubic: identify | other | IdentifyDiamond | PTM | hexagonal: identify | other "
        "| IdentifyDiamond | PTM | hexagonal named (identify) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for bucket in FRACTIONS:
        row = []
        for system in ("diamond", "hex_diamond"):
            path, _ = simulate(system, bucket, args)
            found, idd, by_ptm = [], [], []
            for frame in simssl.read_frames(path):
                found.append(names_of(identify, frame))
                idd.append(np.isin(identify_diamond(frame), DIAMOND_TYPES[system]))
                by_ptm.append(ptm(frame, rmsd_cutoff=0.0, structures=PTM_CLASSES) == int(PTM_DIAMOND[system]))
            found = np.concatenate(found)
            names_found[system, bucket] = found
            row += [
                fraction(np.isin(found, DIAMOND_NAMES[system])),
                fraction(found == OTHER),
                fraction(np.concatenate(idd)),
                fraction(np.concatenate(by_ptm)),
            ]
        hexagonal = top(names_found["hex_diamond", bucket], exclude=(), count=2)
        lines.append(f"| {bucket:g} | " + " | ".join(row) + f" | {hexagonal} |")
    known = [n for names in DIAMOND_NAMES.values() for n in names if n in identify.structure_names]
    return [
        f"- right: cubic {', '.join(DIAMOND_NAMES['diamond'])}, hexagonal {', '.join(DIAMOND_NAMES['hex_diamond'])} "
        f"(of these the classifier has {', '.join(known) or 'none'}); IdentifyDiamond counts the first and second "
        "neighbors of its diamond types too; PTM: no RMSD cutoff, fcc/hcp/bcc/cubic and hexagonal diamond",
        "",
        *lines,
    ]


def baselines_crystal(frame) -> dict[str, np.ndarray]:
    """Per particle: PTM (OVITO's defaults) and adaptive CNA find any structure; PTM without cutoff and a-CNA fcc."""
    default = ptm(frame)
    loose = ptm(frame, rmsd_cutoff=0.0)
    cna = adaptive_cna(frame)
    return {
        "ptm crystal": default != 0,
        "ptm foreign": default == int(PTM.Type.BCC),
        "ptm fcc": default == int(PTM.Type.FCC),
        "ptm0 fcc": loose == int(PTM.Type.FCC),
        "cna crystal": cna != 0,
        "cna foreign": np.isin(cna, (int(CNA.Type.BCC), int(CNA.Type.ICO))),
        "cna fcc": cna == int(CNA.Type.FCC),
    }


def fluids(identify, args) -> list[str]:
    """Markdown: per fluid, the fraction of particles named a crystal by identify, PTM and a-CNA."""
    systems = []
    for phi in PACKING_FRACTIONS:
        path, _ = fluid(phi, args.fluid_cache)
        s = statistics(path)
        how = f"HPMC {s['sweeps']} sweeps, acceptance {s['acceptance']:.2f}, MSD {s['msd_start']:.0f}"
        systems.append((f"hard spheres {phi:g}", path, how))
    for density, temperature in VAPOURS:
        path, _ = vapour(density, temperature, args.cache)
        systems.append((f"LJ vapour rho {density:g} T {temperature:g}", path, "LAMMPS NVT"))
    lines = [
        "| fluid | particles x frames | identify: crystal | other | liquid | crystals named | PTM crystal "
        "| a-CNA crystal | run |",
        "|---|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for label, path, how in systems:
        frames = list(simssl.read_frames(str(path)))
        names = np.concatenate([names_of(identify, frame) for frame in frames])
        base = [baselines_crystal(frame) for frame in frames]
        cells = [
            f"{frames[0].n_particles} x {len(frames)}",
            fraction(crystal(names)),
            fraction(names == OTHER),
            fraction(names == LIQUID),
            top(names),
            fraction(np.concatenate([b["ptm crystal"] for b in base])),
            fraction(np.concatenate([b["cna crystal"] for b in base])),
            how,
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return [
        "- crystal: structure > 0 (neither liquid nor other); PTM: OVITO's defaults (fcc/hcp/bcc, RMSD cutoff "
        "0.1); MSD: mean squared displacement from the starting lattice, diameters^2",
        "",
        *lines,
    ]


def region_row(label: str, names: np.ndarray, base: dict, mask: np.ndarray) -> str:
    """One markdown row of the defects table: identify's and the baselines' fractions on ``mask``."""
    here = names[mask]
    found = crystal(here)
    cells = [
        str(int(mask.sum())),
        fraction(found & ~np.isin(here, CLOSE_PACKED)),
        fraction(found),
        fraction(here == OTHER),
        fraction(here == LIQUID),
        fraction(here == FCC),
        top(here, count=3),
        top(here, exclude=(LIQUID, OTHER, *CLOSE_PACKED), count=2),
        *(fraction(base[key][mask]) for key in ("ptm foreign", "ptm crystal", "ptm fcc", "ptm0 fcc")),
        *(fraction(base[key][mask]) for key in ("cna foreign", "cna crystal", "cna fcc")),
    ]
    return f"| {label} | " + " | ".join(cells) + " |"


def region_rows(label: str, names, base, distance) -> list[str]:
    """Rows of the defects table for the polycrystal regions of :data:`REGIONS` by boundary distance ``d``."""
    rows = []
    for low, high in REGIONS:
        mask = (distance >= low) & (distance < high)
        span = f"d >= {low:g}" if np.isinf(high) else f"{low:g} <= d < {high:g}"
        rows.append(region_row(f"{label}: {span}", names, base, mask))
    return rows


def last_frame(path):
    """The last frame of a cached dump (the most equilibrated one)."""
    *_, frame = simssl.read_frames(str(path))
    return frame


def defects(identify, args) -> list[str]:
    """Markdown: per region of each defect system, identify's names next to PTM and a-CNA on the same particles."""
    lines = [
        "| particles | n | identify: foreign crystal | crystal | other | liquid | fcc | crystals named | foreign "
        "named | PTM: bcc | crystal | fcc | PTM no cutoff: fcc | a-CNA: bcc/ico | crystal | fcc |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    static = polycrystal(POLYCRYSTAL["n_grains"], args.polycrystal_particles, noise=STATIC_NOISE, seed=args.seed)
    thermal_path, _, thermal_truth = thermal_polycrystal(args.cache, args.seed)
    for label, frame, truth in (
        (f"polycrystal, noise {STATIC_NOISE:g}", static.frame, static),
        ("polycrystal, LJ T 0.35", last_frame(thermal_path), thermal_truth),
    ):
        names, base = names_of(identify, frame), baselines_crystal(frame)
        lines += region_rows(label, names, base, truth.boundary_distance)
        lines.append(region_row(f"{label}: not fcc by a-CNA", names, base, ~base["cna fcc"]))
    film = slab(**SLAB, noise=STATIC_NOISE, seed=args.seed)
    thermal_path, _, film_truth = thermal_slab(args.cache, args.seed)
    for label, frame, depth in (
        (f"slab, noise {STATIC_NOISE:g}", film.frame, film.depth),
        ("slab, LJ T 0.35", last_frame(thermal_path), film_truth.depth),
    ):
        names, base = names_of(identify, frame), baselines_crystal(frame)
        for span, mask in (
            ("surface layer", depth == 0),
            ("0 < depth < 1", (depth > 0) & (depth < 1)),
            ("1 <= depth < 3", (depth >= 1) & (depth < 3)),
            ("depth >= 3", depth >= 3),
        ):
            lines.append(region_row(f"{label}: {span}", names, base, mask))
    gas = ideal_gas(4000, GAS_DENSITY, seed=args.seed)
    every = np.ones(gas.n_particles, bool)
    lines.append(region_row("ideal gas (any density)", names_of(identify, gas), baselines_crystal(gas), every))
    packing = amorphous_packing(**AMORPHOUS, seed=args.seed)
    names = names_of(identify, packing)
    every = np.ones(packing.n_particles, bool)
    lines.append(region_row("jammed soft spheres 0.64", names, baselines_crystal(packing), every))
    return [
        "- regions from the construction: d = distance of the particle's lattice site to the nearest grain-boundary "
        "plane, depth = below the nearer surface (nearest-neighbor distances; the LJ runs keep the construction's "
        "atom ids). Foreign crystal: any crystal but the close-packed stackings "
        f"({', '.join(CLOSE_PACKED)}). PTM: OVITO's defaults (fcc/hcp/bcc, cutoff 0.1); a-CNA adaptive.",
        f"- polycrystal: {POLYCRYSTAL['n_grains']} grains, static {static.frame.n_particles} particles, thermal "
        f"{thermal_truth.frame.n_particles} (LAMMPS, minimized, NPT at T 0.35, last frame); slab: "
        f"{SLAB['layers']} (001) layers, {film.frame.n_particles} particles",
        "",
        *lines,
    ]


def binary(model, identify, args) -> list[str]:
    """Markdown: per binary prototype and condition, ordering named right (identify, PTM) and the geometry named."""
    ordered = ordering_identify(model, args)
    ordering_names = list(ordered.ordering_names) if ordered is not None else None
    conditions = [(noise, swaps) for noise in BINARY_NOISE for swaps in (0.0, ANTISITES)]
    header = " | ".join(f"sigma {n:g}{f' + {a:.0%} antisites' if a else ''}" for n, a in conditions)
    lines = [
        f"| prototype | identify ordering right: {header} | PTM ordering right: {header} | geometry named "
        f"(sigma {BINARY_NOISE[0]:g}) |",
        "|---|" + "---:|" * (2 * len(conditions)) + "---|",
    ]
    for index, name in enumerate(binary_prototype_names()):
        mine, theirs, geometry = [], [], "-"
        for level, (noise, swaps) in enumerate(conditions):
            frame = binary_crystal(name, args.particles, noise, swaps, seed=[args.seed, 11, index, level]).frame
            if ordered is not None:
                values = ordered.compute(frame)
                mine.append(fraction(values["ordering"] == ordering_names.index(name)))
                found = name_table(ordered)[values["structure"]]
            else:
                mine.append("-")
                found = names_of(identify, frame) if level == 0 else None
            if level == 0:
                geometry = top(found, exclude=(), count=2)
            if name in PTM_ORDERING:
                _, order = ptm(frame, rmsd_cutoff=0.0, structures=PTM_ALL, ordering=True)
                theirs.append(fraction(np.isin(order, [int(o) for o in PTM_ORDERING[name]])))
            else:
                theirs.append("-")
        lines.append(f"| {name} | " + " | ".join(mine + theirs) + f" | {geometry} |")
    lines += [
        "",
        "| random solid solution | identify: disordered | geometry named | PTM: no ordering |",
        "|---|---:|---|---:|",
    ]
    for index, (lattice, fraction_b) in enumerate(SOLID_SOLUTIONS):
        frame = solid_solution(lattice, args.particles, fraction_b, BINARY_NOISE[0], seed=[args.seed, 12, index])
        if ordered is not None:
            values = ordered.compute(frame)
            disordered = fraction(values["ordering"] == ordering_names.index("disordered"))
            found = name_table(ordered)[values["structure"]]
        else:
            disordered, found = "-", names_of(identify, frame)
        _, order = ptm(frame, rmsd_cutoff=0.0, structures=PTM_ALL, ordering=True)
        no_order = fraction(order <= int(PTM.OrderingType.PURE))  # none or pure: no chemical order
        label = f"{lattice}, {fraction_b:.0%} B, sigma {BINARY_NOISE[0]:g}"
        lines.append(f"| {label} | {disordered} | {top(found, exclude=(), count=2)} | {no_order} |")
    status = (
        "ordering: the classifier's `ordering` output"
        if ordered is not None
        else "ordering: NOT AVAILABLE in the installed classifier (`Identify(..., ordering=True)` is refused): "
        "identify cells are '-'; geometry is what `structure` says"
    )
    return [
        f"- {args.particles} particles per crystal; {status}; right = the prototype's name in `ordering_names` "
        "for every particle (antisites included); PTM: no RMSD cutoff, fcc/hcp/bcc/sc/cubic and hexagonal diamond "
        "templates, its ordering types (L1_2: A or B site; B3/B4: zincblende/wurtzite); solid solutions: PTM right = "
        "no ordering type (none or pure)",
        "",
        *lines,
    ]


def stack_names(names: np.ndarray) -> np.ndarray:
    """identify's names as stacking classes: fcc, hcp, or the name itself."""
    return np.where(names == FCC, "fcc", np.where(names == HCP, "hcp", names))


def ptm_stacking(frame, rmsd_cutoff: float) -> np.ndarray:
    """PTM's fcc/hcp/other per particle (templates fcc, hcp, bcc)."""
    found = ptm(frame, rmsd_cutoff=rmsd_cutoff)
    return np.where(found == int(PTM.Type.FCC), "fcc", np.where(found == int(PTM.Type.HCP), "hcp", OTHER))


def fcc_next_to_hcp(stack) -> np.ndarray:
    """(N,) bool: fcc particles of a layer next to an hcp-like one (stacking faults, twin planes) in a ``Stack``."""
    per_layer = np.empty(stack.layer.max() + 1, dtype=stack.stacking.dtype)
    per_layer[stack.layer] = stack.stacking
    hcp = per_layer == "hcp"
    return (np.roll(hcp, 1) | np.roll(hcp, -1))[stack.layer] & (stack.stacking == "fcc")


def stacking(identify, args) -> list[str]:
    """Markdown: stacking faults and twins: per-particle fcc/hcp agreement with the truth, and name counts."""
    from nucleation import nucleation_trajectory

    twin = close_packed_stack(FCC_HCP_TWIN, STACK_PARTICLES, STACKING_NOISE, seed=[args.seed, 13])
    shuffled = close_packed_stack(
        random_stacking(RANDOM_LAYERS, seed=[args.seed, 14]), STACK_PARTICLES, STACKING_NOISE, seed=[args.seed, 15]
    )
    path, _, spheres = stacked_crystal(args.fluid_cache, seed=args.seed)
    systems = [
        (f"fcc|hcp|twin stack {FCC_HCP_TWIN}, sigma {STACKING_NOISE:g}", twin.frame, twin),
        (f"random stacking ({RANDOM_LAYERS} layers), sigma {STACKING_NOISE:g}", shuffled.frame, shuffled),
        (f"random-stacked hard spheres {CRYSTAL_PACKING:g} (HPMC)", last_frame(path), spheres),
        ("crystallized LJ (nucleation.py, last frame)", last_frame(nucleation_trajectory(args.cache)), None),
    ]
    agreement = [
        "| system | truth fcc / hcp | identify agrees | on fcc next to hcp-like layers | on hcp | PTM agrees "
        "| PTM no cutoff agrees |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    counts = [
        "| system | identify: fcc | hcp | hP4-La | other crystals | other | liquid | PTM: fcc | hcp | other "
        "| PTM no cutoff: fcc | hcp |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, frame, truth in systems:
        names = names_of(identify, frame)
        mine = stack_names(names)
        by_ptm, loose = ptm_stacking(frame, 0.1), ptm_stacking(frame, 0.0)
        elsewhere = crystal(names) & ~np.isin(names, (FCC, HCP, DHCP))
        found = [mine == "fcc", mine == "hcp", names == DHCP, elsewhere, names == OTHER, names == LIQUID]
        found += [by_ptm == "fcc", by_ptm == "hcp", by_ptm == OTHER, loose == "fcc", loose == "hcp"]
        counts.append(f"| {label} | " + " | ".join(str(int(np.sum(mask))) for mask in found) + " |")
        if truth is None:
            continue
        want, right = truth.stacking, mine == truth.stacking
        cells = [
            f"{np.sum(want == 'fcc')} / {np.sum(want == 'hcp')}",
            fraction(right),
            fraction(right[fcc_next_to_hcp(truth)]),
            fraction(right[want == "hcp"]),
            fraction(by_ptm == want),
            fraction(loose == want),
        ]
        agreement.append(f"| {label} | " + " | ".join(cells) + " |")
    return [
        "- truth: a particle is fcc where the close-packed layers below and above it differ, hcp where they are the "
        f"same; identify agrees when it names {FCC} / {HCP} accordingly (hP4-La and every other name count as "
        f"wrong); PTM: fcc/hcp/bcc templates, cutoff 0.1 and none; {STACK_PARTICLES} particles per constructed stack",
        "",
        *agreement,
        "",
        "Name counts (particles):",
        "",
        *counts,
    ]


def liquids(identify, args) -> list[str]:
    """Markdown: per kind of disorder (fresh frames, seed ``args.seed + 1``: not the references' own), the
    fraction named liquid or other, next to PTM and a-CNA; held-out kinds (never in the references) marked."""
    from simssl.library.liquids import DISORDER_KINDS, disorder_frames

    lines = [
        "| kind | family | in the references | liquid or other | other | crystals named | PTM crystal "
        "| a-CNA crystal |",
        "|---|---|---|---:|---:|---|---:|---:|",
    ]
    for kind, frames in disorder_frames(seed=args.seed + 1, include_held_out=True, progress=False).items():
        names = np.concatenate([names_of(identify, frame) for frame in frames])
        base = [baselines_crystal(frame) for frame in frames]
        cells = [
            DISORDER_KINDS[kind].family,
            "no (unseen)" if DISORDER_KINDS[kind].held_out else "yes",
            fraction(np.isin(names, [LIQUID, OTHER])),
            fraction(names == OTHER),
            top(names),
            fraction(np.concatenate([b["ptm crystal"] for b in base])),
            fraction(np.concatenate([b["cna crystal"] for b in base])),
        ]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return [
        "- fresh MD frames of every kind of `simssl.library.liquids` (another seed than the references'); "
        "goal: >= 0.95 liquid or other for every kind, the unseen ones too",
        "",
        *lines,
    ]


def calibration(identify, args) -> list[str]:
    """Markdown: is ``structure_confidence`` calibrated on data it was not fitted on? Reliability of the
    thermal LAMMPS crystals (every T) and their liquids, fresh frames of every disorder kind, and the
    close-packed stacks: per confidence bin, the mean confidence and the fraction named right."""
    from simssl.library.liquids import disorder_frames

    confidence, right = [], []
    truth_names = {"fcc": FCC, "hcp": HCP, "bcc": "cI2-W", "diamond": "cF8-C", "hex_diamond": "hP4-Si"}
    for system, truth in truth_names.items():
        for bucket in (*FRACTIONS, "liquid"):
            if bucket == "liquid" and system == "hex_diamond":
                continue
            path, _ = simulate(system, bucket, args)
            for frame in list(simssl.read_frames(str(path)))[1::2]:
                values = identify.compute(frame)
                names = name_table(identify)[values["structure"]]
                confidence.append(values["structure_confidence"])
                right.append(names == (LIQUID if bucket == "liquid" else truth))
    for frames in disorder_frames(seed=args.seed + 1, progress=False).values():
        for frame in frames:
            values = identify.compute(frame)
            confidence.append(values["structure_confidence"])
            right.append(name_table(identify)[values["structure"]] == LIQUID)
    confidence, right = np.concatenate(confidence), np.concatenate(right)
    edges = np.array([0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0001])
    lines = ["| confidence | particles | mean confidence | named right |", "|---|---:|---:|---:|"]
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        chosen = (confidence >= low) & (confidence < high)
        if chosen.any():
            error += chosen.mean() * abs(confidence[chosen].mean() - right[chosen].mean())
            lines.append(
                f"| {low:.2f}-{min(high, 1):.2f} | {chosen.sum()} | {confidence[chosen].mean():.3f} | "
                f"{right[chosen].mean():.3f} |"
            )
    return [
        f"- {len(confidence)} particles (thermal crystals at 0.25-1.0 T_m and their liquids, fresh disorder frames); "
        f"expected calibration error {error:.4f} (a calibrated confidence has named-right = mean confidence per bin)",
        "",
        *lines,
    ]
