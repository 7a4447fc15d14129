//! Cross-crate tests for multiproc live in `tests/`.
