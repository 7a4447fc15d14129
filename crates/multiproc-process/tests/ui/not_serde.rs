// An argument must cross the process boundary, so it must be a serde type.
struct NotSerde;

fn worker(_: NotSerde) {}

fn main() {
    let _p = multiproc_process::Process::new(worker, (NotSerde,));
}
