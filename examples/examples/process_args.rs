//! A process with an argument (the seed article, section 2).
use multiproc::Process;

fn worker(num: u32) {
    println!("Worker {num} started");
}

fn main() -> Result<(), multiproc::process::ProcessError> {
    let mut p = Process::new(worker, (5,));
    p.start()?;
    p.join()?;
    Ok(())
}
