//! Logging from a child process (the seed article, section 8): the record reaches the parent's
//! logger and shows the child's name.
//!
//! `log_to_stderr` prints multiproc's own targets, like Python's `multiprocessing` logger, so
//! the worker logs under `LOG_TARGET` (Python: `multiprocessing.get_logger().info(...)`).
use multiproc::{LOG_TARGET, LevelFilter, Process};

fn worker() {
    log::info!(target: LOG_TARGET, "Worker started");
}

fn main() -> Result<(), multiproc::process::ProcessError> {
    multiproc::log_to_stderr(LevelFilter::Info).expect("no other logger is installed");
    let mut p = Process::new(worker, ()).with_name("Worker1");
    p.start()?;
    p.join()?;
    Ok(())
}
