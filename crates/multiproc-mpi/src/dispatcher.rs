//! Rank 0's dispatcher: the one thread that talks to MPI there. It keeps every serving rank
//! busy with a bounded number of chunks in flight, and routes results back to their jobs.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use mpi::topology::{InterCommunicator, SimpleCommunicator};
use mpi::traits::*;
use multiproc_process::FunctionRef;

use crate::error::MpiError;
use crate::job::Job;
use crate::wire::{self, ChunkOutcome, Items, RemoteFailure, TO_ROOT, TO_SERVER, ToRoot, ToServer};
use crate::{spawn, sys, universe};

/// How long the dispatcher, with chunks out, keeps looking for results and commands without
/// sleeping after the last thing that happened, so that a result that comes soon is routed
/// at once instead of after a sleep.
const SPIN: Duration = Duration::from_micros(200);
/// After the spin, the dispatcher sleeps on its commands between looks at MPI, from the
/// shortest to the longest idle time, doubling while nothing happens.
const SHORTEST_IDLE: Duration = Duration::from_micros(20);
const LONGEST_IDLE: Duration = Duration::from_millis(2);

/// What the pools on rank 0 ask of the dispatcher.
pub(crate) enum Command {
    /// Spawn workers for a pool of their own, and answer with their group.
    Spawn {
        count: usize,
        reply: Sender<Result<u32, String>>,
    },
    Open {
        group: u32,
        pool: u64,
        processes: Option<usize>,
        isolated: bool,
    },
    Chunk {
        group: u32,
        pool: u64,
        function: FunctionRef,
        items: Items,
        count: usize,
        job: Arc<Job>,
        first: usize,
        /// The pool's bound on chunks in flight per rank.
        window: usize,
    },
    /// A pool ends. A spawned group's workers are stopped and disconnected, and then `done`
    /// hears of it.
    Close {
        group: u32,
        pool: u64,
        done: Option<Sender<()>>,
    },
}

/// The group of the job's own ranks (`MPI_COMM_WORLD`, ranks 1..).
pub(crate) const WORLD: u32 = 0;

/// The running dispatcher: its command line and its thread.
struct Running {
    commands: Mutex<Option<Sender<Command>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

static RUNNING: OnceLock<Running> = OnceLock::new();

/// Spawns `count` workers for a pool of their own (see `spawn.rs`); returns their group.
pub(crate) fn spawn(count: usize) -> Result<u32, MpiError> {
    let (reply, answer) = mpsc::channel();
    send(Command::Spawn { count, reply })?;
    answer
        .recv()
        .map_err(|_| MpiError::Stopped)?
        .map_err(MpiError::Spawn)
}

/// Sends a command to the dispatcher, starting it on first use.
pub(crate) fn send(command: Command) -> Result<(), MpiError> {
    let running = RUNNING.get_or_init(start);
    let guard = running
        .commands
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match guard.as_ref() {
        Some(commands) => commands.send(command).map_err(|_| MpiError::Stopped),
        None => Err(MpiError::Stopped),
    }
}

fn start() -> Running {
    let (commands, inbox) = mpsc::channel();
    let thread = thread::Builder::new()
        .name("multiproc-mpi-dispatcher".into())
        .spawn(move || Dispatcher::new().run(inbox))
        .ok();
    Running {
        commands: Mutex::new(thread.as_ref().map(|_| commands)),
        thread: Mutex::new(thread),
    }
}

/// Stops the dispatcher: abandons queued work, tells every serving rank to stop, waits until
/// each confirms, and joins the thread. Called once, as rank 0's program ends.
pub(crate) fn stop() {
    let Some(running) = RUNNING.get() else {
        // No pool ever ran: stop the servers from here (MPI is this thread's alone now).
        stop_servers(&universe::world(), &mut HashMap::new());
        return;
    };
    drop(
        running
            .commands
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take(),
    );
    if let Some(thread) = running
        .thread
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take()
    {
        let _ = thread.join();
    }
}

/// A chunk waiting for a rank, or out on one.
struct Chunk {
    group: u32,
    pool: u64,
    function: FunctionRef,
    items: Items,
    count: usize,
    job: Arc<Job>,
    first: usize,
    window: usize,
}

/// Serving ranks that share one communicator with rank 0: the job's own, or workers spawned
/// for one pool.
struct Group {
    /// Rank 0 is this process; the serving ranks are 1...
    comm: SimpleCommunicator,
    /// For spawned workers: the spawn's intercommunicator, disconnected when they are done.
    spawned: Option<InterCommunicator>,
    /// Chunks in flight on each serving rank (index 0 is rank 1).
    in_flight: Vec<usize>,
}

impl Group {
    fn new(comm: SimpleCommunicator, spawned: Option<InterCommunicator>) -> Group {
        let servers = usize::try_from(comm.size().saturating_sub(1)).unwrap_or(0);
        Group {
            comm,
            spawned,
            in_flight: vec![0; servers],
        }
    }

