//! Fault behaviour against real processes: a manager that dies or stops, clients that die
//! in the middle of calls, and many clients at once.

use std::time::{Duration, Instant};

use multiproc_manager::{
    DictProxy, EventProxy, LockProxy, Manager, ManagerError, Proxy, QueueProxy,
};
use multiproc_process::{Process, StartMethod};
use multiproc_test_support::{gone, kill, send_signal, watchdog};

const LIMIT: Duration = Duration::from_secs(180);

#[test]
fn a_killed_manager_gives_every_call_manager_gone_at_once() {
    watchdog(LIMIT, "calls on a killed manager", || {
        let manager = Manager::start().unwrap();
        let dict = manager.dict::<u32, u32>().unwrap();
        let list = manager.list::<u32>().unwrap();
        let queue = manager.queue::<u32>().unwrap();
        let lock = manager.lock().unwrap();
        let event = manager.event().unwrap();
        dict.insert(1, 1).unwrap();
        // A thread blocked in the server when it dies.
        let blocked = {
            let queue = queue.clone();
            std::thread::spawn(move || queue.get())
        };
        let guard = lock.acquire().unwrap();
        let pid = manager.pid().unwrap();
        kill(pid);
        assert!(gone(pid, Duration::from_secs(30)) || multiproc_test_support::exists(pid));
        let started = Instant::now();
        let blocked = blocked.join().unwrap();
        assert!(
            matches!(blocked, Err(ManagerError::ManagerGone)),
            "{blocked:?}"
        );
        // Pooled connections and new ones alike.
        for _ in 0..3 {
            assert!(matches!(dict.get(&1), Err(ManagerError::ManagerGone)));
            assert!(matches!(list.push(1), Err(ManagerError::ManagerGone)));
            assert!(matches!(queue.put(1), Err(ManagerError::ManagerGone)));
            assert!(matches!(event.is_set(), Err(ManagerError::ManagerGone)));
            assert!(matches!(lock.acquire(), Err(ManagerError::ManagerGone)));
            assert!(matches!(
                manager.dict::<u8, u8>(),
                Err(ManagerError::ManagerGone)
            ));
        }
        assert!(matches!(guard.release(), Err(ManagerError::ManagerGone)));
        println!("calls failed within {:?} of the kill", started.elapsed());
        // Shutting down a dead manager reaps it without complaint.
        manager.shutdown().unwrap();
        assert_eq!(manager.pid(), None);
        assert!(gone(pid, Duration::from_secs(30)));
    });
}

#[test]
fn a_stopped_manager_cannot_hang_a_call_with_a_timeout() {
    watchdog(LIMIT, "calls on a stopped manager", || {
        // Fork: the server is this process's child, so the test can wait until it stopped.
        let manager = Manager::builder()
            .start_method(StartMethod::Fork)
            .start()
            .unwrap();
        let dict = manager
            .dict::<u32, u32>()
            .unwrap()
            .with_timeout(Duration::from_millis(300));
        dict.insert(1, 1).unwrap();
        let pid = manager.pid().unwrap();
        send_signal(pid, libc::SIGSTOP);
        assert!(multiproc_sys::wait::wait_stopped(pid).unwrap());
        let err = dict.get(&1).unwrap_err();
        assert!(matches!(err, ManagerError::Timeout(_)), "{err:?}");
        send_signal(pid, libc::SIGCONT);
        // The timed-out connection was dropped; a new one is in step.
        let dict = dict.with_timeout(Duration::from_secs(60));
        assert_eq!(dict.get(&1).unwrap(), Some(1));
        drop(manager);
        assert!(gone(pid, Duration::from_secs(30)));
    });
}

/// Takes the lock, says so, then calls the manager in a loop until killed.
fn hold_and_hammer(
    lock: LockProxy,
    holding: EventProxy,
    dict: DictProxy<u32, u32>,
    queue: QueueProxy<u32>,
) {
    let guard = lock.acquire().unwrap();
    holding.set().unwrap();
    let mut i = 0;
    loop {
        dict.insert(i % 100, i).unwrap();
        let _ = queue.get_timeout(Duration::from_millis(1));
        i += 1;
        if i == u32::MAX {
            break;
        }
    }
    drop(guard);
}

fn block_on_queue(ready: EventProxy, queue: QueueProxy<u32>) -> u32 {
    ready.set().unwrap();
    queue.get().unwrap()
}

