//! Chunks: the unit of work the pool ships to a worker, and where their results go.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use multiproc_process::encode::encode_into;
use multiproc_process::{CallError, FunctionRef, Portable};
use multiproc_sys::panic::catch;

use crate::error::PoolError;
use crate::wire::Bytes;

/// The positions (in the caller's input order) of the tasks of one chunk: `start..start + len`
/// minus the ones whose arguments could not be encoded (reported on their own).
#[derive(Debug, Clone, Default)]
pub(crate) struct Positions {
    pub(crate) start: usize,
    pub(crate) len: usize,
    pub(crate) skipped: Vec<usize>,
}

impl Positions {
    /// The positions that travelled with the chunk, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (self.start..self.start + self.len).filter(|p| !self.skipped.contains(p))
    }

    /// How many tasks travelled with the chunk.
    pub(crate) fn count(&self) -> usize {
        self.len - self.skipped.len()
    }

    /// Splits off the first `tasks` positions that travelled (all of them if there are
    /// fewer), with the skipped ones among them.
    pub(crate) fn split_front(&mut self, tasks: usize) -> Positions {
        let end = match self.iter().nth(tasks.saturating_sub(1)) {
            Some(last) if tasks > 0 => last + 1,
            Some(_) => self.start,
            None => self.start + self.len,
        };
        let (front, back): (Vec<usize>, Vec<usize>) = self.skipped.iter().partition(|&&p| p < end);
        let taken = Positions {
            start: self.start,
            len: end - self.start,
            skipped: front,
        };
        self.len -= taken.len;
        self.start = end;
        self.skipped = back;
        taken
    }
}

/// What a worker sent back for a chunk: the postcard of `Vec<Result<R, CallError>>` (one per
/// position), as yet unchecked, and who sent it.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) bytes: Vec<u8>,
    /// The pid of the worker that sent it, for errors.
    pub(crate) worker: u32,
}

/// What the pool hands a sink for a chunk: the worker's output, or why there is none.
pub(crate) type Outcome = Result<Output, PoolError>;

/// Where the results of a submission go. Called on the pool's result thread.
pub(crate) trait Sink: Send + Sync {
    /// A chunk finished: `Ok` holds what the worker sent (checked while decoding), `Err` the
    /// error of every task of the chunk.
    fn chunk_done(&self, positions: &Positions, outcome: Outcome);
    /// One task failed on its own (its arguments did not encode).
    fn task_failed(&self, position: usize, error: PoolError);
    /// Nobody wants the results any more: chunks not yet sent are dropped.
    fn is_cancelled(&self) -> bool {
        false
    }
}

/// A chunk waiting for, or running on, a worker.
pub(crate) struct Chunk {
    pub(crate) id: u64,
    /// Its sequence number on the worker it was last sent to (see
    /// [`Claims`](crate::wire::Claims)).
    pub(crate) seq: u64,
    /// Tasks (from the front) whose results were already delivered, from a worker's
    /// [`Partial`](crate::wire::FromWorker::Partial) messages; `positions` holds the others.
    pub(crate) done: usize,
    pub(crate) func: FunctionRef,
    pub(crate) input: Bytes,
    pub(crate) positions: Positions,
    /// How long the whole chunk may run (the per-task timeout times the number of tasks).
    pub(crate) timeout: Option<Duration>,
    pub(crate) sink: Arc<dyn Sink>,
    /// Cuts the chunk's input into one input per task, when its worker dies in the middle
    /// of it (see [`Chunk::take_singles`]).
    split: Option<Split>,
    /// Its outcome went to its sink (see the `Drop` impl).
    delivered: bool,
}

/// Chunks dropped without an outcome while this thread unwound from a panic, and where
/// their outcome should have gone.
type Orphans = Vec<(Arc<dyn Sink>, Positions)>;

thread_local! {
    static ORPHANS: RefCell<Orphans> = const { RefCell::new(Vec::new()) };
}

