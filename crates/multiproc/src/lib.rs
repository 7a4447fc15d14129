//! Python's multiprocessing for Rust: processes with typed arguments and results, shared
//! memory, locks, pipes, queues and a crash-proof pool.
//!
//! This crate is a facade: it re-exports the `multiproc-*` crates as modules.
#![forbid(unsafe_code)]

#[cfg(feature = "channel")]
#[doc(inline)]
pub use multiproc_channel as channel;
#[cfg(feature = "pool")]
#[doc(inline)]
pub use multiproc_pool as pool;
#[cfg(feature = "process")]
#[doc(inline)]
pub use multiproc_process as process;
#[cfg(feature = "shared")]
#[doc(inline)]
pub use multiproc_shared as shared;
