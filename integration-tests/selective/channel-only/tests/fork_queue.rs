//! `multiproc-channel` alone: a queue between a parent and a child made by the program's own
//! `fork`.

use multiproc_channel::Queue;

#[test]
fn a_forked_producer_feeds_the_parent() {
    let queue = Queue::<(u32, String)>::bounded(16).unwrap();
    let producer = queue.clone();
    // SAFETY: the child only puts items into the shared-memory queue and `_exit`s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = (0..1000).all(|i| producer.put((i, format!("item {i}"))).is_ok());
        // SAFETY: `_exit` never returns and runs no destructors of the parent's state.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut sum = 0;
    for i in 0..1000 {
        let (n, text) = queue
            .get_timeout(std::time::Duration::from_secs(30))
            .unwrap();
        assert_eq!(n, i, "FIFO order");
        assert_eq!(text, format!("item {i}"));
        sum += n;
    }
    let mut status = 0;
    // SAFETY: `status` is a valid out-pointer; `pid` is our child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert_eq!(status, 0);
    assert_eq!(sum, 999 * 1000 / 2);
}
