//! Logging across processes.
//!
//! The crates log through the [`log`] facade and never install a logger themselves. A child
//! that was re-executed (spawn) or forked by the fork server never ran the parent's logger
//! setup, so it gets a logger that forwards every record to the parent, where it is logged again
//! through the parent's logger with two key-values: `process_name` and `pid` of the child. A
//! child forked directly (fork start method) keeps the logger it inherited.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
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
    // Only when set: a forked child's first write to a page copies the page.
    if RECEIVING.load(Ordering::Acquire) {
        RECEIVING.store(false, Ordering::Release);
    }
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

/// The log target of multiproc's own records, and the prefix of every target that
/// [`log_to_stderr`] prints: Python's `multiprocessing` logger. The crates log under
/// `multiproc::process` and `multiproc::pool` (lifecycle records at `debug`: a process
/// started, exited, a worker replaced) and under their module paths (`multiproc_pool::...`).
///
/// A program's own record goes through `log_to_stderr`'s logger when it names this target,
/// as Python's `multiprocessing.get_logger().info(...)` does:
///
/// ```
/// multiproc_process::log_to_stderr(multiproc_process::LevelFilter::Info).unwrap();
/// log::info!(target: multiproc_process::LOG_TARGET, "printed: [INFO/MainProcess] ...");
/// log::info!("not printed: not a multiproc target");
/// ```
#[doc(alias = "multiprocessing.get_logger")]
pub const LOG_TARGET: &str = "multiproc";

/// Sets up Python's `log_to_stderr` for multiproc's records only: records whose target
/// starts with [`LOG_TARGET`] (`"multiproc"`), at `level` or more severe, are printed to
/// stderr as `[LEVEL/ProcessName] message`. Records from child processes show the child's
/// name. Other targets (your program's own `log::info!`) are not printed.
///
/// It never replaces a logger you installed. If no logger is set, it installs its own (a
/// `log` logger is global: that one prints multiproc's targets only) and returns `Ok`; called
/// again, it only changes the level. If another logger is set (env_logger, tracing-log...),
/// it leaves it, and its level, alone and returns the `Err` that `log::set_logger` gave:
/// configure multiproc's targets in that logger instead (`RUST_LOG=multiproc=debug` for
/// env_logger). Either way, records logged in spawn and forkserver children reach the
/// parent's logger.
///
/// The line goes to descriptor 2 in one `write(2)`, without `std::io::Stderr`'s lock, so the
/// log thread never waits on a lock a forked child might have inherited held.
///
/// # With env_logger
///
/// Records that children forward carry the key-values `process_name` and `pid`. env_logger
/// shows key-values only with its `kv` feature (`env_logger = { version = "0.11", features =
/// ["kv"] }`); without it every child's record looks like the parent's. With it:
///
/// ```text
/// fn main() {
///     env_logger::init(); // RUST_LOG=info,multiproc=debug
///     // ... a child's `log::info!("Worker started")` prints
///     // [2026-12-04T10:00:00Z INFO  my_app] Worker started process_name=Worker1 pid=4242
/// }
/// ```
///
/// # Example
///
/// ```
/// use multiproc_process::{LevelFilter, LOG_TARGET, log_to_stderr};
///
/// log_to_stderr(LevelFilter::Info).unwrap();
/// log::info!(target: LOG_TARGET, "hello"); // prints "[INFO/MainProcess] hello"
/// log_to_stderr(LevelFilter::Debug).unwrap(); // ours already: only the level changes
/// assert_eq!(log::max_level(), LevelFilter::Debug);
/// ```
///
/// A logger of the program's own is left in place:
///
/// ```
/// struct Mine;
/// impl log::Log for Mine {
///     fn enabled(&self, _: &log::Metadata<'_>) -> bool { true }
///     fn log(&self, _: &log::Record<'_>) {}
///     fn flush(&self) {}
/// }
/// log::set_logger(&Mine).unwrap();
/// log::set_max_level(log::LevelFilter::Warn);
/// assert!(multiproc_process::log_to_stderr(log::LevelFilter::Debug).is_err());
/// assert_eq!(log::max_level(), log::LevelFilter::Warn);
/// ```
#[doc(alias = "multiprocessing.log_to_stderr")]
pub fn log_to_stderr(level: LevelFilter) -> Result<(), log::SetLoggerError> {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut installed = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
    if !*installed {
        log::set_boxed_logger(Box::new(StderrLogger))?;
        *installed = true;
    }
    STDERR_LEVEL.store(level as usize, Ordering::Relaxed);
    log::set_max_level(level);
    Ok(())
}

/// The level of [`StderrLogger`], as a `LevelFilter`'s number.
static STDERR_LEVEL: AtomicUsize = AtomicUsize::new(0);

/// Whether `target` is one of multiproc's (`multiproc`, `multiproc::...`, `multiproc_pool::...`).
fn is_multiproc_target(target: &str) -> bool {
    target
        .strip_prefix(LOG_TARGET)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::") || rest.starts_with('_'))
}

struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() as usize <= STDERR_LEVEL.load(Ordering::Relaxed)
            && is_multiproc_target(metadata.target())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let (name, _) = record_origin(record);
        let line = format!("[{}/{}] {}\n", record.level(), name, record.args());
        let _ = multiproc_sys::stderr::write_all(line.as_bytes());
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::is_multiproc_target;

    #[test]
    fn multiproc_targets_are_recognised_by_prefix() {
        for target in ["multiproc", "multiproc::pool", "multiproc_pool::scheduler"] {
            assert!(is_multiproc_target(target), "{target}");
        }
        for target in ["my_app", "multiprocessing", "multiprocx", ""] {
            assert!(!is_multiproc_target(target), "{target}");
        }
    }
}
