//! The `parallel_files` case study: count the lines, words, bytes and word frequencies of
//! many files, sequentially and with a [`Pool`], and compare.
//!
//! The example binary (`examples/parallel_files.rs`) prints what [`compare`] measures;
//! the benchmark harness (`cases/parallel_files`) times the same call.
//!
//! ```
//! use multiproc_examples::parallel_files::{self, TempDir};
//!
//! let dir = TempDir::new("multiproc-doc-files")?;
//! parallel_files::write_sample_corpus(dir.path(), 6)?;
//! let (files, notes) = parallel_files::collect_files(dir.path())?;
//! assert!(notes.is_empty());
//! let paths = parallel_files::path_bytes(files);
//! let run = parallel_files::compare(&paths, 2, false)?;
//! assert!(run.equal());
//! assert_eq!(run.parallel.files, 6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use multiproc::pool::{Options, Pool, PoolError};
use serde::{Deserialize, Serialize};

use crate::split_mix::SplitMix64;

/// The example's generated corpus: this many files.
pub const SAMPLE_FILES: usize = 360;
/// Spread over this many subdirectories.
const SAMPLE_DIRS: usize = 12;
const SEED: u64 = 0x5eed_f11e;

/// The statistics of one file, or of many merged.
///
/// ```
/// use multiproc_examples::parallel_files::Stats;
/// let mut total = Stats::default();
/// total.merge(Stats { files: 1, lines: 2, words: 3, bytes: 4, ..Stats::default() });
/// assert_eq!(total.summary(), "1 files, 2 lines, 3 words, 4 bytes");
/// ```
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Files counted.
    pub files: u64,
    /// Newlines, like `wc -l`.
    pub lines: u64,
    /// Runs of letters and digits.
    pub words: u64,
    /// Bytes read.
    pub bytes: u64,
    /// How often each lower-cased word occurs.
    pub word_counts: HashMap<String, u64>,
}

impl Stats {
    /// Adds `other` to these statistics.
    ///
    /// ```
    /// use multiproc_examples::parallel_files::Stats;
    /// let mut a = Stats { files: 1, ..Stats::default() };
    /// a.merge(a.clone());
    /// assert_eq!(a.files, 2);
    /// ```
    pub fn merge(&mut self, other: Stats) {
        self.files += other.files;
        self.lines += other.lines;
        self.words += other.words;
        self.bytes += other.bytes;
        for (word, count) in other.word_counts {
            *self.word_counts.entry(word).or_default() += count;
        }
    }

    /// The `n` most frequent words, ties broken alphabetically (so the list is stable).
    ///
    /// ```
    /// use multiproc_examples::parallel_files::Stats;
    /// let mut stats = Stats::default();
    /// stats.word_counts.insert("b".into(), 2);
    /// stats.word_counts.insert("a".into(), 2);
    /// assert_eq!(stats.top(1), [("a", 2)]);
    /// ```
    pub fn top(&self, n: usize) -> Vec<(&str, u64)> {
        let mut words: Vec<(&str, u64)> = self
            .word_counts
            .iter()
            .map(|(word, &count)| (word.as_str(), count))
            .collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        words.truncate(n);
        words
    }

    /// `"<files> files, <lines> lines, <words> words, <bytes> bytes"`.
    ///
    /// ```
    /// use multiproc_examples::parallel_files::Stats;
    /// assert_eq!(Stats::default().summary(), "0 files, 0 lines, 0 words, 0 bytes");
    /// ```
    pub fn summary(&self) -> String {
        format!(
            "{} files, {} lines, {} words, {} bytes",
            self.files, self.lines, self.words, self.bytes
        )
    }
}

/// The pool task: counts one file. The path travels as raw bytes, so names that are not
/// UTF-8 work too. An unreadable file gives an error message instead of statistics.
///
/// ```
/// use multiproc_examples::parallel_files::analyze_file;
/// assert!(analyze_file(b"/nonexistent/file".to_vec()).is_err());
/// ```
pub fn analyze_file(path: Vec<u8>) -> Result<Stats, String> {
    let path = PathBuf::from(std::ffi::OsString::from_vec(path));
    let data = fs::read(&path).map_err(|err| err.to_string())?;
    let mut stats = Stats {
        files: 1,
        bytes: data.len() as u64,
        lines: data.iter().filter(|&&b| b == b'\n').count() as u64,
        ..Stats::default()
    };
    let text = String::from_utf8_lossy(&data);
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        stats.words += 1;
        let word = word.to_lowercase();
        match stats.word_counts.get_mut(&word) {
            Some(count) => *count += 1,
            None => {
                stats.word_counts.insert(word, 1);
            }
        }
    }
    Ok(stats)
}

/// Counts a group of files in one task and merges their statistics there (with
/// [`merge_all`]): one word table crosses back to the parent per group instead of one per
/// file, and the parent merges a few tables instead of hundreds. Merging in the parent
/// was the sequential part that held the speed-up down.
///
/// ```
/// use multiproc_examples::parallel_files::analyze_group;
/// let (total, notes) = analyze_group(vec![b"/nonexistent".to_vec()]);
/// assert_eq!(total.files, 0);
/// assert_eq!(notes.len(), 1);
/// ```
pub fn analyze_group(paths: Vec<Vec<u8>>) -> (Stats, Vec<String>) {
    let results = paths.iter().cloned().map(analyze_file).collect();
    merge_all(&paths, results)
}

