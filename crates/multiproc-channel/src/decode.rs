//! Entry points for fuzzing the decoders of bytes that reach this crate from another process.
//!
//! Each function feeds `bytes` to the same code the receiving side runs and reports only
//! whether it succeeded. Hostile input must give an error: never a panic, undefined
//! behaviour or an unbounded allocation. Not a stable API.
//!
//! Queue items are decoded with plain `postcard::from_bytes` from a shared-memory ring; the
//! ring's own headers live in memory shared with trusted processes and have no entry point
//! here.

use std::io::{self, Read, Write};
use std::time::Duration;

use ipc_channel::ipc::IpcMessage;

use crate::frame::Received;
use crate::guard::guard_decode;
use crate::listener::auth::{self, NONCE_LEN, Role, Timeouts};
use crate::listener::codec::decode;
use crate::listener::framing::read_frame;

/// The key and challenge the handshake entry points use, so a test can script a valid peer.
pub const FUZZ_AUTHKEY: &[u8] = b"fuzz authkey";
/// See [`FUZZ_AUTHKEY`].
pub const FUZZ_NONCE: [u8; NONCE_LEN] = [7; NONCE_LEN];
/// The maximum message size [`socket_frames`] reads with.
pub const FUZZ_MAX_MESSAGE_SIZE: usize = 1 << 20;

/// A peer whose bytes come from a slice; what we write is discarded.
struct Replay<'a> {
    input: &'a [u8],
}

impl Read for Replay<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Replay<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Timeouts for Replay<'_> {
    fn set_io_timeout(&self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }
}

fn handshake(role: Role, bytes: &[u8]) -> Result<(), String> {
    let mut peer = Replay { input: bytes };
    auth::handshake(
        &mut peer,
        role,
        FUZZ_AUTHKEY,
        &FUZZ_NONCE,
        Duration::from_secs(60),
    )
    .map_err(|err| err.to_string())
}

/// The listener's side of the handshake: `bytes` is what a client sends (its answer to
/// the challenge [`FUZZ_NONCE`], its own challenge, its verdict on our answer).
pub fn handshake_server(bytes: &[u8]) -> Result<(), String> {
    handshake(Role::Server, bytes)
}

/// The client's side of the handshake: `bytes` is what a listener sends (its challenge,
/// its verdict on our answer, its answer to the challenge [`FUZZ_NONCE`]).
pub fn handshake_client(bytes: &[u8]) -> Result<(), String> {
    handshake(Role::Client, bytes)
}

/// Socket messages after the handshake: frames of at most [`FUZZ_MAX_MESSAGE_SIZE`]
/// bytes, each decoded as a `Vec<String>`, until the input ends; the first error is
/// returned.
pub fn socket_frames(bytes: &[u8]) -> Result<(), String> {
    let mut peer = Replay { input: bytes };
    while !peer.input.is_empty() {
        let frame = read_frame(&mut peer, FUZZ_MAX_MESSAGE_SIZE).map_err(|err| err.to_string())?;
        decode::<Vec<String>>(&frame).map_err(|err| err.to_string())?;
    }
    Ok(())
}

/// A [`Connection`](crate::Connection) message as ipc-channel delivers it, without
/// descriptors, for a `Connection<Vec<String>>`.
pub fn pipe_frame(bytes: &[u8]) -> Result<(), String> {
    guard_decode(|| IpcMessage::from_data(bytes.to_vec()).to::<Received<Vec<String>>>())?
        .map(drop)
        .map_err(|err| err.to_string())
}

/// A [`Queue`](crate::Queue) item as `get` decodes it, for a `Queue<Vec<String>>`.
pub fn queue_item(bytes: &[u8]) -> Result<(), String> {
    postcard::from_bytes::<Vec<String>>(bytes)
        .map(drop)
        .map_err(|err| err.to_string())
}
