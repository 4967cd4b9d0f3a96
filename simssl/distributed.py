"""Distributed processing, a backend of :func:`simssl.process`: many trajectories on dask.distributed, a task per file.

Each task runs exactly the single-process :func:`simssl.process` on its worker, so every output is
what ``simssl process`` alone would write. Workers build their analyzers (and load the model) once
and reuse them for every file they get; a failing input is reported without losing the others.
A ``LocalCluster`` of single-threaded worker processes is started unless a scheduler address is given.
"""

from __future__ import annotations

import functools
import glob
import os

from .defaults import OUTPUT_SUFFIX
from .errors import SimsslError
from .processor import AnalysisOptions, RunOptions


def expand_inputs(patterns) -> list[str]:
    """Input paths (list of str), with quoted glob patterns (``'runs/*.gsd'``) expanded in sorted order.

    Parameters
    ----------
    patterns : iterable of str
        Paths or glob patterns; a pattern matching nothing, or a path given twice, is an error.
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
    """Where the output of ``source`` goes: ``DIRECTORY/<name without extension><suffix>``."""
    return os.path.join(directory, os.path.splitext(os.path.basename(source))[0] + suffix)


@functools.lru_cache(maxsize=4)
def _worker_analyzers(options: AnalysisOptions):
    """Analyzers for these options, built (model loaded) once per worker process."""
    import freud

    from .processor import build_analyzers

    freud.parallel.set_num_threads(1)  # one thread per worker: the cluster provides the parallelism
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
    """Process every input on a dask cluster; returns ``{input: ProcessResult or SimsslError}``.

    ``scheduler``: ``"local"`` (a LocalCluster of ``workers`` single-threaded processes, default one
    per core) or a scheduler address such as ``"tcp://10.0.0.5:8786"``. ``analysis``: what to compute
    (:class:`~simssl.processor.AnalysisOptions`, the model as a path or name so each worker loads it
    itself); ``run``: how to read and write each file (:class:`~simssl.processor.RunOptions`).
    ``analyzer_options`` (a dict of AnalysisOptions fields) and ``process_options`` (RunOptions fields
    as keywords) are the same, spelled as before. Outputs go to ``output_dir`` as ``<input name><suffix>``.
    """
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SimsslError("distributed processing needs dask: pip install 'dask[distributed]'") from None
    from tqdm.auto import tqdm

    if workers is not None and workers < 1:
        raise SimsslError(f"--workers must be a positive number of processes, got {workers}")
    sources = expand_inputs(inputs)
    os.makedirs(output_dir, exist_ok=True)
    outputs = {source: output_path(source, output_dir, suffix) for source in sources}
    if len(set(outputs.values())) != len(outputs):
        raise SimsslError(
            "two inputs have the same name and would write the same output; process them into separate directories"
        )
    analysis = analysis or AnalysisOptions(**(analyzer_options or {}))
    run = run or RunOptions(**process_options)
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count(), threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        cluster, client = None, Client(scheduler)
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
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return {source: results[source] for source in sources}
