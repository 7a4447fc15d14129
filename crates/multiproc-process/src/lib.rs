//! Run Rust functions in child processes with typed arguments and results: fork, spawn and forkserver.
