//! Pipes and queues with children started by every start method.

use std::collections::BTreeSet;
use std::time::Duration;

use multiproc::channel::{Connection, JoinableQueue, Pipe, Queue, QueueError, wait};
use multiproc::process::{StartMethod, get_context};

const METHODS: [StartMethod; 3] = [
    StartMethod::Fork,
    StartMethod::Spawn,
    StartMethod::Forkserver,
];
const LONG: Duration = Duration::from_secs(60);

fn echo_upper(conn: Connection<String>) -> usize {
    let mut count = 0;
    // An empty message ends the exchange: under fork the child also inherits the parent's
    // end, so the parent dropping its copy would never read as end-of-file here.
    while let Ok(text) = conn.recv() {
        if text.is_empty() {
            break;
        }
        conn.send(text.to_uppercase()).unwrap();
        count += 1;
    }
    count
}

#[test]
fn pipe_round_trips_under_every_start_method() {
    for method in METHODS {
        let (parent, child) = Pipe::<String>::duplex().unwrap();
        let mut p = get_context(method).process(echo_upper, (child,));
        p.start().unwrap();
        for word in ["alpha", "beta", "gamma"] {
            parent.send(word.to_owned()).unwrap();
            assert_eq!(
                parent.recv_timeout(LONG).unwrap(),
                word.to_uppercase(),
                "{method:?}"
            );
        }
        parent.send(String::new()).unwrap();
        assert_eq!(p.join_timeout(LONG).unwrap(), 3, "{method:?}");
    }
}

fn produce(queue: Queue<u64>, base: u64, count: u64) {
    for i in 0..count {
        queue.put(base + i).unwrap();
    }
}

fn consume(queue: Queue<u64>) -> Vec<u64> {
    let mut taken = Vec::new();
    loop {
        match queue.get_timeout(LONG) {
            Ok(item) => taken.push(item),
            Err(QueueError::Closed) => return taken,
            Err(err) => panic!("consumer: {err}"),
        }
    }
}

#[test]
fn four_by_four_queue_under_every_start_method() {
    const PER_PRODUCER: u64 = 5_000;
    for method in METHODS {
        let ctx = get_context(method);
        let queue = Queue::<u64>::bounded(256).unwrap();
        let mut consumers: Vec<_> = (0..4)
            .map(|_| ctx.process(consume, (queue.clone(),)))
            .collect();
        let mut producers: Vec<_> = (0..4u64)
            .map(|p| ctx.process(produce, (queue.clone(), p * 1_000_000, PER_PRODUCER)))
            .collect();
        for c in &mut consumers {
            c.start().unwrap();
        }
        for p in &mut producers {
            p.start().unwrap();
        }
        // Producers finish as soon as their items are in shared memory.
        for p in &mut producers {
            p.join_timeout(LONG).unwrap();
        }
        queue.close();
        let mut all = Vec::new();
        for c in &mut consumers {
            all.extend(c.join_timeout(LONG).unwrap());
        }
        let unique: BTreeSet<u64> = all.iter().copied().collect();
        assert_eq!(unique.len(), all.len(), "{method:?}: duplicate delivery");
        assert_eq!(
            unique.len() as u64,
            4 * PER_PRODUCER,
            "{method:?}: items lost"
        );
    }
}

fn work(queue: JoinableQueue<u32>) {
    while let Ok(_job) = queue.get_timeout(Duration::from_millis(300)) {
        queue.task_done().unwrap();
    }
}

#[test]
fn joinable_queue_and_wait_on_sentinels_under_every_start_method() {
    for method in METHODS {
        let queue = JoinableQueue::<u32>::new().unwrap();
        for job in 0..500 {
            queue.put(job).unwrap();
        }
        let mut p = get_context(method).process(work, (queue.clone(),));
        p.start().unwrap();
        assert!(
            queue.join_timeout(LONG).unwrap(),
            "{method:?}: join did not return"
        );
        let sentinel = p.sentinel().expect("a started process has a sentinel");
        let ready = wait(&[sentinel.into()], Some(LONG)).unwrap();
        assert_eq!(ready, [0], "{method:?}: sentinel never became ready");
        p.join_timeout(LONG).unwrap();
    }
}
