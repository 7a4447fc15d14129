//! Logging across processes.
//!
//! The crates log through the [`log`] facade and never install a logger themselves. A child
//! that was re-executed (spawn) or forked by the fork server never ran the parent's logger
//! setup, so it gets a logger that forwards every record to the parent, where it is logged again
//! through the parent's logger with two key-values: `process_name` and `pid` of the child. A
//! child forked directly (fork start method) keeps the logger it inherited.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use ipc_channel::ipc::{self, IpcSender};
use log::{Level, LevelFilter, Log, Metadata, Record};
use multiproc_sys::ipc_receiver::WatchedReceiver;
use multiproc_sys::ipc_record::{self, Next};
use serde::{Deserialize, Serialize};

use crate::registry;

/// Where a child sends its log records, and which ones.
#[derive(Serialize, Deserialize)]
pub(crate) struct LogSink {
    sender: IpcSender<LogMessage>,
    max_level: usize,
}

/// What travels on the log channel.
#[derive(Serialize, Deserialize)]
enum LogMessage {
    Record(LogRecord),
    /// Sent by the receiving process to itself: once the log thread reaches it, every record
    /// sent before it has been logged.
    Barrier(u64),
}

/// A log record on its way to the parent.
#[derive(Serialize, Deserialize)]
struct LogRecord {
    level: usize,
    target: String,
    message: String,
    module_path: Option<String>,
    file: Option<String>,
    line: Option<u32>,
    process_name: String,
    pid: u32,
}

pub(crate) fn decode_record(bytes: &[u8]) -> Result<(), String> {
    ipc_channel::ipc::IpcMessage::from_data(bytes.to_vec())
        .to::<LogMessage>()
        .map(drop)
        .map_err(|e| e.to_string())
}

/// The sender of this process's log channel: the parent's (in a forwarding child) or our own
/// (whose receiving thread logs through our logger).
static SINK: OnceLock<IpcSender<LogMessage>> = OnceLock::new();

/// Whether this process runs the log thread (it is the process whose logger children's records
/// reach), and the last barrier that thread has passed.
static RECEIVING: AtomicBool = AtomicBool::new(false);
static BARRIER_SENT: AtomicU64 = AtomicU64::new(0);
static BARRIER_PASSED: Mutex<u64> = Mutex::new(0);
static BARRIER_CONDVAR: Condvar = Condvar::new();

/// In a forked child: the log thread stayed behind in the parent.
pub(crate) fn forget_receiver_after_fork() {
    RECEIVING.store(false, Ordering::Release);
}

/// How long [`flush_child_records`] waits for the log thread at most.
const FLUSH_LIMIT: Duration = Duration::from_secs(5);

