"""Every default that more than one module needs, defined once (import these; never repeat the literals)."""

#: Steinhardt degrees l computed when none are asked for
STEINHARDT_DEGREES: tuple[int, ...] = (4, 6)
#: nearest neighbors of a Steinhardt computation: FCC's first shell
STEINHARDT_NEIGHBORS = 12
#: nearest neighbors of a k-nearest encoder's neighborhood (``EncoderConfig.k``, checkpoints before cutoffs)
ENCODER_NEIGHBORS = 16
#: an encoder's neighborhood radius (``EncoderConfig.cutoff``) in units of ``neighbors.shell_scale`` (the
#: median mean distance to the 12 nearest): FCC's and HCP's first two shells (12 + 6), BCC's (8 + 6),
#: and for looser structures (simple cubic, diamond, molecular crystals) their first ~20-26 neighbors
ENCODER_CUTOFF = 1.5
#: neighbors whose mean distance (median over particles) is the length unit of cutoff neighborhoods
SCALE_NEIGHBORS = 12
#: width of the envelope's smooth fall to zero at the cutoff (``EncoderConfig.taper``)
ENCODER_TAPER = 0.3
#: cap on neighbors within an encoder's cutoff (``EncoderConfig.max_neighbors``)
ENCODER_MAX_NEIGHBORS = 64
#: outer radii of the smooth windows of the shell spectra (``EncoderConfig.shells``, :mod:`simssl.shells`), in
#: ``shell_scale`` units: FCC's first shell (12), first two (18) and first three (42) neighbors
SHELL_RADII: tuple[float, ...] = (1.2, 1.5, 1.9)
#: spherical-harmonic degrees of the shell spectra (l <= 2 carries no orientation in cubic environments)
SHELL_DEGREES: tuple[int, ...] = (2, 3, 4, 6, 8, 10, 12)
#: width of each shell window's smooth fall to zero
SHELL_TAPER = 0.3
#: cap on neighbors within the widest shell window (reached only in very dense packings)
SHELL_MAX_NEIGHBORS = 128
#: suffix of neighbor-averaged quantities (``q6_avg``, ``embedding_avg``)
AVERAGE_SUFFIX = "_avg"
#: GSD log prefix of every quantity simssl writes: ``particles/simssl/<name>``
LOG_PREFIX = "particles/simssl/"
#: output name of ``INPUT`` in distributed runs: ``OUTPUT_DIR/<name><OUTPUT_SUFFIX>``
OUTPUT_SUFFIX = ".simssl.gsd"
#: trajectory formats the readers know (``--format`` choices)
INPUT_FORMATS: tuple[str, ...] = ("gsd", "lammpsdump", "xyz")
#: how ``simssl compare`` groups cross-validation folds (``--folds-by``)
GROUPINGS: tuple[str, ...] = ("auto", "frame", "block", "particle")
#: Lechner-Dellago ``q6_avg`` (12 nearest) above which ``simssl plot`` counts a particle as ordered. Raw ``q6``
#: has no default threshold: its liquid and crystal values overlap (an LJ liquid is half above 0.35)
Q6_AVG_THRESHOLD = 0.35
#: most k-means clusters ``simssl plot --clusters`` draws (each cluster needs a color that can be told apart)
PLOT_MAX_CLUSTERS = 10
