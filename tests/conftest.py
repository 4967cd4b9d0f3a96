"""Shared fixtures and the two test tiers.

``python -m pytest -q`` (the README's command, what CI runs) runs everything. ``python -m pytest -q -m
"not slow"`` is the fast tier for the edit-test loop: it leaves out the tests marked ``slow`` (real
subprocesses, kills and resumes, builds without a compiler, pretraining under torchrun) and every test
of a module that drives a simulation engine or a cluster (``engine``: HOOMD, LAMMPS, OVITO, Dask),
which are marked both ``engine`` and ``slow`` here.
"""

from __future__ import annotations

import pytest

import simssl

#: test modules that run HOOMD-blue, LAMMPS, OVITO or a Dask cluster in every test
ENGINE_MODULES = frozenset(
    {
        "test_hoomd_demo",
        "test_hoomd_runs",
        "test_live_hoomd",
        "test_live_lammps",
        "test_multitype",
        "test_plugin_dask",
        "test_plugin_ovito",
    }
)


def pytest_collection_modifyitems(config, items):
    """Mark every test of :data:`ENGINE_MODULES` ``engine`` and ``slow``."""
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1] in ENGINE_MODULES:
            item.add_marker(pytest.mark.engine)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def default_model():
    """The shipped default model, loaded once per test session (read it, do not train it)."""
    return simssl.load_model("default")


@pytest.fixture(scope="session")
def default_identify(default_model):
    """Identification with the shipped model and its shipped library, built once per test session."""
    from simssl.identify import Identify

    return Identify(default_model, progress=False)
