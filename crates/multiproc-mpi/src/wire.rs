//! The messages between rank 0 and the serving ranks, and their encoding.
//!
//! Every message is postcard bytes in one MPI message. Bytes from another rank are decoded with
//! a bound on their size and never trusted further: a function travels as a
//! [`FunctionRef`], whose decoding checks its tag. (An MPI message's size is the size of the
//! data the library delivered, not a length the peer claims, so receiving it allocates no
//! more than was sent; postcard then bounds every length inside by the bytes that are there.)

use multiproc_process::{FunctionRef, PanicInfo};
use serde::{Deserialize, Serialize};

/// The MPI tag of messages from rank 0 to a serving rank.
pub(crate) const TO_SERVER: i32 = 7301;
/// The MPI tag of messages from a serving rank to rank 0.
pub(crate) const TO_ROOT: i32 = 7302;
/// The largest message a rank accepts (64 MiB, as the local pipes).
pub(crate) const MAX_MESSAGE: usize = 64 << 20;

/// Rank 0 to a serving rank.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToServer {
    /// A pool starts: make its local workers (or none, to run tasks in the rank).
    Open {
        pool: u64,
        processes: Option<usize>,
        isolated: bool,
    },
    /// Run `items` with `function`, and answer with a [`ToRoot::Done`] of the same `chunk`.
    Chunk {
        pool: u64,
        chunk: u64,
        function: FunctionRef,
        items: Items,
    },
    /// A pool ends: its local workers stop once its chunks are done.
    Close { pool: u64 },
    /// Rank 0's program ends: stop serving and leave.
    Stop,
}

/// The arguments of a chunk's items.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Items {
    /// The postcard of the `Vec` of all the items' argument tuples: the serving rank makes
    /// one call of the function for the whole chunk (in-rank pools).
    Batch(Vec<u8>),
    /// Each item's own postcard of a one-element `Vec`: the serving rank runs each item on
    /// its own in a local worker, so that a crash fails that item alone (isolated pools).
    Each(Vec<Vec<u8>>),
}

/// What came of a chunk's items.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum ChunkOutcome {
    /// The postcard of the `Vec<Result<Output, CallError>>` of all the items, in order.
    Batch(Vec<u8>),
    /// Each item's outcome: the postcard of a one-element `Vec<Result<Output, CallError>>`,
    /// or why it failed on the rank.
    Each(Vec<Result<Vec<u8>, RemoteFailure>>),
    /// Every item of the chunk failed with this.
    Failed(RemoteFailure),
}

/// A serving rank to rank 0.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToRoot {
    /// What came of the items of a chunk.
    Done { chunk: u64, outcome: ChunkOutcome },
    /// The rank stopped serving after a [`ToServer::Stop`]; it sends nothing more.
    Stopped,
}

/// Why one task failed on a serving rank, apart from a panic (which travels inside the
/// function's own result).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum RemoteFailure {
    /// The local worker running the task died: `signal` or exit `code`.
    WorkerDied {
        signal: Option<i32>,
        code: Option<i32>,
    },
    /// The task panicked outside the function's own catch (its arguments did not decode).
    Panicked(PanicInfo),
    /// Anything else, said in words.
    Other(String),
}

/// Encodes a message.
pub(crate) fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, String> {
    postcard::to_stdvec(message).map_err(|e| format!("cannot encode an MPI message: {e}"))
}

/// Decodes a message from another rank, refusing one larger than [`MAX_MESSAGE`].
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, String> {
    if bytes.len() > MAX_MESSAGE {
        return Err(format!(
            "an MPI message of {} bytes exceeds the limit of {MAX_MESSAGE}",
            bytes.len()
        ));
    }
    postcard::from_bytes(bytes).map_err(|e| format!("cannot decode an MPI message: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: u64) -> u64 {
        x * x
    }

    #[test]
    fn a_chunk_round_trips_and_garbage_is_an_error() {
        let chunk = ToServer::Chunk {
            pool: 1,
            chunk: 2,
            function: FunctionRef::new::<_, (u64,)>(square),
            items: Items::Each(vec![vec![1, 3]]),
        };
        let bytes = encode(&chunk).unwrap();
        assert!(matches!(
            decode::<ToServer>(&bytes),
            Ok(ToServer::Chunk { chunk: 2, .. })
        ));
        assert!(decode::<ToServer>(&[0xff; 9]).is_err());
        let mut forged = bytes.clone();
        // The function's offset sits after the two varints; flipping it breaks the tag.
        forged[3] ^= 4;
        assert!(decode::<ToServer>(&forged).is_err());
    }
}
