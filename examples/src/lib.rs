//! Examples for multiproc: see the `examples/` folder.
