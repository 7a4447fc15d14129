//! A user of multiproc-shared alone, with its own fork: see `tests/`.
