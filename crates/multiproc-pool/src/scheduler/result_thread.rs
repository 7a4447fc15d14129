//! The pool's result thread: it reads every worker's results, notices deaths and timeouts,
//! replaces workers, hands out work, and leaves when the pool is closed or terminated.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::booking::{drain_ring, receive};
use super::broken::break_pool;
use super::result_set::{Event, ResultSet};
use super::state::{Core, RunState, Shared, Worker};

/// How often the result thread checks that workers are alive (a dead worker's result channel
/// normally closes at once; the check covers a copy of it inherited by another process).
const TICK: Duration = Duration::from_millis(100);

/// The pool's result thread.
pub(super) struct ResultThread {
    pub(super) shared: Arc<Shared>,
    pub(super) set: ResultSet,
    /// Workers started so far, for their names.
    pub(super) started: usize,
    pub(super) last_check: Instant,
    /// Workers buried and not yet replaced, oldest first: pid and why it ended, for the
    /// `worker replaced` debug record.
    pub(super) buried: std::collections::VecDeque<(u32, String)>,
}

/// Makes the result thread panic at its next turn (one test of a broken pool uses it).
#[cfg(test)]
pub(super) static PANIC_NEXT_TURN: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

impl ResultThread {
    /// Starts the result thread of a pool whose first `started` workers' result channels
    /// are in `set`, beside the wake-up channel.
    pub(super) fn spawn(
        shared: Arc<Shared>,
        set: ResultSet,
        started: usize,
    ) -> std::io::Result<JoinHandle<()>> {
        let reader = ResultThread {
            shared,
            set,
            started,
            last_check: Instant::now(),
            buried: std::collections::VecDeque::new(),
        };
        std::thread::Builder::new()
            .name("multiproc-pool-results".into())
            .spawn(move || {
                let shared = reader.shared.clone();
                // Quiet: a library thread does not write to stderr; the cause is reported
                // to every task instead.
                if let Err(panic) = multiproc_sys::panic::catch(true, move || reader.run()) {
                    let detail = format!(
                        "its result thread panicked: {} ({})",
                        panic.message,
                        panic.location.as_deref().unwrap_or("unknown location")
                    );
                    log::error!("the pool stopped working: {detail}");
                    break_pool(&shared, detail);
                }
            })
    }

    fn run(mut self) {
        let _reserve = crate::worker::reserve_receive_buffer(24);
        loop {
            #[cfg(test)]
            if PANIC_NEXT_TURN.swap(false, std::sync::atomic::Ordering::SeqCst) {
                panic!("a panic injected by a test");
            }
            let timeout = {
                let core = self.shared.core();
                let tick = self.last_check + TICK;
                let until = core.next_deadline().map_or(tick, |d| d.min(tick));
                until.saturating_duration_since(Instant::now())
            };
            let events = if self.drain_rings() {
                // Busy: look at the channels without waiting.
                self.select(Duration::ZERO)
            } else {
                // Going to sleep: say so, then look at the rings once more, so that a result
                // written in between either is seen here or makes its worker send `Ready`.
                self.shared.asleep.store(1);
                if self.drain_rings() {
                    self.shared.asleep.store(0);
                    self.select(Duration::ZERO)
                } else {
                    let events = self.select(timeout);
                    self.shared.asleep.store(0);
                    events
                }
            };
            self.handle(events);
            if self.last_check.elapsed() >= TICK {
                self.last_check = Instant::now();
                self.check_liveness();
            }
            self.check_timeouts();
            let state = {
                let mut core = self.shared.core();
                if core.state == RunState::Closing && core.is_idle() {
                    core.pending.clear();
                }
                core.state
            };
            self.refill_slots();
            match state {
                RunState::Terminated => return self.shut_down(true),
                RunState::Closing if self.shared.core().is_idle() => return self.shut_down(false),
                _ => {}
            }
        }
    }

    pub(super) fn select(&mut self, timeout: Duration) -> Vec<Event> {
        match self.set.select(timeout) {
            Ok(events) => events,
            Err(e) => {
                log::error!("the pool could not read its workers' results: {e}");
                std::thread::sleep(TICK);
                Vec::new()
            }
        }
    }

    /// Books results in, hands out more work, then delivers the results (outside the lock: a
    /// callback may use the pool) and handles workers whose channel closed.
    pub(super) fn handle(&mut self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        let mut delivered = Vec::new();
        let mut ended = Vec::new();
        {
            let mut core = self.shared.core();
            for event in events {
                match event {
                    Event::Message(id, message) => {
                        let core = &mut *core;
                        let Some(worker) = worker_of(&mut core.workers, id) else {
                            continue;
                        };
                        if worker.corrupt.is_some() {
                            continue;
                        }
                        // What the worker wrote into its ring before this message comes
                        // first: a chunk's first results may be there.
                        delivered.extend(drain_ring(worker, &mut core.chunk_time, Duration::ZERO));
                        if worker.corrupt.is_some() {
                            continue;
                        }
                        match message {
                            Ok(message) => {
                                delivered.extend(receive(worker, &mut core.chunk_time, message))
                            }
                            Err(corrupt) => worker.mark_corrupt(corrupt),
                        }
                    }
                    Event::Closed(id) => {
                        let slot = slot_of(&core, id);
                        if let Some(mut worker) = slot.and_then(|s| core.workers.get_mut(s)?.take())
                        {
                            worker.set_id = None;
                            ended.push(worker);
                        }
                    }
                }
            }
            ended.extend(take_corrupt(&mut core));
            if !delivered.is_empty() {
                core.start_succeeded();
            }
            if core.state != RunState::Terminated {
                core.dispatch();
            }
        }
        for booked in delivered {
            booked.deliver();
        }
        for worker in ended {
            self.bury(worker);
        }
    }

    /// Takes every result waiting in the workers' rings, hands out more work, and delivers
    /// the results. Returns whether there were any.
    pub(super) fn drain_rings(&mut self) -> bool {
        let mut delivered = Vec::new();
        let corrupt = {
            let mut core = self.shared.core();
            let core = &mut *core;
            for worker in core.workers.iter_mut().flatten() {
                delivered.extend(drain_ring(worker, &mut core.chunk_time, Duration::ZERO));
            }
            let corrupt = take_corrupt(core);
            if !delivered.is_empty() {
                core.start_succeeded();
            }
            if !delivered.is_empty() && core.state != RunState::Terminated {
                core.dispatch();
            }
            corrupt
        };
        let any = !delivered.is_empty() || !corrupt.is_empty();
        for booked in delivered {
            booked.deliver();
        }
        for worker in corrupt {
            self.bury(worker);
        }
        any
    }
}

/// Takes the workers marked corrupt out of their slots, to be buried.
fn take_corrupt(core: &mut Core) -> Vec<Worker> {
    core.workers
        .iter_mut()
        .filter(|slot| slot.as_ref().is_some_and(|w| w.corrupt.is_some()))
        .filter_map(Option::take)
        .collect()
}

fn worker_of(workers: &mut [Option<Worker>], set_id: u64) -> Option<&mut Worker> {
    workers
        .iter_mut()
        .flatten()
        .find(|w| w.set_id == Some(set_id))
}

fn slot_of(core: &Core, set_id: u64) -> Option<usize> {
    core.workers
        .iter()
        .position(|w| w.as_ref().is_some_and(|w| w.set_id == Some(set_id)))
}