impl Chunk {
    /// A chunk not yet submitted (the pool assigns its id).
    pub(crate) fn new(
        func: FunctionRef,
        input: Bytes,
        positions: Positions,
        timeout: Option<Duration>,
        sink: Arc<dyn Sink>,
        split: Option<Split>,
    ) -> Chunk {
        Chunk {
            id: 0,
            seq: 0,
            done: 0,
            func,
            input,
            positions,
            timeout,
            sink,
            split,
            delivered: false,
        }
    }

    /// A chunk of several tasks whose worker died while running it becomes one chunk per
    /// task not yet delivered, each with the per-task timeout: the task that was running
    /// fails alone, and the others run again (the results a worker had not sent yet died
    /// with it). `None` for a chunk of one task, or one that cannot be cut; otherwise this
    /// chunk is spent (dropping it is all that is left to do).
    pub(crate) fn take_singles(&mut self) -> Option<Vec<Chunk>> {
        let count = self.positions.count();
        let split = self.split.filter(|_| count > 1 && !self.delivered)?;
        // The arguments' own serde code runs here, on the result thread: a panic in it
        // leaves the chunk whole (it then fails as one).
        let inputs = catch(true, || split(&self.input.0))
            .ok()
            .flatten()
            .filter(|inputs| inputs.len() == self.done + count)?;
        let timeout = self
            .timeout
            .map(|t| t / u32::try_from(self.done + count).unwrap_or(u32::MAX).max(1));
        let singles = self
            .positions
            .iter()
            .zip(inputs.into_iter().skip(self.done))
            .map(|(position, input)| {
                let positions = Positions {
                    start: position,
                    len: 1,
                    skipped: Vec::new(),
                };
                Chunk::new(
                    self.func,
                    input,
                    positions,
                    timeout,
                    self.sink.clone(),
                    None,
                )
            })
            .collect();
        // Its tasks live on in the singles.
        self.delivered = true;
        Some(singles)
    }

    pub(crate) fn fail(self, error: PoolError) {
        self.deliver(Err(error));
    }

    /// Books the first `tasks` of the chunk's tasks not delivered yet as delivered, and
    /// returns their share of the chunk, to hand their results (`output`) to the sink.
    pub(crate) fn take_front(&mut self, tasks: usize, output: Outcome) -> Part {
        let positions = self.positions.split_front(tasks);
        self.done += positions.count();
        Part {
            sink: self.sink.clone(),
            positions,
            outcome: output,
        }
    }

    /// Hands the chunk's outcome to its sink. A result type whose `Deserialize` panics fails
    /// the chunk instead of the pool's result thread.
    pub(crate) fn deliver(mut self, outcome: Outcome) {
        self.delivered = true;
        if self.done > 0 && self.positions.count() == 0 {
            // Every task's result went to the sink with the chunk's partial results.
            return;
        }
        let panicked = catch(true, || self.sink.chunk_done(&self.positions, outcome));
        if let Err(panic) = panicked {
            let error = PoolError::Transfer {
                detail: format!("decoding the results panicked: {}", panic.message),
            };
            // A sink books nothing before its decoding is done, and a result is set once.
            let _ = catch(true, || self.sink.chunk_done(&self.positions, Err(error)));
        }
    }
}

/// Results of the first tasks of a chunk that is still running, for the chunk's sink.
pub(crate) struct Part {
    sink: Arc<dyn Sink>,
    positions: Positions,
    outcome: Outcome,
}

impl Part {
    /// Hands the results to the sink (as [`Chunk::deliver`] does).
    pub(crate) fn deliver(self) {
        let Part {
            sink,
            positions,
            outcome,
        } = self;
        if let Err(panic) = catch(true, || sink.chunk_done(&positions, outcome)) {
            let error = PoolError::Transfer {
                detail: format!("decoding the results panicked: {}", panic.message),
            };
            let _ = catch(true, || sink.chunk_done(&positions, Err(error)));
        }
    }
}

