//! A process that escapes its parent and its session, as a careless or hostile task's
//! grandchild would: what a process tree's clean-up must still find.

/// Starts `sleep 60` through a shell, in a session of its own (`setsid`), detached from this
/// process's streams; returns its pid once the shell that started it has exited, so that the
/// sleeper has been adopted by the nearest child subreaper (or init). The caller ends it.
///
/// ```
/// let sleeper = multiproc_test_support::start_escaped_sleeper();
/// assert!(multiproc_test_support::exists(sleeper));
/// multiproc_test_support::kill(sleeper);
/// assert!(multiproc_test_support::wait_gone(sleeper, std::time::Duration::from_secs(10)));
/// ```
pub fn start_escaped_sleeper() -> u32 {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("setsid sleep 60 </dev/null >/dev/null 2>&1 & echo $!")
        .stderr(std::process::Stdio::null())
        .output()
        .expect("sh");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a pid")
}
