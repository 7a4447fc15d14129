//! Pipes and queues between processes: Pipe, Connection, Queue, SimpleQueue, JoinableQueue and wait.
//!
//! The channel layer of `multiproc`, a rebuild of Python's `multiprocessing`:
//!
//! * [`Pipe`] and [`Connection`]: typed (serde) or raw-bytes messages between two
//!   processes on an ipc-channel socket pair; a message may carry handles (other
//!   connections, queues, shared memory), and a connection is itself an ordinary
//!   `Process` argument.
//! * [`Queue`], [`SimpleQueue`], [`JoinableQueue`]: multi-producer multi-consumer FIFO
//!   queues for any number of processes, in one shared-memory ring each: one fd per queue,
//!   an exact `qsize`, no feeder thread (so no CPython-style `join()` deadlock), and
//!   repair when a process dies inside a queue operation.
//! * [`wait`]: readiness over connections, queues and process sentinels together.
//!
//! ```
//! use multiproc_channel::{Pipe, Queue};
//!
//! let (reader, writer) = Pipe::<String>::new()?;
//! writer.send("over the pipe".to_owned())?;
//! assert_eq!(reader.recv()?, "over the pipe");
//!
//! let queue = Queue::<u64>::bounded(100)?;
//! for i in 0..10 {
//!     queue.put(i)?;
//! }
//! assert_eq!(queue.len(), 10);
//! assert_eq!((0..10).map(|_| queue.get().unwrap()).sum::<u64>(), 45);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Which crate do I need
//!
//! | You want | Depend on |
//! |---|---|
//! | all of it, with Python's names in one place | `multiproc` (the facade; its features pick the parts) |
//! | functions run in child processes: `Process`, start methods, `current_process`, `cpu_count`, `log_to_stderr` | `multiproc-process` |
//! | shared memory and cross-process locks: `Value`, `Array`, `Lock`, `RLock`, `Semaphore`, `Condition`, `Event`, `Barrier`, `SharedMemory` | `multiproc-shared` |
//! | pipes and queues between processes: `Pipe`, `Connection`, `Queue`, `JoinableQueue`, `wait`; with its `listener` feature (default) `Listener`/`Client` over sockets | `multiproc-channel` |
//! | a crash-proof process pool: `Pool`, `map`, `imap`, `apply_async`; it re-exports the process types its signatures name, so it is the only dependency a pool needs | `multiproc-pool` |
//! | the system calls underneath (futexes, pidfds, `fork`, `/proc`), for the other crates | `multiproc-sys` |
//!
//! # Feature flags
//!
//! - `listener` (on by default): [`Listener`], [`Client`] and [`SocketConnection`],
//!   Python's `multiprocessing.connection` over Unix or TCP sockets, with the `authkey`
//!   handshake (HMAC-SHA256, hence the `hmac` and `sha2` dependencies). Pipes, queues and
//!   [`wait`] do not need it; `multiproc-pool` depends on this crate without it.
//!
//! The crate builds on `ipc-channel` (no features) and `multiproc-shared`.
//!
//! # Platform support
//!
//! Linux only: queues sleep on futexes in a memfd segment (`multiproc-shared`), and the
//! pipe guards rely on ipc-channel's Unix socket backend (`SOCK_SEQPACKET`, `SCM_RIGHTS`).
//!
//! Sends on a connection whose peer is gone rely on `SIGPIPE` being ignored, which
//! Rust's runtime does before `main`.
//!
//! # Limits on what a peer can make us do
//!
//! Bytes from another process are hostile; every length is bounded:
//!
//! * **Pipes** ([`Connection`]): ipc-channel 0.23 trusts the size header of a message and
//!   reserves the size it announces, so a peer announcing 2^62 bytes would abort the
//!   process with a failed allocation. A connection therefore peeks at each record's header
//!   (`MSG_PEEK`) before ipc-channel reads it, and refuses a message above its maximum
//!   ([`Connection::with_max_message_size`], default [`DEFAULT_MAX_MESSAGE_SIZE`], 64 MiB)
//!   with [`PipeError::MessageTooLarge`], and a header that does not add up with
//!   [`PipeError::Decode`]; the record is dropped unread and the connection keeps working.
//!   Within the limit, what remains is ipc-channel's: a message announced within the limit
//!   is reserved in full before its bytes arrive (at most the maximum), and a peer that
//!   sends the first part of a large message and never the rest blocks a receive without
//!   a timeout (ipc-channel reads the rest in blocking mode). Draining a refused large
//!   message stops after 1 s without data or 10 s in all. ipc-channel offers no accessor
//!   for a receiver's descriptor; it is read from its `Debug` form, pinned to 0.23 by a test.
//! * **Sockets** ([`SocketConnection`]): frames above the maximum are refused before
//!   anything is allocated; handshake frames are at most 256 bytes; handshakes run
//!   concurrently, each within its timeout, at most [`MAX_PENDING_HANDSHAKES`] at once.
//! * **Queues**: the ring's lengths and positions are checked against the segment, and a
//!   corrupt ring poisons the queue ([`QueueError::Corrupt`]). Items are decoded by postcard,
//!   which never reserves more than the input can hold (serde caps a sequence's
//!   preallocation at 1 MiB), under the decode guard.
//!
//! # Examples
//!
//! A parent and a forked child exchange messages over a duplex pipe; with
//! `multiproc::process::Process` the connection is passed as an argument instead, under
//! any start method:
//!
//! ```no_run
//! use multiproc_channel::Pipe;
//!
//! let (parent, child) = Pipe::<String>::duplex()?;
//! // ... hand `child` to another process ...
//! parent.send("ping".to_owned())?;
//! println!("{}", parent.recv()?);
//! # drop(child);
//! # Ok::<(), multiproc_channel::PipeError>(())
//! ```
//!
//! A bounded queue between producer and consumer processes: see
//! `examples/queue_workers.rs` in the repository.
#![cfg(target_os = "linux")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]

