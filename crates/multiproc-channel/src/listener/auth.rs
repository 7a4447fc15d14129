//! The `authkey` handshake of a `Listener` and a `Client`:
//! mutual HMAC-SHA256 challenge–response, as CPython's `deliver_challenge` and
//! `answer_challenge` (`Lib/multiprocessing/connection.py`, Python 3.12 and later).
//!
//! Each side proves it knows the key without sending it:
//!
//! 1. the challenger sends `#CHALLENGE#{sha256}` followed by 40 random bytes;
//! 2. the answerer replies `{sha256}` followed by HMAC-SHA256(key, `{sha256}` + the random
//!    bytes);
//! 3. the challenger compares in constant time and replies `#WELCOME#` or `#FAILURE#`.
//!
//! The server challenges first, so it answers nothing before the client has proved
//! itself. Then the roles swap. Every handshake message is one length-prefixed frame of at
//! most [`MAX_HANDSHAKE_FRAME`] bytes, so nothing larger is read or allocated before both
//! sides are authenticated. The wire format is CPython's, but only the HMAC-SHA256 form is
//! accepted: the legacy HMAC-MD5 form (a bare 20-byte challenge) is refused.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::framing::{read_frame, write_frame};
use crate::error::{ListenerError, PipeError};

/// How long a peer may take over the `authkey` handshake unless configured otherwise.
///
/// ```
/// use multiproc_channel::{Client, DEFAULT_HANDSHAKE_TIMEOUT};
/// use std::time::Duration;
///
/// assert_eq!(DEFAULT_HANDSHAKE_TIMEOUT, Duration::from_secs(5));
/// let patient = Client::new(Some(b"key")).with_handshake_timeout(DEFAULT_HANDSHAKE_TIMEOUT * 4);
/// # drop(patient);
/// ```
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

const CHALLENGE: &[u8] = b"#CHALLENGE#";
const WELCOME: &[u8] = b"#WELCOME#";
const FAILURE: &[u8] = b"#FAILURE#";
const DIGEST_PREFIX: &[u8] = b"{sha256}";

/// Random bytes in a challenge, as CPython's `MESSAGE_LENGTH`.
pub(crate) const NONCE_LEN: usize = 40;
/// Fewest random bytes accepted in a challenge from the peer (CPython's lower bound).
const MIN_NONCE_LEN: usize = 20;
/// Largest handshake frame read (CPython reads at most 256 bytes too).
pub(crate) const MAX_HANDSHAKE_FRAME: usize = 256;

type HmacSha256 = Hmac<Sha256>;

/// A stream whose per-call I/O timeout can be set; the handshake turns one overall
/// deadline into a timeout for each read and write.
pub(crate) trait Timeouts {
    fn set_io_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
}

/// Reads and writes on `stream` that fail with `TimedOut` once `deadline` has passed, so a
/// peer that trickles one byte at a time cannot stretch the handshake either. No deadline
/// (a timeout too large for the clock, such as `Duration::MAX`) means no limit.
struct Deadlined<'a, S> {
    stream: &'a mut S,
    deadline: Option<Instant>,
}

impl<S: Timeouts> Deadlined<'_, S> {
    fn arm(&self) -> io::Result<()> {
        let Some(remaining) = multiproc_sys::time::remaining(self.deadline) else {
            return Ok(());
        };
        if remaining.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_io_timeout(Some(remaining))
    }
}

impl<S: Read + Timeouts> Read for Deadlined<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm()?;
        self.stream.read(buf)
    }
}

impl<S: Write + Timeouts> Write for Deadlined<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm()?;
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// Turns an `authkey` argument into the key to use, refusing an empty one.
pub(crate) fn checked_key(authkey: Option<&[u8]>) -> Result<Option<Vec<u8>>, ListenerError> {
    match authkey {
        Some([]) => Err(ListenerError::AuthkeyRequired),
        Some(key) => Ok(Some(key.to_vec())),
        None => Ok(None),
    }
}

/// Which side of the connection runs the handshake; the server challenges first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Server,
    Client,
}

/// A fresh random challenge from the operating system (getrandom(2)).
pub(crate) fn random_nonce() -> Result<[u8; NONCE_LEN], ListenerError> {
    let mut nonce = [0; NONCE_LEN];
    multiproc_sys::random::fill(&mut nonce)?;
    Ok(nonce)
}

/// Runs the whole mutual handshake within `timeout` (`Duration::MAX`: no limit),
/// challenging the peer with `nonce`.
///
/// Leaves the stream's I/O timeouts unset on success.
pub(crate) fn handshake<S: Read + Write + Timeouts>(
    stream: &mut S,
    role: Role,
    authkey: &[u8],
    nonce: &[u8; NONCE_LEN],
    timeout: Duration,
) -> Result<(), ListenerError> {
    let deadline = multiproc_sys::time::deadline_after(Some(timeout));
    if deadline.is_none() {
        stream.set_io_timeout(None)?;
    }
    let mut deadlined = Deadlined {
        stream: &mut *stream,
        deadline,
    };
    let result = match role {
        Role::Server => deliver_challenge(&mut deadlined, authkey, nonce)
            .and_then(|()| answer_challenge(&mut deadlined, authkey)),
        Role::Client => answer_challenge(&mut deadlined, authkey)
            .and_then(|()| deliver_challenge(&mut deadlined, authkey, nonce)),
    };
    match result {
        Ok(()) => Ok(stream.set_io_timeout(None)?),
        Err(ListenerError::Io(err) | ListenerError::Connection(PipeError::Io(err)))
            if matches!(
                err.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            Err(ListenerError::HandshakeTimeout(timeout))
        }
        Err(ListenerError::Connection(PipeError::Closed)) => Err(ListenerError::HandshakeClosed),
        Err(ListenerError::Connection(PipeError::MessageTooLarge { size, .. })) => {
            Err(ListenerError::AuthenticationFailed(format!(
                "the peer sent a {size}-byte handshake message (at most \
             {MAX_HANDSHAKE_FRAME} bytes are read)"
            )))
        }
        Err(err) => Err(err),
    }
}

