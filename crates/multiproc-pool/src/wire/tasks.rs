//! The task direction: the pool sends batches of chunks to each worker, through the worker's
//! task ring when they fit, through its task channel otherwise, in one order.
//!
//! A worker waiting for work sleeps on its ring (a futex in shared memory) rather than on its
//! channel (a socket): a `put` that finds it asleep wakes it with one `futex` call, and a
//! `put` while it is busy costs no system call at all. On one CPU, where every hand-over is
//! a context switch, a futex wake costs less than a socket's (C on the 2-core VM, two
//! processes pinned to one CPU: a round trip of a 46-byte `SOCK_SEQPACKET` task and a futex
//! result 6.5-6.7 µs, a futex both ways 4.8 µs, a pipe ping-pong 5.0 µs).
//!
//! A batch too large for the ring, or sent while the ring is full, goes through the
//! channel. Order matters (the worker claims chunks by sequence number, see [`Claims`]), so
//! the two paths are kept in one order by a pair of counters in shared memory: the messages
//! the pool sent through the channel, and those the worker took from it. The pool uses the
//! ring only while the worker has taken every channel message; the worker reads the channel
//! only once the ring is empty, checked *after* it saw the count rise (so everything the
//! pool put in the ring before that channel message comes out of the ring first). Before it
//! sends a channel message, the pool raises the count and puts a [`ToWorker::Wake`] in the
//! ring, so that a worker asleep on the ring goes to read the channel: a message larger than
//! the socket's buffer is only sent as it is read.
//!
//! A worker asleep on an empty ring also looks at the count every [`CHANNEL_CHECK`], which
//! bounds the wait for a wake-up the pool could not deliver without blocking (see
//! [`TaskSender::wake`]). When the pool's end is dropped, it puts [`ToWorker::Exit`] in the
//! ring if there is room. The pool never waits on the ring for long: the worker holds its
//! lock too, and may be hostile. A pool process that dies outright takes its workers with it
//! (`PR_SET_PDEATHSIG`, see `multiproc_process`).

use std::time::Duration;

use ipc_channel::ipc::{self, IpcReceiver, IpcSender};
use multiproc_channel::{Queue, QueueError};
use multiproc_shared::RawValue;
use serde::{Deserialize, Serialize};

use super::{Claims, ToWorker, WireChunk};

/// The size of each worker's task ring: twice what the pool keeps in flight per worker
/// (`scheduler::dispatch::IN_FLIGHT_BYTES`), so that it is full only when the worker lags.
pub(crate) const TASK_RING_BYTES: usize = 160 * 1024;
/// A batch whose message is longer than this goes through the channel.
pub(crate) const TASK_RING_MESSAGE_MAX: usize = 80 * 1024;
/// How long a wake-up waits for the ring's lock before it looks again whether the ring is
/// empty (it need not be woken otherwise), and how many times it tries.
const WAKE_LOCK_WAIT: Duration = Duration::from_millis(1);
const WAKE_TRIES: u32 = 20;
/// How long a worker sleeps on its empty ring before it looks at the channel count anyway:
/// the bound on a wake-up that could not be delivered (see [`TaskSender::wake`]).
const CHANNEL_CHECK: Duration = Duration::from_secs(1);

/// The channel counts, in one shared word: messages the pool sent through the channel in the
/// high half, messages the worker took from it in the low half (both wrapping).
#[derive(Clone, Serialize, Deserialize)]
struct ChannelCounts(RawValue<u64>);

impl ChannelCounts {
    const TAKEN: u64 = 1;
    const SENT: u64 = 1 << 32;

    /// Whether the worker has taken every message the pool sent through the channel.
    fn drained(&self) -> bool {
        let word = self.0.load();
        word >> 32 == word & 0xFFFF_FFFF
    }
}

/// The pool's end of a worker's task path, with the worker's [`Claims`].
pub(crate) struct TaskSender {
    channel: IpcSender<ToWorker>,
    ring: Queue<()>,
    counts: ChannelCounts,
    pub(crate) claims: Claims,
}

/// The worker's end of its task path; it travels to the worker as a process argument.
#[derive(Serialize, Deserialize)]
pub(crate) struct TaskReceiver {
    channel: IpcReceiver<ToWorker>,
    ring: Queue<()>,
    counts: ChannelCounts,
    pub(crate) claims: Claims,
}

/// A new task path: a channel, a ring, the counts and the claim word.
pub(crate) fn task_channel() -> std::io::Result<(TaskSender, TaskReceiver)> {
    let (tx, rx) = ipc::channel::<ToWorker>()?;
    let ring = Queue::with_capacity(None, TASK_RING_BYTES).map_err(std::io::Error::other)?;
    let counts = ChannelCounts(RawValue::new(0_u64).map_err(std::io::Error::other)?);
    let claims = Claims::new()?;
    let receiver = TaskReceiver {
        channel: rx,
        ring: ring.clone(),
        counts: counts.clone(),
        claims: claims.handle(),
    };
    Ok((
        TaskSender {
            channel: tx,
            ring,
            counts,
            claims,
        },
        receiver,
    ))
}

