//! The `web_crawl` case study: a generated site served on the loopback interface, crawled
//! sequentially and by worker processes over a `JoinableQueue` and a `Queue`, with a real
//! HTTP client (`ureq`).
//!
//! The example binary (`examples/web_crawl.rs`) prints what [`compare`] measures; the
//! benchmark harness (`cases/web_crawl`) times the same call.
//!
//! ```
//! use std::time::Duration;
//! use multiproc_examples::web_crawl::{Server, compare};
//! let server = Server::start(Duration::from_millis(1), |_| {})?;
//! let run = compare(&server.url(), 500, true, 4, false)?;
//! assert!(run.equal());
//! assert_eq!(run.sequential.pages.len(), 220);
//! # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use multiproc::channel::QueueError;
use multiproc::process::fallible;
use multiproc::{JoinableQueue, Process, Queue};
use serde::{Deserialize, Serialize};

/// The generated site has `PAGES` pages: pages `/` (page 0) and `/page/1` to `/page/{PAGES - 1}` are linked;
/// `/page/{PAGES}` to `/page/{PAGES + ORPHANS - 1}` exist but nothing links to them.
pub const PAGES: usize = 200;
/// Pages of the generated site that no link leads to.
pub const ORPHANS: usize = 10;
const MAX_BODY: u64 = 2 << 20;

// ---------------------------------------------------------------------------------------
// The generated site and its server (std::net, one thread per connection).

fn page_path(i: usize) -> String {
    if i == 0 {
        "/".to_owned()
    } else {
        format!("/page/{i}")
    }
}

/// A small hash, so that the site's links look random but are the same on every run.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `href`s of page `i`. Every page links to the next one (so all `PAGES` are
/// reachable from `/`) and to three others; one page in ten has a broken link, some link
/// to another host, and links come absolute, relative and with fragments.
fn page_links(i: usize) -> Vec<String> {
    let mut links = vec![page_path((i + 1) % PAGES)];
    for k in 0..3u64 {
        let j = (mix(i as u64 * 4 + k) % PAGES as u64) as usize;
        links.push(match k {
            // Relative to /page/i; `./` of `/` is `/`, where no /page/ prefix applies.
            0 if i != 0 && j != 0 => format!("./{j}"),
            1 => format!("{}#section-{k}", page_path(j)),
            _ => page_path(j),
        });
    }
    if i % 10 == 7 {
        links.push(format!("/missing/{i}"));
    }
    if i % 25 == 3 {
        links.push("http://example.invalid/elsewhere".to_owned());
    }
    links
}

fn page_html(i: usize) -> String {
    let mut html = format!(
        "<!DOCTYPE html>\n<html><head><title>Page {i}</title></head>\n<body><h1>Page {i}</h1>\n\
         <p>A generated page of the multiproc web crawl example.</p>\n<ul>\n"
    );
    let links = if i < PAGES { page_links(i) } else { Vec::new() };
    for href in links {
        html.push_str(&format!("<li><a href=\"{href}\">{href}</a></li>\n"));
    }
    html.push_str("</ul></body></html>\n");
    html
}

/// The page index a path names, if the page exists.
fn route(path: &str) -> Option<usize> {
    if path == "/" {
        return Some(0);
    }
    let i: usize = path.strip_prefix("/page/")?.parse().ok()?;
    // `/page/0` is not a page: `/` is, and one page has one URL.
    (1..PAGES + ORPHANS).contains(&i).then_some(i)
}

