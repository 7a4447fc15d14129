//! Signal dispositions of the helper programs that tests interrupt.

/// Gives SIGINT and SIGTERM their default disposition. A test runner started with them
/// ignored (`nohup`, a background job) passes that on to the programs it starts; a helper
/// program that a test interrupts or terminates calls this first, to be ended as it would be
/// from a terminal.
///
/// ```
/// multiproc_test_support::default_interrupt_dispositions();
/// ```
pub fn default_interrupt_dispositions() {
    for signal in [
        multiproc_sys::signal::number::SIGINT,
        multiproc_sys::signal::number::SIGTERM,
    ] {
        multiproc_sys::disposition::set_default(signal).expect("sigaction");
    }
}
