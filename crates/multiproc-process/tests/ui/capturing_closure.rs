// A capturing closure cannot be a process target: its captures would not exist in a
// re-executed child.
fn main() {
    let greeting = String::from("hello");
    let _p = multiproc_process::Process::new(move || greeting.len(), ());
}
