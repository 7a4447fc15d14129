//! A user of multiproc-channel alone, with its own fork: see `tests/`.
