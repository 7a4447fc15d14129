//! The crate's only `unsafe`: the sink that lets a received payload be copied straight into
//! a caller's buffer, and the [`Receiver`] that lends out the descriptor of an ipc-channel
//! receiver so its next message can be checked before ipc-channel reads it. System calls are made by `multiproc-sys`, and a queue's shared memory
//! is read and written through `multiproc_shared::Segment`'s bounds-checked atomic access.

use std::cell::Cell;
use std::os::fd::{BorrowedFd, RawFd};

use ipc_channel::ipc::IpcReceiver;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

/// The descriptor an ipc-channel receiver holds (see
/// [`multiproc_sys::ipc_record::receiver_fd_from_debug`]).
fn parse_receiver_fd(debug: &str) -> Option<RawFd> {
    multiproc_sys::ipc_record::receiver_fd_from_debug(debug)
}

/// An ipc-channel receiver together with its descriptor, which [`fd`](Self::fd) lends out
/// for `poll` and `MSG_PEEK` (ipc-channel trusts the size header of a message and reserves
/// it; the pipe checks that header first).
pub(crate) struct Receiver<T> {
    inner: IpcReceiver<T>,
    /// The descriptor `inner` owns, if it could be learnt.
    fd: Option<RawFd>,
    /// Set once `inner` was serialized: that moves its descriptor out (ipc-channel sets its
    /// own copy to -1 and closes it once the message is sent), so `fd` is stale from then
    /// on.
    moved: Cell<bool>,
}

impl<T> Receiver<T>
where
    T: for<'de> Deserialize<'de> + Serialize,
{
    pub(crate) fn new(inner: IpcReceiver<T>) -> Receiver<T> {
        // The opaque form's `Debug` needs no `T: Debug`; the round trip moves no descriptor.
        let opaque = inner.to_opaque();
        let fd = parse_receiver_fd(&format!("{opaque:?}"));
        Receiver {
            inner: opaque.to(),
            fd,
            moved: Cell::new(false),
        }
    }
}

impl<T> Receiver<T> {
    pub(crate) fn get(&self) -> &IpcReceiver<T> {
        &self.inner
    }

    /// The receiver's descriptor, unless it is unknown or was moved out by serialization.
    pub(crate) fn fd(&self) -> Option<BorrowedFd<'_>> {
        if self.moved.get() {
            return None;
        }
        let fd = self.fd?;
        // SAFETY: `fd` is the descriptor `self.inner` owns: it was read from `inner`'s own
        // `Debug` form when `self` was made, and `inner` keeps it open until it is dropped
        // (which cannot happen while `&self` is borrowed for the returned lifetime) or
        // serialized (the only way to move it out, since `inner` is private and
        // `to_opaque` takes it by value; `Serialize` below sets `moved` first, checked
        // above).
        Some(unsafe { BorrowedFd::borrow_raw(fd) })
    }
}

impl<T> Serialize for Receiver<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.moved.set(true);
        self.inner.serialize(serializer)
    }
}

impl<'de, T> Deserialize<'de> for Receiver<T>
where
    T: for<'a> Deserialize<'a> + Serialize,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IpcReceiver::deserialize(deserializer).map(Receiver::new)
    }
}

#[cfg(test)]
mod receiver_tests {
    use super::*;

    #[test]
    fn the_descriptor_is_found_and_forgotten_once_moved() {
        let (_tx, rx) = ipc_channel::ipc::channel::<u8>().unwrap();
        let receiver = Receiver::new(rx);
        let fd = receiver.fd().expect("ipc-channel's Debug form changed");
        assert!(multiproc_sys::poll::wait_readable(fd, Some(std::time::Duration::ZERO)).is_ok());
        let _ = postcard::to_stdvec(&receiver);
        assert!(receiver.fd().is_none());
        assert_eq!(
            parse_receiver_fd("OsIpcReceiver { fd: Cell { value: -1 } }"),
            None
        );
        assert_eq!(parse_receiver_fd("something else"), None);
    }
}

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
