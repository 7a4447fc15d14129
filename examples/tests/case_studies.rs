//! Runs the three case studies (`parallel_files`, `parallel_training`, `web_crawl`) and
//! checks their results: the merged statistics, the best model's accuracy, the pages and
//! broken links of a crawl. Speed-ups are printed by the examples, never asserted: they
//! depend on the machine and its load.
//!
//! Like `output.rs`, this runs the example binaries that `cargo test -p
//! multiproc-examples` builds into `target/<profile>/examples/`, each under a watchdog.
//! (`cargo test --test case_studies` alone does not rebuild the examples: build them first
//! with `cargo build -p multiproc-examples --examples`.)

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

mod common;

/// Runs an example (see `common::run`) and checks that its progress bars, which draw only on
/// a terminal, left no control characters in the pipe.
fn run(name: &str, args: &[&str], limit: Duration) -> (String, String) {
    let (stdout, stderr) = common::run(name, args, limit);
    // The progress bars draw only on a terminal: a pipe gets no control characters.
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "example {name} drew a progress bar into a pipe:\n{stderr:?}"
    );
    (stdout, stderr)
}

const LIMIT: Duration = Duration::from_secs(180);

/// The rest of the line of `stdout` that starts with `prefix`.
fn line<'a>(stdout: &'a str, prefix: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .map(str::trim_start)
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{stdout}"))
}

fn assert_speed_up_printed(stdout: &str) {
    let speed_up = line(stdout, "speed-up: ");
    let ratio: f64 = speed_up
        .split('x')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("speed-up is not a number: {speed_up:?}"));
    assert!(ratio > 0.0, "{stdout}");
}

/// "sequential: 360 files, ... bytes in 12.3 ms" → "360 files, ... bytes".
fn statistics<'a>(stdout: &'a str, prefix: &str) -> &'a str {
    line(stdout, prefix).trim().split(" in ").next().unwrap()
}

#[test]
fn parallel_files_sample_corpus() {
    let (stdout, _) = run("parallel_files", &[], LIMIT);
    let corpus = line(&stdout, "corpus: ");
    assert!(corpus.starts_with("360 generated files in "), "{stdout}");
    let dir = corpus.rsplit(" in ").next().unwrap();
    assert!(
        !Path::new(dir).exists(),
        "the sample corpus {dir} was not removed"
    );

    let sequential = statistics(&stdout, "sequential: ");
    let parallel = statistics(&stdout, "parallel: ");
    assert_eq!(sequential, parallel, "{stdout}");
    assert!(sequential.starts_with("360 files, "), "{stdout}");
    assert_eq!(line(&stdout, "results equal: "), "yes");

    // Ten words, most frequent first; "the" leads the generated text.
    let top: Vec<(String, u64)> = stdout
        .lines()
        .skip_while(|l| *l != "top 10 words:")
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            (fields[1].to_owned(), fields[2].parse().unwrap())
        })
        .collect();
    assert_eq!(top.len(), 10, "{stdout}");
    assert_eq!(top[0].0, "the", "{stdout}");
    assert!(top.windows(2).all(|w| w[0].1 >= w[1].1), "{stdout}");
    assert_speed_up_printed(&stdout);
}

/// A temporary directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("multiproc-case-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn parallel_files_given_directory() {
    let dir = TempDir::new("files");
    let files = [
        ("a.txt", "The cat sat.\nThe dog sat\n"),
        ("sub/b.txt", "cat CAT cat\n"),
        ("sub/deeper/c.md", "no newline at end"),
        ("sub/empty", ""),
    ];
    for (name, text) in files {
        let path = dir.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    // Not followed: it would count a.txt twice.
    std::os::unix::fs::symlink(dir.0.join("a.txt"), dir.0.join("sub/link.txt")).unwrap();
    let bytes: usize = files.iter().map(|(_, text)| text.len()).sum();

    let (stdout, _) = run("parallel_files", &[dir.0.to_str().unwrap()], LIMIT);
    let expected = format!("4 files, 3 lines, 13 words, {bytes} bytes");
    assert_eq!(statistics(&stdout, "sequential: "), expected, "{stdout}");
    assert_eq!(statistics(&stdout, "parallel: "), expected, "{stdout}");
    assert_eq!(line(&stdout, "results equal: "), "yes");
    let top: Vec<Vec<&str>> = stdout
        .lines()
        .skip_while(|l| *l != "top 10 words:")
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .map(|l| l.split_whitespace().skip(1).collect())
        .collect();
    // cat 4, then the ties at 2 and 1 alphabetically.
    let expected_top = [
        ["cat", "4"],
        ["sat", "2"],
        ["the", "2"],
        ["at", "1"],
        ["dog", "1"],
        ["end", "1"],
        ["newline", "1"],
        ["no", "1"],
    ];
    assert_eq!(top, expected_top, "{stdout}");
    assert!(dir.0.exists(), "a given directory must not be removed");
}

