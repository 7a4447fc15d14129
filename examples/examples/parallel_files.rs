//! Case study: process a directory of many files in parallel with a `Pool`.
//!
//! Every file is read and counted (lines, words, bytes, and how often each word occurs) in
//! a worker process; the parent merges the per-file statistics. The same work is done once
//! sequentially in the parent and once with `pool.map`, both results are printed, checked
//! to be equal, and the speed-up is reported. The pool draws a progress bar on stderr while
//! it works (only when stderr is a terminal).
//!
//! With no argument it writes a sample corpus of 360 generated files (deterministic text
//! from a seeded generator over a word list) into a fresh temporary directory and removes
//! it afterwards. With a path it processes the regular files under it, recursively;
//! symbolic links are not followed, and files or directories that cannot be read are
//! skipped with a note on stderr.
//!
//! A word is a run of letters and digits, lower-cased; lines are counted like `wc -l`.
//!
//! ```text
//! $ cargo run --release -p multiproc-examples --example parallel_files [DIR]
//! corpus: 360 generated files in /tmp/multiproc-parallel-files-30519-0
//! sequential: 360 files, 234922 lines, 2232910 words, 10093859 bytes in 235.0 ms
//! parallel:   360 files, 234922 lines, 2232910 words, 10093859 bytes in 136.3 ms (2 workers)
//! top 10 words:
//!    1. the          472441
//!    2. of           122971
//! ...
//! results equal: yes
//! speed-up: 1.72x over the sequential run (2 workers)
//! ```
//!
//! The parallel time includes starting the pool. The sequential run goes first and reads
//! the files into the page cache, so both runs read from memory. The run above is from a
//! 2-CPU machine at a quiet moment; when other programs keep the CPUs busy the speed-up
//! drops, down to about 1x.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use multiproc::pool::{Options, Pool};
use multiproc::process_cpu_count;
use serde::{Deserialize, Serialize};

/// Generated corpus: this many files, spread over this many subdirectories.
const SAMPLE_FILES: usize = 360;
const SAMPLE_DIRS: usize = 12;
const SEED: u64 = 0x5eed_f11e;

/// The statistics of one file, or of many merged.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stats {
    files: u64,
    lines: u64,
    words: u64,
    bytes: u64,
    word_counts: HashMap<String, u64>,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.files += other.files;
        self.lines += other.lines;
        self.words += other.words;
        self.bytes += other.bytes;
        for (word, count) in other.word_counts {
            *self.word_counts.entry(word).or_default() += count;
        }
    }

    /// The `n` most frequent words, ties broken alphabetically (so the list is stable).
    fn top(&self, n: usize) -> Vec<(&str, u64)> {
        let mut words: Vec<(&str, u64)> = self
            .word_counts
            .iter()
            .map(|(word, &count)| (word.as_str(), count))
            .collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        words.truncate(n);
        words
    }

    fn summary(&self) -> String {
        format!(
            "{} files, {} lines, {} words, {} bytes",
            self.files, self.lines, self.words, self.bytes
        )
    }
}

/// The pool task: counts one file. The path travels as raw bytes, so names that are not
/// UTF-8 work too. An unreadable file gives an error message instead of statistics.
fn analyze_file(path: Vec<u8>) -> Result<Stats, String> {
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

/// Merges per-file results in input order; unreadable files are counted and noted once.
fn merge_all(paths: &[Vec<u8>], results: Vec<Result<Stats, String>>, note: bool) -> (Stats, u64) {
    let mut total = Stats::default();
    let mut skipped = 0;
    for (path, result) in paths.iter().zip(results) {
        match result {
            Ok(stats) => total.merge(stats),
            Err(err) => {
                skipped += 1;
                if note {
                    let path = Path::new(std::ffi::OsStr::from_bytes(path));
                    eprintln!("note: skipped {}: {err}", path.display());
                }
            }
        }
    }
    (total, skipped)
}

/// The regular files under `root`, sorted, without following symbolic links.
fn collect_files(root: &Path) -> io::Result<Vec<PathBuf>> {
    let meta = fs::symlink_metadata(root)?;
    if !meta.is_dir() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) => {
                eprintln!("note: skipped directory {}: {err}", dir.display());
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    eprintln!("note: skipped an entry of {}: {err}", dir.display());
                    continue;
                }
            };
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => dirs.push(entry.path()),
                Ok(kind) if kind.is_file() => files.push(entry.path()),
                // Symbolic links (possible cycles), FIFOs (a read would block), sockets.
                Ok(_) => {}
                Err(err) => eprintln!("note: skipped {}: {err}", entry.path().display()),
            }
        }
    }
    files.sort();
    Ok(files)
}

