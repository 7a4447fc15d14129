//! Case study: crawl a web site in parallel with worker processes, a `JoinableQueue` and a
//! `Queue`, using a real HTTP client (`ureq`).
//!
//! With no URL the example serves its own site on `127.0.0.1` (a free port): 200 linked
//! pages, each answering after a small artificial latency, with some broken links (404),
//! some links to another host (not followed), relative links and fragments, and a few
//! pages that no link leads to (never found). It crawls the site from its start page twice:
//! sequentially in this process, then with worker processes. The parent puts URLs on a
//! `JoinableQueue`; each worker takes one, fetches it, puts the result (status, title,
//! links) on a `Queue` and calls `task_done`; the parent deduplicates the links and
//! enqueues the new ones until nothing is pending, waits on `join()`, closes the queue
//! (the workers return when it is drained) and joins the workers. Progress is drawn on
//! stderr when it is a terminal. It prints the pages crawled, the broken links, whether
//! both crawls found the same thing, and the speed-up.
//!
//! With a URL it crawls that site instead: same host only, at most `--max-pages` URLs.
//! The client is built without TLS, so the URL must be `http://`.
//!
//! ```text
//! $ cargo run --release -p multiproc-examples --example web_crawl -- [URL] [--workers N] [--max-pages N] [--latency-ms MS]
//! site: 210 generated pages (200 reachable) at http://127.0.0.1:35831/, 20 ms latency per request
//! sequential: 220 URLs fetched in 4.93 s
//! parallel:   220 URLs fetched in 0.67 s (8 worker processes; URLs per worker: [28, 28, 27, 28, 27, 28, 27, 27])
//! pages crawled: 200
//! broken links: 20
//!   404 http://127.0.0.1:35831/missing/107 (linked from http://127.0.0.1:35831/page/107)
//! ...
//! links to other hosts (not followed): 1
//! start page: 200 "Page 0"
//! results equal: yes
//! speed-up: 7.39x over the sequential crawl (8 worker processes)
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
use multiproc::{JoinableQueue, Process, Queue};
use serde::{Deserialize, Serialize};

/// The generated site: pages `/` (page 0) and `/page/1` to `/page/{PAGES - 1}` are linked;
/// `/page/{PAGES}` to `/page/{PAGES + ORPHANS - 1}` exist but nothing links to them.
const PAGES: usize = 200;
const ORPHANS: usize = 10;
const DEFAULT_WORKERS: usize = 8;
const DEFAULT_MAX_PAGES: usize = 500;
const DEFAULT_LATENCY_MS: u64 = 20;
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

