"""Moved: distributed processing is part of the core now, :mod:`simssl.distributed` (a backend of ``simssl process``).

This name stays for scripts written against simssl 0.1: ``simssl.plugins.dask.process_many`` is
:func:`simssl.distributed.process_many`.
"""

from simssl.distributed import expand_inputs, output_path, process_many

__all__ = ["expand_inputs", "output_path", "process_many"]
