//! A loom model of the ring's head/tail protocol between threads that put and get
//! records in a ring too small for two of them.
//!
//! It checks what the futex-based code cannot show by testing: with `put` and `get`
//! notifying only when the waiter count says somebody sleeps who has not been woken yet
//! (`NOT_EMPTY_WAITERS` above `NOT_EMPTY_WOKEN`, the same for `NOT_FULL`), no wake-up is
//! lost in any interleaving, every item arrives once and
//! in order, and head and tail always pass the same bound checks as the real ring
//! ([`checked_span`], [`checked_record`], [`fits`]). The header words become fields
//! under a loom `Mutex`, the queue lock; the two condition variables are loom `Condvar`s,
//! standing in for `CondvarWord`'s futex wait and wake (the lock family's own model
//! covers those). Streaming and owner death are not modelled.
//!
//! ```sh
//! RUSTFLAGS="--cfg loom" cargo test -p multiproc-channel --release --lib loom
//! ```

use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

use super::{RECORD_HEADER, checked_record, checked_span, fits};

/// Room for one record of up to 3 bytes, never two: every second put waits for a get.
const CAPACITY: u64 = 8;

/// The header words and the ring bytes, as the real ring keeps them under its lock.
struct State {
    head: u64,
    tail: u64,
    items: u64,
    not_empty_waiters: u64,
    not_full_waiters: u64,
    not_empty_woken: u64,
    not_full_woken: u64,
    ring: [u8; CAPACITY as usize],
}

struct Model {
    state: Mutex<State>,
    not_empty: Condvar,
    not_full: Condvar,
}

impl Model {
    fn new() -> Arc<Model> {
        Arc::new(Model {
            state: Mutex::new(State {
                head: 0,
                tail: 0,
                items: 0,
                not_empty_waiters: 0,
                not_full_waiters: 0,
                not_empty_woken: 0,
                not_full_woken: 0,
                ring: [0; CAPACITY as usize],
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
        })
    }

    /// `Ring::put` for an item that fits the ring.
    fn put(&self, item: &[u8]) {
        let need = (RECORD_HEADER + item.len()) as u64;
        let mut state = self.state.lock().unwrap();
        loop {
            let used = checked_span(state.head, state.tail, CAPACITY).expect("span in range");
            if fits(need, used, CAPACITY) {
                break;
            }
            state.not_full_waiters += 1;
            state = self.not_full.wait(state).unwrap();
            state.not_full_waiters -= 1;
            state.not_full_woken = state.not_full_woken.saturating_sub(1);
        }
        let record = [&(item.len() as u32).to_le_bytes()[..], item].concat();
        for (offset, byte) in record.into_iter().enumerate() {
            let position = (state.tail + offset as u64) % CAPACITY;
            state.ring[position as usize] = byte;
        }
        state.tail += need;
        state.items += 1;
        if state.not_empty_waiters > state.not_empty_woken {
            state.not_empty_woken += 1;
            self.not_empty.notify_one();
        }
    }

    /// `Ring::get` for records.
    fn get(&self) -> Vec<u8> {
        let mut state = self.state.lock().unwrap();
        while state.items == 0 {
            state.not_empty_waiters += 1;
            state = self.not_empty.wait(state).unwrap();
            state.not_empty_waiters -= 1;
            state.not_empty_woken = state.not_empty_woken.saturating_sub(1);
        }
        let used = checked_span(state.head, state.tail, CAPACITY).expect("span in range");
        let byte_at = |state: &State, position: u64| state.ring[(position % CAPACITY) as usize];
        let header: Vec<u8> = (0..RECORD_HEADER as u64)
            .map(|i| byte_at(&state, state.head + i))
            .collect();
        let len = u64::from(u32::from_le_bytes(header.try_into().unwrap()));
        let record = checked_record(len, used).expect("record inside the written bytes");
        let start = state.head + RECORD_HEADER as u64;
        let item = (0..len).map(|i| byte_at(&state, start + i)).collect();
        state.head += record;
        state.items -= 1;
        if state.not_full_waiters > state.not_full_woken {
            state.not_full_woken = state.not_full_waiters;
            self.not_full.notify_all();
        }
        item
    }
}

#[test]
fn loom_one_producer_one_consumer_in_order() {
    loom::model(|| {
        let model = Model::new();
        let producer = {
            let model = model.clone();
            thread::spawn(move || {
                for item in [&b"a"[..], b"bc", b"def"] {
                    model.put(item);
                }
            })
        };
        let got: Vec<Vec<u8>> = (0..3).map(|_| model.get()).collect();
        producer.join().unwrap();
        assert_eq!(got, [&b"a"[..], b"bc", b"def"]);
        let state = model.state.lock().unwrap();
        assert_eq!((state.head, state.tail, state.items), (18, 18, 0));
    });
}

#[test]
fn loom_two_producers_wait_for_room_and_both_items_arrive() {
    loom::model(|| {
        let model = Model::new();
        let producers: Vec<_> = [&b"x"[..], b"yz"]
            .into_iter()
            .map(|item| {
                let model = model.clone();
                thread::spawn(move || model.put(item))
            })
            .collect();
        let mut got = vec![model.get(), model.get()];
        for producer in producers {
            producer.join().unwrap();
        }
        got.sort();
        assert_eq!(got, [&b"x"[..], b"yz"]);
    });
}

#[test]
fn loom_two_consumers_each_woken_for_one_item() {
    loom::model(|| {
        let model = Model::new();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let model = model.clone();
                thread::spawn(move || model.get())
            })
            .collect();
        model.put(b"p");
        model.put(b"q");
        let mut got: Vec<Vec<u8>> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
        got.sort();
        assert_eq!(got, [&b"p"[..], b"q"]);
    });
}