/// Waits until every record that children sent so far has been logged here. Called when a
/// child has been joined, and at exit, so that a child's last records are not lost when the
/// program ends right after `join`. Does nothing where no log thread runs.
pub(crate) fn flush_child_records() {
    if !RECEIVING.load(Ordering::Acquire) {
        return;
    }
    let Some(sender) = SINK.get() else { return };
    let barrier = BARRIER_SENT.fetch_add(1, Ordering::AcqRel) + 1;
    if sender.send(LogMessage::Barrier(barrier)).is_err() {
        return;
    }
    let deadline = multiproc_sys::time::deadline_after(Some(FLUSH_LIMIT));
    let mut passed = BARRIER_PASSED.lock().unwrap_or_else(|p| p.into_inner());
    while *passed < barrier {
        let left = multiproc_sys::time::remaining(deadline).unwrap_or(FLUSH_LIMIT);
        if left.is_zero() {
            return;
        }
        passed = BARRIER_CONDVAR
            .wait_timeout(passed, left)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

fn level_from(n: usize) -> Level {
    match n {
        1 => Level::Error,
        2 => Level::Warn,
        3 => Level::Info,
        4 => Level::Debug,
        _ => Level::Trace,
    }
}

fn filter_from(n: usize) -> LevelFilter {
    match n {
        0 => LevelFilter::Off,
        n => level_from(n).to_level_filter(),
    }
}

/// The log sink to hand a new child, or `None` when logging is off here.
pub(crate) fn sink_for_child() -> Option<LogSink> {
    let max_level = log::max_level();
    if max_level == LevelFilter::Off {
        return None;
    }
    let sender = SINK.get_or_init(start_receiver).clone();
    Some(LogSink {
        sender,
        max_level: max_level as usize,
    })
}

/// Starts the thread that logs the records of our children through our logger.
fn start_receiver() -> IpcSender<LogMessage> {
    let (sender, receiver) =
        ipc::channel::<LogMessage>().expect("could not create the log channel");
    RECEIVING.store(true, Ordering::Release);
    let receiver = WatchedReceiver::new(receiver);
    std::thread::Builder::new()
        .name("multiproc-log".into())
        .spawn(move || {
            while let Some(message) = next_message(&receiver) {
                match message {
                    LogMessage::Record(record) => relog(&record),
                    LogMessage::Barrier(barrier) => {
                        let mut passed = BARRIER_PASSED.lock().unwrap_or_else(|p| p.into_inner());
                        *passed = (*passed).max(barrier);
                        BARRIER_CONDVAR.notify_all();
                    }
                }
            }
        })
        .expect("could not start the multiproc log thread");
    sender
}

/// The largest message a child may forward: a record whose text is over this is dropped.
const MAX_LOG_MESSAGE: usize = 16 << 20;

/// The next message a child forwarded, with its record header checked before ipc-channel
/// reads it (a hostile child that claims 2^62 bytes must not make us reserve them): a refused
/// or malformed message is dropped. `None` once the channel closed or failed.
fn next_message(receiver: &WatchedReceiver<LogMessage>) -> Option<LogMessage> {
    let Some(fd) = receiver.fd() else {
        return crate::function::catch_panic(true, || receiver.recv())
            .ok()?
            .ok();
    };
    let max_fragment = ipc_channel::platform::OsIpcSender::get_max_fragment_size();
    loop {
        if !multiproc_sys::poll::wait_readable(fd, None).ok()? {
            continue;
        }
        match ipc_record::check_next(fd, MAX_LOG_MESSAGE, max_fragment, None) {
            Ok(Ok(Next::Message)) => match crate::function::catch_panic(true, || receiver.recv()) {
                Ok(Ok(message)) => return Some(message),
                Ok(Err(ipc_channel::IpcError::Disconnected)) => return None,
                // Did not decode: dropped.
                Ok(Err(_)) | Err(_) => {}
            },
            Ok(Ok(Next::Nothing)) | Ok(Err(_)) => {}
            Ok(Ok(Next::End)) | Err(_) => return None,
        }
    }
}

fn relog(record: &LogRecord) {
    let pid = record.pid;
    let key_values: [(&str, log::kv::Value<'_>); 2] = [
        (
            "process_name",
            log::kv::Value::from(record.process_name.as_str()),
        ),
        ("pid", log::kv::Value::from(pid)),
    ];
    log::logger().log(
        &Record::builder()
            .level(level_from(record.level))
            .target(&record.target)
            .args(format_args!("{}", record.message))
            .module_path(record.module_path.as_deref())
            .file(record.file.as_deref())
            .line(record.line)
            .key_values(&key_values)
            .build(),
    );
}

/// In a child that did not inherit the parent's logger: forward every record to the parent.
pub(crate) fn install_forwarder(sink: LogSink) {
    let level = filter_from(sink.max_level);
    let sender = SINK.get_or_init(|| sink.sender).clone();
    if log::set_boxed_logger(Box::new(Forwarder { sender, level })).is_ok() {
        log::set_max_level(level);
    }
}

struct Forwarder {
    sender: IpcSender<LogMessage>,
    level: LevelFilter,
}

impl Log for Forwarder {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let (process_name, pid) = record_origin(record);
        let _ = self.sender.send(LogMessage::Record(LogRecord {
            level: record.level() as usize,
            target: record.target().to_owned(),
            message: record.args().to_string(),
            module_path: record.module_path().map(str::to_owned),
            file: record.file().map(str::to_owned),
            line: record.line(),
            process_name,
            pid,
        }));
    }

    fn flush(&self) {}
}

/// The process a record comes from: the `process_name`/`pid` key-values of a forwarded record,
/// or this process.
fn record_origin(record: &Record<'_>) -> (String, u32) {
    let kvs = record.key_values();
    let name = kvs
        .get(log::kv::Key::from("process_name"))
        .map(|v| v.to_string());
    let pid = kvs
        .get(log::kv::Key::from("pid"))
        .and_then(|v| v.to_u64())
        .map(|p| p as u32);
    match (name, pid) {
        (Some(name), Some(pid)) => (name, pid),
        _ => {
            let me = registry::state().me.clone();
            (me.name, me.pid)
        }
    }
}

/// Logs to stderr in Python's `log_to_stderr` format, `[LEVEL/ProcessName] message`, and sets
/// the maximum level. Records from child processes show the child's name.
///
/// Like Python's, it is meant for quick debugging; a program with its own logger (env_logger,
/// tracing-log, ...) keeps it, and child records reach it as well, with the key-values
/// `process_name` and `pid`.
///
/// Installing it a second time only changes the level. It fails if another logger is installed.
///
/// ```
/// multiproc_process::log_to_stderr(log::LevelFilter::Info).unwrap();
/// log::info!("hello");   // prints "[INFO/MainProcess] hello"
/// ```
#[doc(alias = "multiprocessing.log_to_stderr")]
pub fn log_to_stderr(level: LevelFilter) -> Result<(), log::SetLoggerError> {
    static INSTALLED: OnceLock<Result<(), ()>> = OnceLock::new();
    let installed =
        INSTALLED.get_or_init(|| log::set_boxed_logger(Box::new(StderrLogger)).map_err(drop));
    match installed {
        Ok(()) => {
            log::set_max_level(level);
            Ok(())
        }
        Err(()) => log::set_boxed_logger(Box::new(StderrLogger)),
    }
}

struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let (name, _) = record_origin(record);
        let line = format!("[{}/{}] {}\n", record.level(), name, record.args());
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}
