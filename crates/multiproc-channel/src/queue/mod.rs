//! `Queue`, `SimpleQueue` and `JoinableQueue`: typed views of a shared
//! [`Ring`](crate::ring::Ring), and the codec that turns their items into ring bytes.

mod codec;
mod joinable;
// The file a reader looks for `Queue` in.
#[allow(clippy::module_inception)]
mod queue;
mod simple;

pub use self::joinable::JoinableQueue;
pub use self::queue::Queue;
pub use self::simple::SimpleQueue;
