//! `multiproc-channel` alone: a queue between a parent and a child made by the program's own
//! `fork` (here the test helpers' fork, which reaps its child even when the test fails).

use std::time::Duration;

use multiproc_channel::Queue;
use multiproc_test_support::fork;

#[test]
fn a_forked_producer_feeds_the_parent() {
    let queue = Queue::<(u32, String)>::bounded(16).unwrap();
    let producer = queue.clone();
    let child = fork(move || {
        for i in 0..1000 {
            producer.put((i, format!("item {i}"))).unwrap();
        }
    });
    let mut sum = 0;
    for i in 0..1000 {
        let (n, text) = queue.get_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(n, i, "FIFO order");
        assert_eq!(text, format!("item {i}"));
        sum += n;
    }
    child.join_ok(Duration::from_secs(30));
    assert_eq!(sum, 999 * 1000 / 2);
}