#[test]
fn a_client_killed_mid_call_leaves_the_server_and_others_unaffected_and_its_lock_released() {
    watchdog(LIMIT, "client killed mid-call", || {
        let manager = Manager::start().unwrap();
        let lock = manager.lock().unwrap();
        let holding = manager.event().unwrap();
        let dict = manager.dict::<u32, u32>().unwrap();
        let queue = manager.queue::<u32>().unwrap();
        let mut hammer = Process::new(
            hold_and_hammer,
            (lock.clone(), holding.clone(), dict.clone(), queue.clone()),
        );
        hammer.start().unwrap();
        assert!(holding.wait_timeout(Duration::from_secs(60)).unwrap());
        assert!(lock.locked().unwrap());
        // Let it make calls, then kill it, most likely in the middle of one.
        while dict.len().unwrap() < 100 {}
        hammer.kill().unwrap();
        assert!(hammer.join().is_err());

        // The lock it held is released by the server.
        let guard = lock
            .acquire_timeout(Duration::from_secs(30))
            .unwrap()
            .expect("the dead holder's lock was released");
        guard.release().unwrap();

        // A client blocked in `get` that dies does not swallow the next item.
        let ready = manager.event().unwrap();
        let mut blocked = Process::new(block_on_queue, (ready.clone(), queue.clone()));
        blocked.start().unwrap();
        assert!(ready.wait_timeout(Duration::from_secs(60)).unwrap());
        blocked.kill().unwrap();
        assert!(blocked.join().is_err());
        queue.put(42).unwrap();
        assert_eq!(queue.get_timeout(Duration::from_secs(30)).unwrap(), 42);

        // The server and its objects are fine.
        dict.insert(1000, 1).unwrap();
        assert_eq!(dict.get(&1000).unwrap(), Some(1));
    });
}

fn arrive(counts: DictProxy<String, u64>, all_here: EventProxy, total: u64) -> u64 {
    let arrived = counts
        .update_with("arrived".to_owned(), |n: Option<u64>| n.unwrap_or(0) + 1)
        .unwrap();
    if arrived == total {
        all_here.set().unwrap();
    } else {
        // Blocks in the server until the last client arrives: this finishes only if all
        // clients are served at the same time.
        all_here.wait().unwrap();
    }
    arrived
}

#[test]
fn fifty_clients_are_served_concurrently() {
    watchdog(LIMIT, "fifty concurrent clients", || {
        const CLIENTS: u64 = 50;
        let manager = Manager::start().unwrap();
        let counts = manager.dict::<String, u64>().unwrap();
        let all_here = manager.event().unwrap();
        let mut clients: Vec<_> = (0..CLIENTS)
            .map(|_| Process::new(arrive, (counts.clone(), all_here.clone(), CLIENTS)))
            .collect();
        for client in &mut clients {
            client.start().unwrap();
        }
        let mut order: Vec<u64> = clients.iter_mut().map(|c| c.join().unwrap()).collect();
        order.sort_unstable();
        assert_eq!(order, (1..=CLIENTS).collect::<Vec<_>>());
    });
}

#[test]
fn a_slow_call_does_not_block_other_clients() {
    watchdog(LIMIT, "slow call beside fast ones", || {
        let manager = Manager::start().unwrap();
        let queue = manager.queue::<u32>().unwrap();
        let list = manager.list::<u32>().unwrap();
        // Blocks in the server until the put below.
        let waiter = {
            let queue = queue.clone();
            std::thread::spawn(move || queue.get())
        };
        for i in 0..100 {
            list.push(i).unwrap();
        }
        assert_eq!(list.len().unwrap(), 100);
        queue.put(5).unwrap();
        assert_eq!(waiter.join().unwrap().unwrap(), 5);
    });
}

#[test]
fn a_connected_handle_does_not_own_the_server() {
    watchdog(LIMIT, "connected handle", || {
        let manager = Manager::serve("127.0.0.1:0", b"owner-test").unwrap();
        let client = Manager::connect(manager.address().to_string(), b"owner-test").unwrap();
        assert!(matches!(client.shutdown(), Err(ManagerError::NotOwner)));
        let list = client.list::<u8>().unwrap();
        drop(client);
        list.push(1).unwrap();
        assert_eq!(list.id(), list.clone().id());
    });
}

#[test]
fn a_forked_copy_of_the_handle_does_not_stop_the_manager() {
    watchdog(LIMIT, "forked copy of the handle", || {
        let manager = Manager::start().unwrap();
        let list = manager.list::<u32>().unwrap();
        let child = multiproc_test_support::fork(|| {
            // The child's copy of the handle: shutting down or dropping it must not stop
            // the parent's server, and its proxies work on connections of their own.
            let copy: &Manager = &manager;
            assert!(matches!(copy.shutdown(), Err(ManagerError::NotOwner)));
            list.push(7).unwrap();
        });
        child.join_ok(Duration::from_secs(60));
        assert_eq!(list.iter().unwrap().collect::<Vec<_>>(), [7]);
        manager.shutdown().unwrap();
    });
}

#[test]
fn shutdown_wakes_a_call_blocked_in_the_server() {
    watchdog(LIMIT, "shutdown beside a blocked call", || {
        let manager = Manager::start().unwrap();
        let queue = manager.queue::<u32>().unwrap();
        let ready = manager.event().unwrap();
        // Blocks in the server (no timeout) until the manager stops.
        let blocked = {
            let (queue, ready) = (queue.clone(), ready.clone());
            std::thread::spawn(move || {
                ready.set().unwrap();
                queue.get()
            })
        };
        ready.wait().unwrap();
        // The waiter's request may still be on its way; either way it must end.
        let pid = manager.pid().unwrap();
        manager.shutdown().unwrap();
        let result = blocked.join().unwrap();
        assert!(
            matches!(result, Err(ManagerError::ManagerGone)),
            "{result:?}"
        );
        assert!(gone(pid, Duration::from_secs(30)));
    });
}
