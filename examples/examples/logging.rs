//! Logging from a child process (the seed article, section 8): the record reaches the parent's
//! logger and shows the child's name.
use multiproc::Process;

fn worker() {
    log::info!("Worker started");
}

fn main() -> Result<(), multiproc::process::ProcessError> {
    multiproc::log_to_stderr(log::LevelFilter::Info).expect("no other logger is installed");
    let mut p = Process::new(worker, ()).with_name("Worker1");
    p.start()?;
    p.join()?;
    Ok(())
}
