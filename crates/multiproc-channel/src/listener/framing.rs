//! Length-prefixed frames, as in CPython's `multiprocessing.connection`: a 4-byte
//! big-endian signed length, or `-1` followed by an 8-byte big-endian length for messages
//! above 2 GiB, then the payload.

use std::io::{self, IoSlice, Read, Write};

use crate::error::PipeError;

/// The largest message a connection accepts unless configured otherwise: 64 MiB.
///
/// ```
/// use multiproc_channel::{DEFAULT_MAX_MESSAGE_SIZE, Listener};
///
/// assert_eq!(DEFAULT_MAX_MESSAGE_SIZE, 64 << 20);
/// let listener = Listener::bind_unix_temp(None)?.with_max_message_size(2 * DEFAULT_MAX_MESSAGE_SIZE);
/// # drop(listener);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;

/// Payload bytes reserved up front for a frame; larger frames grow as their bytes arrive,
/// so a peer that announces a large message and sends nothing costs no more than this.
const PREALLOCATE_AT_MOST: usize = 1 << 20;

/// Bytes a connection reads ahead of the frame it is after: a small frame (header and
/// payload) then takes one `read`.
const INBOX_SIZE: usize = 16 << 10;

fn from_io(err: io::Error) -> PipeError {
    match err.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::NotConnected => PipeError::Closed,
        _ => PipeError::Io(err),
    }
}

/// The length prefix of a `len`-byte payload, and how many of its 12 bytes are used.
fn header(len: usize) -> ([u8; 12], usize) {
    let mut header = [0; 12];
    match i32::try_from(len) {
        Ok(len) => {
            header[..4].copy_from_slice(&len.to_be_bytes());
            (header, 4)
        }
        Err(_) => {
            header[..4].copy_from_slice(&(-1_i32).to_be_bytes());
            header[4..].copy_from_slice(&(len as u64).to_be_bytes());
            (header, 12)
        }
    }
}

/// Writes one frame: the length prefix, then `payload`, gathered into one `writev` (and
/// more only if the socket takes part of it), without copying the payload.
pub(crate) fn write_frame(stream: &mut impl Write, payload: &[u8]) -> Result<(), PipeError> {
    let (header, header_len) = header(payload.len());
    let mut parts = [IoSlice::new(&header[..header_len]), IoSlice::new(payload)];
    let mut parts = &mut parts[..];
    while !parts.is_empty() {
        match stream.write_vectored(parts) {
            Ok(0) => return Err(PipeError::Closed),
            Ok(written) => IoSlice::advance_slices(&mut parts, written),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(from_io(err)),
        }
    }
    Ok(())
}

/// Reads one frame of at most `max` payload bytes.
///
/// The announced length is checked before anything is allocated for it, and the payload
/// buffer grows only as bytes arrive. A clean or mid-frame end of stream is
/// [`PipeError::Closed`].
pub(crate) fn read_frame(stream: &mut impl Read, max: usize) -> Result<Vec<u8>, PipeError> {
    let mut header = [0; 4];
    stream.read_exact(&mut header).map_err(from_io)?;
    let size = match i32::from_be_bytes(header) {
        -1 => {
            let mut long = [0; 8];
            stream.read_exact(&mut long).map_err(from_io)?;
            u64::from_be_bytes(long)
        }
        len if len >= 0 => len as u64,
        len => return Err(PipeError::Decode(format!("invalid message length {len}"))),
    };
    if size > max as u64 {
        return Err(PipeError::MessageTooLarge { size, max });
    }
    let size = size as usize;
    let mut payload = Vec::with_capacity(size.min(PREALLOCATE_AT_MOST));
    stream
        .take(size as u64)
        .read_to_end(&mut payload)
        .map_err(from_io)?;
    if payload.len() < size {
        return Err(PipeError::Closed);
    }
    Ok(payload)
}

