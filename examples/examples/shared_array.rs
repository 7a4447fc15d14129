//! A child process fills a shared array; the parent sums it.
use multiproc::Process;
use multiproc::shared::Array;

fn fill(data: Array<f64>) {
    let mut slots = data.lock().expect("no process died holding the lock");
    for (i, slot) in slots.iter_mut().enumerate() {
        *slot = i as f64 * 0.5;
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = Array::<f64>::zeroed(1_000)?;
    let mut child = Process::new(fill, (data.clone(),));
    child.start()?;
    child.join()?;
    let sum: f64 = data
        .lock()
        .map_err(|_| "a process died holding the lock")?
        .iter()
        .sum();
    println!("Sum of {} values: {sum}", data.len());
    Ok(())
}