fn serve_connection(mut stream: TcpStream, latency: Duration) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Skip the headers; the request has no body.
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split(['?', '#']).next().unwrap_or("");
    std::thread::sleep(latency);
    let (status, body) = match (method, route(path)) {
        ("GET", Some(i)) => ("200 OK", page_html(i)),
        ("GET", None) => (
            "404 Not Found",
            "<html><head><title>Not found</title></head><body>404</body></html>\n".to_owned(),
        ),
        _ => ("405 Method Not Allowed", String::new()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()?;
    stream.shutdown(Shutdown::Write)
}

/// The generated site's server, on a free loopback port; stopped and joined when dropped.
///
/// ```
/// use std::time::Duration;
/// use multiproc_examples::web_crawl::{PAGES, Server, compare};
/// let server = Server::start(Duration::ZERO, |_| {})?;
/// let run = compare(&server.url(), 500, true, 4, false)?;
/// assert!(run.equal());
/// assert_eq!(run.parallel.crawled(), PAGES);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
#[derive(Debug)]
pub struct Server {
    address: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves the site on a free port of `127.0.0.1`, each answer after `latency`, one
    /// thread per connection; `on_error` hears of connections that failed other than by
    /// the client hanging up.
    pub fn start(latency: Duration, on_error: fn(String)) -> std::io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let address = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                match stream {
                    Ok(stream) => {
                        std::thread::spawn(move || {
                            match serve_connection(stream, latency) {
                                // A client that hung up first (a crawler stopped or killed).
                                Err(err)
                                    if matches!(
                                        err.kind(),
                                        ErrorKind::BrokenPipe
                                            | ErrorKind::ConnectionReset
                                            | ErrorKind::NotConnected
                                    ) => {}
                                Err(err) => on_error(err.to_string()),
                                Ok(()) => {}
                            }
                        });
                    }
                    Err(err) => on_error(format!("accept: {err}")),
                }
            }
        });
        Ok(Server {
            address,
            stop,
            thread: Some(thread),
        })
    }

    /// The start page, `http://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.address)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---------------------------------------------------------------------------------------
// URLs: just enough of RFC 3986 for a same-host crawl.

/// `http://host[:port]` and the path (with query) of an `http://` URL.
///
/// ```
/// use multiproc_examples::web_crawl::split_url;
/// assert_eq!(
///     split_url("http://Example.org/a?b#c"),
///     Some(("http://example.org".to_owned(), "/a?b".to_owned()))
/// );
/// assert_eq!(split_url("https://example.org/"), None);
/// ```
pub fn split_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("http://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    if host.is_empty() {
        return None;
    }
    let path = rest[end..].split('#').next().unwrap_or("");
    let path = if path.is_empty() || path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    Some((format!("http://{}", host.to_ascii_lowercase()), path))
}

/// Resolves `.` and `..` segments of an absolute path.
fn normalize_path(path: &str) -> String {
    let (path, query) = match path.find('?') {
        Some(q) => (&path[..q], &path[q..]),
        None => (path, ""),
    };
    let mut segments: Vec<&str> = Vec::new();
    let parts: Vec<&str> = path.split('/').skip(1).collect();
    for (n, part) in parts.iter().enumerate() {
        let last = n + 1 == parts.len();
        match *part {
            "." => {
                if last {
                    segments.push("");
                }
            }
            ".." => {
                segments.pop();
                if last {
                    segments.push("");
                }
            }
            other => segments.push(other),
        }
    }
    format!("/{}{query}", segments.join("/"))
}

/// A link found on a page.
enum Link {
    /// An absolute URL on the crawled origin, without fragment.
    Internal(String),
    /// Another host or scheme: counted, not followed.
    External(String),
}

/// Resolves `href` against the page at `base` (an absolute `http://` URL).
fn resolve(base: &str, href: &str) -> Option<Link> {
    let href = href.trim();
    let href = href.split('#').next().unwrap_or("");
    let (origin, base_path) = split_url(base)?;
    if href.is_empty() {
        return None;
    }
    let absolute = if let Some(rest) = href.strip_prefix("//") {
        format!("http://{rest}")
    } else if href.starts_with('/') {
        format!("{origin}{}", normalize_path(href))
    } else if href.contains(':') && !href.starts_with('.') && href.find(':') < href.find('/') {
        // A scheme: `https:`, `mailto:`, `javascript:`, `http:` itself.
        href.to_owned()
    } else if href.starts_with('?') {
        let base_path = base_path.split('?').next().unwrap_or("/");
        format!("{origin}{base_path}{href}")
    } else {
        let base_path = base_path.split('?').next().unwrap_or("/");
        let directory = &base_path[..=base_path.rfind('/').unwrap_or(0)];
        format!("{origin}{}", normalize_path(&format!("{directory}{href}")))
    };
    match split_url(&absolute) {
        Some((link_origin, path)) if link_origin == origin => {
            Some(Link::Internal(format!("{origin}{path}")))
        }
        _ => Some(Link::External(absolute)),
    }
}