/// Bytes read from a stream but not yet taken as frames: a header and payload that
/// arrived together take one `read`. Frames larger than the buffer are read straight into
/// their own allocation, after the bytes already buffered.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    /// Allocated on the first read.
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Inbox {
    /// Whether bytes are buffered (a whole frame or part of one).
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, count: usize) {
        self.start += count;
        if self.start >= self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads once more from `stream`, after the bytes buffered, making room first; at
    /// least `want` bytes fit in the buffer (`want <= INBOX_SIZE`). The end of the stream is
    /// [`PipeError::Closed`].
    fn fill(&mut self, stream: &mut impl Read, want: usize) -> Result<(), PipeError> {
        if self.buf.is_empty() {
            self.buf = vec![0; INBOX_SIZE];
        }
        if self.buf.len() - self.start < want {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        loop {
            match stream.read(&mut self.buf[self.end..]) {
                Ok(0) => return Err(PipeError::Closed),
                Ok(read) => {
                    self.end += read;
                    return Ok(());
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(from_io(err)),
            }
        }
    }

    /// Reads one frame of at most `max` payload bytes, as [`read_frame`], through this
    /// buffer: one `read` for a frame that arrived whole, however small.
    pub(crate) fn read_frame(
        &mut self,
        stream: &mut impl Read,
        max: usize,
    ) -> Result<Vec<u8>, PipeError> {
        while self.buffered().len() < 4 {
            self.fill(stream, 4)?;
        }
        let (size, header_len): (u64, usize) = match i32::from_be_bytes(array(self.buffered())) {
            -1 => {
                while self.buffered().len() < 12 {
                    self.fill(stream, 12)?;
                }
                (u64::from_be_bytes(array(&self.buffered()[4..])), 12)
            }
            len if len >= 0 => (len as u64, 4),
            len => return Err(PipeError::Decode(format!("invalid message length {len}"))),
        };
        if size > max as u64 {
            return Err(PipeError::MessageTooLarge { size, max });
        }
        // At most `max`, which is a `usize`.
        let size = size as usize;
        let frame_len = header_len.saturating_add(size);
        if frame_len <= INBOX_SIZE {
            while self.buffered().len() < frame_len {
                self.fill(stream, frame_len)?;
            }
            let payload = self.buffered()[header_len..frame_len].to_vec();
            self.consume(frame_len);
            return Ok(payload);
        }
        // A large frame: what arrived so far, then the rest as it comes (the buffer grows
        // with the bytes that arrive, never to the announced size up front).
        self.consume(header_len);
        let mut payload = self.buffered().to_vec();
        let taken = payload.len();
        self.consume(taken);
        stream
            .take((size - taken) as u64)
            .read_to_end(&mut payload)
            .map_err(from_io)?;
        if payload.len() < size {
            return Err(PipeError::Closed);
        }
        Ok(payload)
    }
}

/// The first `N` bytes of `bytes` (the caller checked there are that many).
fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that hands out its bytes in the chunks given, one chunk per `read`.
    struct Chunked(Vec<Vec<u8>>);

    impl Read for Chunked {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some(chunk) = self.0.first_mut() else {
                return Ok(0);
            };
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            chunk.drain(..n);
            if chunk.is_empty() {
                self.0.remove(0);
            }
            Ok(n)
        }
    }

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_frame(&mut out, payload).unwrap();
        out
    }

    #[test]
    fn frames_that_arrive_together_split_or_byte_by_byte_come_out_whole() {
        let big = vec![7u8; 3 * INBOX_SIZE + 5];
        let mut bytes = [frame(b"one"), frame(b""), frame(&big), frame(b"four")].concat();
        let whole = Chunked(vec![bytes.clone()]);
        let bytewise = Chunked(bytes.iter().map(|&b| vec![b]).collect());
        let tail = bytes.split_off(5);
        let split = Chunked(vec![bytes, tail]);
        for mut stream in [whole, bytewise, split] {
            let mut inbox = Inbox::default();
            assert_eq!(inbox.read_frame(&mut stream, usize::MAX).unwrap(), b"one");
            assert_eq!(inbox.read_frame(&mut stream, usize::MAX).unwrap(), b"");
            assert_eq!(inbox.read_frame(&mut stream, usize::MAX).unwrap(), big);
            assert_eq!(inbox.read_frame(&mut stream, usize::MAX).unwrap(), b"four");
            assert!(matches!(
                inbox.read_frame(&mut stream, usize::MAX),
                Err(PipeError::Closed)
            ));
        }
    }

    #[test]
    fn a_claimed_length_is_checked_before_anything_is_allocated_for_it() {
        // Above the limit: refused at once.
        let mut stream = Chunked(vec![(1000_i32).to_be_bytes().to_vec()]);
        let mut inbox = Inbox::default();
        assert!(matches!(
            inbox.read_frame(&mut stream, 999),
            Err(PipeError::MessageTooLarge {
                size: 1000,
                max: 999
            })
        ));
        // Within the limit but never sent: the end of the stream, with no more than the
        // bytes that came allocated (a 2 GiB claim would abort the test otherwise).
        let mut claim = (-1_i32).to_be_bytes().to_vec();
        claim.extend_from_slice(&(1_u64 << 40).to_be_bytes());
        claim.extend_from_slice(b"abc");
        let mut stream = Chunked(vec![claim]);
        assert!(matches!(
            Inbox::default().read_frame(&mut stream, usize::MAX),
            Err(PipeError::Closed)
        ));
        // A negative length other than -1.
        let mut stream = Chunked(vec![(-2_i32).to_be_bytes().to_vec()]);
        assert!(matches!(
            Inbox::default().read_frame(&mut stream, usize::MAX),
            Err(PipeError::Decode(_))
        ));
        // A header cut short.
        let mut stream = Chunked(vec![vec![0, 0]]);
        assert!(matches!(
            Inbox::default().read_frame(&mut stream, usize::MAX),
            Err(PipeError::Closed)
        ));
    }
}
