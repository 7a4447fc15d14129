//! The crate's only `unsafe`: raw access to a queue's shared segment, and poll(2).

use std::cell::Cell;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use multiproc_shared::Segment;

use crate::error::Error;

/// Checks that `len` bytes at `offset` lie inside `segment`; the error names the range.
fn check_range(segment: &Segment, offset: usize, len: usize) -> Result<(), Error> {
    match offset.checked_add(len) {
        Some(end) if end <= segment.len() => Ok(()),
        _ => Err(Error::Corrupt(format!(
            "{len} bytes at offset {offset} lie outside the {}-byte segment",
            segment.len()
        ))),
    }
}

/// The 64-bit atomic word at byte `offset` of `segment`; an error if `offset` is unaligned
/// or the word does not lie inside the segment.
pub(crate) fn atomic_u64(segment: &Segment, offset: usize) -> Result<&AtomicU64, Error> {
    check_range(segment, offset, size_of::<AtomicU64>())?;
    // The mapping is page-aligned, so an aligned offset is an aligned address.
    if !offset.is_multiple_of(align_of::<AtomicU64>()) {
        return Err(Error::Corrupt(format!(
            "offset {offset} is not aligned for a 64-bit word"
        )));
    }
    // SAFETY: in bounds and aligned (checked above); the segment is a zero-initialised
    // MAP_SHARED mapping that lives as long as `segment`, and every bit pattern is a valid
    // `AtomicU64`, which only allows interior mutation through atomic operations.
    Ok(unsafe { &*segment.as_ptr().add(offset).cast::<AtomicU64>() })
}

/// Copies `bytes` into `segment` at `offset`; an error if the range does not lie inside
/// the segment.
///
/// Callers hold the queue lock, which orders these plain writes against every other
/// process's reads of the same bytes.
pub(crate) fn write_at(segment: &Segment, offset: usize, bytes: &[u8]) -> Result<(), Error> {
    check_range(segment, offset, bytes.len())?;
    // SAFETY: the destination range is inside the mapping (checked above) and cannot
    // overlap `bytes`, which lives in private memory; no reference to the shared bytes
    // exists.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), segment.as_ptr().add(offset), bytes.len());
    }
    Ok(())
}

/// Copies `out.len()` bytes of `segment` at `offset` into `out`; same locking rule as
/// [`write_at`].
pub(crate) fn read_at(segment: &Segment, offset: usize, out: &mut [u8]) -> Result<(), Error> {
    check_range(segment, offset, out.len())?;
    // SAFETY: the source range is inside the mapping (checked above); `out` is private
    // memory.
    unsafe {
        std::ptr::copy_nonoverlapping(segment.as_ptr().add(offset), out.as_mut_ptr(), out.len());
    }
    Ok(())
}

/// Appends `len` bytes of `segment` at `offset` to `out`, without zero-filling `out`'s
/// new bytes first; same locking rule as [`write_at`]. `out` grows only after the range
/// is known to lie inside the segment, so `len` is bounded by the mapping's size.
pub(crate) fn append_to(
    segment: &Segment,
    offset: usize,
    len: usize,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    check_range(segment, offset, len)?;
    out.reserve(len);
    let old_len = out.len();
    // SAFETY: the source range is inside the mapping (checked above); the destination is
    // the spare capacity of `out` (at least `len` bytes after `reserve`), private memory
    // that cannot overlap the mapping. After the copy those `len` bytes are initialised,
    // so the new length covers only initialised bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(
            segment.as_ptr().add(offset),
            out.as_mut_ptr().add(old_len),
            len,
        );
        out.set_len(old_len + len);
    }
    Ok(())
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
