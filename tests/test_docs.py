"""The runnable examples in docstrings run (and so stay true)."""

import doctest
import importlib

import pytest

MODULES = [
    "simssl.frame",
    "simssl.neighbors",
    "simssl.bond_order",
    "simssl.compute",
    "simssl.compare.probes",
    "simssl.io",
    "simssl.io.selection",
    "simssl.io.types",
    "simssl.io.lammps_reader",
    "simssl.processor",
    "simssl.library.binaries",
    "simssl.library.defects",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
