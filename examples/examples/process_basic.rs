//! A new process prints that it started (the seed article, section 1).
use multiproc::Process;

fn worker() {
    println!("Worker process started");
}

fn main() -> Result<(), multiproc::process::ProcessError> {
    let mut p = Process::new(worker, ());
    p.start()?;
    p.join()?;
    Ok(())
}
