//! Queues between real processes.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{LONG, fork};
use multiproc_channel::{JoinableQueue, Pipe, Queue, QueueError, SimpleQueue, wait};
use multiproc_test_support::Child;

/// Consumes until the queue is closed and drained; reports everything it took.
fn consumer(queue: Queue<u64>, report: multiproc_channel::PipeWriter<Vec<u64>>) {
    let mut taken = Vec::new();
    loop {
        match queue.get_timeout(LONG) {
            Ok(item) => taken.push(item),
            Err(QueueError::Closed) => break,
            Err(err) => panic!("consumer: {err}"),
        }
    }
    report.send(taken).unwrap();
}

/// Runs `producers` producer processes, each putting the ids `p * 1_000_000 + i` for `i`
/// below `per_producer` with `put(queue, id, i)`, and four consumer processes running
/// `consume` until the queue is closed and drained; checks that every id arrived exactly
/// once.
fn exactly_once<T: serde::Serialize + serde::de::DeserializeOwned + 'static>(
    queue: Queue<T>,
    producers: u64,
    per_producer: u64,
    put: fn(&Queue<T>, u64, u64),
    consume: fn(Queue<T>, multiproc_channel::PipeWriter<Vec<u64>>),
) {
    let producing: Vec<Child> = (0..producers)
        .map(|p| {
            let queue = queue.clone();
            fork(move || {
                for i in 0..per_producer {
                    put(&queue, p * 1_000_000 + i, i);
                }
            })
        })
        .collect();
    let mut reports = Vec::new();
    let mut consumers = Vec::new();
    for _ in 0..4 {
        let (reader, writer) = Pipe::<Vec<u64>>::new().unwrap();
        let queue = queue.clone();
        consumers.push(fork(move || consume(queue, writer)));
        reports.push(reader);
    }
    for producer in producing {
        producer.join_ok(LONG);
    }
    queue.close();
    let mut all = Vec::new();
    for reader in &reports {
        all.extend(reader.recv_timeout(LONG).unwrap());
    }
    for child in consumers {
        child.join_ok(LONG);
    }
    let unique: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(all.len(), unique.len(), "an item was delivered twice");
    let expected: BTreeSet<u64> = (0..producers)
        .flat_map(|p| (0..per_producer).map(move |i| p * 1_000_000 + i))
        .collect();
    assert_eq!(unique, expected, "items lost");
}

#[test]
fn four_producers_four_consumers_exactly_once() {
    let queue = Queue::<u64>::bounded(1000).unwrap();
    exactly_once(
        queue,
        4,
        20_000,
        |queue, id, _| queue.put(id).unwrap(),
        consumer,
    );
}

/// Item `id` of a producer: `len` bytes, the id first, then bytes that depend on it.
fn long_item(id: u64, len: usize) -> Vec<u8> {
    let mut item = id.to_le_bytes().to_vec();
    item.extend((8..len).map(|k| (id as usize).wrapping_mul(31).wrapping_add(k) as u8));
    item
}

/// Consumes until the queue is closed and drained, checking every item's bytes against its
/// id; reports the ids it took.
fn long_item_consumer(queue: Queue<Vec<u8>>, report: multiproc_channel::PipeWriter<Vec<u64>>) {
    let mut taken = Vec::new();
    loop {
        match queue.get_timeout(LONG) {
            Ok(item) => {
                let id = u64::from_le_bytes(item[..8].try_into().unwrap());
                assert_eq!(item, long_item(id, item.len()), "item {id} arrived damaged");
                taken.push(id);
            }
            Err(QueueError::Closed) => break,
            Err(err) => panic!("consumer: {err}"),
        }
    }
    report.send(taken).unwrap();
}

/// Long records are copied out before the queue lock is taken, and the copy is kept only
/// if no other consumer took the record meanwhile: with four consumers racing for them in
/// a small ring (so that freed bytes are soon written again), beside short records and
/// items that stream, every item arrives once and whole.
#[test]
fn long_items_racing_consumers_arrive_once_and_whole() {
    let queue = Queue::<Vec<u8>>::with_capacity(None, 32 << 10).unwrap();
    let put = |queue: &Queue<Vec<u8>>, id: u64, i: u64| {
        let len = match i % 100 {
            0 => 40_000,
            n if n % 3 == 0 => 16 + n as usize,
            n => 600 + 50 * n as usize,
        };
        queue.put(long_item(id, len)).unwrap();
    };
    exactly_once(queue, 3, 3000, put, long_item_consumer);
}

