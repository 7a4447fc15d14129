// A `FunctionRef` can only come from `FunctionRef::new` (or from bytes whose tag verifies):
// its field is private, so safe code cannot build one around an arbitrary offset.
use multiproc_process::FunctionRef;

fn main() {
    let _f = FunctionRef { sealed: std::process::abort() };
}
