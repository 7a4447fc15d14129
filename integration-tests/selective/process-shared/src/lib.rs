//! A user of multiproc-process and multiproc-shared, without channels or the pool: see `tests/`.
