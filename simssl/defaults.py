"""Every default that more than one module needs, defined once (import these; never repeat the literals)."""

#: Steinhardt degrees l computed when none are asked for
STEINHARDT_DEGREES: tuple[int, ...] = (4, 6)
#: nearest neighbors of a Steinhardt computation: FCC's first shell
STEINHARDT_NEIGHBORS = 12
#: nearest neighbors of an encoder's neighborhood (``EncoderConfig.k``) and of live analysis
ENCODER_NEIGHBORS = 16
#: suffix of neighbor-averaged quantities (``q6_avg``, ``embedding_avg``)
AVERAGE_SUFFIX = "_avg"
#: GSD log prefix of every quantity simssl writes: ``particles/simssl/<name>``
LOG_PREFIX = "particles/simssl/"
#: output name of ``INPUT`` in distributed runs: ``OUTPUT_DIR/<name><OUTPUT_SUFFIX>``
OUTPUT_SUFFIX = ".simssl.gsd"
#: frames at least this large are embedded with ``torch.compile`` on the CPU when ``compile`` is None:
#: compilation costs ~10-20 s once (then cached on disk) and makes the encoder ~7x faster.
COMPILE_MIN_PARTICLES = 20_000
#: trajectory formats the readers know (``--format`` choices)
INPUT_FORMATS: tuple[str, ...] = ("gsd", "lammpsdump", "xyz")
#: how ``simssl compare`` groups cross-validation folds (``--folds-by``)
GROUPINGS: tuple[str, ...] = ("auto", "frame", "block", "particle")
