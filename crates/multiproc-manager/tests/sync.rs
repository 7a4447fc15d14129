//! RLock, Semaphore, Barrier and Array proxies against real processes: a holder that dies
//! gives back what it held, parties in several processes meet at a barrier, and an array
//! is shared.

use std::time::Duration;

use multiproc_manager::{
    ArrayProxy, BarrierProxy, ConditionProxy, EventProxy, Manager, ManagerError, RLockProxy,
    RemoteError, SemaphoreProxy, ValueProxy,
};
use multiproc_process::Process;
use multiproc_test_support::watchdog;

const LIMIT: Duration = Duration::from_secs(180);
const PATIENCE: Duration = Duration::from_secs(60);

/// Takes the rlock twice and a semaphore unit, says so, and waits to be killed.
fn hold_until_killed(
    rlock: RLockProxy,
    semaphore: SemaphoreProxy,
    holding: EventProxy,
    never: EventProxy,
) {
    let outer = rlock.acquire().unwrap();
    let inner = rlock.acquire().unwrap();
    let unit = semaphore.acquire().unwrap();
    holding.set().unwrap();
    // Blocks until killed: nobody sets `never`.
    never.wait().unwrap();
    drop((outer, inner, unit));
}

#[test]
fn a_dead_holder_releases_its_rlock_and_semaphore_units() {
    watchdog(LIMIT, "dead holder of rlock and semaphore", || {
        let manager = Manager::start().unwrap();
        let rlock = manager.rlock().unwrap();
        let semaphore = manager.bounded_semaphore(1).unwrap();
        let holding = manager.event().unwrap();
        let never = manager.event().unwrap();
        let mut holder = Process::new(
            hold_until_killed,
            (rlock.clone(), semaphore.clone(), holding.clone(), never),
        );
        holder.start().unwrap();
        assert!(holding.wait_timeout(PATIENCE).unwrap());
        assert!(rlock.locked().unwrap());
        assert!(
            rlock
                .acquire_timeout(Duration::from_millis(20))
                .unwrap()
                .is_none(),
            "another process's rlock was taken"
        );
        assert_eq!(semaphore.value().unwrap(), 0);
        holder.kill().unwrap();
        assert!(holder.join().is_err());

        // Both acquisitions of the rlock and the semaphore unit come back.
        let guard = rlock
            .acquire_timeout(PATIENCE)
            .unwrap()
            .expect("the dead holder's rlock was released");
        guard.release().unwrap();
        assert!(!rlock.locked().unwrap());
        let unit = semaphore
            .acquire_timeout(PATIENCE)
            .unwrap()
            .expect("the dead holder's unit was given back");
        unit.release().unwrap();
        // Bounded: the unit came back once, not more.
        assert_eq!(semaphore.value().unwrap(), 1);
        assert!(matches!(
            semaphore.release(),
            Err(ManagerError::Remote(
                RemoteError::SemaphoreReleasedTooOften { bound: 1 }
            ))
        ));
    });
}

fn meet(barrier: BarrierProxy, array: ArrayProxy<u64>, slot: usize) -> u64 {
    array.set(slot, slot as u64 + 1).unwrap();
    barrier.wait().unwrap()
}

#[test]
fn parties_in_three_processes_meet_at_a_barrier_and_share_an_array() {
    watchdog(LIMIT, "barrier across processes", || {
        let manager = Manager::start().unwrap();
        let barrier = manager.barrier(3).unwrap();
        let array = manager.array(vec![0u64; 3]).unwrap();
        let mut parties: Vec<_> = (0..2)
            .map(|slot| Process::new(meet, (barrier.clone(), array.clone(), slot)))
            .collect();
        for party in &mut parties {
            party.start().unwrap();
        }
        array.set(2, 3).unwrap();
        let mut indices = vec![barrier.wait().unwrap()];
        for mut party in parties {
            indices.push(party.join().unwrap());
        }
        indices.sort_unstable();
        assert_eq!(indices, [0, 1, 2]);
        // Every party wrote before it waited, so all writes are in.
        assert_eq!(array.to_vec().unwrap(), [1, 2, 3]);
        assert!(matches!(
            array.get(3),
            Err(ManagerError::Remote(RemoteError::IndexOutOfRange {
                index: 3,
                len: 3
            }))
        ));
    });
}

