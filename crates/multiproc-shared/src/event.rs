//! `Event`: a flag that processes wait on.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::lock::{deadline_after, segment_of_len};
use crate::words::EventWord;
use crate::{Segment, SharedError};

/// A flag shared between processes that others can wait for
/// (Python's `multiprocessing.Event`). A waiter that dies does no harm.
///
/// ```
/// use std::time::Duration;
/// use multiproc_shared::Event;
///
/// let ready = Event::new()?;
/// assert!(!ready.wait_timeout(Duration::from_millis(10)));
/// ready.set();
/// ready.wait();
/// assert!(ready.is_set());
/// ready.clear();
/// assert!(!ready.is_set());
/// # Ok::<(), multiproc_shared::SharedError>(())
/// ```
#[doc(alias = "multiprocessing.Event")]
#[derive(Clone)]
pub struct Event {
    segment: Segment,
}

impl Event {
    /// Creates a cleared event.
    ///
    /// ```
    /// assert!(!multiproc_shared::Event::new()?.is_set());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn new() -> Result<Event, SharedError> {
        Ok(Event {
            segment: Segment::new(size_of::<EventWord>())?,
        })
    }

    fn word(&self) -> &EventWord {
        self.segment.placed(0)
    }

    /// Sets the flag and wakes every waiter, in every process.
    ///
    /// ```
    /// let e = multiproc_shared::Event::new()?;
    /// e.set();
    /// assert!(e.is_set());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn set(&self) {
        self.word().set();
    }

    /// Clears the flag.
    ///
    /// ```
    /// let e = multiproc_shared::Event::new()?;
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn clear(&self) {
        self.word().clear();
    }

    /// Whether the flag is set.
    ///
    /// ```
    /// assert!(!multiproc_shared::Event::new()?.is_set());
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn is_set(&self) -> bool {
        self.word().is_set()
    }

    /// Waits until the flag is set.
    ///
    /// ```
    /// let e = multiproc_shared::Event::new()?;
    /// e.set();
    /// e.wait();
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn wait(&self) {
        self.word().wait(None);
    }

    /// Waits at most `timeout` for the flag; returns it (Python's `wait(timeout)`).
    ///
    /// ```
    /// let e = multiproc_shared::Event::new()?;
    /// assert!(!e.wait_timeout(std::time::Duration::from_millis(5)));
    /// # Ok::<(), multiproc_shared::SharedError>(())
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.word().wait(deadline_after(timeout))
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.segment.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Event, D::Error> {
        Ok(Event {
            segment: segment_of_len(deserializer, size_of::<EventWord>())?,
        })
    }
}