impl Drop for Chunk {
    /// A chunk that a panic unwinds past (in the pool's result thread, say) is kept aside
    /// rather than lost, so that whoever caught the panic can fail it ([`take_orphans`]):
    /// otherwise its caller would wait for its results forever. Outside a panic, only
    /// cancelled chunks are dropped without an outcome, and nobody waits for those.
    fn drop(&mut self) {
        if self.delivered || !std::thread::panicking() {
            return;
        }
        let orphan = (self.sink.clone(), std::mem::take(&mut self.positions));
        // Never panic here: this runs during unwinding, where a second panic aborts.
        let _ = ORPHANS.try_with(|orphans| {
            if let Ok(mut orphans) = orphans.try_borrow_mut() {
                orphans.push(orphan);
            }
        });
    }
}

/// Takes the chunks that a panic on this thread dropped without an outcome.
pub(crate) fn take_orphans() -> Orphans {
    ORPHANS
        .try_with(|orphans| {
            orphans
                .try_borrow_mut()
                .map(|mut o| std::mem::take(&mut *o))
        })
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default()
}

/// Cuts a chunk's input (postcard of `Vec<Args>`) into one input per task.
pub(crate) type Split = fn(&[u8]) -> Option<Vec<Bytes>>;

/// The [`Split`] for argument tuples of type `Args`. It runs only when a worker died in the
/// middle of a chunk, on bytes the pool encoded itself.
pub(crate) fn split_inputs<Args: Portable>(input: &[u8]) -> Option<Vec<Bytes>> {
    let items: Vec<Args> = postcard::from_bytes(input).ok()?;
    items
        .iter()
        .map(|args| {
            postcard::to_stdvec(std::slice::from_ref(args))
                .ok()
                .map(Bytes)
        })
        .collect()
}

/// Decodes a chunk's output into one result per position.
pub(crate) fn decode_outputs<R: Portable>(
    positions: &Positions,
    outcome: Outcome,
) -> Vec<(usize, Result<R, PoolError>)> {
    let count = positions.count();
    let decoded = outcome.and_then(|output| {
        let mut results = Vec::with_capacity(count);
        decode_each::<R>(&output, count, |_, result| results.push(result))?;
        Ok(results)
    });
    match decoded {
        Ok(results) => positions
            .iter()
            .zip(results)
            .map(|(p, r)| (p, r.map_err(|e| PoolError::from_call(e, p))))
            .collect(),
        Err(e) => positions
            .iter()
            .map(|p| (p, Err(e.clone().at(p))))
            .collect(),
    }
}

/// What a task whose arguments hold a shared-memory or channel handle fails with.
pub(crate) const HANDLE_ARGUMENT: &str = "a shared-memory or channel handle (Value, Array, \
    Lock, Semaphore, Queue, Connection, ...) cannot be a pool task argument: task arguments \
    travel as bytes, which cannot carry its file descriptor. Give it to every worker through \
    the pool's initializer instead (PoolBuilder::initializer, Python's initargs) and keep it \
    in a global there, or pass it to a Process, whose arguments carry file descriptors";

