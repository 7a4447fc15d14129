//! The server side of the synchronisation objects beyond `Lock` and `Event`: reentrant
//! locks, semaphores and barriers. Each counts what every connection holds, so that what a
//! client that is gone held is given back.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::error::RemoteError;
use crate::waitable::{Peer, Waitable, lock};
use crate::wire::{BarrierOp, ConditionOp, RLockOp, Reply, SemaphoreOp};

/// A reentrant lock: the client thread that owns it, how many times, and by connection.
#[derive(Debug, Default)]
pub(crate) struct RLockState {
    owner: Option<(u32, u64)>,
    count: u64,
    by_connection: HashMap<u64, u64>,
}

/// A semaphore's counter, its bound (a `BoundedSemaphore`'s initial value) and the
/// acquisitions each connection has not released.
#[derive(Debug, Default)]
pub(crate) struct SemaphoreState {
    value: u64,
    bound: Option<u64>,
    by_connection: HashMap<u64, u64>,
}

impl SemaphoreState {
    pub(crate) fn new(value: u64, bounded: bool) -> SemaphoreState {
        SemaphoreState {
            value,
            bound: bounded.then_some(value),
            by_connection: HashMap::new(),
        }
    }
}

/// A barrier: its parties, who waits in the current round, and the round's number.
#[derive(Debug, Default)]
pub(crate) struct BarrierState {
    parties: u64,
    waiting: u64,
    round: u64,
    /// Bumped by each reset: who waited before it is let go with `BrokenBarrier`.
    resets: u64,
    broken: bool,
}

impl BarrierState {
    pub(crate) fn new(parties: u64) -> BarrierState {
        BarrierState {
            parties: parties.max(1),
            ..BarrierState::default()
        }
    }
}

/// Takes one off `connection`'s count; whether it had one.
fn take_one(by_connection: &mut HashMap<u64, u64>, connection: u64) -> bool {
    match by_connection.get_mut(&connection) {
        Some(count) if *count > 1 => {
            *count -= 1;
            true
        }
        Some(_) => {
            by_connection.remove(&connection);
            true
        }
        None => false,
    }
}

pub(crate) fn rlock_op(
    state: &Waitable<RLockState>,
    op: RLockOp,
    peer: &dyn Peer,
) -> (Reply, bool) {
    match op {
        RLockOp::Acquire { owner, timeout } => {
            let connection = peer.id();
            let acquired = state.wait_for(timeout, peer, |rlock| {
                (rlock.owner.is_none() || rlock.owner == Some(owner)).then(|| {
                    rlock.owner = Some(owner);
                    rlock.count += 1;
                    *rlock.by_connection.entry(connection).or_default() += 1;
                })
            });
            (Reply::Bool(acquired.is_some()), acquired.is_some())
        }
        RLockOp::Release => {
            let mut rlock = lock(&state.state);
            if !take_one(&mut rlock.by_connection, peer.id()) {
                return (Reply::Error(RemoteError::NotLocked), false);
            }
            rlock.count = rlock.count.saturating_sub(1);
            if rlock.count == 0 {
                rlock.owner = None;
                state.changed.notify_all();
            }
            (Reply::Done, false)
        }
        RLockOp::Locked => (Reply::Bool(lock(&state.state).owner.is_some()), false),
    }
}

/// Gives back what `connection` held of a reentrant lock.
pub(crate) fn rlock_release_all(state: &Waitable<RLockState>, connection: u64) {
    let mut rlock = lock(&state.state);
    if let Some(count) = rlock.by_connection.remove(&connection) {
        rlock.count = rlock.count.saturating_sub(count);
        if rlock.count == 0 {
            rlock.owner = None;
            state.changed.notify_all();
        }
    }
}

pub(crate) fn semaphore_op(
    state: &Waitable<SemaphoreState>,
    op: SemaphoreOp,
    peer: &dyn Peer,
) -> (Reply, bool) {
    let over = |bound| Reply::Error(RemoteError::SemaphoreReleasedTooOften { bound });
    match op {
        SemaphoreOp::Acquire(timeout) => {
            let connection = peer.id();
            let acquired = state.wait_for(timeout, peer, |semaphore| {
                (semaphore.value > 0).then(|| {
                    semaphore.value -= 1;
                    *semaphore.by_connection.entry(connection).or_default() += 1;
                })
            });
            (Reply::Bool(acquired.is_some()), acquired.is_some())
        }
        SemaphoreOp::ReleaseHeld => {
            let mut semaphore = lock(&state.state);
            if !take_one(&mut semaphore.by_connection, peer.id()) {
                return (Reply::Error(RemoteError::NotLocked), false);
            }
            semaphore.value = semaphore.value.saturating_add(1);
            state.changed.notify_one();
            (Reply::Done, false)
        }
        SemaphoreOp::Release => {
            let mut semaphore = lock(&state.state);
            if let Some(bound) = semaphore.bound
                && semaphore.value >= bound
            {
                return (over(bound), false);
            }
            semaphore.value = semaphore.value.saturating_add(1);
            state.changed.notify_one();
            (Reply::Done, false)
        }
        SemaphoreOp::Value => (Reply::Len(lock(&state.state).value), false),
    }
}

/// Gives back the acquisitions of a semaphore that `connection` did not release.
pub(crate) fn semaphore_release_all(state: &Waitable<SemaphoreState>, connection: u64) {
    let mut semaphore = lock(&state.state);
    if let Some(count) = semaphore.by_connection.remove(&connection) {
        semaphore.value = semaphore.value.saturating_add(count);
        if let Some(bound) = semaphore.bound {
            semaphore.value = semaphore.value.min(bound);
        }
        state.changed.notify_all();
    }
}

