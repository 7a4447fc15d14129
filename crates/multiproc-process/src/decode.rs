//! Entry points for fuzzing the decoders of every message that crosses into a process of ours.
//!
//! Each function decodes `bytes` exactly as the receiving side does (through ipc-channel's
//! postcard decoding, without descriptors) and reports only whether it succeeded. Hostile input
//! must give an error: never a panic, undefined behaviour or an unbounded allocation.
//! Not a stable API.
//!
//! ```
//! use multiproc_process::decode;
//!
//! // Hostile bytes give an error, never a panic.
//! assert!(decode::hello(&[0xff; 16]).is_err());
//! assert!(decode::outcome(&[0xff; 16]).is_err());
//! ```

use ipc_channel::ipc::IpcMessage;

use crate::function::guard_decode;
use crate::wire::{Bootstrap, Hello, Outcome, Reply, Request, Role};

fn decode<T: serde::Serialize + for<'de> serde::Deserialize<'de>>(
    bytes: &[u8],
) -> Result<(), String> {
    guard_decode(|| IpcMessage::from_data(bytes.to_vec()).to::<T>()).map(drop)
}

/// The child's first message to its parent.
///
/// ```
/// assert!(multiproc_process::decode::hello(&[0xff; 3]).is_err());
/// ```
pub fn hello(bytes: &[u8]) -> Result<(), String> {
    decode::<Hello>(bytes)
}

/// The parent's bootstrap message to a new child, and the check of its trampoline's tag
/// against the key it carries (what the child does before it calls anything).
///
/// ```
/// assert!(multiproc_process::decode::bootstrap(b"").is_err());
/// ```
pub fn bootstrap(bytes: &[u8]) -> Result<(), String> {
    let message = guard_decode(|| IpcMessage::from_data(bytes.to_vec()).to::<Bootstrap>())?;
    match &message.role {
        Role::Run(spec) => spec
            .trampoline
            .verify_with(&message.key)
            .map_err(|e| e.to_string()),
        Role::Forkserver(_) => Ok(()),
    }
}

/// A request to the fork server, and the check of a fork request's trampoline tag (what the
/// server does before it forks).
///
/// ```
/// assert!(multiproc_process::decode::forkserver_request(&[9, 9, 9]).is_err());
/// ```
pub fn forkserver_request(bytes: &[u8]) -> Result<(), String> {
    match guard_decode(|| IpcMessage::from_data(bytes.to_vec()).to::<Request>())? {
        Request::Fork { spec, .. } => spec.trampoline.verify().map_err(|e| e.to_string()),
        Request::Reap { .. } | Request::Release => Ok(()),
    }
}

/// A function reference as the pool sends it with every task.
///
/// ```
/// // A reference whose tag does not verify is refused before anything is called.
/// assert!(multiproc_process::decode::function_ref(&[0; 40]).is_err());
/// ```
pub fn function_ref(bytes: &[u8]) -> Result<(), String> {
    postcard::from_bytes::<crate::FunctionRef>(bytes)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// The fork server's reply.
///
/// ```
/// assert!(multiproc_process::decode::forkserver_reply(b"").is_err());
/// ```
pub fn forkserver_reply(bytes: &[u8]) -> Result<(), String> {
    decode::<Reply>(bytes)
}

/// A child's outcome, for a target returning `Vec<String>`.
///
/// ```
/// assert!(multiproc_process::decode::outcome(&[0xff, 0xff, 0xff, 0xff]).is_err());
/// ```
pub fn outcome(bytes: &[u8]) -> Result<(), String> {
    decode::<Outcome<Vec<String>>>(bytes)
}

/// A forwarded log record.
///
/// ```
/// assert!(multiproc_process::decode::log_record(b"not a record").is_err());
/// ```
pub fn log_record(bytes: &[u8]) -> Result<(), String> {
    crate::logging::decode_record(bytes)
}

/// A pool-style batch call: arguments of a `FunctionRef` for `fn(String, u64) -> Vec<u8>`.
///
/// ```
/// use multiproc_process::decode::function_call;
/// let input = postcard::to_stdvec(&vec![("abc".to_owned(), 2u64)]).unwrap();
/// assert_eq!(function_call(&input), Ok(()));
/// // A length of about 2^63 strings, and no strings.
/// assert!(function_call(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]).is_err());
/// ```
pub fn function_call(bytes: &[u8]) -> Result<(), String> {
    fn target(s: String, n: u64) -> Vec<u8> {
        s.into_bytes().into_iter().take(n as usize).collect()
    }
    crate::FunctionRef::new::<_, (String, u64)>(target)
        .call(bytes)
        .map(drop)
}
