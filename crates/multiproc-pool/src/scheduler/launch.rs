//! Starting the pool: the first workers, the shared state around them and the result
//! thread.

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use ipc_channel::ipc;
use multiproc_process::ProcessError;
use multiproc_shared::Value;

use crate::callbacks::Callbacks;
use crate::get_wake::GetWake;

use super::result_set::ResultSet;
use super::result_thread::ResultThread;
use super::start::start_worker;
use super::state::{Core, RunState, Shared, WorkerSpec};

/// Builds the shared state around the first workers and starts the result thread.
pub(crate) fn launch(
    spec: WorkerSpec,
    processes: usize,
    max_tasks: Option<u64>,
) -> Result<(Arc<Shared>, std::thread::JoinHandle<()>), ProcessError> {
    let io = |context| move |source| ProcessError::Io { context, source };
    let callbacks = Callbacks::start().map_err(io("could not start the pool's callback thread"))?;
    let (wake, wake_rx) = ipc::channel::<()>().map_err(io("could not create a channel"))?;
    let mut set = ResultSet::new(wake_rx, spec.max_result_size)
        .map_err(io("could not create the result selector"))?;
    let asleep = Value::new(0u32).map_err(|e| ProcessError::Io {
        context: "could not create the pool's shared state",
        source: std::io::Error::other(e),
    })?;
    let get_wake = GetWake::new().map_err(|e| ProcessError::Io {
        context: "could not create the pool's shared state",
        source: std::io::Error::other(e),
    })?;
    let mut workers = Vec::with_capacity(processes);
    for number in 1..=processes {
        match start_worker(&spec, &asleep, &get_wake, number) {
            Ok((mut worker, results)) => {
                worker.set_id = Some(set.add(results).map_err(io("could not watch a channel"))?);
                workers.push(Some(worker));
            }
            Err(e) => {
                for mut worker in workers.into_iter().flatten() {
                    let _ = worker.kill();
                    let _ = worker.process.join();
                }
                return Err(e);
            }
        }
    }
    let core = Core {
        state: RunState::Running,
        pending: VecDeque::new(),
        workers,
        next_id: 0,
        wake,
        chunk_time: None,
        cursor: 0,
        max_tasks,
        broken: None,
        init_broken: None,
        start_failures: 0,
        restart_at: None,
    };
    let shared = Arc::new(Shared {
        core: Mutex::new(core),
        asleep,
        get_wake,
        spec,
        processes,
        finished: AtomicBool::new(false),
        owner: multiproc_sys::process::pid(),
        callbacks,
    });
    let handle = ResultThread::spawn(shared.clone(), set, processes)
        .map_err(io("could not start the pool's result thread"))?;
    Ok((shared, handle))
}
