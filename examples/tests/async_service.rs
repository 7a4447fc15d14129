//! Runs the `async_service` example on an ephemeral loopback port and talks HTTP to it:
//! results computed in the pool, a request whose worker dies of SIGSEGV (answered with the
//! error while other requests are served), and a clean shutdown. The server process is
//! always ended, even when an assertion fails. (Run through `cargo test -p
//! multiproc-examples`, which builds the example.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod common;

const LIMIT: Duration = Duration::from_secs(120);

/// The server process: killed and reaped when dropped, whatever happened.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(common::example_path("async_service"))
            .arg("0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let mut server = Server { child, port: 0 };
        server.port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in the server's first line: {line:?}"));
        server
    }

    /// Sends `GET path` and returns (status code, body).
    fn get(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

#[test]
fn serves_offloaded_work_and_survives_a_segfaulting_worker() {
    multiproc_test_support::watchdog(LIMIT, "the async service", || {
        let server = Server::start();
        assert_eq!(server.get("/health"), (200, "ok\n".into()));
        assert_eq!(server.get("/collatz/10"), (200, "19\n".into()));
        // A crash, with other requests in flight at the same time.
        std::thread::scope(|s| {
            let crash = s.spawn(|| server.get("/crash"));
            let others: Vec<_> = (0..8)
                .map(|i| {
                    let server = &server;
                    s.spawn(move || {
                        (
                            server.get("/health"),
                            server.get(&format!("/collatz/{}", 10 + i)),
                        )
                    })
                })
                .collect();
            let (status, body) = crash.join().unwrap();
            assert_eq!(status, 502, "{body}");
            assert!(body.contains("SIGSEGV"), "{body}");
            for other in others {
                let (health, collatz) = other.join().unwrap();
                assert_eq!(health, (200, "ok\n".into()));
                assert_eq!(collatz.0, 200, "{collatz:?}");
            }
        });
        // The replaced worker serves on.
        assert_eq!(server.get("/collatz/28"), (200, "111\n".into()));
        assert_eq!(server.get("/collatz/x").0, 400);
        assert_eq!(server.get("/nowhere").0, 404);
        assert_eq!(server.get("/shutdown"), (200, "bye\n".into()));
        let mut server = server;
        let status = server.child.wait().unwrap();
        assert!(status.success(), "the server ended with {status}");
    });
}