#[test]
fn parallel_training_finds_a_good_model() {
    let (stdout, _) = run("parallel_training", &["--quick"], LIMIT);
    assert!(line(&stdout, "grid: ").ends_with("= 18 models"), "{stdout}");
    assert_eq!(line(&stdout, "results equal: "), "yes", "{stdout}");
    // "best: learning rate 0.3, L2 0, 60 epochs: validation accuracy 0.9700 (chance 0.5), ..."
    let best = line(&stdout, "best: ");
    let accuracy: f64 = best
        .split("validation accuracy ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no accuracy in {best:?}"));
    assert!(
        accuracy > 0.8,
        "the best model is barely above chance: {accuracy}\n{stdout}"
    );
    // The table: one row per model, the best marked with `*`.
    let rows = stdout.lines().filter(|l| l.ends_with(" ms")).count();
    assert_eq!(rows, 18, "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with('*')).count(),
        1,
        "{stdout}"
    );
    assert_speed_up_printed(&stdout);
}

#[test]
fn web_crawl_generated_site() {
    let (stdout, _) = run("web_crawl", &["--latency-ms", "5"], LIMIT);
    // 200 reachable pages, 20 broken links, one link to another host; the 10 orphan pages
    // must not be found.
    assert_eq!(line(&stdout, "pages crawled: "), "200", "{stdout}");
    assert_eq!(line(&stdout, "broken links: "), "20", "{stdout}");
    assert_eq!(
        line(&stdout, "links to other hosts (not followed): "),
        "1",
        "{stdout}"
    );
    assert_eq!(line(&stdout, "start page: "), "200 \"Page 0\"", "{stdout}");
    assert_eq!(line(&stdout, "results equal: "), "yes", "{stdout}");
    assert!(
        line(&stdout, "sequential: ").starts_with("220 URLs fetched"),
        "{stdout}"
    );
    // Every URL was fetched exactly once, by some worker.
    let per_worker = line(&stdout, "parallel: ")
        .split("URLs per worker: [")
        .nth(1)
        .unwrap()
        .trim_end_matches(')')
        .trim_end_matches(']')
        .split(", ")
        .map(|n| n.parse::<u64>().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(per_worker.len(), 8, "{stdout}");
    assert_eq!(per_worker.iter().sum::<u64>(), 220, "{stdout}");
    assert_speed_up_printed(&stdout);
}

/// A three-page site served by this test, for the example's URL argument.
struct TinySite {
    address: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TinySite {
    fn start() -> TinySite {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let address = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(stream) = stream {
                    std::thread::spawn(move || TinySite::answer(stream));
                }
            }
        });
        TinySite {
            address,
            stop,
            thread: Some(thread),
        }
    }

    fn answer(mut stream: TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request = String::new();
        if reader.read_line(&mut request).is_err() {
            return;
        }
        let mut header = String::new();
        while reader
            .read_line(&mut header)
            .map(|n| n > 2)
            .unwrap_or(false)
        {
            header.clear();
        }
        let path = request.split_whitespace().nth(1).unwrap_or("");
        let page = |title: &str, links: &[&str]| {
            let links: String = links
                .iter()
                .map(|l| format!("<a href='{l}'>{l}</a>\n"))
                .collect();
            format!("<html><head><title>{title}</title></head><body>{links}</body></html>")
        };
        let (status, body) = match path {
            "/docs/index.html" => (
                "200 OK",
                page(
                    "Index",
                    &[
                        "intro.html",
                        "./guide.html#part-2",
                        "http://elsewhere.invalid/",
                    ],
                ),
            ),
            "/docs/intro.html" => ("200 OK", page("Intro", &["../docs/index.html", "/gone"])),
            "/docs/guide.html" => ("200 OK", page("Guide", &["index.html#top"])),
            _ => ("404 Not Found", String::new()),
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }
}

impl Drop for TinySite {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn web_crawl_given_url() {
    let site = TinySite::start();
    let url = format!("http://{}/docs/index.html", site.address);
    let (stdout, _) = run("web_crawl", &[&url, "--workers", "2"], LIMIT);
    assert_eq!(line(&stdout, "pages crawled: "), "3", "{stdout}");
    assert_eq!(line(&stdout, "broken links: "), "1", "{stdout}");
    assert!(
        stdout.contains(&format!(
            "  404 http://{0}/gone (linked from http://{0}/docs/intro.html)",
            site.address
        )),
        "{stdout}"
    );
    assert_eq!(
        line(&stdout, "links to other hosts (not followed): "),
        "1",
        "{stdout}"
    );
    assert_eq!(line(&stdout, "start page: "), "200 \"Index\"", "{stdout}");
    assert_eq!(line(&stdout, "results equal: "), "yes", "{stdout}");
}

#[test]
fn web_crawl_stops_at_the_page_limit() {
    let (stdout, _) = run(
        "web_crawl",
        &["--latency-ms", "1", "--max-pages", "50", "--workers", "3"],
        LIMIT,
    );
    let sequential = line(&stdout, "sequential: ");
    assert!(sequential.starts_with("50 URLs fetched"), "{stdout}");
    let parallel = line(&stdout, "parallel: ");
    assert!(parallel.starts_with("50 URLs fetched"), "{stdout}");
}
