// Function items and closures that capture nothing are valid targets.
fn double(x: u32) -> u32 {
    x * 2
}

fn main() {
    let mut p = multiproc_process::Process::new(double, (21,));
    p.start().unwrap();
    assert_eq!(p.join().unwrap(), 42);
    let mut q = multiproc_process::Process::new(|a: u8, b: u8| a + b, (1, 2));
    q.start().unwrap();
    assert_eq!(q.join().unwrap(), 3);
}