// ---------------------------------------------------------------------------------------
// Fetching a page: shared by the sequential crawl and the worker processes.

/// What fetching one URL gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fetched {
    /// The URL fetched.
    pub url: String,
    /// The HTTP status; 0 when there was no answer (`error` says why).
    pub status: u16,
    /// Why there was no answer, or why the page could not be read.
    pub error: Option<String>,
    /// The page's `<title>`.
    pub title: Option<String>,
    /// Links to the same origin, absolute, without fragments, in page order.
    pub links: Vec<String>,
    /// Links elsewhere, not followed.
    pub external: Vec<String>,
}

impl Fetched {
    /// Whether the URL gave no page: no answer, or a status outside 200..400.
    pub fn broken(&self) -> bool {
        !(200..400).contains(&self.status)
    }
}

fn agent(loopback: bool) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        // A 404 is a result here, not an error.
        .http_status_as_error(false)
        // A redirect is reported as a link, so the crawl stays on the same host.
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(15)))
        .user_agent("multiproc-web-crawl-example");
    if loopback {
        // A proxy from the environment cannot reach this machine's loopback.
        config = config.proxy(None);
    }
    config.build().into()
}

fn title_of(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let title = html[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!title.is_empty()).then_some(title)
}

/// The values of the `href` attributes in `html`, in order (quoted with `"` or `'`).
fn hrefs(html: &str) -> Vec<&str> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(pos) = lower[at..].find("href=") {
        let start = at + pos + "href=".len();
        at = start;
        let Some(quote) = html[start..]
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
        else {
            continue;
        };
        let value_start = start + 1;
        if let Some(len) = html[value_start..].find(quote) {
            found.push(&html[value_start..value_start + len]);
            at = value_start + len;
        }
    }
    found
}

fn fetch(agent: &ureq::Agent, url: &str) -> Fetched {
    let mut fetched = Fetched {
        url: url.to_owned(),
        status: 0,
        error: None,
        title: None,
        links: Vec::new(),
        external: Vec::new(),
    };
    let mut response = match agent.get(url).call() {
        Ok(response) => response,
        Err(err) => {
            fetched.error = Some(err.to_string());
            return fetched;
        }
    };
    fetched.status = response.status().as_u16();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut hrefs_found: Vec<String> = header("location").into_iter().collect();
    let is_html = header("content-type").is_none_or(|t| t.contains("html"));
    if fetched.status == 200 && is_html {
        match response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
        {
            Ok(html) => {
                fetched.title = title_of(&html);
                hrefs_found.extend(hrefs(&html).into_iter().map(str::to_owned));
            }
            Err(err) => fetched.error = Some(format!("reading the page: {err}")),
        }
    }
    for href in hrefs_found {
        match resolve(url, &href) {
            Some(Link::Internal(link)) => fetched.links.push(link),
            Some(Link::External(link)) => fetched.external.push(link),
            None => {}
        }
    }
    fetched
}

// ---------------------------------------------------------------------------------------
// The crawl's bookkeeping (the parent's side), the same for both crawls.

/// What a crawl found.
#[derive(Debug)]
pub struct Crawl {
    max_urls: usize,
    /// Every URL enqueued, with the page that first linked to it.
    pub seen: HashMap<String, Option<String>>,
    /// What each URL fetched gave.
    pub pages: BTreeMap<String, Fetched>,
    /// The links to other hosts, not followed.
    pub external: BTreeSet<String>,
    /// Links left out because `max_urls` URLs were already enqueued.
    pub skipped_by_limit: usize,
}

impl Crawl {
    fn new(start: &str, max_urls: usize) -> Crawl {
        Crawl {
            max_urls,
            seen: HashMap::from([(start.to_owned(), None)]),
            pages: BTreeMap::new(),
            external: BTreeSet::new(),
            skipped_by_limit: 0,
        }
    }

    /// Records a result; returns the URLs it found that were not seen before.
    fn record(&mut self, fetched: Fetched) -> Vec<String> {
        let mut new = Vec::new();
        for link in &fetched.links {
            if self.seen.contains_key(link) {
                continue;
            }
            if self.seen.len() >= self.max_urls {
                self.skipped_by_limit += 1;
                continue;
            }
            self.seen.insert(link.clone(), Some(fetched.url.clone()));
            new.push(link.clone());
        }
        self.external.extend(fetched.external.iter().cloned());
        self.pages.insert(fetched.url.clone(), fetched);
        new
    }

