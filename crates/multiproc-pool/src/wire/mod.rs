//! The wire protocol between the pool (the parent) and its workers: every message type, and
//! the encoding and decoding of both directions, so that the two sides cannot drift apart.
//!
//! * **Tasks, pool → worker** ([`tasks`]): [`ToWorker`] messages, each a batch of
//!   [`WireChunk`]s (or the order to leave), as postcard in the worker's shared-memory task
//!   ring, or through its task channel when a batch is too large or the ring is full, in one
//!   order. The worker claims each chunk before running it ([`Claims`]), so that the pool can
//!   take back the ones it has not started and give them to an idle worker.
//! * **Results, worker → pool** ([`results`]): a finished chunk is a
//!   [`FromWorker::Done`], possibly preceded by [`FromWorker::Partial`]s with the results of its
//!   first tasks (sent while it runs, so that a worker's death loses little). A small one (under `RING_MESSAGE_MAX`) is postcard in the worker's
//!   own shared-memory ring; a large one, and every other message, goes through the worker's
//!   result channel.
//!
//! The pool reads the result half as hostile input: a worker is another process that may
//! have scribbled over its ring or sent anything at all. Every read gives either a message
//! or a [`Corrupt`] reason, never a panic; sizes are bounded by the ring and by
//! `RING_MESSAGE_MAX`, and a chunk id is only trusted once it is found among the chunks the
//! pool sent to that worker (see `scheduler::booking`).

mod bytes;
mod claims;
mod message;
mod results;
mod tasks;

pub(crate) use self::bytes::Bytes;
pub(crate) use self::claims::Claims;
pub(crate) use self::message::{FromWorker, ToWorker, WireChunk};
pub(crate) use self::results::{Corrupt, ResultSink, RingRead, read_ring, result_channel};
pub(crate) use self::tasks::{TaskReceiver, TaskSender, task_channel};
