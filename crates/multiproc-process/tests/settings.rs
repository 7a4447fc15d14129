//! A child's environment, working directory, standard streams and limits, under every start
//! method.

use std::io::{Read, Write};
use std::time::Duration;

use multiproc_process::{LimitExceeded, Limits, ProcessError, StartMethod, Stdio, get_context};
use multiproc_test_support::watchdog;

const LIMIT: Duration = Duration::from_secs(120);

fn each_method(test: fn(StartMethod)) {
    for method in StartMethod::ALL {
        watchdog(LIMIT, &format!("{method}"), move || test(method));
    }
}

fn var(key: String) -> Option<String> {
    std::env::var(key).ok()
}

fn cwd() -> std::path::PathBuf {
    std::env::current_dir().unwrap()
}

fn talk(out: String, err: String) {
    // Not `print!`: under the fork method the child inherits the test harness's output
    // capture of the thread that forked, which `print!` writes to instead of descriptor 1.
    std::io::stdout().write_all(out.as_bytes()).unwrap();
    std::io::stdout().flush().unwrap();
    std::io::stderr().write_all(err.as_bytes()).unwrap();
}

fn fd_target(fd: u8) -> String {
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

fn stdin_len() -> usize {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).unwrap();
    text.len()
}

fn hog_memory() -> usize {
    // 1 GiB in 64 MiB pieces, each written to, so that it is really used.
    let mut pieces = Vec::new();
    for _ in 0..16 {
        pieces.push(vec![1u8; 64 << 20]);
    }
    std::hint::black_box(&pieces).len()
}

fn spin() {
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

#[test]
fn env_var_is_visible_in_the_child() {
    each_method(|method| {
        let mut p = get_context(method)
            .process(var, ("MULTIPROC_TEST_GREETING".to_owned(),))
            .env("MULTIPROC_TEST_GREETING", format!("hello {method}"));
        p.start().unwrap();
        assert_eq!(
            p.join().unwrap(),
            Some(format!("hello {method}")),
            "{method}"
        );
    });
}

#[test]
fn env_remove_and_clear() {
    each_method(|method| {
        let mut removed = get_context(method)
            .process(var, ("PATH".to_owned(),))
            .env_remove("PATH");
        removed.start().unwrap();
        assert_eq!(removed.join().unwrap(), None, "{method}");
        let mut cleared = get_context(method)
            .process(var, ("PATH".to_owned(),))
            .env_clear()
            .env("KEPT", "1");
        cleared.start().unwrap();
        assert_eq!(cleared.join().unwrap(), None, "{method}");
    });
}

#[test]
fn current_dir_is_honoured() {
    each_method(|method| {
        let dir = std::env::temp_dir().canonicalize().unwrap();
        assert_ne!(std::env::current_dir().unwrap(), dir);
        let mut p = get_context(method).process(cwd, ()).current_dir(&dir);
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), dir, "{method}");
    });
}

#[test]
fn a_missing_directory_fails_start_naming_the_setting() {
    each_method(|method| {
        let mut p = get_context(method)
            .process(cwd, ())
            .current_dir("/no/such/dir");
        let e = p.start().unwrap_err();
        assert!(matches!(e, ProcessError::Setting { .. }), "{method}: {e:?}");
        assert!(e.to_string().contains("current_dir /no/such/dir"), "{e}");
        assert!(e.to_string().contains(method.as_str()), "{e}");
    });
}