fn mac(authkey: &[u8], message: &[u8]) -> Result<HmacSha256, ListenerError> {
    // HMAC takes keys of any length (RFC 2104 hashes long ones), so this error is never
    // seen; it is an error rather than a panic all the same.
    let mut mac = HmacSha256::new_from_slice(authkey)
        .map_err(|err| ListenerError::AuthenticationFailed(format!("unusable authkey: {err}")))?;
    mac.update(message);
    Ok(mac)
}

/// Challenges the peer and checks its answer; tells it the verdict either way.
fn deliver_challenge(
    stream: &mut (impl Read + Write),
    authkey: &[u8],
    nonce: &[u8; NONCE_LEN],
) -> Result<(), ListenerError> {
    // The MAC covers the digest name too, so a peer cannot pick a weaker one.
    let message = [DIGEST_PREFIX, nonce].concat();
    write_frame(stream, &[CHALLENGE, &message].concat())?;
    let response = read_frame(stream, MAX_HANDSHAKE_FRAME)?;
    match verify_response(authkey, &message, &response) {
        Ok(()) => Ok(write_frame(stream, WELCOME)?),
        Err(err) => {
            // Best effort: the peer learns it was refused rather than seeing a reset.
            let _ = write_frame(stream, FAILURE);
            Err(err)
        }
    }
}

/// Checks `{sha256}<mac>` against HMAC-SHA256(`authkey`, `message`) in constant time.
fn verify_response(authkey: &[u8], message: &[u8], response: &[u8]) -> Result<(), ListenerError> {
    let digest = response.strip_prefix(DIGEST_PREFIX).ok_or_else(|| {
        ListenerError::AuthenticationFailed(
            "the peer did not answer with an HMAC-SHA256 digest (legacy HMAC-MD5 peers are \
             not supported)"
                .into(),
        )
    })?;
    mac(authkey, message)?.verify_slice(digest).map_err(|_| {
        ListenerError::AuthenticationFailed(
            "the peer's digest is wrong (a different authkey?)".into(),
        )
    })
}

/// Answers the peer's challenge and reads its verdict.
fn answer_challenge(stream: &mut (impl Read + Write), authkey: &[u8]) -> Result<(), ListenerError> {
    let challenge = read_frame(stream, MAX_HANDSHAKE_FRAME)?;
    let message = challenge.strip_prefix(CHALLENGE).ok_or_else(|| {
        ListenerError::AuthenticationFailed(
            "the peer did not start the handshake with a challenge".into(),
        )
    })?;
    let nonce = message.strip_prefix(DIGEST_PREFIX).ok_or_else(|| {
        ListenerError::AuthenticationFailed(
            "the peer's challenge does not ask for HMAC-SHA256 (legacy HMAC-MD5 peers are not \
             supported)"
                .into(),
        )
    })?;
    if nonce.len() < MIN_NONCE_LEN {
        return Err(ListenerError::AuthenticationFailed(format!(
            "the peer's challenge is too short: {} random bytes, at least {MIN_NONCE_LEN} \
             expected",
            nonce.len()
        )));
    }
    let digest = mac(authkey, message)?.finalize().into_bytes();
    write_frame(stream, &[DIGEST_PREFIX, &digest].concat())?;
    let verdict = read_frame(stream, MAX_HANDSHAKE_FRAME)?;
    if verdict == WELCOME {
        Ok(())
    } else if verdict == FAILURE {
        Err(ListenerError::AuthenticationFailed(
            "the peer rejected our digest (a different authkey?)".into(),
        ))
    } else {
        Err(ListenerError::AuthenticationFailed(
            "the peer answered the handshake with neither welcome nor failure".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_matches_cpython() {
        // Computed with CPython 3.12:
        // hmac.new(b"key", b"{sha256}" + bytes(range(40)), "sha256").hexdigest()
        let message = [DIGEST_PREFIX, &(0..40).collect::<Vec<u8>>()].concat();
        let digest = mac(b"key", &message).unwrap().finalize().into_bytes();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, CPYTHON_DIGEST);
        let response = [DIGEST_PREFIX, &digest].concat();
        assert!(verify_response(b"key", &message, &response).is_ok());
        assert!(verify_response(b"other", &message, &response).is_err());
        assert!(verify_response(b"key", &message, &digest).is_err());
    }

    const CPYTHON_DIGEST: &str = "05b37335205f51ff483146e965fdf576943e0e64675a64ceccba80b6704d76b8";
}