fn wait_alone(barrier: BarrierProxy, waiting: EventProxy) {
    waiting.set().unwrap();
    let _ = barrier.wait();
}

#[test]
fn a_party_that_dies_while_waiting_leaves_the_round() {
    watchdog(LIMIT, "dead barrier party", || {
        let manager = Manager::start().unwrap();
        let barrier = manager.barrier(2).unwrap();
        let waiting = manager.event().unwrap();
        let mut party = Process::new(wait_alone, (barrier.clone(), waiting.clone()));
        party.start().unwrap();
        assert!(waiting.wait_timeout(PATIENCE).unwrap());
        while barrier.n_waiting().unwrap() == 0 {
            std::thread::yield_now();
        }
        party.kill().unwrap();
        assert!(party.join().is_err());
        // The server notices within its peer check; the round is empty again and whole.
        while barrier.n_waiting().unwrap() != 0 {
            std::thread::yield_now();
        }
        assert!(!barrier.broken().unwrap());
        let other = barrier.clone();
        let second = std::thread::spawn(move || other.wait());
        let mine = barrier.wait().unwrap();
        assert_eq!(mine + second.join().unwrap().unwrap(), 1);
    });
}

/// Waits on the condition until `items` is above zero, takes one, returns what is left.
fn consume(condition: ConditionProxy, items: ValueProxy<u32>) -> u32 {
    let mut guard = condition.acquire().unwrap();
    assert!(
        guard
            .wait_for(|| Ok(items.get()? > 0), Some(PATIENCE))
            .unwrap()
    );
    let left = items.get().unwrap() - 1;
    items.set(left).unwrap();
    left
}

/// Takes the condition's lock, says so, and waits to be killed.
fn hold_condition(condition: ConditionProxy, holding: EventProxy, never: EventProxy) {
    let guard = condition.acquire().unwrap();
    holding.set().unwrap();
    never.wait().unwrap();
    drop(guard);
}

#[test]
fn waiters_in_other_processes_are_notified_and_a_dead_holder_frees_the_lock() {
    watchdog(LIMIT, "condition across processes", || {
        let manager = Manager::start().unwrap();
        let condition = manager.condition().unwrap();
        let items = manager.value(0u32).unwrap();
        let mut consumers: Vec<_> = (0..2)
            .map(|_| Process::new(consume, (condition.clone(), items.clone())))
            .collect();
        for consumer in &mut consumers {
            consumer.start().unwrap();
        }
        {
            let mut guard = condition.acquire().unwrap();
            items.set(2).unwrap();
            guard.notify_all().unwrap();
        }
        let mut left: Vec<u32> = consumers
            .into_iter()
            .map(|mut consumer| consumer.join().unwrap())
            .collect();
        left.sort_unstable();
        assert_eq!(left, [0, 1]);

        // Waiting and notifying need the lock: a guard is the only way to call them, and
        // a holder that dies releases it.
        let holding = manager.event().unwrap();
        let never = manager.event().unwrap();
        let mut holder = Process::new(hold_condition, (condition.clone(), holding.clone(), never));
        holder.start().unwrap();
        assert!(holding.wait_timeout(PATIENCE).unwrap());
        assert!(
            condition
                .acquire_timeout(Duration::from_millis(20))
                .unwrap()
                .is_none()
        );
        holder.kill().unwrap();
        assert!(holder.join().is_err());
        let mut guard = condition
            .acquire_timeout(PATIENCE)
            .unwrap()
            .expect("the dead holder's condition lock was released");
        assert!(!guard.wait_timeout(Duration::ZERO).unwrap());
        guard.release().unwrap();
    });
}