/// Encodes the argument tuples of one chunk (positions `start..`) as postcard of `Vec<Args>`.
/// Arguments that fail to encode are reported to `sink` and left out.
///
/// The items are a slice so that nothing of the caller's (an iterator's `next`, an item's
/// `Drop`) runs inside the scope of plain serialization, which would refuse a handle that
/// such code sends through a channel.
pub(crate) fn encode_chunk<Args: Portable>(
    start: usize,
    items: &[Args],
    sink: &dyn Sink,
) -> (Bytes, Positions) {
    // The length comes first: encode the expected one, and rewrite it if it turns out wrong.
    let expected = items.len();
    let mut input = Vec::with_capacity(8 + 4 * expected);
    encode_into(&expected, &mut input).expect("a length always encodes");
    let prefix = input.len();
    let mut positions = Positions {
        start,
        len: 0,
        skipped: Vec::new(),
    };
    // Arguments are bytes (postcard), which cannot carry the file descriptor of a
    // shared-memory or channel handle: such a handle refuses here, in the caller. One scope
    // for the whole chunk; an item that fails is encoded again in a scope of its own, to
    // learn whether a handle refused.
    multiproc_shared::with_plain_serialization(|| {
        for args in items {
            let position = start + positions.len;
            positions.len += 1;
            if let Err(e) = encode_into(args, &mut input) {
                positions.skipped.push(position);
                let mut scratch = Vec::new();
                let (_, refused) = multiproc_shared::with_plain_serialization_refusals(|| {
                    encode_into(args, &mut scratch)
                });
                let detail = if refused {
                    HANDLE_ARGUMENT.to_owned()
                } else {
                    format!("could not encode the arguments: {e}")
                };
                sink.task_failed(position, PoolError::Transfer { detail });
            }
        }
    });
    let count = positions.count();
    if count != expected {
        let mut fixed = Vec::with_capacity(input.len() + 8);
        encode_into(&count, &mut fixed).expect("a length always encodes");
        fixed.extend_from_slice(&input[prefix..]);
        input = fixed;
    }
    (Bytes(input), positions)
}

/// Decodes a chunk's output (postcard of `Vec<Result<R, CallError>>`) in one pass, handing
/// each entry to a function with its index in the chunk. The output must hold exactly
/// `expected` entries: the worker's count is checked before any entry is decoded, so a
/// hostile count costs nothing.
///
/// An `Ok` entry is postcard's variant index 0 (one byte) and the value: it is decoded as
/// the value after that byte, without serde's `Result` wrapper (a third of the cost of a
/// small value); anything else goes through the `Result` decoder, which reports what is
/// wrong.
pub(crate) fn decode_each<R: Portable>(
    output: &Output,
    expected: usize,
    mut each: impl FnMut(usize, Result<R, CallError>),
) -> Result<(), PoolError> {
    let transfer = |e: postcard::Error| PoolError::Transfer {
        detail: format!(
            "could not decode the results from pool worker {}: {e}",
            output.worker
        ),
    };
    let (claimed, mut rest) =
        postcard::take_from_bytes::<usize>(&output.bytes).map_err(transfer)?;
    if claimed != expected {
        return Err(PoolError::CorruptResults {
            pid: output.worker,
            detail: format!("{claimed} results for a chunk of {expected} tasks"),
        });
    }
    for index in 0..expected {
        let result = match rest.split_first() {
            Some((0, value)) => {
                let (value, tail) = postcard::take_from_bytes::<R>(value).map_err(transfer)?;
                rest = tail;
                Ok(value)
            }
            _ => {
                let (result, tail) =
                    postcard::take_from_bytes::<Result<R, CallError>>(rest).map_err(transfer)?;
                rest = tail;
                result
            }
        };
        each(index, result);
    }
    Ok(())
}

/// How long a chunk of `tasks` tasks may run, each allowed `per_task`; `None` (no limit)
/// when that is beyond what a `Duration` holds.
pub(crate) fn chunk_timeout(per_task: Option<Duration>, tasks: usize) -> Option<Duration> {
    per_task?.checked_mul(u32::try_from(tasks).ok()?)
}