pub(crate) fn barrier_op(state: &Waitable<BarrierState>, op: BarrierOp, peer: &dyn Peer) -> Reply {
    let broken = Reply::Error(RemoteError::BrokenBarrier);
    match op {
        BarrierOp::Wait(timeout) => {
            let round = {
                let mut barrier = lock(&state.state);
                if barrier.broken {
                    return broken;
                }
                let index = barrier.waiting;
                barrier.waiting += 1;
                if barrier.waiting == barrier.parties {
                    barrier.waiting = 0;
                    barrier.round = barrier.round.wrapping_add(1);
                    state.changed.notify_all();
                    return Reply::Len(index);
                }
                (barrier.round, barrier.resets, index)
            };
            let (round, resets, index) = round;
            let passed = state.wait_for(timeout, peer, |barrier| {
                if barrier.round != round {
                    Some(true)
                } else if barrier.broken || barrier.resets != resets {
                    Some(false)
                } else {
                    None
                }
            });
            match passed {
                Some(true) => Reply::Len(index),
                Some(false) => broken,
                None => {
                    // A timeout breaks the barrier, as in Python; a client that is gone
                    // leaves the round instead, and the others keep waiting for a party.
                    let mut barrier = lock(&state.state);
                    if barrier.round == round && barrier.resets == resets && !barrier.broken {
                        if peer.gone() {
                            barrier.waiting = barrier.waiting.saturating_sub(1);
                        } else {
                            barrier.broken = true;
                            state.changed.notify_all();
                        }
                    } else if barrier.round != round {
                        return Reply::Len(index);
                    }
                    broken
                }
            }
        }
        BarrierOp::Abort => {
            lock(&state.state).broken = true;
            state.changed.notify_all();
            Reply::Done
        }
        BarrierOp::Reset => {
            // Those waiting now get `BrokenBarrier`, as in Python; the next round starts
            // afresh.
            let mut barrier = lock(&state.state);
            barrier.resets = barrier.resets.wrapping_add(1);
            barrier.waiting = 0;
            barrier.broken = false;
            state.changed.notify_all();
            Reply::Done
        }
        BarrierOp::State => {
            let barrier = lock(&state.state);
            Reply::Barrier {
                parties: barrier.parties,
                waiting: barrier.waiting,
                broken: barrier.broken,
            }
        }
    }
}

/// A condition variable with its own lock: the connection that holds the lock, and the
/// tickets of the waiters, in order, and of those notified.
#[derive(Debug, Default)]
pub(crate) struct ConditionState {
    holder: Option<u64>,
    next_ticket: u64,
    waiting: VecDeque<u64>,
    notified: HashSet<u64>,
}

/// The error for a wait or notify from a connection that does not hold the lock (Python's
/// `RuntimeError: cannot wait on un-acquired lock`).
fn not_held() -> Reply {
    Reply::Error(RemoteError::NotLocked)
}

pub(crate) fn condition_op(
    state: &Waitable<ConditionState>,
    op: ConditionOp,
    peer: &dyn Peer,
) -> (Reply, bool) {
    let me = peer.id();
    match op {
        ConditionOp::Acquire(timeout) => {
            let acquired = state.wait_for(timeout, peer, |condition| {
                condition
                    .holder
                    .is_none()
                    .then(|| condition.holder = Some(me))
            });
            (Reply::Bool(acquired.is_some()), acquired.is_some())
        }
        ConditionOp::Release => {
            let mut condition = lock(&state.state);
            if condition.holder != Some(me) {
                return (not_held(), false);
            }
            condition.holder = None;
            state.changed.notify_all();
            (Reply::Done, false)
        }
        ConditionOp::Notify(count) => {
            let mut condition = lock(&state.state);
            if condition.holder != Some(me) {
                return (not_held(), false);
            }
            let count = usize::try_from(count).unwrap_or(usize::MAX);
            for _ in 0..count {
                let Some(ticket) = condition.waiting.pop_front() else {
                    break;
                };
                condition.notified.insert(ticket);
            }
            state.changed.notify_all();
            (Reply::Done, false)
        }
        ConditionOp::Wait(timeout) => {
            let ticket = {
                let mut condition = lock(&state.state);
                if condition.holder != Some(me) {
                    return (not_held(), false);
                }
                let ticket = condition.next_ticket;
                condition.next_ticket = ticket.wrapping_add(1);
                condition.waiting.push_back(ticket);
                condition.holder = None;
                state.changed.notify_all();
                ticket
            };
            let notified = state
                .wait_for(timeout, peer, |condition| {
                    condition.notified.remove(&ticket).then_some(())
                })
                .is_some();
            if !notified {
                let mut condition = lock(&state.state);
                condition.waiting.retain(|&waiting| waiting != ticket);
                // A notify that came after the wait gave up is not lost on us.
                condition.notified.remove(&ticket);
            }
            // The lock is taken back whatever happened, as in Python; only a client that
            // is gone does not get it.
            let reacquired = state.wait_for(None, peer, |condition| {
                condition
                    .holder
                    .is_none()
                    .then(|| condition.holder = Some(me))
            });
            match reacquired {
                Some(()) => (Reply::Bool(notified), false),
                None => (Reply::Bool(false), false),
            }
        }
    }
}

/// Frees a condition's lock if `connection` holds it.
pub(crate) fn condition_release_all(state: &Waitable<ConditionState>, connection: u64) {
    let mut condition = lock(&state.state);
    if condition.holder == Some(connection) {
        condition.holder = None;
        state.changed.notify_all();
    }
}
