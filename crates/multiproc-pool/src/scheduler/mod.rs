//! The parent side of a pool: the task queue, the workers and what each one is running, and
//! the result thread that reads every worker's results, notices deaths and timeouts, replaces
//! workers and hands out work.
//!
//! Invariants that keep the pool from deadlocking:
//!
//! * Sends to a worker never block for long. A batch goes into the worker's task ring
//!   without waiting for room or for long on its lock (see [`crate::wire`]'s `tasks`), or
//!   else through its task channel, an ipc-channel socket whose sends block once about 208
//!   KiB are unread; so the pool keeps at most
//!   [`IN_FLIGHT_BYTES`](dispatch::IN_FLIGHT_BYTES) of arguments unread per worker (a larger
//!   chunk is sent only to a worker with nothing else in flight, which is reading). Sends
//!   can therefore happen with the core lock held.
//! * The result thread only ever blocks in `select` (on the workers' result channels and a
//!   wake-up channel), on the core lock (never held across a blocking call), and while it
//!   joins a worker that already ended or starts a replacement. It reads the workers' result
//!   rings without waiting (their items are smaller than the ring, so they never stream), and
//!   before it sleeps it raises `asleep` and reads them once more (see
//!   [`ResultSink`](crate::wire::ResultSink)). Workers whose results are large are always
//!   being read.
//! * A thread blocked in `AsyncResult::get` for a lone task books results too
//!   ([`Shared::book_ready`](state::Shared::book_ready), the result thread's ring drain
//!   without burials): while one waits, a worker that writes a result futex-wakes it through
//!   [`GetWake`](crate::get_wake::GetWake) instead of waking the result thread, and a thread
//!   that stops waiting books once more if the result thread sleeps. It takes the core lock
//!   like the result thread, so every invariant here holds whichever thread books.
//! * A worker's ring is drained before the worker is buried, so a result it wrote is
//!   delivered and only the chunk it was really running is failed (or, for a chunk of
//!   several tasks, its tasks whose results were not sent yet run again one by one). Results
//!   of a running chunk's first tasks arrive as `Partial` messages; a worker's ring is also
//!   drained before any message from its channel is booked, so a chunk's results are booked
//!   in the order the worker sent them (the worker sends the rest of a chunk by the channel
//!   once it has used the channel for it).
//! * Every chunk is, at any moment, in exactly one place: the pending queue, one worker's
//!   `in_flight` list (in the order the worker runs them), or delivered. A chunk sent to a
//!   worker runs there only if the worker claims it first; the pool may take back the ones
//!   it has not claimed (`steal`, through `wire::Claims`), and they are queued again. Their
//!   bytes count against the worker's task channel until it has read past them. A chunk that a panic
//!   unwinds past is kept aside and failed (`chunk::take_orphans`).
//! * What a worker sends is hostile input (see [`crate::wire`]): an answer is believed only
//!   for a chunk in flight on that very worker. A worker whose ring or messages are corrupt
//!   is marked so, killed, taken out of its slot and buried at once: its in-flight chunks
//!   fail with `PoolError::CorruptResults`, and a new worker takes its place.
//! * The result thread runs under a panic guard: if it ever stopped, the pool is marked
//!   broken, every queued and in-flight chunk fails with `PoolError::PoolBroken`, and
//!   submissions are refused with it.

mod book_ready;
mod booking;
mod broken;
mod dispatch;
mod ending;
mod launch;
mod lifecycle;
mod result_set;
mod result_thread;
mod start;
mod state;
mod steal;
mod withdraw;

pub(crate) use self::launch::launch;
pub use self::result_set::DEFAULT_MAX_RESULT_SIZE;
pub(crate) use self::state::{MakeWorker, RunState, Shared, WorkerSpec};
pub(crate) use self::withdraw::Withdraw;
