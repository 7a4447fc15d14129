//! `Process::join_async`: awaiting a child's end from any runtime.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::ProcessError;
use crate::process::Process;
use crate::reactor::{self, Registration};
use crate::target::Portable;

/// The future returned by [`Process::join_async`]: the same outcome as
/// [`join`](Process::join), without blocking a thread. It borrows the process, which stays
/// joinable if the future is dropped before it is ready.
///
/// ```
/// use multiproc_process::{JoinFuture, Process};
/// fn seven() -> u8 { 7 }
/// let mut p = Process::new(seven, ());
/// p.start()?;
/// let future: JoinFuture<'_, u8> = p.join_async();
/// drop(future);
/// assert_eq!(p.join()?, 7);
/// # Ok::<(), multiproc_process::ProcessError>(())
/// ```
pub struct JoinFuture<'a, R> {
    process: &'a mut Process<R>,
    registration: Option<Registration>,
}

impl<R: Portable> Process<R> {
    /// [`join`](Process::join) as a future, for async code under any runtime (tokio, smol,
    /// `futures::executor`...): it resolves to the function's return value, or to how the
    /// child failed, once the child has ended; the child is then reaped, as by `join`.
    ///
    /// No thread blocks per child: the futures of every awaited child share one thread of
    /// this library (`multiproc-reactor`, started at the first `join_async` of a process and
    /// kept for its life), which polls the children's pidfds and wakes the future of each
    /// child that ends. A child whose result is larger than the channel's buffer (about
    /// 200 KiB) cannot end before its result is read: its future reads it at the reactor's
    /// recheck pace (every 100 ms). Dropping the future leaves the child running and
    /// joinable.
    ///
    /// ```
    /// use multiproc_process::Process;
    /// fn double(x: u32) -> u32 { x * 2 }
    /// let mut p = Process::new(double, (21,));
    /// p.start()?;
    /// // Any executor will do; this one needs nothing beyond the standard library.
    /// assert_eq!(block_on(p.join_async())?, 42);
    ///
    /// fn block_on<F: std::future::Future>(f: F) -> F::Output {
    ///     use std::sync::Arc;
    ///     use std::task::{Context, Poll, Wake, Waker};
    ///     struct Unpark(std::thread::Thread);
    ///     impl Wake for Unpark {
    ///         fn wake(self: Arc<Self>) { self.0.unpark() }
    ///     }
    ///     let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    ///     let mut cx = Context::from_waker(&waker);
    ///     let mut f = std::pin::pin!(f);
    ///     loop {
    ///         match f.as_mut().poll(&mut cx) {
    ///             Poll::Ready(v) => return v,
    ///             Poll::Pending => std::thread::park(),
    ///         }
    ///     }
    /// }
    /// # Ok::<(), multiproc_process::ProcessError>(())
    /// ```
    #[doc(alias = "sentinel")]
    pub fn join_async(&mut self) -> JoinFuture<'_, R> {
        JoinFuture {
            process: self,
            registration: None,
        }
    }
}

impl<R: Portable> Future for JoinFuture<'_, R> {
    type Output = Result<R, ProcessError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(registration) = &this.registration
            && registration.update(cx.waker())
        {
            // Still registered: the reactor has not seen the child end yet.
            return Poll::Pending;
        }
        this.registration = None;
        match this.process.join_if_ended() {
            Ok(outcome) => Poll::Ready(outcome),
            Err(child) => match reactor::register(&child, cx.waker()) {
                // The reactor polls the pidfd after this registration (it is level
                // triggered), so an end that happened since the check is not missed.
                Ok(registration) => {
                    this.registration = Some(registration);
                    Poll::Pending
                }
                Err(e) => {
                    log::error!("could not start the process reactor ({e}); joining in place");
                    Poll::Ready(this.process.join())
                }
            },
        }
    }
}

impl<R> fmt::Debug for JoinFuture<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinFuture")
            .field("process", &self.process)
            .field("waiting", &self.registration.is_some())
            .finish()
    }
}
