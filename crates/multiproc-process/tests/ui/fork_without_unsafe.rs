// `Process::fork` runs a closure in a forked child, with fork's contract: calling it needs
// `unsafe`.
use multiproc_process::Process;

fn main() {
    let words = vec!["a", "b"];
    let _p = Process::fork(move || words.len());
}