impl std::fmt::Debug for TaskSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskSender").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for TaskReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskReceiver").finish_non_exhaustive()
    }
}

impl TaskSender {
    /// Sends a batch of chunks, to be run in order (each one only if the worker can still
    /// claim it, see [`Claims`]).
    pub(crate) fn run(&self, chunks: Vec<WireChunk>) -> Result<(), ipc_channel::IpcError> {
        self.send(ToWorker::Run(chunks))
    }

    /// Asks the worker to leave once it is done with what it has.
    pub(crate) fn exit(&self) -> Result<(), ipc_channel::IpcError> {
        self.send(ToWorker::Exit)
    }

    /// Sends `message` through the ring if the worker has taken every channel message and
    /// it fits now, else through the channel (counted, and the worker woken through the
    /// ring, first).
    ///
    /// Called by one thread at a time (the dispatcher holds the pool's state), which keeps
    /// the decision and the send together.
    fn send(&self, message: ToWorker) -> Result<(), ipc_channel::IpcError> {
        if self.counts.drained()
            && let Ok(encoded) = postcard::to_stdvec(&message)
            && encoded.len() <= TASK_RING_MESSAGE_MAX
        {
            match self.ring.put_bytes_timeout(&encoded, Duration::ZERO) {
                Ok(()) => return Ok(()),
                // Full (or its lock busy): the channel takes it.
                Err(QueueError::Full) => {}
                // Closed or corrupt: a worker that scribbled over its own ring. The channel
                // still works, and tells when the worker is gone.
                Err(err) => log::debug!("a pool worker's task ring failed: {err}"),
            }
        }
        // Counted and announced before it is sent: a message larger than the socket's
        // buffer is sent only as the worker reads it, so a worker asleep on its ring must
        // already be on its way to the channel.
        self.counts.0.fetch_add(ChannelCounts::SENT);
        self.wake();
        self.channel.send(message)
    }

    /// Makes sure a worker asleep on its ring wakes to read the channel: puts a
    /// [`ToWorker::Wake`] there, unless the ring is not empty (the worker will come back to
    /// it without sleeping) or no longer usable.
    fn wake(&self) {
        // A worker that finds the ring not empty takes an item without sleeping, and then
        // sees the count this message raised.
        if !self.ring.is_empty() {
            return;
        }
        // Sends happen with the pool's core lock held, so this never waits long: a worker
        // that keeps its ring's lock for the whole of it (stopped, or off its CPU, inside
        // its own `get`) finds the message when it next looks at the count, within
        // [`CHANNEL_CHECK`]. A full ring (filled meanwhile) needs no wake-up either.
        self.put_briefly(&ToWorker::Wake, || self.ring.is_empty());
    }

    /// Puts `message` in the ring, waiting at most [`WAKE_TRIES`] × [`WAKE_LOCK_WAIT`] for
    /// its lock or for room, and trying again after each wait only while `retry` says so.
    /// Gives up at once on a closed or corrupt ring.
    fn put_briefly(&self, message: &ToWorker, retry: impl Fn() -> bool) {
        let Ok(encoded) = postcard::to_stdvec(message) else {
            return;
        };
        for _ in 0..WAKE_TRIES {
            match self.ring.put_bytes_timeout(&encoded, WAKE_LOCK_WAIT) {
                Err(QueueError::Full) if retry() => {}
                _ => return,
            }
        }
    }
}

impl Drop for TaskSender {
    fn drop(&mut self) {
        // Every way a pool ends tells its workers to leave or kills them; this is for a
        // sender dropped otherwise. A worker asleep on the ring wakes and leaves. Bounded as
        // in `wake`: the worker shares the ring's lock, and a hostile one may never let go
        // of it (closing the ring would wait for it for ever).
        self.put_briefly(&ToWorker::Exit, || true);
    }
}

