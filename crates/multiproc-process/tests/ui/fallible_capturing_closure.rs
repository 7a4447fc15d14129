// Wrapping a capturing closure in `fallible` does not make it a valid target: the build-time
// error names the closure inside `Fallible<..>`.
use multiproc_process::{Process, fallible};

fn main() {
    let limit = 10u32;
    let _p = Process::new(
        fallible(move |x: u32| if x < limit { Ok(x) } else { Err("too big") }),
        (2,),
    );
}