/// Merges per-file results in input order; returns the total and one note per unreadable
/// file (`"skipped <path>: <error>"`).
///
/// ```
/// use multiproc_examples::parallel_files::{Stats, merge_all};
/// let paths = [b"a".to_vec(), b"b".to_vec()];
/// let one = Stats { files: 1, ..Stats::default() };
/// let (total, notes) = merge_all(&paths, vec![Ok(one), Err("denied".into())]);
/// assert_eq!(total.files, 1);
/// assert_eq!(notes, ["skipped b: denied"]);
/// ```
pub fn merge_all(paths: &[Vec<u8>], results: Vec<Result<Stats, String>>) -> (Stats, Vec<String>) {
    let mut total = Stats::default();
    let mut skipped = Vec::new();
    for (path, result) in paths.iter().zip(results) {
        match result {
            Ok(stats) => total.merge(stats),
            Err(err) => {
                let path = Path::new(std::ffi::OsStr::from_bytes(path));
                skipped.push(format!("skipped {}: {err}", path.display()));
            }
        }
    }
    (total, skipped)
}

/// The regular files under `root`, sorted, without following symbolic links; with a note
/// for each directory or entry that could not be read (and was skipped).
///
/// ```
/// use multiproc_examples::parallel_files::collect_files;
/// assert!(collect_files("/nonexistent-dir".as_ref()).is_err());
/// ```
pub fn collect_files(root: &Path) -> io::Result<(Vec<PathBuf>, Vec<String>)> {
    let meta = fs::symlink_metadata(root)?;
    if !meta.is_dir() {
        return Ok((vec![root.to_path_buf()], Vec::new()));
    }
    let mut files = Vec::new();
    let mut notes = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) => {
                notes.push(format!("skipped directory {}: {err}", dir.display()));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    notes.push(format!("skipped an entry of {}: {err}", dir.display()));
                    continue;
                }
            };
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => dirs.push(entry.path()),
                Ok(kind) if kind.is_file() => files.push(entry.path()),
                // Symbolic links (possible cycles), FIFOs (a read would block), sockets.
                Ok(_) => {}
                Err(err) => notes.push(format!("skipped {}: {err}", entry.path().display())),
            }
        }
    }
    files.sort();
    Ok((files, notes))
}

/// The paths as raw bytes, the form the pool task takes.
///
/// ```
/// use multiproc_examples::parallel_files::path_bytes;
/// assert_eq!(path_bytes(vec!["/a".into()]), [b"/a".to_vec()]);
/// ```
pub fn path_bytes(paths: Vec<PathBuf>) -> Vec<Vec<u8>> {
    paths
        .into_iter()
        .map(|p| p.into_os_string().into_vec())
        .collect()
}

const WORDS: &[&str] = &[
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be",
    "by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have",
    "an", "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
    "been", "if", "more", "when", "will", "would", "who", "so", "no", "process", "pool", "worker",
    "queue", "pipe", "lock", "value", "array", "memory", "shared", "task", "result", "signal",
    "child", "parent", "start", "join", "map", "chunk", "file", "line", "word", "count", "merge",
    "speed", "core", "thread", "kernel", "socket", "buffer", "river", "mountain", "forest",
    "window", "garden", "letter", "winter", "summer", "engine", "bridge", "harbour", "lantern",
    "meadow", "copper", "silver", "orchard", "thunder", "candle", "compass", "ledger", "saddle",
    "quarry", "falcon", "juniper", "marble", "velvet",
];

/// Writes a sample corpus into `dir` (which must exist and be empty): `files` files of 8 to
/// 48 KiB of text whose word frequencies fall off like natural language (a few words very
/// common), in 12 subdirectories. The same `files` gives the same corpus on every run; the
/// example writes [`SAMPLE_FILES`].
///
/// ```
/// use multiproc_examples::parallel_files::{TempDir, collect_files, write_sample_corpus};
/// let dir = TempDir::new("multiproc-doc-corpus")?;
/// write_sample_corpus(dir.path(), 3)?;
/// assert_eq!(collect_files(dir.path())?.0.len(), 3);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_sample_corpus(dir: &Path, files: usize) -> io::Result<()> {
    let mut rng = SplitMix64(SEED);
    for d in 0..SAMPLE_DIRS {
        fs::create_dir(dir.join(format!("part-{d:02}")))?;
    }
    for i in 0..files {
        let target = 8 * 1024 + rng.below(40 * 1024);
        let mut text = String::with_capacity(target + 128);
        while text.len() < target {
            let words_in_line = 4 + rng.below(12);
            for w in 0..words_in_line {
                // u^3 skews the index towards the start of the list: a Zipf-like spread.
                let index = (rng.uniform().powi(3) * WORDS.len() as f64) as usize;
                let word = WORDS[index];
                if w == 0 {
                    let mut chars = word.chars();
                    if let Some(first) = chars.next() {
                        text.extend(first.to_uppercase());
                        text.push_str(chars.as_str());
                    }
                } else {
                    text.push(' ');
                    text.push_str(word);
                }
            }
            text.push_str(if rng.below(4) == 0 { ",\n" } else { ".\n" });
        }
        let path = dir
            .join(format!("part-{:02}", i % SAMPLE_DIRS))
            .join(format!("doc-{i:04}.txt"));
        fs::write(path, text)?;
    }
    Ok(())
}