impl TaskReceiver {
    /// The next batch of chunks; `None` when the worker is to leave (told so, or the pool
    /// is gone, or the pool's message did not decode).
    pub(crate) fn next_batch(&self) -> Option<Vec<WireChunk>> {
        loop {
            let message = if !self.counts.drained() && self.ring.is_empty() {
                // Everything put in the ring before the pool sent this channel message has
                // been taken: the channel's turn.
                let received = self.channel.recv();
                self.counts.0.fetch_add(ChannelCounts::TAKEN);
                match received {
                    Ok(message) => message,
                    Err(e) => {
                        if !matches!(e, ipc_channel::IpcError::Disconnected) {
                            log::error!("a pool worker could not read its tasks: {e}");
                        }
                        return None;
                    }
                }
            } else {
                match self.ring.get_bytes_timeout(CHANNEL_CHECK) {
                    Ok(bytes) => match postcard::from_bytes::<ToWorker>(&bytes) {
                        Ok(message) => message,
                        Err(e) => {
                            log::error!("a pool worker could not decode its tasks: {e}");
                            return None;
                        }
                    },
                    // Nothing for a while: look at the count again.
                    Err(QueueError::Empty) => continue,
                    // Closed and drained: the pool is gone, unless a channel message waits.
                    Err(QueueError::Closed) if !self.counts.drained() => continue,
                    Err(QueueError::Closed) => return None,
                    Err(e) => {
                        log::error!("a pool worker could not read its task ring: {e}");
                        return None;
                    }
                }
            };
            match message {
                ToWorker::Run(batch) => return Some(batch),
                ToWorker::Exit => return None,
                ToWorker::Wake => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use multiproc_process::FunctionRef;

    use super::*;
    use crate::wire::Bytes;

    fn idle() {}

    /// A batch of one chunk whose sequence number is `seq` and whose input is `size` bytes.
    fn batch(seq: u64, size: usize) -> Vec<WireChunk> {
        vec![WireChunk {
            id: seq,
            seq,
            func: FunctionRef::new::<_, ()>(idle),
            input: Bytes(vec![seq as u8; size]),
        }]
    }

    /// Receives batches on another thread until the receiver says to leave, failing the
    /// test if that takes longer than a minute; returns their sequence numbers and sizes.
    fn drain(receiver: TaskReceiver, leave: impl FnOnce()) -> Vec<(u64, usize)> {
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while let Some(batch) = receiver.next_batch() {
                seen.extend(batch.iter().map(|chunk| (chunk.seq, chunk.input.0.len())));
            }
            let _ = done.send(seen);
        });
        leave();
        finished
            .recv_timeout(Duration::from_secs(60))
            .expect("the worker side did not finish within a minute (a lost wake-up?)")
    }

    /// Batches that fit the ring and batches that do not (through the channel) arrive in
    /// the order they were sent, whether the worker side is asleep or busy meanwhile.
    #[test]
    fn ring_and_channel_batches_arrive_in_order() {
        let (sender, receiver) = task_channel().unwrap();
        let sizes: Vec<usize> = (0..300)
            .map(|i| match i % 7 {
                0 => TASK_RING_MESSAGE_MAX + 1,
                3 => 20_000,
                _ => 10,
            })
            .collect();
        let expected: Vec<(u64, usize)> = sizes
            .iter()
            .copied()
            .zip(0..)
            .map(|(s, i)| (i, s))
            .collect();
        let seen = drain(receiver, || {
            for (seq, &size) in sizes.iter().enumerate() {
                sender.run(batch(seq as u64, size)).unwrap();
            }
            sender.exit().unwrap();
        });
        assert_eq!(seen, expected);
    }

    /// A full ring sends the rest through the channel, and the order still holds.
    #[test]
    fn a_full_ring_overflows_into_the_channel_in_order() {
        let (sender, receiver) = task_channel().unwrap();
        // Nobody reads until all are sent: about 16 of these fill the ring, and the 8 or so
        // after them stay well inside the channel's socket buffer (a send never blocks).
        let count = 24;
        for seq in 0..count {
            sender.run(batch(seq, 10_000)).unwrap();
        }
        assert!(
            !sender.counts.drained(),
            "some batches should have gone through the channel"
        );
        sender.exit().unwrap();
        let seen = drain(receiver, || {});
        let expected: Vec<(u64, usize)> = (0..count).map(|seq| (seq, 10_000)).collect();
        assert_eq!(seen, expected);
    }

    /// A worker asleep on its empty ring wakes for a batch that goes through the channel,
    /// and leaves when the pool's end is dropped.
    #[test]
    fn a_sleeping_worker_wakes_for_the_channel_and_leaves_when_the_pool_goes() {
        let (sender, receiver) = task_channel().unwrap();
        let (got, batches) = mpsc::channel();
        let worker = std::thread::spawn(move || {
            while let Some(batch) = receiver.next_batch() {
                let _ = got.send(batch[0].seq);
            }
        });
        let wait = Duration::from_secs(60);
        sender.run(batch(0, 10)).unwrap();
        assert_eq!(batches.recv_timeout(wait).expect("the ring batch"), 0);
        // The worker is now (or soon) asleep on the ring; this one takes the channel.
        sender.run(batch(1, TASK_RING_MESSAGE_MAX * 2)).unwrap();
        assert_eq!(
            batches
                .recv_timeout(wait)
                .expect("woken for the channel batch"),
            1
        );
        sender.run(batch(2, 10)).unwrap();
        assert_eq!(batches.recv_timeout(wait).expect("the ring batch after"), 2);
        // Larger than the socket's buffer: sent only as the worker reads it, so the worker
        // must be woken before the send, which runs on its own thread here so that a
        // worker that never comes fails the test instead of hanging it.
        let sending = std::thread::spawn(move || {
            sender.run(batch(3, 4 << 20)).unwrap();
            sender
        });
        assert_eq!(
            batches
                .recv_timeout(wait)
                .expect("a batch larger than the socket's buffer never arrived"),
            3
        );
        let sender = sending.join().unwrap();
        drop(sender);
        let (left, gone) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = left.send(worker.join().is_ok());
        });
        assert!(
            gone.recv_timeout(wait)
                .expect("the worker did not leave once the pool's end was dropped"),
            "the worker panicked"
        );
    }
}
