"""Binary (two-type) crystals: chemically ordered prototypes, antisite disorder and random solid solutions.

Geometry alone names a lattice (rock salt's sites form a simple cubic lattice, CsCl's a bcc one);
which type sits on which site is a second answer, the chemical *ordering*. These frames test it:

* :func:`binary_crystal`: a prototype of ``binary_prototypes.json`` (rock salt, CsCl, zincblende,
  wurtzite, Cu3Au, CuAu, the C15 and C14 Laves phases, AlB2, CaCu5, NaZn13; written and
  spglib-checked by ``benchmarks/make_binary_prototypes.py``), with Gaussian noise and a chosen
  fraction of antisites (A and B swapped), and its per-particle site truth;
* :func:`solid_solution`: the types placed at random on a one-component lattice of
  :mod:`simssl.library.structures`: no chemical order at all.

Frames are in reduced units (shortest distance 1, whatever the types) with type names ``("A", "B")``:
A is the first element of the prototype's formula (Na in NaCl, Cu in Cu3Au, Mg in MgCu2).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import NamedTuple

import numpy as np

from ..errors import SimsslError
from ..frame import Frame, frame_from_lattice, make_frame
from .structures import crystal, displaced, supercell

BINARY_PROTOTYPES = "binary_prototypes.json"
#: type names of every binary frame: A (first element of the formula), B
TYPE_NAMES = ("A", "B")


class BinaryCrystal(NamedTuple):
    """A binary crystal and the truth of every particle.

    Attributes
    ----------
    frame : Frame
        Types ``("A", "B")``.
    site : numpy.ndarray
        (N,) int32: index into ``site_names`` of the particle's crystallographic site.
    site_names : tuple of str
        Element and Wyckoff position of each site, as the prototype lists them (``"Zn 6h"``).
    antisite : numpy.ndarray
        (N,) bool: the particle's type is not its site's (it was swapped).
    """

    frame: Frame
    site: np.ndarray
    site_names: tuple[str, ...]
    antisite: np.ndarray


@functools.cache
def _binary_prototypes() -> dict[str, dict]:
    """The bundled binary prototype table, keyed by name, in the file's order."""
    text = resources.files("simssl.library").joinpath(BINARY_PROTOTYPES).read_text()
    return {entry["name"]: entry for entry in json.loads(text)["prototypes"]}


def binary_prototype_names() -> list[str]:
    """Names of the binary prototypes, Strukturbericht designation then prototype compound (``"B1-NaCl"``).

    Returns
    -------
    list of str
        In the data file's order: B1-NaCl, B2-CsCl, B3-ZnS, B4-ZnS, L1_2-Cu3Au, L1_0-CuAu, C15-MgCu2,
        C14-MgZn2, C32-AlB2, D2_d-CaCu5, D2_3-NaZn13.
    """
    return list(_binary_prototypes())


def _entry(name: str) -> dict:
    try:
        return _binary_prototypes()[name]
    except KeyError:
        raise SimsslError(
            f"unknown binary prototype {name!r}; binary_prototype_names() lists the {len(_binary_prototypes())} "
            "available"
        ) from None


