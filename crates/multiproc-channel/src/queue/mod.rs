//! `Queue`, `SimpleQueue` and `JoinableQueue`: typed views of a shared
//! [`Ring`](crate::ring::Ring), and the codec that turns their items into ring bytes.

mod codec;
mod joinable;
// The file a reader looks for `Queue` in.
#[allow(clippy::module_inception)]
mod queue;
mod simple;

use std::time::{Duration, Instant};

pub use self::joinable::JoinableQueue;
pub use self::queue::Queue;
pub use self::simple::SimpleQueue;

fn deadline_after(timeout: Duration) -> Option<Instant> {
    // A timeout too large to represent means "forever".
    Instant::now().checked_add(timeout)
}
