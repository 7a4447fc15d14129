// `fallible` takes a target that returns a `Result`: anything else is refused at check time.
use multiproc_process::{Process, fallible};

fn double(x: u32) -> u32 {
    x * 2
}

fn main() {
    let _p = Process::new(fallible(double), (1,));
}