#[test]
fn bounded_put_timeout_full_and_get_timeout_empty() {
    let queue = Queue::<String>::bounded(2).unwrap();
    let started = Instant::now();
    assert!(matches!(
        queue.get_timeout(Duration::from_millis(30)),
        Err(QueueError::Empty)
    ));
    assert!(started.elapsed() >= Duration::from_millis(30));
    queue.put("a".into()).unwrap();
    queue.put("b".into()).unwrap();
    let err = queue
        .put_timeout("c".into(), Duration::from_millis(30))
        .unwrap_err();
    assert!(err.is_full());
    assert_eq!(err.into_inner(), "c");
    assert_eq!(queue.len(), 2);
    // A consumer in another process makes room.
    let child = fork({
        let queue = queue.clone();
        move || assert_eq!(queue.get().unwrap(), "a")
    });
    queue.put_timeout("c".into(), LONG).unwrap();
    child.join_ok(LONG);
    assert_eq!(queue.get().unwrap(), "b");
    assert_eq!(queue.get().unwrap(), "c");
    assert!(matches!(queue.get_nowait(), Err(QueueError::Empty)));
}

#[test]
fn killed_consumer_does_not_wedge_others_or_lose_untaken_items() {
    const ITEMS: u64 = 200_000;
    let queue = Queue::<u64>::new().unwrap();
    let (victim_reader, victim_writer) = Pipe::<u64>::new().unwrap();
    // The victim reports each item right after taking it, so at most one item it took
    // is unreported when it dies.
    let victim = fork({
        let queue = queue.clone();
        move || {
            loop {
                let item = queue.get().unwrap();
                victim_writer.send(item).unwrap();
            }
        }
    });
    let (survivor_reader, survivor_writer) = Pipe::<Vec<u64>>::new().unwrap();
    let survivor = fork({
        let queue = queue.clone();
        move || consumer(queue, survivor_writer)
    });
    let producer = fork({
        let queue = queue.clone();
        move || {
            for i in 0..ITEMS {
                queue.put(i).unwrap();
            }
        }
    });
    // Kill the victim while both consumers are busy taking items.
    let mut taken = Vec::new();
    for _ in 0..1000 {
        taken.push(victim_reader.recv_timeout(LONG).unwrap());
    }
    victim.kill();
    assert_eq!(victim.join(LONG), -libc::SIGKILL);
    producer.join_ok(LONG);
    queue.close();
    taken.extend(survivor_reader.recv_timeout(LONG).unwrap());
    survivor.join_ok(LONG);
    let mut victim_taken = 1000;
    while let Ok(item) = victim_reader.recv() {
        taken.push(item);
        victim_taken += 1;
    }
    let unique: BTreeSet<u64> = taken.iter().copied().collect();
    assert_eq!(unique.len(), taken.len(), "an item was delivered twice");
    let missing = ITEMS as usize - unique.len();
    assert!(
        missing <= 1,
        "{missing} items missing; the victim reported {victim_taken}"
    );
}

#[test]
fn killed_consumer_mid_stream_of_a_large_item() {
    // A ring of 4 KiB makes a 1 MiB item stream through it in chunks.
    let queue = Queue::<Vec<u8>>::with_capacity(None, 4096).unwrap();
    let producer = fork({
        let queue = queue.clone();
        move || {
            queue.put(vec![1u8; 1 << 20]).unwrap();
            queue.put(vec![2u8; 1 << 20]).unwrap();
        }
    });
    // With no consumer yet, the producer fills the ring with the first chunk and sleeps
    // until space frees; the item already counts.
    let deadline = Instant::now() + LONG;
    while queue.is_empty() {
        assert!(
            Instant::now() < deadline,
            "watchdog: producer never started"
        );
        std::thread::yield_now();
    }
    // Freeze the producer where it sleeps for space (a FUTEX_WAIT, the queue's lock
    // released): the stream cannot finish while it is stopped. Every 50 ms it wakes
    // briefly to check its peers; a stop that lands there is undone and tried again.
    loop {
        match producer.stop() {
            Some((number, _, op)) if number == libc::SYS_futex && op as i32 == libc::FUTEX_WAIT => {
                break;
            }
            _ => producer.resume(),
        }
        assert!(
            Instant::now() < deadline,
            "watchdog: producer never stopped asleep in put"
        );
    }
    let victim = fork({
        let queue = queue.clone();
        move || {
            let _ = queue.get();
        }
    });
    // The victim claims the item (qsize drops to 0), reads the chunk in the ring and
    // waits for the rest, which cannot come.
    while !queue.is_empty() {
        assert!(
            Instant::now() < deadline,
            "watchdog: victim never claimed the item"
        );
        std::thread::yield_now();
    }
    victim.kill();
    assert_eq!(
        victim.join(LONG),
        -libc::SIGKILL,
        "the victim finished its get"
    );
    producer.resume();
    // The first item went with the victim; the second arrives whole.
    let second = queue.get_timeout(LONG).unwrap();
    assert_eq!(second.len(), 1 << 20);
    assert!(second.iter().all(|&b| b == 2));
    producer.join_ok(LONG);
}

