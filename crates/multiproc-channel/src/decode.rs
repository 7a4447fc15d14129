//! Entry points for fuzzing the decoders of bytes that reach this crate from another process.
//!
//! Each function feeds `bytes` to the same code the receiving side runs and reports only
//! whether it succeeded. Hostile input must give an error: never a panic, undefined
//! behaviour or an unbounded allocation. Not a stable API.
//!
//! Queue items are decoded with plain `postcard::from_bytes` from a shared-memory ring
//! ([`queue_item`]); the ring's own record headers are checked where the ring reads them.
//!
//! ```
//! use multiproc_channel::decode;
//!
//! // A frame that claims 2 GiB is refused before anything is allocated for it.
//! assert!(decode::socket_frames(&[0x7f, 0xff, 0xff, 0xff]).is_err());
//! ```

use std::io::{self, Read, Write};
#[cfg(feature = "listener")]
use std::time::Duration;

use ipc_channel::ipc::IpcMessage;

use crate::frame::Received;
use crate::guard::guard_decode;
#[cfg(feature = "listener")]
use crate::listener::auth::{self, NONCE_LEN, Role, Timeouts};
use crate::listener::codec::decode;
use crate::listener::framing::read_frame;

/// The key and challenge the handshake entry points use, so a test can script a valid peer.
///
/// ```
/// assert!(!multiproc_channel::decode::FUZZ_AUTHKEY.is_empty());
/// ```
#[cfg(feature = "listener")]
#[cfg_attr(docsrs, doc(cfg(feature = "listener")))]
pub const FUZZ_AUTHKEY: &[u8] = b"fuzz authkey";
/// See [`FUZZ_AUTHKEY`].
///
/// ```
/// assert_eq!(multiproc_channel::decode::FUZZ_NONCE.len(), 40);
/// ```
#[cfg(feature = "listener")]
#[cfg_attr(docsrs, doc(cfg(feature = "listener")))]
pub const FUZZ_NONCE: [u8; NONCE_LEN] = [7; NONCE_LEN];
/// The maximum message size [`socket_frames`] reads with.
///
/// ```
/// use multiproc_channel::decode::{FUZZ_MAX_MESSAGE_SIZE, socket_frames};
///
/// let too_long = u32::try_from(FUZZ_MAX_MESSAGE_SIZE + 1).unwrap().to_be_bytes();
/// assert!(socket_frames(&too_long).unwrap_err().contains("exceeds the maximum"));
/// ```
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

#[cfg(feature = "listener")]
impl Timeouts for Replay<'_> {
    fn set_io_timeout(&self, _: Option<Duration>) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(feature = "listener")]
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
///
/// ```
/// use multiproc_channel::decode::handshake_server;
///
/// assert!(handshake_server(b"").is_err());
/// // A 300-byte answer is longer than any handshake message may be.
/// let mut oversized = 300u32.to_be_bytes().to_vec();
/// oversized.extend([0; 300]);
/// assert!(handshake_server(&oversized).is_err());
/// ```
#[cfg(feature = "listener")]
#[cfg_attr(docsrs, doc(cfg(feature = "listener")))]
pub fn handshake_server(bytes: &[u8]) -> Result<(), String> {
    handshake(Role::Server, bytes)
}

/// The client's side of the handshake: `bytes` is what a listener sends (its challenge,
/// its verdict on our answer, its answer to the challenge [`FUZZ_NONCE`]).
///
/// ```
/// use multiproc_channel::decode::handshake_client;
///
/// // A challenge in the legacy HMAC-MD5 form (no `{sha256}` tag) is refused.
/// let mut legacy = 31u32.to_be_bytes().to_vec();
/// legacy.extend(b"#CHALLENGE#");
/// legacy.extend([1; 20]);
/// assert!(handshake_client(&legacy).is_err());
/// ```
#[cfg(feature = "listener")]
#[cfg_attr(docsrs, doc(cfg(feature = "listener")))]
pub fn handshake_client(bytes: &[u8]) -> Result<(), String> {
    handshake(Role::Client, bytes)
}

/// Socket messages after the handshake: frames of at most [`FUZZ_MAX_MESSAGE_SIZE`]
/// bytes, each decoded as a `Vec<String>`, until the input ends; the first error is
/// returned.
///
/// ```
/// use multiproc_channel::decode::socket_frames;
///
/// let payload = postcard::to_stdvec(&vec!["one".to_owned()]).unwrap();
/// let mut frame = u32::try_from(payload.len()).unwrap().to_be_bytes().to_vec();
/// frame.extend(&payload);
/// assert_eq!(socket_frames(&frame), Ok(()));
/// // Cut short: the peer hung up inside the frame.
/// assert!(socket_frames(&frame[..frame.len() - 1]).is_err());
/// ```
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
///
/// ```
/// use multiproc_channel::decode::pipe_frame;
///
/// // Kind 7 is neither a value nor bytes.
/// assert!(pipe_frame(&[7, 0, 0]).is_err());
/// ```
pub fn pipe_frame(bytes: &[u8]) -> Result<(), String> {
    guard_decode(|| IpcMessage::from_data(bytes.to_vec()).to::<Received<Vec<String>>>())?
        .map(drop)
        .map_err(|err| err.to_string())
}

/// A [`Queue`](crate::Queue) item as `get` decodes it, for a `Queue<Vec<String>>`.
///
/// ```
/// use multiproc_channel::decode::queue_item;
///
/// assert_eq!(queue_item(&postcard::to_stdvec(&vec!["a".to_owned()]).unwrap()), Ok(()));
/// // A length of about 2^63 strings, and no strings.
/// assert!(queue_item(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]).is_err());
/// ```
pub fn queue_item(bytes: &[u8]) -> Result<(), String> {
    postcard::from_bytes::<Vec<String>>(bytes)
        .map(drop)
        .map_err(|err| err.to_string())
}
