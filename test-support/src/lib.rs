//! The test helpers shared by the workspace's tests: forked children that are always reaped,
//! a pipe for ordering steps between a parent and its forked child, a reproducible source of
//! random input, a watchdog that fails a hung test instead of hanging it, looks at the process
//! table, waits for processes to end, counts of this process's descriptors, mappings and
//! resident memory, the library's threads (named `multiproc-*`, see
//! [`LIBRARY_THREAD_PREFIX`]), a [`Census`] of what a test could leak, a hostile peer's
//! tools (this process's own sockets, forged ipc-channel records written on them, postcard
//! lengths that claim too much), a process that escapes its session, and the signal
//! dispositions of the helper programs that tests interrupt.
//!
//! Linux only: it reads `/proc` and waits on pidfds. Not published. Its system calls go through
//! `multiproc-sys`, the one multiproc crate it depends on (the others take this crate as a
//! dev-dependency, and a cycle would put two copies of a crate into that crate's test builds),
//! and, for the hostile peer's raw socket calls that the library has no use for, rustix.

#![deny(unsafe_code)]

mod census;
mod counts;
mod dispositions;
mod escaped;
mod forged_record;
mod forked_child;
mod own_sockets;
mod postcard_length;
mod process_table;
mod rng;
mod step_signal;
mod threads;
mod waiting;
mod watchdog;

pub use self::census::{Census, settle};
pub use self::counts::{fd_count, mappings, rss_kib};
pub use self::dispositions::default_interrupt_dispositions;
pub use self::escaped::start_escaped_sleeper;
pub use self::forged_record::{RECORD_HEADER, forge_huge_record_to, raw_record};
pub use self::forked_child::{Child, fork, wait_all_ok};
pub use self::own_sockets::{seqpacket_sockets_to, sockets, with_new_sockets};
pub use self::postcard_length::postcard_varint;
pub use self::process_table::{
    child_pids, descendants, exists, kill, process_table, send_signal, send_signal_to_group,
    stat_of, zombie_children,
};
pub use self::rng::Rng;
pub use self::step_signal::Signal;
pub use self::threads::{LIBRARY_THREAD_PREFIX, library_threads};
pub use self::waiting::{gone, wait_gone};
pub use self::watchdog::watchdog;
