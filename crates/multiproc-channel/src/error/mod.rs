//! The crate's errors, one enum per type family: [`PipeError`] for pipes and connections,
//! [`QueueError`] for the queues, [`ListenerError`] for listeners and clients, and the
//! [`SendError`] wrapper that gives a rejected payload back.
//!
//! Each enum holds only what can happen to its family, so a `match` names real cases.
//! `Display` is lowercase without a trailing period, so it composes into longer messages.

mod listener;
mod pipe;
mod queue;
mod send;

pub use self::listener::ListenerError;
pub use self::pipe::PipeError;
pub use self::queue::QueueError;
pub use self::send::SendError;
