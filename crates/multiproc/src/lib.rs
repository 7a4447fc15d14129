//! Python's multiprocessing for Rust: processes with typed arguments and results, shared
//! memory, locks, pipes, queues and a crash-proof pool.
//!
//! This crate is a facade: it re-exports the `multiproc-*` crates as modules.
#![forbid(unsafe_code)]

mod error;
pub use self::error::Error;

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

#[cfg(feature = "process")]
#[doc(no_inline)]
pub use multiproc_process::{
    Context, Process, StartMethod, active_children, cpu_count, current_process,
    get_all_start_methods, get_context, get_start_method, log_to_stderr, parent_process,
    physical_cpu_count, process_cpu_count, set_start_method,
};

#[cfg(feature = "shared")]
#[doc(no_inline)]
pub use multiproc_shared::{
    Array, Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, RawArray, RawValue, Semaphore,
    SharedMemory, Value,
};

#[cfg(feature = "channel")]
#[doc(no_inline)]
pub use multiproc_channel::{Connection, JoinableQueue, Pipe, Queue, SimpleQueue, wait};

#[cfg(feature = "pool")]
#[doc(no_inline)]
pub use multiproc_pool::{AsyncResult, Pool};

/// The Python-named items, for `use multiproc::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "channel")]
    #[doc(no_inline)]
    pub use multiproc_channel::{Connection, JoinableQueue, Pipe, Queue, SimpleQueue};
    #[cfg(feature = "pool")]
    #[doc(no_inline)]
    pub use multiproc_pool::{AsyncResult, Pool};
    #[cfg(feature = "process")]
    #[doc(no_inline)]
    pub use multiproc_process::{
        Process, StartMethod, cpu_count, current_process, get_context, process_cpu_count,
    };
    #[cfg(feature = "shared")]
    #[doc(no_inline)]
    pub use multiproc_shared::{
        Array, Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, RawArray, RawValue,
        Semaphore, SharedMemory, Value,
    };
}