/// SplitMix64: a small seeded generator, so the sample corpus is the same on every run.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_f64() * n as f64) as usize
    }
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

/// Writes the sample corpus into `dir`: `SAMPLE_FILES` files of 8 to 48 KiB of text whose
/// word frequencies fall off like natural language (a few words very common).
fn write_sample_corpus(dir: &Path) -> io::Result<()> {
    let mut rng = SplitMix64(SEED);
    for d in 0..SAMPLE_DIRS {
        fs::create_dir(dir.join(format!("part-{d:02}")))?;
    }
    for i in 0..SAMPLE_FILES {
        let target = 8 * 1024 + rng.below(40 * 1024);
        let mut text = String::with_capacity(target + 128);
        while text.len() < target {
            let words_in_line = 4 + rng.below(12);
            for w in 0..words_in_line {
                // u^3 skews the index towards the start of the list: a Zipf-like spread.
                let index = (rng.next_f64().powi(3) * WORDS.len() as f64) as usize;
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

/// A fresh temporary directory, removed when dropped (also on an early return or a panic).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> io::Result<TempDir> {
        let base = std::env::temp_dir();
        for attempt in 0..100u32 {
            let path = base.join(format!(
                "multiproc-parallel-files-{}-{attempt}",
                std::process::id()
            ));
            match fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir(path)),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(err) => return Err(err),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no fresh temporary directory name",
        ))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(err) = fs::remove_dir_all(&self.0) {
            eprintln!("note: could not remove {}: {err}", self.0.display());
        }
    }
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let given = args.next().map(PathBuf::from);
    if args.next().is_some() {
        return Err("usage: parallel_files [DIR]".into());
    }

    let sample;
    let root = match &given {
        Some(path) => {
            println!("directory: {}", path.display());
            path.clone()
        }
        None => {
            sample = TempDir::new()?;
            write_sample_corpus(&sample.0)?;
            println!(
                "corpus: {SAMPLE_FILES} generated files in {}",
                sample.0.display()
            );
            sample.0.clone()
        }
    };
    let paths: Vec<Vec<u8>> = collect_files(&root)
        .map_err(|err| format!("{}: {err}", root.display()))?
        .into_iter()
        .map(|p| p.into_os_string().into_vec())
        .collect();
    if paths.is_empty() {
        return Err(format!("no files under {}", root.display()).into());
    }

    // Sequential: the same function, called in this process, one file after the other.
    let started = Instant::now();
    let results: Vec<_> = paths.iter().cloned().map(analyze_file).collect();
    let (sequential, skipped) = merge_all(&paths, results, true);
    let sequential_time = started.elapsed();

    // Parallel: the pool's start is part of the measured time.
    let workers = process_cpu_count();
    let started = Instant::now();
    let pool = Pool::new(workers)?;
    // Small chunks keep the workers evenly loaded and the progress bar moving.
    let chunksize = (paths.len() / (workers * 16)).clamp(1, 32);
    let options = Options::new().chunksize(chunksize);
    // `--features progress` (on by default) draws a bar on stderr while the pool works.
    #[cfg(feature = "progress")]
    let options = options.progress_bar(true);
    let results = pool
        .with(options)
        .map(analyze_file, paths.iter().cloned())?;
    let (parallel, parallel_skipped) = merge_all(&paths, results, false);
    let parallel_time = started.elapsed();
    pool.close();
    pool.join()?;

    let skipped_note = |n: u64| {
        if n > 0 {
            format!(", {n} skipped")
        } else {
            String::new()
        }
    };
    println!(
        "sequential: {}{} in {}",
        sequential.summary(),
        skipped_note(skipped),
        millis(sequential_time)
    );
    println!(
        "parallel:   {}{} in {} ({workers} workers)",
        parallel.summary(),
        skipped_note(parallel_skipped),
        millis(parallel_time)
    );
    println!("top 10 words:");
    for (rank, (word, count)) in parallel.top(10).into_iter().enumerate() {
        println!("{:>4}. {word:<12} {count}", rank + 1);
    }
    let equal = sequential == parallel && skipped == parallel_skipped;
    println!("results equal: {}", if equal { "yes" } else { "no" });
    println!(
        "speed-up: {:.2}x over the sequential run ({workers} workers)",
        sequential_time.as_secs_f64() / parallel_time.as_secs_f64()
    );
    if equal {
        Ok(())
    } else {
        Err("the parallel statistics differ from the sequential ones".into())
    }
}
