//! A user of multiproc-pool alone, naming every type its signatures use: see `tests/`.