    /// Pages fetched that were not broken.
    pub fn crawled(&self) -> usize {
        self.pages.values().filter(|p| !p.broken()).count()
    }

    /// The URLs that gave no page, in URL order.
    pub fn broken(&self) -> impl Iterator<Item = &Fetched> {
        self.pages.values().filter(|p| p.broken())
    }
}

fn progress_bar(what: &'static str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    // Drawn only when stderr is a terminal (indicatif hides it otherwise).
    let bar = ProgressBar::new(1);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{what} {{elapsed_precise}} [{{wide_bar}}] {{pos}}/{{len}} URLs ({{per_sec}})"
    )) {
        bar.set_style(style);
    }
    bar
}

/// Crawls from `start` in this process, one URL after the other, at most `max_urls` URLs;
/// with a progress bar on stderr when `progress` is set (and stderr is a terminal).
/// `loopback`: the site is on this machine (no proxy from the environment applies).
///
/// ```
/// use std::time::Duration;
/// use multiproc_examples::web_crawl::{Server, crawl_sequentially};
/// let server = Server::start(Duration::ZERO, |_| {})?;
/// let crawl = crawl_sequentially(&server.url(), 10, true, false);
/// assert_eq!(crawl.pages.len(), 10);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn crawl_sequentially(start: &str, max_urls: usize, loopback: bool, progress: bool) -> Crawl {
    let agent = agent(loopback);
    let mut crawl = Crawl::new(start, max_urls);
    let mut todo = VecDeque::from([start.to_owned()]);
    let bar = progress_bar("sequential", progress);
    while let Some(url) = todo.pop_front() {
        let fetched = fetch(&agent, &url);
        todo.extend(crawl.record(fetched));
        bar.set_length(crawl.seen.len() as u64);
        bar.inc(1);
    }
    bar.finish_and_clear();
    crawl
}

/// A worker process: fetches URLs from `todo` until it is closed and drained, puts each
/// result on `results`, and returns how many URLs it fetched.
fn crawl_worker(
    todo: JoinableQueue<String>,
    results: Queue<Fetched>,
    loopback: bool,
) -> Result<u64, String> {
    let agent = agent(loopback);
    let mut fetched = 0;
    loop {
        match todo.get() {
            Ok(url) => {
                let page = fetch(&agent, &url);
                fetched += 1;
                results
                    .put(page)
                    .map_err(|err| format!("putting a result: {err}"))?;
                todo.task_done()
                    .map_err(|err| format!("task_done: {err}"))?;
            }
            Err(QueueError::Closed) => return Ok(fetched),
            Err(err) => return Err(format!("crawler: {err}")),
        }
    }
}

/// The error of a crawl.
pub type CrawlError = Box<dyn std::error::Error + Send + Sync>;

