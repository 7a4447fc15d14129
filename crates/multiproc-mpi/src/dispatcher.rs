//! Rank 0's dispatcher: the one thread that talks to MPI there. It keeps every serving rank
//! busy with a bounded number of chunks in flight, and routes results back to their jobs.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use multiproc_process::FunctionRef;

use crate::error::MpiError;
use crate::job::Job;
use crate::universe;
use crate::wire::{self, RemoteFailure, TO_ROOT, TO_SERVER, ToRoot, ToServer};

const SHORTEST_IDLE: Duration = Duration::from_micros(20);
const LONGEST_IDLE: Duration = Duration::from_millis(2);

/// What the pools on rank 0 ask of the dispatcher.
pub(crate) enum Command {
    Open {
        pool: u64,
        processes: Option<usize>,
        isolated: bool,
    },
    Chunk {
        pool: u64,
        function: FunctionRef,
        items: Vec<Vec<u8>>,
        job: Arc<Job>,
        first: usize,
    },
    Close {
        pool: u64,
    },
}

/// The running dispatcher: its command line and its thread.
struct Running {
    commands: Mutex<Option<Sender<Command>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

static RUNNING: OnceLock<Running> = OnceLock::new();

/// Sends a command to the dispatcher, starting it on first use.
pub(crate) fn send(command: Command, window: usize) -> Result<(), MpiError> {
    let running = RUNNING.get_or_init(|| start(window));
    let guard = running
        .commands
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match guard.as_ref() {
        Some(commands) => commands.send(command).map_err(|_| MpiError::Stopped),
        None => Err(MpiError::Stopped),
    }
}

fn start(window: usize) -> Running {
    let (commands, inbox) = mpsc::channel();
    let thread = thread::Builder::new()
        .name("multiproc-mpi-dispatcher".into())
        .spawn(move || Dispatcher::new(window).run(inbox))
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
    pool: u64,
    function: FunctionRef,
    items: Vec<Vec<u8>>,
    job: Arc<Job>,
    first: usize,
}

struct Dispatcher {
    world: SimpleCommunicator,
    /// Chunks in flight on each serving rank (index 0 is rank 1).
    in_flight: Vec<usize>,
    window: usize,
    queued: VecDeque<Chunk>,
    out: HashMap<u64, (Arc<Job>, usize, usize)>,
    next_chunk: u64,
}

impl Dispatcher {
    fn new(window: usize) -> Dispatcher {
        let world = universe::world();
        let servers = usize::try_from(world.size().saturating_sub(1)).unwrap_or(0);
        Dispatcher {
            world,
            in_flight: vec![0; servers],
            window: window.max(1),
            queued: VecDeque::new(),
            out: HashMap::new(),
            next_chunk: 0,
        }
    }

    fn run(mut self, inbox: Receiver<Command>) {
        let mut idle = SHORTEST_IDLE;
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
                continue;
            }
            match inbox.recv_timeout(idle) {
                Ok(command) => {
                    self.handle(command);
                    idle = SHORTEST_IDLE;
                }
                Err(RecvTimeoutError::Timeout) => idle = (idle * 2).min(LONGEST_IDLE),
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        for chunk in self.queued.drain(..) {
            chunk.job.abandon();
        }
        let mut out = std::mem::take(&mut self.out);
        stop_servers(&self.world, &mut out);
        for (job, _, _) in out.into_values() {
            job.abandon();
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Open {
                pool,
                processes,
                isolated,
            } => self.broadcast(&ToServer::Open {
                pool,
                processes,
                isolated,
            }),
            Command::Close { pool } => self.broadcast(&ToServer::Close { pool }),
            Command::Chunk {
                pool,
                function,
                items,
                job,
                first,
            } => self.queued.push_back(Chunk {
                pool,
                function,
                items,
                job,
                first,
            }),
        }
    }

    fn broadcast(&self, message: &ToServer) {
        if let Ok(bytes) = wire::encode(message) {
            for rank in 1..self.world.size() {
                self.world
                    .process_at_rank(rank)
                    .send_with_tag(&bytes[..], TO_SERVER);
            }
        }
    }

    /// Sends queued chunks to the least busy ranks with room; `true` if it sent any.
    fn dispatch(&mut self) -> bool {
        let mut sent = false;
        while !self.queued.is_empty() {
            let Some((server, _)) = self
                .in_flight
                .iter()
                .enumerate()
                .filter(|(_, load)| **load < self.window)
                .min_by_key(|(_, load)| **load)
            else {
                break;
            };
            let Some(chunk) = self.queued.pop_front() else {
                break;
            };
            let id = self.next_chunk;
            self.next_chunk += 1;
            let count = chunk.items.len();
            let message = ToServer::Chunk {
                pool: chunk.pool,
                chunk: id,
                function: chunk.function,
                items: chunk.items,
            };
            match wire::encode(&message) {
                Ok(bytes) => {
                    let rank = i32::try_from(server + 1).unwrap_or(i32::MAX);
                    self.world
                        .process_at_rank(rank)
                        .send_with_tag(&bytes[..], TO_SERVER);
                    self.in_flight[server] += 1;
                    self.out.insert(id, (chunk.job, chunk.first, server));
                }
                Err(e) => {
                    let outcomes = (0..count)
                        .map(|_| Err(RemoteFailure::Other(e.clone())))
                        .collect();
                    chunk.job.complete(chunk.first, outcomes);
                }
            }
            sent = true;
        }
        sent
    }

    /// Takes every result that has arrived; `true` if there was one.
    fn receive(&mut self) -> bool {
        let mut got = false;
        while let Some(probed) = self
            .world
            .any_process()
            .immediate_matched_probe_with_tag(TO_ROOT)
        {
            got = true;
            let (bytes, status) = probed.matched_receive_vec::<u8>();
            match wire::decode::<ToRoot>(&bytes) {
                Ok(ToRoot::Done { chunk, outcomes }) => {
                    if let Some((job, first, server)) = self.out.remove(&chunk) {
                        if let Some(load) = self.in_flight.get_mut(server) {
                            *load = load.saturating_sub(1);
                        }
                        job.complete(first, outcomes);
                    }
                }
                Ok(ToRoot::Stopped) => {}
                Err(e) => log::error!(
                    target: "multiproc::mpi",
                    "rank {} sent an undecodable message: {e}",
                    status.source_rank()
                ),
            }
        }
        got
    }
}

/// Tells every serving rank to stop, and takes (and drops) what they still send until each
/// one has confirmed: after its confirmation a rank sends nothing more, so no send of theirs
/// is left waiting when MPI ends.
fn stop_servers(world: &SimpleCommunicator, out: &mut HashMap<u64, (Arc<Job>, usize, usize)>) {
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
            Ok(ToRoot::Done { chunk, outcomes }) => {
                if let Some((job, first, _)) = out.remove(&chunk) {
                    job.complete(first, outcomes);
                }
            }
            Err(_) => {}
        }
    }
}
