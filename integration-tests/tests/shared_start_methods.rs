//! Shared values, locks and events with children started by every start method.

use std::time::{Duration, Instant};

use multiproc::process::{StartMethod, get_context};
use multiproc::shared::{Event, OwnerDied, Value};

const METHODS: [StartMethod; 3] = [
    StartMethod::Fork,
    StartMethod::Spawn,
    StartMethod::Forkserver,
];
const LONG: Duration = Duration::from_secs(60);

fn add_one(counter: Value<i32>) {
    *counter.lock().unwrap() += 1;
}

#[test]
fn five_process_counter_under_every_start_method() {
    for method in METHODS {
        let counter = Value::new(0_i32).unwrap();
        let ctx = get_context(method);
        let mut children: Vec<_> = (0..5)
            .map(|_| ctx.process(add_one, (counter.clone(),)))
            .collect();
        for child in &mut children {
            child.start().unwrap();
        }
        for child in &mut children {
            child.join_timeout(LONG).unwrap();
        }
        assert_eq!(counter.get(), 5, "{method:?}");
    }
}

fn hold_forever(value: Value<u64>, holding: Event) {
    let mut guard = value.lock().unwrap();
    *guard = 7; // an update the guard would write back when dropped, which never happens
    holding.set();
    loop {
        std::thread::park();
    }
}

#[test]
fn owner_death_is_reported_under_every_start_method() {
    for method in METHODS {
        let value = Value::new(0_u64).unwrap();
        let holding = Event::new().unwrap();
        let mut child = get_context(method).process(hold_forever, (value.clone(), holding.clone()));
        child.start().unwrap();
        assert!(
            holding.wait_timeout(LONG),
            "{method:?}: child never took the lock"
        );
        child.kill().unwrap();
        assert!(
            child.join_timeout(LONG).is_err(),
            "{method:?}: a killed child has no result"
        );
        let started = Instant::now();
        let guard = match value.lock() {
            Err(died) => OwnerDied::into_inner(died),
            Ok(_) => panic!("{method:?}: owner death not reported"),
        };
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{method:?}: took {:?}",
            started.elapsed()
        );
        // A guard works on a copy: the dead owner's unfinished update never reached memory.
        assert_eq!(*guard, 0, "{method:?}");
    }
}

fn wait_then_answer(go: Event, answer: Value<u32>) {
    assert!(go.wait_timeout(LONG));
    answer.fetch_add(1);
}

#[test]
fn event_wakes_children_under_every_start_method() {
    for method in METHODS {
        let go = Event::new().unwrap();
        let answer = Value::new(0_u32).unwrap();
        let ctx = get_context(method);
        let mut children: Vec<_> = (0..3)
            .map(|_| ctx.process(wait_then_answer, (go.clone(), answer.clone())))
            .collect();
        for child in &mut children {
            child.start().unwrap();
        }
        go.set();
        for child in &mut children {
            child.join_timeout(LONG).unwrap();
        }
        assert_eq!(answer.load(), 3, "{method:?}");
    }
}
