// A function pointer is not zero-sized either: the child could not know which function it is.
fn double(x: u32) -> u32 {
    x * 2
}

fn main() {
    let f: fn(u32) -> u32 = double;
    let _p = multiproc_process::Process::new(f, (1,));
}