mod connection;
mod deadline;
#[doc(hidden)]
pub mod decode;
mod direct;
mod error;
mod frame;
mod guard;
mod listener;
mod pipe;
mod pipe_end;
mod queue;
mod record;
mod ring;
mod spin;
#[allow(unsafe_code)] // the crate's one OS-layer module; its system calls go through multiproc-sys
mod sys;
mod wait;
mod wire;

pub use self::connection::Connection;
pub use self::error::{ListenerError, PipeError, QueueError, SendError};
pub use self::listener::DEFAULT_MAX_MESSAGE_SIZE;
#[cfg(feature = "listener")]
#[cfg_attr(docsrs, doc(cfg(feature = "listener")))]
pub use self::listener::{
    Address, Client, DEFAULT_HANDSHAKE_TIMEOUT, Listener, MAX_PENDING_HANDSHAKES, SocketConnection,
};
pub use self::pipe::Pipe;
pub use self::pipe_end::{PipeReader, PipeWriter};
pub use self::queue::{JoinableQueue, Queue, SimpleQueue};
pub use self::wait::{Waitable, wait};

#[doc(hidden)]
pub use self::ring::{fuzz_ring_record, fuzz_ring_stream};

/// The byte offsets of a queue ring's header words and ring area, for tests that play a
/// hostile peer scribbling on a queue's shared memory. Not a stable interface.
///
/// ```
/// use multiproc_channel::ring_layout::{HEAD, ITEMS, RING, TAIL};
/// assert!(HEAD < TAIL && TAIL < ITEMS && ITEMS < RING);
/// ```
#[doc(hidden)]
pub mod ring_layout {
    pub use crate::ring::{
        HEAD, ITEMS, RECORD_HEADER, RING, STREAM_READER, STREAM_TOTAL, STREAM_WRITER,
        STREAM_WRITTEN, TAIL,
    };
}
