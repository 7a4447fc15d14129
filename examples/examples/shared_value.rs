//! Five processes each add 1 to a shared value under its lock (the seed article, section 4).
use multiproc::Process;
use multiproc::shared::Value;

fn add_one(counter: Value<i32>) {
    let mut value = counter.lock().expect("no process died holding the lock");
    *value += 1;
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let counter = Value::new(0_i32)?;
    let mut processes: Vec<_> = (0..5)
        .map(|_| Process::new(add_one, (counter.clone(),)))
        .collect();
    for p in &mut processes {
        p.start()?;
    }
    for p in &mut processes {
        p.join()?;
    }
    println!("Final value: {}", counter.get());
    Ok(())
}
