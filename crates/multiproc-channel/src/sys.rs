//! The crate's only `unsafe`: raw access to a queue's shared segment, and poll(2).

use std::cell::Cell;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use multiproc_shared::Segment;

/// The 64-bit counter at byte `offset` of `segment`.
///
/// # Panics
///
/// If `offset` is unaligned or out of bounds.
pub(crate) fn counter(segment: &Segment, offset: usize) -> &AtomicU64 {
    assert!(offset.is_multiple_of(align_of::<AtomicU64>()));
    assert!(offset + size_of::<AtomicU64>() <= segment.len());
    // SAFETY: in bounds and aligned (asserted); the segment is a zero-initialised
    // MAP_SHARED mapping that lives as long as `segment`, and every bit pattern is a valid
    // `AtomicU64`, which only allows interior mutation through atomic operations.
    unsafe { &*segment.as_ptr().add(offset).cast::<AtomicU64>() }
}

/// Copies `bytes` into `segment` at `offset`.
///
/// Callers hold the queue lock, which orders these plain writes against every other
/// process's reads of the same bytes.
pub(crate) fn write_bytes(segment: &Segment, offset: usize, bytes: &[u8]) {
    assert!(
        offset
            .checked_add(bytes.len())
            .is_some_and(|end| end <= segment.len())
    );
    // SAFETY: the destination range is inside the mapping (asserted) and cannot overlap
    // `bytes`, which lives in private memory; no reference to the shared bytes exists.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), segment.as_ptr().add(offset), bytes.len());
    }
}

/// Copies `out.len()` bytes of `segment` at `offset` into `out`; same locking rule as
/// [`write_bytes`].
pub(crate) fn read_bytes(segment: &Segment, offset: usize, out: &mut [u8]) {
    assert!(
        offset
            .checked_add(out.len())
            .is_some_and(|end| end <= segment.len())
    );
    // SAFETY: the source range is inside the mapping (asserted); `out` is private memory.
    unsafe {
        std::ptr::copy_nonoverlapping(segment.as_ptr().add(offset), out.as_mut_ptr(), out.len());
    }
}

/// Appends `len` bytes of `segment` at `offset` to `out`, without zero-filling `out`'s
/// new bytes first; same locking rule as [`write_bytes`].
pub(crate) fn append_bytes(segment: &Segment, offset: usize, len: usize, out: &mut Vec<u8>) {
    assert!(
        offset
            .checked_add(len)
            .is_some_and(|end| end <= segment.len())
    );
    out.reserve(len);
    let old_len = out.len();
    // SAFETY: the source range is inside the mapping (asserted); the destination is the
    // spare capacity of `out` (at least `len` bytes after `reserve`), private memory that
    // cannot overlap the mapping. After the copy those `len` bytes are initialised, so the
    // new length covers only initialised bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(
            segment.as_ptr().add(offset),
            out.as_mut_ptr().add(old_len),
            len,
        );
        out.set_len(old_len + len);
    }
}

thread_local! {
    /// The buffer registered by [`with_sink`] on this thread: start and length.
    static SINK: Cell<Option<(*mut u8, usize)>> = const { Cell::new(None) };
}

/// A caller's buffer that one received bytes payload may be copied into directly
/// (`Connection::recv_bytes_into`), instead of into a fresh `Vec` first. Obtained with
/// [`Sink::take`] inside [`with_sink`]; not `Send`, and consumed by its one use.
pub(crate) struct Sink {
    start: *mut u8,
    len: usize,
}

/// Runs `body` with `buf` registered as this thread's sink; unregisters it afterwards,
/// also on unwind.
pub(crate) fn with_sink<R>(buf: &mut [u8], body: impl FnOnce() -> R) -> R {
    struct Restore(Option<(*mut u8, usize)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SINK.with(|sink| sink.set(self.0));
        }
    }
    let previous = SINK.with(|sink| sink.replace(Some((buf.as_mut_ptr(), buf.len()))));
    let _restore = Restore(previous);
    body()
}

impl Sink {
    /// Takes the sink registered by the enclosing [`with_sink`], if any: the first frame
    /// decoded gets it, nested frames (a connection's pending message inside a value)
    /// find none.
    pub(crate) fn take() -> Option<Sink> {
        SINK.with(|sink| sink.take())
            .map(|(start, len)| Sink { start, len })
    }

    /// Copies `bytes` into the sink if they fit; gives the sink back otherwise.
    pub(crate) fn fill(self, bytes: &[u8]) -> Result<usize, Sink> {
        if bytes.len() > self.len {
            return Err(self);
        }
        // SAFETY: `start..start + len` is the `&mut [u8]` that `with_sink` borrows for the
        // whole of its `body`, and a `Sink` only exists inside that body (it is taken from
        // the thread-local there, is not `Send`, and the registration is removed when the
        // body ends). Nothing else touches that buffer meanwhile: its only borrower is
        // `with_sink`. `bytes` (a received message) is a different allocation, so the
        // ranges cannot overlap, and `bytes.len() <= len` was checked above.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.start, bytes.len());
        }
        Ok(bytes.len())
    }
}

/// poll(2) for readability on `fds`; returns one flag per fd. `None` waits forever.
pub(crate) fn poll_readable(
    fds: &[BorrowedFd<'_>],
    timeout: Option<Duration>,
) -> io::Result<Vec<bool>> {
    let mut pollfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let millis = match timeout {
        None => -1,
        Some(timeout) => {
            libc::c_int::try_from(timeout.as_micros().div_ceil(1000)).unwrap_or(libc::c_int::MAX)
        }
    };
    loop {
        // SAFETY: `pollfds` is a valid, exclusively borrowed array of `pollfds.len()`
        // entries whose fds are borrowed for the duration of the call.
        let result =
            unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, millis) };
        if result >= 0 {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    Ok(pollfds.iter().map(|p| p.revents != 0).collect())
}

/// Whether process `pid` is alive: it exists and is not a zombie (proc(5),
/// `/proc/<pid>/stat` field 3).
pub(crate) fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => match stat.rfind(')') {
            Some(end) => !matches!(stat[end + 1..].trim_start().chars().next(), Some('Z' | 'X')),
            None => true,
        },
        Err(_) => false,
    }
}
