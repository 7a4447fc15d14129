//! Sharing the function-identity key with processes of this program that this crate did not
//! start (the ranks of an MPI job, started by `mpirun`).

use crate::error::ProcessError;
use crate::tag::{self, TreeKey};

/// The secret under which this process tree tags the function offsets it sends
/// ([`FunctionRef`](crate::FunctionRef)s), as 32 bytes.
///
/// Processes started by this crate receive it on their own. A transport that starts copies of
/// this program by other means, such as the ranks of an MPI job, passes it on with this and
/// [`adopt_function_key`], so that one rank's `FunctionRef`s verify on another.
///
/// Whoever holds the key can make any offset of this executable callable in the processes that
/// share it: send it only over a channel as trusted as those processes themselves (an MPI
/// job's own communicator), never over a network that others reach.
///
/// ```
/// let key = multiproc_process::function_key();
/// assert_eq!(key, multiproc_process::function_key()); // one key per process tree
/// multiproc_process::adopt_function_key(key)?;       // adopting the same key again is fine
/// # Ok::<(), multiproc_process::ProcessError>(())
/// ```
pub fn function_key() -> [u8; 32] {
    tag::tree_key().to_bytes()
}

/// Makes `key` this process's function-identity key, before it makes or checks any
/// [`FunctionRef`](crate::FunctionRef). Fails if the process already uses another key: call
/// it first thing, before any process or pool is started.
///
/// ```
/// let key = multiproc_process::function_key();
/// assert!(multiproc_process::adopt_function_key(key).is_ok());
/// let mut other = key;
/// other[0] ^= 1;
/// assert!(multiproc_process::adopt_function_key(other).is_err());
/// ```
pub fn adopt_function_key(key: [u8; 32]) -> Result<(), ProcessError> {
    tag::adopt_tree_key(TreeKey::from_key_bytes(key)).map_err(|detail| ProcessError::Io {
        context: "adopting the function-identity key",
        source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, detail),
    })
}
