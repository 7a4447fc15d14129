//! Touches every re-export of the facade once, so that a missing or renamed one fails here.

#[allow(unused_imports)]
use multiproc::{channel, manager, pool, process, shared};

#[test]
fn modules_are_the_sub_crates() {
    let _ = process::cpu_count();
    let _ = shared::plain_serialization_active();
    let _: Option<channel::PipeError> = None;
    let _: Option<channel::QueueError> = None;
    let _: Option<channel::ListenerError> = None;
    let _: Option<pool::PoolError> = None;
    let _: Option<manager::ManagerError> = None;
    let _: Option<manager::RemoteError> = None;
}

#[test]
fn flat_python_names() {
    use std::any::type_name;
    // Types: naming them is enough.
    let names = [
        type_name::<multiproc::Process<()>>(),
        type_name::<multiproc::Manager>(),
        type_name::<multiproc::DictProxy<String, u32>>(),
        type_name::<multiproc::ListProxy<u32>>(),
        type_name::<multiproc::Namespace>(),
        type_name::<multiproc::ManagerError>(),
        type_name::<multiproc::prelude::Manager>(),
        type_name::<multiproc::Context>(),
        type_name::<multiproc::StartMethod>(),
        type_name::<multiproc::Value<i32>>(),
        type_name::<multiproc::RawValue<i32>>(),
        type_name::<multiproc::Array<f64>>(),
        type_name::<multiproc::RawArray<f64>>(),
        type_name::<multiproc::Lock>(),
        type_name::<multiproc::RLock>(),
        type_name::<multiproc::Semaphore>(),
        type_name::<multiproc::BoundedSemaphore>(),
        type_name::<multiproc::Condition>(),
        type_name::<multiproc::Event>(),
        type_name::<multiproc::Barrier>(),
        type_name::<multiproc::SharedMemory>(),
        type_name::<multiproc::Pipe<u8>>(),
        type_name::<multiproc::Connection<u8>>(),
        type_name::<multiproc::Queue<u8>>(),
        type_name::<multiproc::SimpleQueue<u8>>(),
        type_name::<multiproc::JoinableQueue<u8>>(),
        type_name::<multiproc::Pool>(),
        type_name::<multiproc::AsyncResult<u8>>(),
        type_name::<multiproc::Error>(),
    ];
    assert!(names.iter().all(|n| !n.is_empty()));
    // Functions: call the cheap ones.
    assert!(multiproc::cpu_count() >= 1);
    assert!(multiproc::process_cpu_count() >= 1);
    assert!(multiproc::physical_cpu_count() >= 1);
    assert_eq!(multiproc::current_process().name(), "MainProcess");
    assert!(multiproc::parent_process().is_none());
    assert!(multiproc::active_children().is_empty());
    assert!(!multiproc::get_all_start_methods().is_empty());
    let _ = multiproc::get_start_method();
    let _ = multiproc::get_context(multiproc::StartMethod::Spawn);
    let _ = multiproc::set_start_method as fn(_, _) -> _;
    let _ = multiproc::log_to_stderr as fn(_) -> _;
    assert!(multiproc::LevelFilter::Debug > multiproc::LevelFilter::Info);
    assert_eq!(multiproc::LOG_TARGET, "multiproc");
    let _ = multiproc::wait;
    fn parse(text: String) -> Result<u8, std::num::ParseIntError> {
        text.parse()
    }
    let _ = multiproc::fallible(parse);
}

#[test]
fn prelude_names() {
    use multiproc::prelude::*;
    let _ = std::any::type_name::<(
        Process<()>,
        Pool,
        AsyncResult<u8>,
        Value<u8>,
        Array<u8>,
        Lock,
        RLock,
    )>();
    let _ = std::any::type_name::<(
        Semaphore,
        BoundedSemaphore,
        Condition,
        Event,
        Barrier,
        SharedMemory,
    )>();
    let _ = std::any::type_name::<(
        RawValue<u8>,
        RawArray<u8>,
        Pipe<u8>,
        Connection<u8>,
        Queue<u8>,
    )>();
    let _ = std::any::type_name::<(SimpleQueue<u8>, JoinableQueue<u8>, StartMethod)>();
    let _ = (
        cpu_count(),
        process_cpu_count(),
        current_process(),
        get_context(StartMethod::Fork),
    );
}

#[test]
fn errors_convert_into_the_facade_error() {
    fn convert<E: Into<multiproc::Error>>(_: Option<E>) {}
    convert::<process::ProcessError>(None);
    convert::<shared::SharedError>(None);
    convert::<channel::PipeError>(None);
    convert::<channel::QueueError>(None);
    convert::<channel::ListenerError>(None);
    convert::<pool::PoolError>(None);
    convert::<manager::ManagerError>(None);
    convert::<channel::SendError<u8>>(None);
}