/// CPython's automatic chunk size: `len / (4 * processes)`, rounded up, at least 1.
pub(crate) fn auto_chunksize(len: usize, processes: usize) -> usize {
    let per = 4 * processes.max(1);
    let (chunksize, extra) = (len / per, len % per);
    (chunksize + usize::from(extra != 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunksize_matches_cpython() {
        assert_eq!(auto_chunksize(0, 4), 1);
        assert_eq!(auto_chunksize(10, 4), 1);
        assert_eq!(auto_chunksize(100, 2), 13);
        assert_eq!(auto_chunksize(100_000, 2), 12_500);
    }

    struct NoSink;
    impl Sink for NoSink {
        fn chunk_done(&self, _: &Positions, _: Outcome) {}
        fn task_failed(&self, _: usize, _: PoolError) {}
    }

    #[test]
    fn positions_split_at_the_front_with_their_skipped_ones() {
        let mut positions = Positions {
            start: 10,
            len: 6,
            skipped: vec![11, 14],
        };
        // Travelled: 10, 12, 13, 15.
        let front = positions.split_front(2);
        assert_eq!(front.iter().collect::<Vec<_>>(), vec![10, 12]);
        assert_eq!(front.skipped, vec![11]);
        assert_eq!(positions.iter().collect::<Vec<_>>(), vec![13, 15]);
        assert_eq!(positions.count(), 2);
        let none = positions.split_front(0);
        assert_eq!(none.count(), 0);
        let rest = positions.split_front(9);
        assert_eq!(rest.iter().collect::<Vec<_>>(), vec![13, 15]);
        assert_eq!(positions.count(), 0);
        assert_eq!(positions.len, 0);
    }

    #[test]
    fn chunks_encode_as_a_vec() {
        let (input, positions) = encode_chunk(5, &[(1u32, 2u8), (3, 4)], &NoSink);
        assert_eq!(positions.iter().collect::<Vec<_>>(), vec![5, 6]);
        let decoded: Vec<(u32, u8)> = postcard::from_bytes(&input.0).unwrap();
        assert_eq!(decoded, vec![(1, 2), (3, 4)]);
    }

    fn decoded(bytes: Vec<u8>) -> Vec<(usize, Result<u32, PoolError>)> {
        let positions = Positions {
            start: 10,
            len: 2,
            skipped: Vec::new(),
        };
        decode_outputs::<u32>(&positions, Ok(Output { bytes, worker: 42 }))
    }

    #[test]
    fn a_chunk_decodes_one_result_per_position() {
        let bytes = postcard::to_stdvec(&vec![Ok::<u32, CallError>(1), Ok(2)]).unwrap();
        let results = decoded(bytes);
        assert_eq!(results, vec![(10, Ok(1)), (11, Ok(2))]);
    }

    #[test]
    fn a_failed_entry_decodes_between_values() {
        let failed = CallError::Failed("no".into());
        let bytes =
            postcard::to_stdvec(&vec![Err::<u32, CallError>(failed), Ok(u32::MAX)]).unwrap();
        let results = decoded(bytes);
        assert_eq!(results.len(), 2);
        assert!(
            matches!(&results[0], (10, Err(PoolError::Failed { message, index: 10 })) if message == "no"),
            "{results:?}"
        );
        assert_eq!(results[1], (11, Ok(u32::MAX)));
    }

    #[test]
    fn a_miscounted_chunk_fails_alone_naming_its_worker() {
        let three = postcard::to_stdvec(&vec![Ok::<u32, CallError>(1), Ok(2), Ok(3)]).unwrap();
        let one = postcard::to_stdvec(&vec![Ok::<u32, CallError>(1)]).unwrap();
        for bytes in [three, one] {
            let results = decoded(bytes);
            assert_eq!(results.len(), 2);
            for (_, result) in results {
                match result {
                    Err(e @ PoolError::CorruptResults { pid: 42, .. }) => {
                        assert!(e.to_string().contains("for a chunk of 2 tasks"), "{e}")
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
    }

    #[test]
    fn garbage_output_fails_the_chunk_naming_its_worker() {
        // A claimed count of 2^60 reserves nothing: the decoding runs out of bytes first.
        let huge = postcard::to_stdvec(&(1u64 << 60)).unwrap();
        for bytes in [vec![], vec![2, 0], vec![2, 9, 9, 9], vec![0xff; 16], huge] {
            for (_, result) in decoded(bytes) {
                let named = match &result {
                    Err(PoolError::Transfer { detail }) => detail.contains("pool worker 42"),
                    Err(PoolError::CorruptResults { pid, .. }) => *pid == 42,
                    _ => false,
                };
                assert!(named, "{result:?}");
            }
        }
    }
}