    fn broadcast(&self, message: &ToServer) {
        if let Ok(bytes) = wire::encode(message) {
            for rank in 1..self.comm.size() {
                self.comm
                    .process_at_rank(rank)
                    .send_with_tag(&bytes[..], TO_SERVER);
            }
        }
    }
}

/// A chunk out on a rank: where its results go, and where it runs.
struct Out {
    job: Arc<Job>,
    first: usize,
    count: usize,
    group: u32,
    server: usize,
}

struct Dispatcher {
    groups: HashMap<u32, Group>,
    next_group: u32,
    queued: VecDeque<Chunk>,
    out: HashMap<u64, Out>,
    next_chunk: u64,
}

impl Dispatcher {
    fn new() -> Dispatcher {
        Dispatcher {
            groups: HashMap::from([(WORLD, Group::new(universe::world(), None))]),
            next_group: WORLD + 1,
            queued: VecDeque::new(),
            out: HashMap::new(),
            next_chunk: 0,
        }
    }

    fn run(mut self, inbox: Receiver<Command>) {
        let mut idle = SHORTEST_IDLE;
        let mut last_event = Instant::now();
        loop {
            let mut busy = false;
            let mut stopping = false;
            loop {
                match inbox.try_recv() {
                    Ok(command) => {
                        self.handle(command);
                        busy = true;
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        stopping = true;
                        break;
                    }
                }
            }
            if stopping {
                break;
            }
            busy |= self.dispatch();
            busy |= self.receive();
            if busy {
                idle = SHORTEST_IDLE;
                last_event = Instant::now();
                continue;
            }
            if last_event.elapsed() < SPIN {
                thread::yield_now();
                continue;
            }
            if self.out.is_empty() && self.queued.is_empty() {
                // No chunk is out, so no rank will send anything: wait for the next command.
                match inbox.recv() {
                    Ok(command) => {
                        self.handle(command);
                        idle = SHORTEST_IDLE;
                        last_event = Instant::now();
                        continue;
                    }
                    Err(_) => break,
                }
            }
            match inbox.recv_timeout(idle) {
                Ok(command) => {
                    self.handle(command);
                    idle = SHORTEST_IDLE;
                    last_event = Instant::now();
                }
                Err(RecvTimeoutError::Timeout) => idle = (idle * 2).min(LONGEST_IDLE),
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        for chunk in self.queued.drain(..) {
            chunk.job.abandon();
        }
        let groups: Vec<u32> = self.groups.keys().copied().collect();
        for group in groups {
            self.end_group(group);
        }
        for out in std::mem::take(&mut self.out).into_values() {
            out.job.abandon();
        }
    }

    /// Stops the serving ranks of `group`, routing the results they still send, and for
    /// spawned workers frees the communicators, which ends them.
    fn end_group(&mut self, group: u32) {
        let Some(ended) = self.groups.remove(&group) else {
            return;
        };
        let theirs: Vec<u64> = (self.out.iter())
            .filter(|(_, out)| out.group == group)
            .map(|(&id, _)| id)
            .collect();
        let mut out: HashMap<u64, Out> = (theirs.into_iter())
            .filter_map(|id| Some((id, self.out.remove(&id)?)))
            .collect();
        stop_servers(&ended.comm, &mut out);
        for out in out.into_values() {
            out.job.abandon();
        }
        self.queued.retain(|chunk| {
            let keep = chunk.group != group;
            if !keep {
                chunk.job.abandon();
            }
            keep
        });
        let Group { comm, spawned, .. } = ended;
        drop(comm);
        // Dropping the intercommunicator disconnects it, which the workers do too.
        drop(spawned);
    }

    fn spawn(&mut self, count: usize) -> Result<u32, String> {
        sys::ensure_linked();
        let (workers, comm) = spawn::spawn_workers(count)?;
        let group = self.next_group;
        self.next_group += 1;
        self.groups.insert(group, Group::new(comm, Some(workers)));
        Ok(group)
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Spawn { count, reply } => {
                let _ = reply.send(self.spawn(count));
            }
            Command::Open {
                group,
                pool,
                processes,
                isolated,
            } => {
                if let Some(group) = self.groups.get(&group) {
                    group.broadcast(&ToServer::Open {
                        pool,
                        processes,
                        isolated,
                    });
                }
            }
            Command::Close { group, pool, done } => {
                if group == WORLD {
                    if let Some(world) = self.groups.get(&WORLD) {
                        world.broadcast(&ToServer::Close { pool });
                    }
                } else {
                    self.end_group(group);
                }
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
            Command::Chunk {
                group,
                pool,
                function,
                items,
                count,
                job,
                first,
                window,
            } => self.queued.push_back(Chunk {
                group,
                pool,
                function,
                items,
                count,
                job,
                first,
                window: window.max(1),
            }),
        }
    }

    /// Sends queued chunks to the least busy ranks with room; `true` if it sent any.
    fn dispatch(&mut self) -> bool {
        let mut sent = false;
        while let Some((window, group)) = self.queued.front().map(|c| (c.window, c.group)) {
            let Some(target) = self.groups.get_mut(&group) else {
                // The group has ended: nobody will run this chunk.
                if let Some(chunk) = self.queued.pop_front() {
                    chunk.job.abandon();
                }
                continue;
            };
            let Some((server, _)) = target
                .in_flight
                .iter()
                .enumerate()
                .filter(|(_, load)| **load < window)
                .min_by_key(|(_, load)| **load)
            else {
                break;
            };
            let Some(chunk) = self.queued.pop_front() else {
                break;
            };
            let id = self.next_chunk;
            self.next_chunk += 1;
            let count = chunk.count;
            let message = ToServer::Chunk {
                pool: chunk.pool,
                chunk: id,
                function: chunk.function,
                items: chunk.items,
            };
            match wire::encode(&message) {
                Ok(bytes) => {
                    let rank = i32::try_from(server + 1).unwrap_or(i32::MAX);
                    target
                        .comm
                        .process_at_rank(rank)
                        .send_with_tag(&bytes[..], TO_SERVER);
                    target.in_flight[server] += 1;
                    self.out.insert(
                        id,
                        Out {
                            job: chunk.job,
                            first: chunk.first,
                            count,
                            group,
                            server,
                        },
                    );
                }
                Err(e) => {
                    let failed = ChunkOutcome::Failed(RemoteFailure::Other(e));
                    chunk.job.complete(chunk.first, count, failed);
                }
            }
            sent = true;
        }
        sent
    }

    /// Takes every result that has arrived; `true` if there was one.
    fn receive(&mut self) -> bool {
        let mut got = false;
        for group in self.groups.values_mut() {
            while let Some(probed) = group
                .comm
                .any_process()
                .immediate_matched_probe_with_tag(TO_ROOT)
            {
                got = true;
                let (bytes, status) = probed.matched_receive_vec::<u8>();
                route(&bytes, status.source_rank(), group, &mut self.out);
            }
        }
        got
    }
}

/// Routes a message from a serving rank of `group` to its job.
fn route(bytes: &[u8], source: i32, group: &mut Group, out: &mut HashMap<u64, Out>) {
    {
        {
            match wire::decode::<ToRoot>(bytes) {
                Ok(ToRoot::Done { chunk, outcome }) => {
                    if let Some(done) = out.remove(&chunk) {
                        if let Some(load) = group.in_flight.get_mut(done.server) {
                            *load = load.saturating_sub(1);
                        }
                        done.job.complete(done.first, done.count, outcome);
                    }
                }
                Ok(ToRoot::Stopped) => {}
                Err(e) => log::error!(
                    target: "multiproc::mpi",
                    "rank {source} sent an undecodable message: {e}",
                ),
            }
        }
    }
}

/// Tells every serving rank to stop, and takes (and drops) what they still send until each
/// one has confirmed: after its confirmation a rank sends nothing more, so no send of theirs
/// is left waiting when MPI ends.
fn stop_servers(world: &SimpleCommunicator, out: &mut HashMap<u64, Out>) {
    let Ok(bytes) = wire::encode(&ToServer::Stop) else {
        return;
    };
    for rank in 1..world.size() {
        world
            .process_at_rank(rank)
            .send_with_tag(&bytes[..], TO_SERVER);
    }
    let mut running = usize::try_from(world.size().saturating_sub(1)).unwrap_or(0);
    while running > 0 {
        let probed = world.any_process().matched_probe_with_tag(TO_ROOT);
        let (bytes, _) = probed.matched_receive_vec::<u8>();
        match wire::decode::<ToRoot>(&bytes) {
            Ok(ToRoot::Stopped) => running -= 1,
            Ok(ToRoot::Done { chunk, outcome }) => {
                if let Some(done) = out.remove(&chunk) {
                    done.job.complete(done.first, done.count, outcome);
                }
            }
            Err(_) => {}
        }
    }
}
