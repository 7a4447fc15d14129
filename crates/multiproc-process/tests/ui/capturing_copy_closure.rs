// A closure that captures even a `Copy` value is not zero-sized: refused by the target's
// compile-time size assertion.
fn main() {
    let factor = 3u32;
    let _p = multiproc_process::Process::new(move |x: u32| x * factor, (2,));
}