/// The site's server, on a free loopback port; stopped and joined when dropped.
struct Server {
    address: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(latency: Duration) -> std::io::Result<Server> {
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
                                Err(err) => eprintln!("server: {err}"),
                                Ok(()) => {}
                            }
                        });
                    }
                    Err(err) => eprintln!("server: accept: {err}"),
                }
            }
        });
        Ok(Server {
            address,
            stop,
            thread: Some(thread),
        })
    }

    fn url(&self) -> String {
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
fn split_url(url: &str) -> Option<(String, String)> {
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
struct Fetched {
    url: String,
    /// The HTTP status; 0 when there was no answer (`error` says why).
    status: u16,
    error: Option<String>,
    title: Option<String>,
    /// Links to the same origin, absolute, without fragments, in page order.
    links: Vec<String>,
    /// Links elsewhere, not followed.
    external: Vec<String>,
}

impl Fetched {
    fn broken(&self) -> bool {
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

struct Crawl {
    max_urls: usize,
    /// Every URL enqueued, with the page that first linked to it.
    seen: HashMap<String, Option<String>>,
    pages: BTreeMap<String, Fetched>,
    external: BTreeSet<String>,
    skipped_by_limit: usize,
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

    fn crawled(&self) -> usize {
        self.pages.values().filter(|p| !p.broken()).count()
    }

    fn broken(&self) -> impl Iterator<Item = &Fetched> {
        self.pages.values().filter(|p| p.broken())
    }
}

fn progress_bar(what: &'static str) -> ProgressBar {
    // Drawn only when stderr is a terminal (indicatif hides it otherwise).
    let bar = ProgressBar::new(1);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{what} {{elapsed_precise}} [{{wide_bar}}] {{pos}}/{{len}} URLs ({{per_sec}})"
    )) {
        bar.set_style(style);
    }
    bar
}

fn crawl_sequentially(start: &str, max_urls: usize, loopback: bool) -> Crawl {
    let agent = agent(loopback);
    let mut crawl = Crawl::new(start, max_urls);
    let mut todo = VecDeque::from([start.to_owned()]);
    let bar = progress_bar("sequential");
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
fn crawl_worker(todo: JoinableQueue<String>, results: Queue<Fetched>, loopback: bool) -> u64 {
    let agent = agent(loopback);
    let mut fetched = 0;
    loop {
        match todo.get() {
            Ok(url) => {
                let page = fetch(&agent, &url);
                fetched += 1;
                results
                    .put(page)
                    .expect("the results queue is open while URLs are pending");
                todo.task_done().expect("one task_done per URL taken");
            }
            Err(QueueError::Closed) => return fetched,
            Err(err) => panic!("crawler: {err}"),
        }
    }
}

fn crawl_in_parallel(
    start: &str,
    max_urls: usize,
    loopback: bool,
    workers: usize,
) -> Result<(Crawl, Vec<u64>), Box<dyn std::error::Error>> {
    let todo = JoinableQueue::<String>::new()?;
    let results = Queue::<Fetched>::new()?;
    let mut processes: Vec<Process<u64>> = (0..workers)
        .map(|i| {
            Process::new(crawl_worker, (todo.clone(), results.clone(), loopback))
                .with_name(format!("crawler-{i}"))
        })
        .collect();
    for process in &mut processes {
        process.start()?;
    }

    let mut crawl = Crawl::new(start, max_urls);
    todo.put(start.to_owned())?;
    let mut pending = 1usize;
    let bar = progress_bar("parallel  ");
    let outcome = (|| -> Result<(), Box<dyn std::error::Error>> {
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

// ---------------------------------------------------------------------------------------

struct Args {
    url: Option<String>,
    workers: usize,
    max_pages: usize,
    latency: Duration,
}

fn parse_args() -> Result<Args, String> {
    let usage = "usage: web_crawl [http://URL] [--workers N] [--max-pages N] [--latency-ms MS]";
    let mut args = Args {
        url: None,
        workers: DEFAULT_WORKERS,
        max_pages: DEFAULT_MAX_PAGES,
        latency: Duration::from_millis(DEFAULT_LATENCY_MS),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or(format!("{name} needs a number; {usage}"))
        };
        match arg.as_str() {
            "--workers" => args.workers = number("--workers")?.max(1) as usize,
            "--max-pages" => args.max_pages = number("--max-pages")?.max(1) as usize,
            "--latency-ms" => args.latency = Duration::from_millis(number("--latency-ms")?),
            url if url.starts_with("https://") => {
                return Err(format!(
                    "{url}: this example's HTTP client is built without TLS; give an http:// URL"
                ));
            }
            url if url.starts_with("http://") && args.url.is_none() => {
                args.url = Some(url.to_owned())
            }
            other => return Err(format!("unexpected argument {other:?}; {usage}")),
        }
    }
    Ok(args)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let server;
    let (start, loopback) = match &args.url {
        Some(url) => {
            let (origin, path) = split_url(url).ok_or_else(|| format!("not a URL: {url}"))?;
            let host = origin.trim_start_matches("http://");
            let loopback = host.starts_with("127.")
                || host.starts_with("localhost")
                || host.starts_with("[::1]");
            println!(
                "site: {origin}{path} (same host only, at most {} URLs)",
                args.max_pages
            );
            (format!("{origin}{path}"), loopback)
        }
        None => {
            server = Server::start(args.latency)?;
            println!(
                "site: {} generated pages ({PAGES} reachable) at {}, {} ms latency per request",
                PAGES + ORPHANS,
                server.url(),
                args.latency.as_millis()
            );
            (server.url(), true)
        }
    };

    let started = Instant::now();
    let sequential = crawl_sequentially(&start, args.max_pages, loopback);
    let sequential_time = started.elapsed();
    println!(
        "sequential: {} URLs fetched in {:.2} s",
        sequential.pages.len(),
        sequential_time.as_secs_f64()
    );

    let started = Instant::now();
    let (parallel, per_worker) = crawl_in_parallel(&start, args.max_pages, loopback, args.workers)?;
    let parallel_time = started.elapsed();
    println!(
        "parallel:   {} URLs fetched in {:.2} s ({} worker processes; URLs per worker: {per_worker:?})",
        parallel.pages.len(),
        parallel_time.as_secs_f64(),
        args.workers
    );

    println!("pages crawled: {}", parallel.crawled());
    println!("broken links: {}", parallel.broken().count());
    for page in parallel.broken().take(5) {
        let referrer = parallel.seen.get(&page.url).cloned().flatten();
        println!(
            "  {} {}{}{}",
            if page.status == 0 {
                "---".to_owned()
            } else {
                page.status.to_string()
            },
            page.url,
            referrer
                .map(|r| format!(" (linked from {r})"))
                .unwrap_or_default(),
            page.error
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default(),
        );
    }
    if parallel.broken().count() > 5 {
        println!("  ...");
    }
    println!(
        "links to other hosts (not followed): {}",
        parallel.external.len()
    );
    if parallel.skipped_by_limit > 0 {
        println!(
            "links left out by the limit of {} URLs: {}",
            args.max_pages, parallel.skipped_by_limit
        );
    }
    if let Some(first) = parallel.pages.get(&start) {
        println!(
            "start page: {} {:?}",
            first.status,
            first.title.as_deref().unwrap_or("")
        );
    }

    // The link graph and every status must match; only the order of discovery differs.
    // A limit that cut the crawls may cut them at different places, and a live site may
    // change between two crawls: then a difference is reported, not an error.
    let equal = sequential.pages == parallel.pages && sequential.external == parallel.external;
    let limited = sequential.skipped_by_limit > 0 || parallel.skipped_by_limit > 0;
    let difference_expected = limited || args.url.is_some();
    println!(
        "results equal: {}",
        match (equal, limited) {
            (true, _) => "yes",
            (false, true) => "no (the limit cut the crawls at different places)",
            (false, false) if args.url.is_some() => "no (the site changed between the crawls?)",
            (false, false) => "no",
        }
    );
    println!(
        "speed-up: {:.2}x over the sequential crawl ({} worker processes)",
        sequential_time.as_secs_f64() / parallel_time.as_secs_f64(),
        args.workers
    );
    if equal || difference_expected {
        Ok(())
    } else {
        Err("the parallel crawl differs from the sequential one".into())
    }
}