#[test]
fn stdout_piped_is_read_by_the_parent_and_stderr_null() {
    each_method(|method| {
        let mut p = get_context(method)
            .process(talk, (format!("out {method}\n"), "err\n".to_owned()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        p.start().unwrap();
        let out = p.take_stdout().expect("piped stdout");
        assert!(p.take_stderr().is_none());
        p.join().unwrap();
        assert_eq!(
            std::io::read_to_string(out).unwrap(),
            format!("out {method}\n")
        );

        let mut q = get_context(method)
            .process(fd_target, (2,))
            .stderr(Stdio::null());
        q.start().unwrap();
        assert_eq!(q.join().unwrap(), "/dev/null", "{method}");
    });
}

#[test]
fn stdin_piped_is_written_by_the_parent() {
    each_method(|method| {
        let mut p = get_context(method)
            .process(stdin_len, ())
            .stdin(Stdio::piped());
        p.start().unwrap();
        let mut input = p.take_stdin().expect("piped stdin");
        input.write_all(b"seven!!").unwrap();
        drop(input);
        assert_eq!(p.join().unwrap(), 7, "{method}");
    });
}

#[test]
fn a_memory_cap_is_named_when_the_child_hits_it() {
    each_method(|method| {
        let cap = 256 << 20;
        let mut p = get_context(method)
            .process(hog_memory, ())
            .limits(Limits::new().memory(cap))
            .stderr(Stdio::piped());
        p.start().unwrap();
        let err = p.take_stderr().unwrap();
        let e = p.join().unwrap_err();
        match &e {
            ProcessError::LimitExceeded { limit, .. } => {
                assert_eq!(*limit, LimitExceeded::Memory { limit: cap }, "{method}")
            }
            other => panic!("{method}: {other:?}"),
        }
        assert!(
            e.to_string().contains("memory limit of 268435456 bytes"),
            "{e}"
        );
        let said = std::io::read_to_string(err).unwrap();
        assert!(said.contains("memory allocation of"), "{method}: {said}");
    });
}

#[test]
fn a_cpu_cap_is_named_when_the_child_hits_it() {
    each_method(|method| {
        let mut p = get_context(method)
            .process(spin, ())
            .limits(Limits::new().cpu_time(Duration::from_secs(1)));
        p.start().unwrap();
        let e = p.join().unwrap_err();
        match &e {
            ProcessError::LimitExceeded { limit, .. } => assert_eq!(
                *limit,
                LimitExceeded::CpuTime {
                    limit: Duration::from_secs(1)
                },
                "{method}"
            ),
            other => panic!("{method}: {other:?}"),
        }
        assert!(e.to_string().contains("CPU time limit"), "{e}");
    });
}

fn niceness() -> i32 {
    multiproc_sys::rlimit::nice().unwrap()
}

#[test]
fn a_setting_the_child_cannot_apply_is_reported_by_join() {
    if multiproc_sys::file::effective_uid() == 0 {
        // Root may lower its nice value: nothing here fails in the child.
        println!("skipped: running as root, a nice value of -20 is allowed");
        return;
    }
    each_method(|method| {
        let mut p = get_context(method)
            .process(niceness, ())
            .limits(Limits::new().nice(-20));
        p.start().unwrap();
        let e = p.join().unwrap_err();
        assert!(matches!(e, ProcessError::Setting { .. }), "{method}: {e:?}");
        assert!(e.to_string().contains("nice -20"), "{e}");
        assert!(e.to_string().contains(method.as_str()), "{e}");
    });
}

#[test]
fn a_relative_directory_is_the_parent_s() {
    each_method(|method| {
        let here = std::env::current_dir().unwrap();
        let mut p = get_context(method).process(cwd, ()).current_dir("src");
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), here.join("src"), "{method}");
    });
}

#[test]
fn a_directory_the_child_cannot_enter_is_reported_naming_the_setting() {
    // The parent's main thread's directory under `/proc/self/task`: there in the parent when
    // `start` checks it, absent in the child, whose `/proc/self` is another process.
    let dir = format!("/proc/self/task/{}", std::process::id());
    assert!(std::path::Path::new(&dir).is_dir());
    each_method(|method| {
        let dir = format!("/proc/self/task/{}", std::process::id());
        let mut p = get_context(method).process(cwd, ()).current_dir(&dir);
        // Spawn finds it when it starts the program; fork and forkserver in the child.
        let e = match p.start() {
            Err(e) => e,
            Ok(()) => p.join().unwrap_err(),
        };
        match &e {
            ProcessError::Setting {
                method: m, detail, ..
            } => {
                assert_eq!(*m, method);
                assert!(
                    detail.starts_with(&format!("current_dir {dir}: ")),
                    "{detail}"
                );
            }
            other => panic!("{method}: {other:?}"),
        }
    });
}
