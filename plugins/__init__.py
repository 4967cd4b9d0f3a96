"""Thin engine adapters (HOOMD-blue, LAMMPS, MDAnalysis, OVITO, Dask), importable as ``simssl.plugins.<name>``.

Each adapter imports its engine lazily, so the core never needs an engine installed.
"""
