//! The decode guard: decoding that may panic inside ipc-channel becomes an error.
//!
//! ipc-channel indexes its descriptor table without a bounds check when it decodes a
//! handle from corrupt bytes, so hostile bytes from a peer can panic there. That is bad
//! input, not a bug of this process: the guard catches the panic through the workspace's
//! one panic hook (`multiproc_sys::panic`), keeps it off stderr (a library thread takes no
//! stdio lock), and the receiver gets [`Error::Decode`](crate::Error::Decode). It needs
//! nothing else from this crate, so the codecs of pipes and sockets and the fuzz entry
//! points all build on it.

/// Runs `decode`, turning a panic inside it into the error message `malformed message:
/// <what panicked>`, without printing the panic. Panics elsewhere still reach the hook
/// that was installed before.
pub(crate) fn guard_decode<R>(decode: impl FnOnce() -> R) -> Result<R, String> {
    multiproc_sys::panic::catch(true, decode)
        .map_err(|caught| format!("malformed message: {}", caught.message))
}
