//! A child's way out, and the one way library code writes to standard error: both without
//! anything a thread of the parent may have held across a fork.

/// Writes `message` and a newline straight to descriptor 2, without the standard error
/// lock (which a thread of the parent may have held when a child was forked, and which a
/// library thread never takes).
pub(crate) fn write_stderr_raw(message: &str) {
    use std::io::Write;
    use std::os::fd::AsFd;
    if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
        let _ = std::fs::File::from(fd).write_all(format!("{message}\n").as_bytes());
    }
}

/// Flushes and leaves; runs the exit handlers (which wait for this child's own children).
pub(crate) fn exit(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(code)
}
