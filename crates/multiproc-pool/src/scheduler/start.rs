//! Starting one worker: its channels, its ring, its process.

use std::collections::VecDeque;
use std::time::Instant;

use ipc_channel::ipc::IpcReceiver;
use multiproc_process::{ProcessError, get_context};
use multiproc_shared::Value;

use crate::get_wake::GetWake;
use crate::wire::{FromWorker, result_channel, task_channel};
use crate::worker::worker_main;

use super::state::{Worker, WorkerSpec};

/// Starts one worker process.
pub(crate) fn start_worker(
    spec: &WorkerSpec,
    asleep: &Value<u32>,
    get_wake: &GetWake,
    number: usize,
) -> Result<(Worker, IpcReceiver<FromWorker>), ProcessError> {
    let io = |context| move |source| ProcessError::Io { context, source };
    let (task_tx, task_rx) = task_channel().map_err(io("could not create a task channel"))?;
    let (sink, result_rx, ring) = result_channel(asleep, get_wake)
        .map_err(io("could not create a result channel and ring"))?;
    let process = match &spec.make {
        Some(make) => make(spec.method, task_rx, sink, spec.config),
        None => get_context(spec.method).process(worker_main, (task_rx, sink, spec.config)),
    };
    let mut process = process
        .with_name(format!("PoolWorker-{number}"))
        .with_daemon(true)
        .limits(spec.limits);
    process.start()?;
    let worker = Worker {
        pid: process.pid().unwrap_or(0),
        process,
        tasks: task_tx,
        ring,
        set_id: None,
        in_flight: VecDeque::new(),
        in_flight_bytes: 0,
        head_since: Instant::now(),
        sent: 0,
        next_seq: 0,
        taken_back: VecDeque::new(),
        timed_out: None,
        init_failed: None,
        corrupt: None,
    };
    Ok((worker, result_rx))
}