/// A fresh temporary directory, removed by [`TempDir::remove`] or, failing that, when
/// dropped (also on an early return or a panic).
///
/// ```
/// use multiproc_examples::parallel_files::TempDir;
/// let dir = TempDir::new("multiproc-doc-tempdir")?;
/// let path = dir.path().to_path_buf();
/// assert!(path.is_dir());
/// dir.remove()?;
/// assert!(!path.exists());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TempDir(Option<PathBuf>);

impl TempDir {
    /// Creates `<temp dir>/<prefix>-<pid>-<attempt>`, with the first free attempt number.
    pub fn new(prefix: &str) -> io::Result<TempDir> {
        let base = std::env::temp_dir();
        for attempt in 0..100u32 {
            let path = base.join(format!("{prefix}-{}-{attempt}", std::process::id()));
            match fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir(Some(path))),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(err) => return Err(err),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no fresh temporary directory name",
        ))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }

    /// Removes the directory and everything in it, saying what failed.
    pub fn remove(mut self) -> io::Result<()> {
        match self.0.take() {
            Some(path) => fs::remove_dir_all(path),
            None => Ok(()),
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Some(path) = self.0.take()
            && let Err(err) = fs::remove_dir_all(&path)
        {
            log::warn!("could not remove {}: {err}", path.display());
        }
    }
}

/// What the sequential and the parallel run found, and how long each took.
#[derive(Debug)]
pub struct Comparison {
    /// The merged statistics of the sequential run.
    pub sequential: Stats,
    /// Its notes on unreadable files.
    pub sequential_skipped: Vec<String>,
    /// Its wall time.
    pub sequential_time: Duration,
    /// The merged statistics of the pool's run.
    pub parallel: Stats,
    /// Its notes on unreadable files.
    pub parallel_skipped: Vec<String>,
    /// Its wall time, the pool's start included (its close and join are not).
    pub parallel_time: Duration,
}

impl Comparison {
    /// Whether both runs found the same.
    pub fn equal(&self) -> bool {
        self.sequential == self.parallel && self.sequential_skipped == self.parallel_skipped
    }

    /// Sequential time ÷ parallel time.
    pub fn speed_up(&self) -> f64 {
        self.sequential_time.as_secs_f64() / self.parallel_time.as_secs_f64()
    }
}

/// The case study's work: [`analyze_file`] on every path, first one after the other in
/// this process, then with `pool.map` of [`analyze_group`] over groups of the paths on a
/// fresh pool of `workers` (its start is part of the measured time), with a progress bar on stderr when `progress` is set (and the crate
/// feature `progress` is on, and stderr is a terminal).
///
/// ```
/// use multiproc_examples::parallel_files::compare;
/// let run = compare(&[b"/nonexistent".to_vec()], 1, false)?;
/// assert!(run.equal());
/// assert_eq!(run.parallel_skipped.len(), 1);
/// # Ok::<(), multiproc::pool::PoolError>(())
/// ```
pub fn compare(paths: &[Vec<u8>], workers: usize, progress: bool) -> Result<Comparison, PoolError> {
    // Sequential: the same function, called in this process, one file after the other.
    let started = Instant::now();
    let results: Vec<_> = paths.iter().cloned().map(analyze_file).collect();
    let (sequential, sequential_skipped) = merge_all(paths, results);
    let sequential_time = started.elapsed();

    // Parallel: the pool's start is part of the measured time.
    let started = Instant::now();
    let pool = Pool::new(workers)?;
    // Eight groups of files per worker, each counted and merged in one task: enough
    // groups to keep the workers evenly loaded and the progress bar moving, few enough
    // that merging their tables in the parent is quick.
    let group = paths.len().div_ceil(workers.max(1) * 8).max(1);
    let groups: Vec<Vec<Vec<u8>>> = paths.chunks(group).map(<[Vec<u8>]>::to_vec).collect();
    let options = Options::new().chunksize(1);
    #[cfg(feature = "progress")]
    let options = options.progress_bar(progress);
    #[cfg(not(feature = "progress"))]
    let _ = progress;
    let mut parallel = Stats::default();
    let mut parallel_skipped = Vec::new();
    for (stats, notes) in pool.with(options).map(analyze_group, groups)? {
        parallel.merge(stats);
        parallel_skipped.extend(notes);
    }
    let parallel_time = started.elapsed();
    pool.close();
    pool.join()?;
    Ok(Comparison {
        sequential,
        sequential_skipped,
        sequential_time,
        parallel,
        parallel_skipped,
        parallel_time,
    })
}