/// Crawls from `start` with `workers` worker processes, at most `max_urls` URLs: the
/// parent puts URLs on a `JoinableQueue`, each worker fetches one, puts the result on a
/// `Queue` and calls `task_done`, and the parent enqueues the new links until nothing is
/// pending. Returns the crawl and how many URLs each worker fetched.
///
/// ```
/// use std::time::Duration;
/// use multiproc_examples::web_crawl::{Server, crawl_in_parallel};
/// let server = Server::start(Duration::ZERO, |_| {})?;
/// let (crawl, per_worker) = crawl_in_parallel(&server.url(), 10, true, 2, false)?;
/// assert_eq!(crawl.pages.len(), 10);
/// assert_eq!(per_worker.iter().sum::<u64>(), 10);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub fn crawl_in_parallel(
    start: &str,
    max_urls: usize,
    loopback: bool,
    workers: usize,
    progress: bool,
) -> Result<(Crawl, Vec<u64>), CrawlError> {
    let todo = JoinableQueue::<String>::new()?;
    let results = Queue::<Fetched>::new()?;
    let mut processes: Vec<Process<u64>> = (0..workers)
        .map(|i| {
            Process::new(
                fallible(crawl_worker),
                (todo.clone(), results.clone(), loopback),
            )
            .with_name(format!("crawler-{i}"))
        })
        .collect();
    for process in &mut processes {
        process.start()?;
    }

    let mut crawl = Crawl::new(start, max_urls);
    todo.put(start.to_owned())?;
    let mut pending = 1usize;
    let bar = progress_bar("parallel  ", progress);
    let outcome = (|| -> Result<(), CrawlError> {
        while pending > 0 {
            match results.get_timeout(Duration::from_millis(250)) {
                Ok(fetched) => {
                    pending -= 1;
                    for url in crawl.record(fetched) {
                        todo.put(url)?;
                        pending += 1;
                    }
                    bar.set_length(crawl.seen.len() as u64);
                    bar.inc(1);
                }
                Err(QueueError::Empty) => {
                    // A crawler leaves only when the queue is closed: one gone now has
                    // crashed, and the URL it held would never be answered.
                    if let Some(gone) = processes.iter().find(|p| !p.is_alive()) {
                        return Err(format!(
                            "{} ended with URLs pending (exit code {:?})",
                            gone.name(),
                            gone.exitcode().ok().flatten()
                        )
                        .into());
                    }
                }
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    })();
    bar.finish_and_clear();
    // Every result is in, and each worker calls task_done right after its put: the join
    // returns at once unless a worker died between the two.
    let outcome = outcome.and_then(|()| match todo.join_timeout(Duration::from_secs(30)) {
        Ok(true) => Ok(()),
        Ok(false) => Err("a crawler never marked its URL done".into()),
        Err(err) => Err(err.into()),
    });
    // Closed, the queue makes every worker's `get` return `Closed` once it is empty; on an
    // error the workers stop the same way, with URLs left in the queue.
    todo.close();
    let mut per_worker = Vec::with_capacity(workers);
    let mut first_error = None;
    for process in &mut processes {
        match process.join() {
            Ok(fetched) => per_worker.push(fetched),
            Err(err) => {
                first_error.get_or_insert(format!("{}: {err}", process.name()));
            }
        }
    }
    outcome?;
    if let Some(err) = first_error {
        return Err(err.into());
    }
    Ok((crawl, per_worker))
}

/// What the sequential and the parallel crawl found, and how long each took.
#[derive(Debug)]
pub struct Comparison {
    /// The crawl in this process.
    pub sequential: Crawl,
    /// Its wall time.
    pub sequential_time: Duration,
    /// The crawl by worker processes.
    pub parallel: Crawl,
    /// How many URLs each worker fetched.
    pub per_worker: Vec<u64>,
    /// Its wall time, the workers' start and join included.
    pub parallel_time: Duration,
}

impl Comparison {
    /// Whether both crawls found the same pages, statuses, links and other hosts (only the
    /// order of discovery may differ).
    pub fn equal(&self) -> bool {
        self.sequential.pages == self.parallel.pages
            && self.sequential.external == self.parallel.external
    }

    /// Whether a limit of URLs cut either crawl (then they may differ).
    pub fn limited(&self) -> bool {
        self.sequential.skipped_by_limit > 0 || self.parallel.skipped_by_limit > 0
    }

    /// Sequential time ÷ parallel time.
    pub fn speed_up(&self) -> f64 {
        self.sequential_time.as_secs_f64() / self.parallel_time.as_secs_f64()
    }
}

/// The case study's work: [`crawl_sequentially`], then [`crawl_in_parallel`] with
/// `workers` processes, each timed.
///
/// ```
/// use std::time::Duration;
/// use multiproc_examples::web_crawl::{Server, compare};
/// let server = Server::start(Duration::ZERO, |_| {})?;
/// let run = compare(&server.url(), 30, true, 2, false)?;
/// assert_eq!(run.parallel.pages.len(), 30);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub fn compare(
    start: &str,
    max_urls: usize,
    loopback: bool,
    workers: usize,
    progress: bool,
) -> Result<Comparison, CrawlError> {
    let started = Instant::now();
    let sequential = crawl_sequentially(start, max_urls, loopback, progress);
    let sequential_time = started.elapsed();
    let started = Instant::now();
    let (parallel, per_worker) = crawl_in_parallel(start, max_urls, loopback, workers, progress)?;
    let parallel_time = started.elapsed();
    Ok(Comparison {
        sequential,
        sequential_time,
        parallel,
        per_worker,
        parallel_time,
    })
}
