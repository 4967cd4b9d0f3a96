"""Distributed processing, a backend of :func:`simssl.process`: many trajectories on dask.distributed, a task per file.

Each task runs exactly the single-process :func:`simssl.process` on its worker, so every output is
what ``simssl process`` alone would write, under the same lock (:mod:`simssl.locking`): an output
that another process is writing fails that task alone. Two inputs that would write one output are
refused before any task runs. Workers build their analyzers (and load the model) once
and reuse them for every file they get; a failing input is reported without losing the others.
A ``LocalCluster`` of single-threaded worker processes is started unless a scheduler address is given.
"""

from __future__ import annotations

import functools
import glob
import os

from .analyses import AnalysisOptions
from .defaults import OUTPUT_SUFFIX
from .errors import SimsslError
from .processor import RunOptions


def expand_inputs(patterns) -> list[str]:
    """Input paths (list of str), with quoted glob patterns (``'runs/*.gsd'``) expanded in sorted order.

    Parameters
    ----------
    patterns : iterable of str
        Paths or glob patterns; a pattern matching nothing, or a path given twice, is an error.

    Returns
    -------
    list of str

    Raises
    ------
    SimsslError
        If a pattern matches no file or a path is given twice.
    """
    paths = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) and not os.path.exists(pattern) else [pattern]
        if not matches:
            raise SimsslError(f"{pattern}: matches no file")
        paths += matches
    if len(set(paths)) != len(paths):
        raise SimsslError("the same input is given twice")
    return paths


def output_path(source: str, directory: str, suffix: str = OUTPUT_SUFFIX) -> str:
    """Where the output of ``source`` goes: ``DIRECTORY/<name without extension><suffix>``.

    Parameters
    ----------
    source : str
        An input path.
    directory : str
        The output directory.
    suffix : str
        Default ``".simssl.gsd"`` (:data:`~simssl.defaults.OUTPUT_SUFFIX`).

    Returns
    -------
    str
    """
    return os.path.join(directory, os.path.splitext(os.path.basename(source))[0] + suffix)


@functools.lru_cache(maxsize=4)
def _worker_analyzers(options: AnalysisOptions):
    """Analyzers for these options, built (model loaded) once per worker process."""
    from .analyses import build_analyzers
    from .devices import pin_threads

    pin_threads(1)  # one thread per worker: the cluster provides the parallelism
    return build_analyzers(options)


def _process_file(source: str, output: str, analysis: AnalysisOptions, run: RunOptions):
    from .processor import process

    return process(source, output, analyzers=_worker_analyzers(analysis), progress=False, **run.as_kwargs())


def process_many(
    inputs,
    output_dir,
    *,
    scheduler: str = "local",
    workers: int | None = None,
    suffix: str = OUTPUT_SUFFIX,
    analysis: AnalysisOptions | None = None,
    run: RunOptions | None = None,
    progress: bool = True,
    analyzer_options: dict | None = None,
    **process_options,
) -> dict:
    """Process every input on a dask cluster, one task per file.

    Parameters
    ----------
    inputs : iterable of str
        Paths or quoted glob patterns (:func:`expand_inputs`).
    output_dir : str
        Outputs go here as ``<input name><suffix>`` (created if missing).
    scheduler : str
        ``"local"`` (a LocalCluster of ``workers`` single-threaded processes) or a scheduler address
        such as ``"tcp://10.0.0.5:8786"``.
    workers : int or None
        Worker processes of a local cluster (default: one per core).
    suffix : str
        Output name suffix (default ``".simssl.gsd"``).
    analysis : AnalysisOptions, optional
        What to compute (the model as a path or name so each worker loads it itself).
    run : RunOptions, optional
        How to read and write each file.
    progress : bool
        Show a progress bar over files.
    analyzer_options : dict, optional
        AnalysisOptions fields, the same as ``analysis`` spelled as before (used only without ``analysis``).
    **process_options
        RunOptions fields as keywords, the same as ``run`` spelled as before (used only without ``run``).

    Returns
    -------
    dict
        ``{input: ProcessResult or SimsslError}`` in input order.

    Raises
    ------
    SimsslError
        If dask is missing, ``workers`` is below 1 or given with a scheduler address, inputs are
        missing or repeated, two inputs would write the same output, or the scheduler cannot be reached.
    """
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SimsslError("distributed processing needs dask: pip install 'dask[distributed]'") from None
    from tqdm.auto import tqdm

    if workers is not None and workers < 1:
        raise SimsslError(f"--workers must be a positive number of processes, got {workers}")
    if workers is not None and scheduler != "local":
        raise SimsslError(
            f"--workers (workers=) sizes a local cluster; the scheduler at {scheduler} has its own workers: "
            "leave it out"
        )
    sources = expand_inputs(inputs)
    outputs = {source: output_path(source, output_dir, suffix) for source in sources}
    claimed = {}
    for source, output in outputs.items():  # refused before any task runs: two workers never get one output
        if output in claimed:
            raise SimsslError(
                f"{output}: {claimed[output]} and {source} would both write it; "
                "process them into separate directories (or rename one)"
            )
        claimed[output] = source
    if (analysis is not None and analyzer_options) or (run is not None and process_options):
        raise TypeError("give analysis= or analyzer_options=, and run= or process options as keywords, not both")
    analysis = analysis or AnalysisOptions(**(analyzer_options or {}))
    run = run or RunOptions(**process_options)
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count(), threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        try:
            cluster, client = None, Client(scheduler)
        except OSError as error:  # dask's timeout names no file: say what could not be reached
            raise SimsslError(f"cannot reach the dask scheduler at {scheduler}: {error}") from None
    os.makedirs(output_dir, exist_ok=True)  # only once a cluster will write into it
    results = {}
    try:
        futures = {
            client.submit(_process_file, source, outputs[source], analysis, run, pure=False): source
            for source in sources
        }
        for future in tqdm(as_completed(futures), total=len(futures), unit="file", disable=not progress):
            source = futures[future]
            try:
                results[source] = future.result()
            except SimsslError as error:
                results[source] = error
            except Exception as error:  # a bug on one file must not lose the others: report it as that file's error
                results[source] = SimsslError(f"{source}: failed unexpectedly ({type(error).__name__}: {error})")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return {source: results[source] for source in sources}