def binary_unit_cell(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """A binary prototype's conventional unit cell.

    Parameters
    ----------
    name : str
        A name from :func:`binary_prototype_names`.

    Returns
    -------
    lattice : numpy.ndarray
        Lattice vectors as rows, (3, 3) float64, in Angstrom (the prototype compound's).
    positions : numpy.ndarray
        Fractional positions, (n, 3) float64, in [0, 1).
    types : numpy.ndarray
        (n,) int32: 0 = A, 1 = B.
    sites : tuple of str
        Element and Wyckoff position of every atom.
    """
    entry = _entry(name)
    return (
        np.array(entry["lattice"], dtype=np.float64),
        np.array(entry["positions"], dtype=np.float64),
        np.array(entry["types"], dtype=np.int32),
        tuple(entry["sites"]),
    )


def binary_space_group(name: str) -> int:
    """The prototype's space-group number (types told apart), as the tables list it and spglib confirms.

    Parameters
    ----------
    name : str
        A name from :func:`binary_prototype_names`.

    Returns
    -------
    int
    """
    return int(_entry(name)["space_group"])


def _fraction(value: float, what: str) -> float:
    if not np.isfinite(value) or not 0 <= value <= 1:
        raise SimsslError(f"{what} must be a fraction between 0 and 1, got {value}")
    return float(value)


def binary_crystal(
    name: str, n_particles: int = 4096, noise: float = 0.0, antisites: float = 0.0, seed=None
) -> BinaryCrystal:
    """A binary prototype, shortest distance 1, replicated to about ``n_particles``, with noise and antisites.

    Parameters
    ----------
    name : str
        A name from :func:`binary_prototype_names`.
    n_particles : int
        Approximate number of particles (whole unit cells).
    noise : float
        Gaussian noise standard deviation per Cartesian component, in units of the shortest distance.
    antisites : float
        Fraction of particles on a site of the other type: ``round(antisites * N / 2)`` random A-B
        pairs swap their types (so the composition stays the formula's). At most twice the minority
        fraction.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Seeds the noise, then the swaps.

    Returns
    -------
    BinaryCrystal
        The frame (types ``("A", "B")``) and per-particle site and antisite truth.

    Raises
    ------
    SimsslError
        For an unknown name, negative noise, or an antisite fraction outside [0, 1] or above what the
        minority type allows.

    Examples
    --------
    >>> crystal = binary_crystal("B2-CsCl", n_particles=250, antisites=0.1, seed=1)
    >>> crystal.frame.type_names, int(crystal.antisite.sum())
    (('A', 'B'), 24)
    """
    lattice, positions, types, sites = binary_unit_cell(name)
    antisites = _fraction(antisites, "the antisite fraction")
    rng = np.random.default_rng(seed)
    box, points, basis = supercell(lattice, positions, n_particles)
    points = displaced(points, noise, rng)
    site_names = tuple(dict.fromkeys(sites))
    site = np.array([site_names.index(s) for s in sites], dtype=np.int32)[basis]
    ideal = types[basis]
    swaps = int(round(antisites * len(ideal) / 2))
    minority = int(min(np.sum(ideal == 0), np.sum(ideal == 1)))
    if swaps > minority:
        raise SimsslError(
            f"{name} has {minority} of {len(ideal)} particles of its minority type: at most "
            f"{2 * minority / len(ideal):.3f} of them can be antisites, not {antisites}"
        )
    found = ideal.copy()
    a = rng.choice(np.flatnonzero(ideal == 0), swaps, replace=False)
    b = rng.choice(np.flatnonzero(ideal == 1), swaps, replace=False)
    found[a], found[b] = 1, 0
    frame = frame_from_lattice(box, points, types=found, type_names=TYPE_NAMES, source=f"binary prototype {name}")
    return BinaryCrystal(frame, site, site_names, found != ideal)


def solid_solution(
    lattice_name: str, n_particles: int = 4096, fraction_b: float = 0.5, noise: float = 0.0, seed=None
) -> Frame:
    """A random substitutional alloy: ``round(fraction_b * N)`` particles of a one-component lattice turned B.

    Parameters
    ----------
    lattice_name : str
        A one-component prototype (:func:`simssl.library.structures.prototype_names`), e.g. ``"cF4-Cu"``.
    n_particles : int
        Approximate number of particles.
    fraction_b : float
        Fraction of B particles, in [0, 1].
    noise : float
        Gaussian noise standard deviation, in units of the shortest distance.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Seeds the noise, then the types.

    Returns
    -------
    Frame
        Types ``("A", "B")``, placed without any order.
    """
    fraction_b = _fraction(fraction_b, "fraction_b")
    rng = np.random.default_rng(seed)
    lattice = crystal(lattice_name, n_particles, noise=noise, seed=rng)
    types = np.zeros(lattice.n_particles, dtype=np.int32)
    types[rng.choice(lattice.n_particles, int(round(fraction_b * lattice.n_particles)), replace=False)] = 1
    return make_frame(
        lattice.box,
        lattice.positions,
        types=types,
        type_names=TYPE_NAMES,
        source=f"random solid solution on {lattice_name}",
    )
