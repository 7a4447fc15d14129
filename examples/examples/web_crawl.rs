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

use std::time::Duration;

use multiproc_examples::web_crawl::{self, ORPHANS, PAGES, Server, split_url};

const DEFAULT_WORKERS: usize = 8;
const DEFAULT_MAX_PAGES: usize = 500;
const DEFAULT_LATENCY_MS: u64 = 20;

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
            server = Server::start(args.latency, |err| eprintln!("server: {err}"))?;
            println!(
                "site: {} generated pages ({PAGES} reachable) at {}, {} ms latency per request",
                PAGES + ORPHANS,
                server.url(),
                args.latency.as_millis()
            );
            (server.url(), true)
        }
    };

    let run = web_crawl::compare(&start, args.max_pages, loopback, args.workers, true)
        .map_err(|err| err as Box<dyn std::error::Error>)?;
    let (sequential, parallel, per_worker) = (&run.sequential, &run.parallel, &run.per_worker);
    println!(
        "sequential: {} URLs fetched in {:.2} s",
        sequential.pages.len(),
        run.sequential_time.as_secs_f64()
    );
    println!(
        "parallel:   {} URLs fetched in {:.2} s ({} worker processes; URLs per worker: {per_worker:?})",
        parallel.pages.len(),
        run.parallel_time.as_secs_f64(),
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
    let equal = run.equal();
    let limited = run.limited();
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
        run.speed_up(),
        args.workers
    );
    if equal || difference_expected {
        Ok(())
    } else {
        Err("the parallel crawl differs from the sequential one".into())
    }
}
