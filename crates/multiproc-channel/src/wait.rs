//! `wait()`: readiness over connections, queues and pollable fds together.

use std::fmt;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::connection::Connection;
use crate::error::PipeError;
use crate::pipe_end::PipeReader;
use crate::queue::{JoinableQueue, Queue, SimpleQueue};

/// Something [`wait`] can watch: a [`Connection`], a queue, or any pollable fd such as a
/// process sentinel (`Process::sentinel()` returns a `BorrowedFd`).
///
/// Build one with `.into()` (or [`Waitable::fd`] for any `AsFd`).
///
/// # Examples
///
/// ```
/// use multiproc_channel::{Pipe, Queue, Waitable};
///
/// let (reader, _writer) = Pipe::<u8>::new()?;
/// let queue = Queue::<u8>::new()?;
/// let stdin = std::io::stdin();
/// let objects: [Waitable<'_>; 3] = [(&reader).into(), (&queue).into(), Waitable::fd(&stdin)];
/// # let _ = objects;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Waitable<'a>(Kind<'a>);

enum Kind<'a> {
    Probe(&'a dyn Probe),
    Fd(BorrowedFd<'a>),
}

/// A non-blocking readiness check.
trait Probe {
    fn ready_now(&self) -> bool;
}

impl<T: Serialize + DeserializeOwned> Probe for Connection<T> {
    fn ready_now(&self) -> bool {
        Connection::ready_now(self)
    }
}

impl<T: Serialize + DeserializeOwned + 'static> Probe for Queue<T> {
    fn ready_now(&self) -> bool {
        Queue::ready_now(self)
    }
}

impl<T: Serialize + DeserializeOwned + 'static> Probe for SimpleQueue<T> {
    fn ready_now(&self) -> bool {
        SimpleQueue::ready_now(self)
    }
}

impl<T: Serialize + DeserializeOwned + 'static> Probe for JoinableQueue<T> {
    fn ready_now(&self) -> bool {
        Queue::ready_now(self)
    }
}

impl fmt::Debug for Waitable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Probe(_) => f.write_str("Waitable(channel)"),
            Kind::Fd(fd) => f.debug_tuple("Waitable").field(fd).finish(),
        }
    }
}

impl<'a> Waitable<'a> {
    /// Watches any file descriptor for readability (a process sentinel, a socket, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// let stdin = std::io::stdin();
    /// let waitable = multiproc_channel::Waitable::fd(&stdin);
    /// # let _ = waitable;
    /// ```
    pub fn fd(fd: &'a impl AsFd) -> Self {
        Waitable(Kind::Fd(fd.as_fd()))
    }
}

impl<'a> From<BorrowedFd<'a>> for Waitable<'a> {
    fn from(fd: BorrowedFd<'a>) -> Self {
        Waitable(Kind::Fd(fd))
    }
}

impl<'a, T: Serialize + DeserializeOwned> From<&'a Connection<T>> for Waitable<'a> {
    fn from(connection: &'a Connection<T>) -> Self {
        Waitable(Kind::Probe(connection))
    }
}

impl<'a, T: Serialize + DeserializeOwned> From<&'a PipeReader<T>> for Waitable<'a> {
    fn from(reader: &'a PipeReader<T>) -> Self {
        reader.as_connection().into()
    }
}

impl<'a, T: Serialize + DeserializeOwned + 'static> From<&'a Queue<T>> for Waitable<'a> {
    fn from(queue: &'a Queue<T>) -> Self {
        Waitable(Kind::Probe(queue))
    }
}

impl<'a, T: Serialize + DeserializeOwned + 'static> From<&'a SimpleQueue<T>> for Waitable<'a> {
    fn from(queue: &'a SimpleQueue<T>) -> Self {
        Waitable(Kind::Probe(queue))
    }
}

impl<'a, T: Serialize + DeserializeOwned + 'static> From<&'a JoinableQueue<T>> for Waitable<'a> {
    fn from(queue: &'a JoinableQueue<T>) -> Self {
        Waitable(Kind::Probe(queue))
    }
}

/// Waits until at least one object is ready, or `timeout` passes (`None`: forever), and
/// returns the indexes of the ready ones (empty on timeout), like Python's
/// `multiprocessing.connection.wait`.
///
/// Ready means: a connection has a message or its peer closed (a message is moved into
/// the connection's buffer, where the next receive finds it); a queue has an item or is
/// closed; an fd is readable (a process sentinel once the process has ended).
///
/// Fds are watched with poll(2). Connections and queues expose no fd (ipc-channel keeps
/// its sockets private, queues sleep on futexes), so while any is in the list the wait
/// polls them in rounds that grow from 50 µs to 2 ms: readiness is seen within ~2 ms.
///
/// # Examples
///
/// ```
/// use multiproc_channel::{Pipe, Queue, wait};
/// use std::time::Duration;
///
/// let (reader, writer) = Pipe::<u8>::new()?;
/// let queue = Queue::<u8>::new()?;
/// assert!(wait(&[(&reader).into(), (&queue).into()], Some(Duration::from_millis(10)))?.is_empty());
/// queue.put(1)?;
/// assert_eq!(wait(&[(&reader).into(), (&queue).into()], None)?, [1]);
/// # drop(writer);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "multiprocessing.connection.wait")]
pub fn wait(objects: &[Waitable<'_>], timeout: Option<Duration>) -> Result<Vec<usize>, PipeError> {
    let deadline = multiproc_sys::time::deadline_after(timeout);
    let fds: Vec<(usize, BorrowedFd<'_>)> = objects
        .iter()
        .enumerate()
        .filter_map(|(i, o)| match o.0 {
            Kind::Fd(fd) => Some((i, fd)),
            Kind::Probe(_) => None,
        })
        .collect();
    let only_fds = fds.len() == objects.len();
    let mut round = Duration::from_micros(50);
    loop {
        let mut ready: Vec<usize> = objects
            .iter()
            .enumerate()
            .filter_map(|(i, o)| match o.0 {
                Kind::Probe(probe) if probe.ready_now() => Some(i),
                _ => None,
            })
            .collect();
        let left = multiproc_sys::time::remaining(deadline);
        let slice = if !ready.is_empty() {
            Some(Duration::ZERO)
        } else if only_fds {
            left
        } else {
            Some(left.map_or(round, |left| left.min(round)))
        };
        let borrowed: Vec<BorrowedFd<'_>> = fds.iter().map(|(_, fd)| *fd).collect();
        if borrowed.is_empty() {
            if let Some(slice) = slice.filter(|s| !s.is_zero()) {
                std::thread::sleep(slice);
            }
        } else {
            let flags = multiproc_sys::poll::readable(&borrowed, slice)?;
            ready.extend(
                fds.iter()
                    .zip(flags)
                    .filter(|(_, f)| *f)
                    .map(|((i, _), _)| *i),
            );
        }
        if !ready.is_empty() {
            ready.sort_unstable();
            return Ok(ready);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(ready);
        }
        round = (round * 2).min(Duration::from_millis(2));
    }
}
