//! Create/drop cycles leak no descriptors (one test per binary: fd counts are per process).

use multiproc_channel::{Pipe, Queue};
use multiproc_test_support::fd_count;

#[test]
fn ten_thousand_create_drop_cycles_leak_no_fds() {
    // Warm up lazies (ipc-channel's statics, thread-locals) before counting.
    drop(Pipe::<u8>::duplex().unwrap());
    drop(Queue::<u8>::new().unwrap());
    let before = fd_count();
    for i in 0..10_000u32 {
        let (a, b) = Pipe::<u32>::duplex().unwrap();
        a.send(i).unwrap();
        assert_eq!(b.recv().unwrap(), i);
        let queue = Queue::<u32>::with_capacity(Some(4), 4096).unwrap();
        queue.put(i).unwrap();
        assert_eq!(queue.get().unwrap(), i);
        // A connection travelling inside a message, then dropped.
        let (carrier_reader, carrier_writer) =
            Pipe::<multiproc_channel::Connection<u32>>::new().unwrap();
        carrier_writer.send(a).unwrap();
        drop(carrier_reader.recv().unwrap());
    }
    assert_eq!(fd_count(), before, "fds leaked");

    // 10,000 items in flight cost no descriptor either.
    let queue = Queue::<u64>::new().unwrap();
    let before = fd_count();
    for i in 0..10_000 {
        queue.put(i).unwrap();
    }
    assert_eq!(queue.len(), 10_000);
    assert_eq!(fd_count(), before);
    for i in 0..10_000 {
        assert_eq!(queue.get().unwrap(), i);
    }
}