#[test]
fn producer_joins_before_the_consumer_drains() {
    // CPython's feeder thread makes this deadlock once ~64 KiB is buffered.
    let queue = Queue::<Vec<u8>>::new().unwrap();
    let producer = fork({
        let queue = queue.clone();
        move || {
            for i in 0..1000u32 {
                queue.put(vec![i as u8; 1000]).unwrap();
            }
        }
    });
    producer.join_ok(LONG);
    assert_eq!(queue.len(), 1000);
    for i in 0..1000u32 {
        assert_eq!(queue.get_nowait().unwrap(), vec![i as u8; 1000]);
    }
}

#[test]
fn joinable_queue_join_returns_after_all_task_done() {
    let queue = JoinableQueue::<u32>::new().unwrap();
    for i in 0..100 {
        queue.put(i).unwrap();
    }
    assert!(!queue.join_timeout(Duration::from_millis(10)).unwrap());
    let workers: Vec<Child> = (0..2)
        .map(|_| {
            let queue = queue.clone();
            fork(move || {
                while let Ok(_item) = queue.get_timeout(Duration::from_millis(200)) {
                    queue.task_done().unwrap();
                }
            })
        })
        .collect();
    assert!(
        queue.join_timeout(LONG).unwrap(),
        "watchdog: join did not return"
    );
    assert_eq!(queue.unfinished_tasks(), 0);
    assert!(matches!(
        queue.task_done(),
        Err(QueueError::TaskDoneTooOften)
    ));
    for worker in workers {
        worker.join_ok(LONG);
    }
}

#[test]
fn simple_queue_and_shared_handles_refused() {
    let queue = SimpleQueue::<String>::new().unwrap();
    let child = fork({
        let queue = queue.clone();
        move || queue.put("from the child".into()).unwrap()
    });
    assert_eq!(queue.get().unwrap(), "from the child");
    child.join_ok(LONG);
    // A connection cannot travel as plain bytes: a clear error, not a lost fd.
    let carrier = Queue::<multiproc_channel::PipeWriter<u8>>::new().unwrap();
    let (_, end) = Pipe::<u8>::new().unwrap();
    let err = carrier.put(end).unwrap_err();
    assert!(matches!(err.error(), QueueError::Encode(_)), "{err:?}");
    let inner = Queue::<Queue<u8>>::new().unwrap();
    let err = inner.put(Queue::new().unwrap()).unwrap_err();
    assert!(err.to_string().contains("Pipe"), "{err}");
}

#[test]
fn wait_over_pipes_queues_and_fds() {
    let (reader, writer) = Pipe::<u8>::new().unwrap();
    let queue = Queue::<u8>::new().unwrap();
    let (go_reader, go_writer) = Pipe::<()>::new().unwrap();
    let child = fork({
        let queue = queue.clone();
        move || {
            go_reader.recv().unwrap();
            writer.send(1).unwrap();
            go_reader.recv().unwrap();
            queue.put(2).unwrap();
        }
    });
    let objects = [(&reader).into(), (&queue).into()];
    assert!(
        wait(&objects, Some(Duration::from_millis(20)))
            .unwrap()
            .is_empty()
    );
    go_writer.send(()).unwrap();
    assert_eq!(wait(&objects, Some(LONG)).unwrap(), [0]);
    assert_eq!(reader.recv().unwrap(), 1);
    go_writer.send(()).unwrap();
    let ready = wait(&objects, Some(LONG)).unwrap();
    assert!(ready.contains(&1), "{ready:?}");
    assert_eq!(queue.get().unwrap(), 2);
    child.join_ok(LONG);
    // An fd: a pipe that becomes readable when its writer closes.
    let (fd_reader, fd_writer) = std::io::pipe().unwrap();
    assert!(
        wait(
            &[multiproc_channel::Waitable::fd(&fd_reader)],
            Some(Duration::ZERO)
        )
        .unwrap()
        .is_empty()
    );
    drop(fd_writer);
    assert_eq!(
        wait(&[multiproc_channel::Waitable::fd(&fd_reader)], Some(LONG)).unwrap(),
        [0]
    );
}

#[test]
fn a_thousand_live_queues() {
    let queues: Vec<Queue<u32>> = (0..1000)
        .map(|_| Queue::with_capacity(None, 4096).unwrap())
        .collect();
    for (i, queue) in queues.iter().enumerate() {
        queue.put(i as u32).unwrap();
    }
    for (i, queue) in queues.iter().enumerate() {
        assert_eq!(queue.get().unwrap(), i as u32);
    }
}
