//! A user of the multiproc facade alone: see `tests/`.
