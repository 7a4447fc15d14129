//! `multiproc-channel`: `Queue` and `Pipe` throughput, and round-trip latency.

use crate::measure::{Outcome, Params};

/// A fork-started child `put`s `0..n` (`u64`) into a `Queue`; the parent `get`s them all.
/// A sample runs from the child's start to its join.
pub(crate) fn queue_small_items(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::channel::Queue::{new, put, get} and multiproc::process (fork)")
}

/// As [`queue_small_items`] with `n` items of 1 MiB (`Vec<u8>`).
pub(crate) fn queue_1mib_items(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::channel::Queue::{new, put, get} and multiproc::process (fork)")
}

/// A fork-started child `send`s `0..n` (`u64`) on a one-way `Pipe`; the parent `recv`s.
pub(crate) fn pipe_small_messages(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::channel::Pipe::{new, send, recv} and multiproc::process (fork)")
}

/// A fork-started child `send_bytes` `n` messages of 1 MiB; the parent `recv_bytes`.
pub(crate) fn pipe_1mib_messages(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::channel::Pipe::{send_bytes, recv_bytes} and multiproc::process")
}

/// Round trips of a `u64` over a duplex `Pipe` with a fork-started echo child; a sample
/// times `n` round trips after a warm-up of 100.
pub(crate) fn round_trip(_params: &Params) -> Outcome {
    Outcome::pending("multiproc::channel::Pipe::duplex and multiproc::process (fork)")
}
