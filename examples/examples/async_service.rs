//! A small tokio HTTP service that offloads a CPU-bound, crash-prone step to a process pool
//! and stays responsive while a worker crashes.
//!
//! `GET /collatz/N` computes, in a pool worker, how many Collatz steps the numbers up to N
//! take at most; `GET /crash` runs a task whose worker dies of SIGSEGV (the service answers
//! 502 with the error, the pool replaces the worker, and every other request goes on);
//! `GET /health` answers at once, from the event loop; `GET /shutdown` ends the service.
//! `.await` on the pool's handle blocks no thread: the runtime serves other connections
//! meanwhile. HTTP/1.1 is hand-rolled over `tokio::net::TcpListener`, one request per
//! connection, to keep the example free of a web framework.
//!
//! ```text
//! $ cargo run --release -p multiproc-examples --example async_service -- 8080 &
//! listening on 127.0.0.1:8080
//! $ curl 127.0.0.1:8080/collatz/1000000
//! 524
//! $ curl 127.0.0.1:8080/crash
//! task failed: the worker running task 0 died (signal 11 (SIGSEGV))
//! $ curl 127.0.0.1:8080/health
//! ok
//! $ curl 127.0.0.1:8080/shutdown
//! bye
//! ```

use std::io::Write;
use std::sync::Arc;

use multiproc::pool::Pool;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The CPU-bound step: the longest Collatz trajectory below `limit`.
fn collatz_max_steps(limit: u64) -> u64 {
    (1..limit.max(2))
        .map(|mut n| {
            let mut steps = 0;
            while n != 1 {
                n = if n.is_multiple_of(2) {
                    n / 2
                } else {
                    3 * n + 1
                };
                steps += 1;
            }
            steps
        })
        .max()
        .unwrap_or(0)
}

/// The crash-prone step: it dies of SIGSEGV, the signal of a segmentation fault (raised
/// here on purpose, as a buggy native library would).
fn crash() -> u64 {
    // Rust's runtime handles SIGSEGV (to report stack overflows) and survives one that
    // was sent rather than faulted: restore the default action, as a real fault meets it.
    let _ = multiproc_sys::disposition::set_default(11);
    multiproc_sys::signal::reset_mask();
    let _ = multiproc_sys::signal::kill(std::process::id(), 11);
    std::thread::sleep(std::time::Duration::from_secs(60));
    0
}

/// Status line and body for one request path.
async fn answer(pool: &Pool, path: &str, stop: &watch::Sender<bool>) -> (&'static str, String) {
    let outcome = match path.trim_start_matches('/').split_once('/') {
        Some(("collatz", n)) => match n.parse::<u64>() {
            Ok(n) if n <= 50_000_000 => pool.submit(collatz_max_steps, (n,)).await,
            _ => {
                return (
                    "400 Bad Request",
                    "N must be a number up to 50000000\n".into(),
                );
            }
        },
        _ => match path {
            "/health" => return ("200 OK", "ok\n".into()),
            "/crash" => pool.submit(crash, ()).await,
            "/shutdown" => {
                let _ = stop.send(true);
                return ("200 OK", "bye\n".into());
            }
            _ => return ("404 Not Found", "no such page\n".into()),
        },
    };
    match outcome {
        Ok(value) => ("200 OK", format!("{value}\n")),
        Err(e) => ("502 Bad Gateway", format!("task failed: {e}\n")),
    }
}

async fn serve(pool: Arc<Pool>, stream: TcpStream, stop: watch::Sender<bool>) {
    let (reader, mut writer) = stream.into_split();
    let mut request_line = String::new();
    // A request (line and headers) longer than 8 KiB is cut there.
    let mut reader = BufReader::new(reader.take(8 * 1024));
    if reader.read_line(&mut request_line).await.is_err() {
        return;
    }
    let path = match request_line.split_whitespace().collect::<Vec<_>>()[..] {
        ["GET", path, _version] => path.to_owned(),
        _ => {
            let _ = writer
                .write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
                .await;
            return;
        }
    };
    // Headers are read and ignored, up to the blank line.
    let mut header = String::new();
    loop {
        header.clear();
        match reader.read_line(&mut header).await {
            Ok(0) | Err(_) => break,
            Ok(_) if header.trim().is_empty() => break,
            Ok(_) => {}
        }
    }
    let (status, body) = answer(&pool, &path, &stop).await;
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = writer.write_all(response.as_bytes()).await;
    let _ = writer.shutdown().await;
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = match std::env::args().nth(1) {
        Some(port) => port.parse()?,
        None => 0,
    };
    // The pool's workers start before the runtime's threads exist (the fork start method
    // then copies a single-threaded process).
    let pool = Arc::new(Pool::new(2)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!("listening on {}", listener.local_addr()?);
        std::io::stdout().flush()?;
        let (stop, mut stopped) = watch::channel(false);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, _) = accepted?;
                    tokio::spawn(serve(pool.clone(), stream, stop.clone()));
                }
                _ = stopped.changed() => break,
            }
        }
        Ok::<(), std::io::Error>(())
    })?;
    // Requests still running are dropped with the runtime; the pool then ends its workers.
    drop(runtime);
    Ok(())
}
