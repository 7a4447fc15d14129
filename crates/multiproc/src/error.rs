/// Any error of the multiproc crates, so that `?` works across them in one function.
///
/// ```
/// fn square(x: u32) -> u32 { x * x }
///
/// fn run() -> Result<u32, multiproc::Error> {
///     let total = multiproc::Value::<u32>::new(0)?;   // a multiproc-shared error
///     let mut p = multiproc::Process::new(square, (4,));
///     p.start()?;                                     // a multiproc-process error
///     *total.lock()? += p.join()?;
///     Ok(total.get())
/// }
/// assert_eq!(run().unwrap(), 16);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Starting, joining or controlling a process failed.
    #[cfg(feature = "process")]
    #[error(transparent)]
    Process(#[from] multiproc_process::ProcessError),
    /// A shared-memory object or lock failed.
    #[cfg(feature = "shared")]
    #[error(transparent)]
    Shared(#[from] multiproc_shared::SharedError),
    /// A pipe or connection failed.
    #[cfg(feature = "channel")]
    #[error(transparent)]
    Pipe(#[from] multiproc_channel::PipeError),
    /// A queue failed.
    #[cfg(feature = "channel")]
    #[error(transparent)]
    Queue(#[from] multiproc_channel::QueueError),
    /// A listener or client failed to bind, accept or connect.
    #[cfg(feature = "channel")]
    #[error(transparent)]
    Listener(#[from] multiproc_channel::ListenerError),
    /// A pool task failed.
    #[cfg(feature = "pool")]
    #[error(transparent)]
    Pool(#[from] multiproc_pool::PoolError),
    /// A manager or a proxy call failed.
    #[cfg(feature = "manager")]
    #[error(transparent)]
    Manager(#[from] multiproc_manager::ManagerError),
}

#[cfg(feature = "shared")]
impl<G> From<multiproc_shared::OwnerDied<G>> for Error {
    fn from(e: multiproc_shared::OwnerDied<G>) -> Self {
        Error::Shared(e.into())
    }
}

#[cfg(feature = "channel")]
impl<T, E: Into<Error>> From<multiproc_channel::SendError<T, E>> for Error {
    fn from(e: multiproc_channel::SendError<T, E>) -> Self {
        e.into_parts().1.into()
    }
}
