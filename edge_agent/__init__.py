"""SODAV Monitor edge agent."""

import os

# The agent does no linear algebra worth a thread pool: without this, numpy's OpenBLAS starts
# one thread per core at import, which wake and spin on the small dot products of the level
# meter (measured: 2-3 % of the agent's CPU) and hold memory. Set before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
