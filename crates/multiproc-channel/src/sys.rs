//! The crate's only `unsafe`: the sink that lets a received payload be copied straight into
//! a caller's buffer. (The receiver that lends out its descriptor, so that its next message
//! can be checked before ipc-channel reads it, is `multiproc_sys::ipc_receiver`.) System
//! calls are made by `multiproc-sys`, and a queue's shared memory is read and written
//! through `multiproc_shared::Segment`'s bounds-checked atomic access.

use std::cell::Cell;

thread_local! {
    /// The buffer registered by [`with_sink`] on this thread, until a [`Sink::take`].
    static SINK: Cell<Option<Registration>> = const { Cell::new(None) };
    /// The id of the registration whose [`with_sink`] body runs on this thread now (0:
    /// none). A [`Sink`] writes only while its own registration is the active one.
    static ACTIVE: Cell<u64> = const { Cell::new(0) };
    /// The next registration id on this thread; ids are never reused (a `u64` counter).
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };
}

/// A buffer lent to [`with_sink`]'s body: start, length, and the id of that loan.
#[derive(Clone, Copy)]
struct Registration {
    start: *mut u8,
    len: usize,
    id: u64,
}

/// A caller's buffer that one received bytes payload may be copied into directly
/// (`Connection::recv_bytes_into`), instead of into a fresh `Vec` first. Obtained with
/// [`Sink::take`] inside [`with_sink`]; not `Send` (it holds a raw pointer), not `Clone`,
/// and consumed by its one use.
///
/// Sound by construction, not by its callers' care: a `Sink` kept past the end of its
/// [`with_sink`] body (when its buffer may be gone) finds its registration no longer
/// active, and [`fill`](Sink::fill) then writes nothing.
pub(crate) struct Sink {
    registration: Registration,
}

/// Runs `body` with `buf` registered as this thread's sink; unregisters it afterwards,
/// also on unwind.
pub(crate) fn with_sink<R>(buf: &mut [u8], body: impl FnOnce() -> R) -> R {
    struct Restore {
        sink: Option<Registration>,
        active: u64,
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            // `try_with`: nothing to restore while the thread's locals are torn down.
            let _ = SINK.try_with(|sink| sink.set(self.sink));
            let _ = ACTIVE.try_with(|active| active.set(self.active));
        }
    }
    let id = NEXT_ID.with(|next| {
        let id = next.get();
        next.set(id + 1);
        id
    });
    let registration = Registration {
        start: buf.as_mut_ptr(),
        len: buf.len(),
        id,
    };
    let _restore = Restore {
        sink: SINK.with(|sink| sink.replace(Some(registration))),
        active: ACTIVE.with(|active| active.replace(id)),
    };
    body()
}

impl Sink {
    /// Takes the sink registered by the enclosing [`with_sink`], if any: the first frame
    /// decoded gets it, nested frames (a connection's pending message inside a value)
    /// find none.
    pub(crate) fn take() -> Option<Sink> {
        SINK.try_with(Cell::take)
            .ok()
            .flatten()
            .map(|registration| Sink { registration })
    }

    /// Copies `bytes` into the sink if they fit and its [`with_sink`] body still runs;
    /// gives the sink back otherwise.
    pub(crate) fn fill(self, bytes: &[u8]) -> Result<usize, Sink> {
        let Registration { start, len, id } = self.registration;
        let active = ACTIVE.try_with(Cell::get).unwrap_or(0);
        if bytes.len() > len || active != id {
            return Err(self);
        }
        // SAFETY: `start..start + len` is the `&mut [u8]` that `with_sink` holds for the
        // whole of its `body`, and that body is running now on this thread: `ACTIVE` holds
        // this registration's id only from its start to its end (restored on unwind too),
        // ids are unique on the thread, and a `Sink` is not `Send`, so the check above
        // shows the buffer is alive and still lent to us. Nothing else touches it
        // meanwhile: `with_sink` does not use `buf` during the body, and the body cannot
        // reach it except through this pointer. `bytes` cannot overlap it, since a shared
        // borrow of that memory cannot exist while the `&mut` is held. `bytes.len() <=
        // len` was checked above.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), start, bytes.len());
        }
        Ok(bytes.len())
    }
}

/// An ipc-channel receiver that lends out its descriptor, for `poll` and `MSG_PEEK`
/// (ipc-channel trusts the size header of a message and reserves it; the pipe checks that
/// header first). The one such wrapper lives in the OS layer.
pub(crate) use multiproc_sys::ipc_receiver::WatchedReceiver as Receiver;

#[cfg(test)]
mod sink_tests {
    use super::*;

    #[test]
    fn a_sink_fills_its_buffer_inside_the_body() {
        let mut buf = [0u8; 4];
        let filled = with_sink(&mut buf, || Sink::take().map(|sink| sink.fill(b"abc").ok()));
        assert_eq!(filled, Some(Some(3)));
        assert_eq!(&buf, b"abc\0");
    }

    #[test]
    fn the_sink_is_taken_once_and_refuses_what_does_not_fit() {
        let mut buf = [0u8; 2];
        with_sink(&mut buf, || {
            let sink = Sink::take().expect("registered");
            assert!(Sink::take().is_none(), "a nested frame must find no sink");
            assert!(sink.fill(b"too long").is_err());
        });
        assert_eq!(buf, [0, 0]);
        assert!(Sink::take().is_none(), "unregistered after the body");
    }

    #[test]
    fn a_sink_kept_past_its_body_writes_nothing() {
        let mut escaped = None;
        {
            let mut buf = vec![0u8; 8];
            with_sink(&mut buf, || escaped = Sink::take());
        }
        let sink = escaped.expect("taken inside the body");
        let Err(sink) = sink.fill(b"late") else {
            panic!("a sink wrote after its body")
        };
        // Nor inside a later body with another buffer.
        let mut other = [0u8; 8];
        let sink = with_sink(&mut other, || sink.fill(b"late").err());
        assert!(sink.is_some());
        assert_eq!(other, [0; 8]);
    }
}
