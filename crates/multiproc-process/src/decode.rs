//! Entry points for fuzzing the decoders of every message that crosses into a process of ours.
//!
//! Each function decodes `bytes` exactly as the receiving side does (through ipc-channel's
//! postcard decoding, without descriptors) and reports only whether it succeeded. Hostile input
//! must give an error: never a panic, undefined behaviour or an unbounded allocation.
//! Not a stable API.

use ipc_channel::ipc::IpcMessage;

use crate::forkserver::{Reply, Request};
use crate::function::{Outcome, guard_decode};
use crate::spawn::{Bootstrap, Hello};

fn decode<T: serde::Serialize + for<'de> serde::Deserialize<'de>>(
    bytes: &[u8],
) -> Result<(), String> {
    guard_decode(|| IpcMessage::from_data(bytes.to_vec()).to::<T>()).map(drop)
}

/// The child's first message to its parent.
pub fn hello(bytes: &[u8]) -> Result<(), String> {
    decode::<Hello>(bytes)
}

/// The parent's bootstrap message to a new child.
pub fn bootstrap(bytes: &[u8]) -> Result<(), String> {
    decode::<Bootstrap>(bytes)
}

/// A request to the fork server.
pub fn forkserver_request(bytes: &[u8]) -> Result<(), String> {
    decode::<Request>(bytes)
}

/// The fork server's reply.
pub fn forkserver_reply(bytes: &[u8]) -> Result<(), String> {
    decode::<Reply>(bytes)
}

/// A child's outcome, for a target returning `Vec<String>`.
pub fn outcome(bytes: &[u8]) -> Result<(), String> {
    decode::<Outcome<Vec<String>>>(bytes)
}

/// A forwarded log record.
pub fn log_record(bytes: &[u8]) -> Result<(), String> {
    crate::logging::decode_record(bytes)
}

/// A pool-style batch call: arguments of a `FunctionRef` for `fn(String, u64) -> Vec<u8>`.
pub fn function_call(bytes: &[u8]) -> Result<(), String> {
    fn target(s: String, n: u64) -> Vec<u8> {
        s.into_bytes().into_iter().take(n as usize).collect()
    }
    crate::FunctionRef::new::<_, (String, u64)>(target)
        .call(bytes)
        .map(drop)
}
