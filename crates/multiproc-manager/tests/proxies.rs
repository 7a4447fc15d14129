//! Every proxy type against a real manager process, used from the parent and from child
//! processes that receive proxies as arguments.

use std::time::Duration;

use multiproc_manager::{
    DictProxy, EventProxy, ListProxy, LockProxy, Manager, ManagerError, Namespace, Proxy,
    QueueProxy, RemoteError, SharedObject, ValueProxy,
};
use multiproc_process::{Process, StartMethod, get_context};
use multiproc_test_support::watchdog;
use serde::{Deserialize, Serialize};

const LIMIT: Duration = Duration::from_secs(120);

fn add_one(old: Option<u64>) -> u64 {
    old.unwrap_or(0) + 1
}

fn bump(counts: DictProxy<String, u64>, list: ListProxy<u32>, rounds: u32) -> u32 {
    for i in 0..rounds {
        counts.update_with("hits".to_owned(), add_one).unwrap();
        list.push(i).unwrap();
    }
    std::process::id()
}

#[test]
fn dict_and_list_updates_from_children_of_every_start_method_are_never_lost() {
    watchdog(LIMIT, "children updating a dict", || {
        for method in [
            StartMethod::Fork,
            StartMethod::Spawn,
            StartMethod::Forkserver,
        ] {
            let manager = Manager::builder().start_method(method).start().unwrap();
            let counts = manager.dict::<String, u64>().unwrap();
            let list = manager.list::<u32>().unwrap();
            let mut children: Vec<_> = (0..4)
                .map(|_| get_context(method).process(bump, (counts.clone(), list.clone(), 50)))
                .collect();
            for child in &mut children {
                child.start().unwrap();
            }
            for child in &mut children {
                child.join().unwrap();
            }
            assert_eq!(
                counts.get(&"hits".to_owned()).unwrap(),
                Some(200),
                "{method:?}"
            );
            assert_eq!(list.len().unwrap(), 200, "{method:?}");
            manager.shutdown().unwrap();
        }
    });
}

#[test]
fn dict_operations() {
    watchdog(LIMIT, "dict operations", || {
        let manager = Manager::start().unwrap();
        let d = manager.dict::<String, Vec<u8>>().unwrap();
        assert_eq!(d.insert("a".into(), vec![1]).unwrap(), None);
        assert_eq!(d.insert("b".into(), vec![2, 2]).unwrap(), None);
        assert_eq!(d.insert("a".into(), vec![3]).unwrap(), Some(vec![1]));
        assert!(d.contains_key(&"b".into()).unwrap());
        assert_eq!(d.len().unwrap(), 2);
        d.update([("c".to_owned(), vec![]), ("d".to_owned(), vec![4])])
            .unwrap();
        assert_eq!(d.keys().unwrap(), ["a", "b", "c", "d"]);
        assert_eq!(d.values().unwrap(), [vec![3], vec![2, 2], vec![], vec![4]]);
        assert_eq!(d.remove(&"b".into()).unwrap(), Some(vec![2, 2]));
        assert_eq!(d.remove(&"b".into()).unwrap(), None);
        assert_eq!(
            d.items().unwrap(),
            [
                ("a".to_owned(), vec![3]),
                ("c".to_owned(), vec![]),
                ("d".to_owned(), vec![4])
            ]
        );
        d.clear().unwrap();
        assert!(d.is_empty().unwrap());
    });
}

fn panics_on_three(old: Option<u32>) -> u32 {
    let old = old.unwrap_or(0);
    if old == 3 {
        panic!("three is too many");
    }
    old + 1
}

#[test]
fn a_panicking_update_function_is_an_error_and_leaves_the_entry() {
    watchdog(LIMIT, "a panicking update", || {
        let manager = Manager::start().unwrap();
        let d = manager.dict::<u8, u32>().unwrap();
        for _ in 0..3 {
            d.update_with(0, panics_on_three).unwrap();
        }
        let err = d.update_with(0, panics_on_three).unwrap_err();
        let ManagerError::Remote(RemoteError::Function(message)) = &err else {
            panic!("{err:?}");
        };
        assert!(message.contains("three is too many"), "{message}");
        assert_eq!(d.get(&0).unwrap(), Some(3));
        // The server is still up.
        assert_eq!(d.len().unwrap(), 1);
    });
}

#[test]
fn list_operations() {
    watchdog(LIMIT, "list operations", || {
        let manager = Manager::start().unwrap();
        let l = manager.list::<i32>().unwrap();
        assert_eq!(l.pop().unwrap(), None);
        l.push(1).unwrap();
        l.extend([2, 3, 4]).unwrap();
        assert_eq!(l.len().unwrap(), 4);
        assert_eq!(l.get(2).unwrap(), 3);
        l.set(2, 30).unwrap();
        assert_eq!(l.iter().unwrap().collect::<Vec<_>>(), [1, 2, 30, 4]);
        assert_eq!(l.pop().unwrap(), Some(4));
        let err = l.get(3).unwrap_err();
        assert!(
            matches!(
                err,
                ManagerError::Remote(RemoteError::IndexOutOfRange { index: 3, len: 3 })
            ),
            "{err:?}"
        );
        assert!(l.set(usize::MAX, 0).is_err());
        l.clear().unwrap();
        assert!(l.is_empty().unwrap());
    });
}

fn consume(queue: QueueProxy<String>, done: EventProxy, flag: ValueProxy<u32>) -> String {
    let item = queue.get().unwrap();
    flag.set(7).unwrap();
    done.set().unwrap();
    item
}

#[test]
fn queue_event_and_value_between_processes() {
    watchdog(LIMIT, "queue, event, value", || {
        let manager = Manager::start().unwrap();
        let queue = manager.queue::<String>().unwrap();
        let done = manager.event().unwrap();
        let flag = manager.value(0u32).unwrap();
        let mut child = Process::new(consume, (queue.clone(), done.clone(), flag.clone()));
        child.start().unwrap();
        // The child blocks in `get` until this put.
        queue.put("work".into()).unwrap();
        assert!(done.wait_timeout(Duration::from_secs(60)).unwrap());
        assert_eq!(child.join().unwrap(), "work");
        assert_eq!(flag.get().unwrap(), 7);
        assert!(queue.is_empty().unwrap());
        assert!(matches!(queue.get_nowait(), Err(ManagerError::Empty)));
        assert!(matches!(
            queue.get_timeout(Duration::from_millis(20)),
            Err(ManagerError::Empty)
        ));
        done.clear().unwrap();
        assert!(!done.is_set().unwrap());
    });
}

fn locked_increment(lock: LockProxy, counter: Namespace, rounds: u32) {
    for _ in 0..rounds {
        let _guard = lock.acquire().unwrap();
        let n: u32 = counter.get("n").unwrap().unwrap_or(0);
        counter.set("n", n + 1).unwrap();
    }
}

#[test]
fn a_lock_makes_read_modify_write_on_a_namespace_safe() {
    watchdog(LIMIT, "lock and namespace", || {
        let manager = Manager::start().unwrap();
        let lock = manager.lock().unwrap();
        let ns = manager.namespace().unwrap();
        let mut children: Vec<_> = (0..3)
            .map(|_| Process::new(locked_increment, (lock.clone(), ns.clone(), 30)))
            .collect();
        for child in &mut children {
            child.start().unwrap();
        }
        for child in &mut children {
            child.join().unwrap();
        }
        assert_eq!(ns.get::<u32>("n").unwrap(), Some(90));
        assert_eq!(ns.names().unwrap(), ["n"]);
        assert_eq!(ns.remove::<u32>("n").unwrap(), Some(90));
        assert!(!lock.locked().unwrap());
        let guard = lock.acquire().unwrap();
        assert!(
            lock.acquire_timeout(Duration::from_millis(20))
                .unwrap()
                .is_none()
        );
        guard.release().unwrap();
        assert!(!lock.locked().unwrap());
    });
}

#[derive(Serialize, Deserialize)]
struct Inventory {
    items: Vec<(String, u32)>,
}

#[derive(Serialize, Deserialize)]
enum InventoryRequest {
    Add(String, u32),
    Take(String, u32),
    Count(String),
    Explode,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum InventoryReply {
    Count(u32),
    NotEnough { have: u32 },
}

impl SharedObject for Inventory {
    type Request = InventoryRequest;
    type Reply = InventoryReply;

    fn handle(&mut self, request: InventoryRequest) -> InventoryReply {
        let count = |items: &mut Vec<(String, u32)>, name: &str| -> usize {
            match items.iter().position(|(n, _)| n == name) {
                Some(i) => i,
                None => {
                    items.push((name.to_owned(), 0));
                    items.len() - 1
                }
            }
        };
        match request {
            InventoryRequest::Add(name, n) => {
                let i = count(&mut self.items, &name);
                self.items[i].1 += n;
                InventoryReply::Count(self.items[i].1)
            }
            InventoryRequest::Take(name, n) => {
                let i = count(&mut self.items, &name);
                if self.items[i].1 < n {
                    return InventoryReply::NotEnough {
                        have: self.items[i].1,
                    };
                }
                self.items[i].1 -= n;
                InventoryReply::Count(self.items[i].1)
            }
            InventoryRequest::Count(name) => {
                let i = count(&mut self.items, &name);
                InventoryReply::Count(self.items[i].1)
            }
            InventoryRequest::Explode => panic!("inventory exploded"),
        }
    }
}

fn stock(inventory: multiproc_manager::ObjectProxy<Inventory>, rounds: u32) {
    for _ in 0..rounds {
        inventory
            .call(InventoryRequest::Add("bolts".into(), 1))
            .unwrap();
    }
}

#[test]
fn registered_types_are_called_with_typed_requests_from_any_process() {
    watchdog(LIMIT, "registered type", || {
        let manager = Manager::start().unwrap();
        let unregistered = manager.create(Inventory { items: vec![] });
        assert!(matches!(
            unregistered,
            Err(ManagerError::Remote(RemoteError::NotRegistered(_)))
        ));
        manager.register::<Inventory>().unwrap();
        let inventory = manager
            .create(Inventory {
                items: vec![("nuts".into(), 2)],
            })
            .unwrap();
        let mut children: Vec<_> = (0..2)
            .map(|_| Process::new(stock, (inventory.clone(), 25)))
            .collect();
        for child in &mut children {
            child.start().unwrap();
        }
        for child in &mut children {
            child.join().unwrap();
        }
        assert_eq!(
            inventory
                .call(InventoryRequest::Count("bolts".into()))
                .unwrap(),
            InventoryReply::Count(50)
        );
        assert_eq!(
            inventory
                .call(InventoryRequest::Take("nuts".into(), 3))
                .unwrap(),
            InventoryReply::NotEnough { have: 2 }
        );
        let err = inventory.call(InventoryRequest::Explode).unwrap_err();
        assert!(err.to_string().contains("inventory exploded"), "{err}");
        // The object and the server survive the panic.
        assert_eq!(
            inventory
                .call(InventoryRequest::Take("nuts".into(), 2))
                .unwrap(),
            InventoryReply::Count(0)
        );
    });
}

#[test]
fn publish_and_lookup_check_the_kind() {
    watchdog(LIMIT, "publish and lookup", || {
        let manager = Manager::start().unwrap();
        let d = manager.dict::<u8, u8>().unwrap();
        manager.publish("d", &d).unwrap();
        let found: DictProxy<u8, u8> = manager.lookup("d").unwrap();
        assert_eq!(found.id(), d.id());
        let wrong = manager.lookup::<ListProxy<u8>>("d").unwrap_err();
        assert!(
            matches!(wrong, ManagerError::Remote(RemoteError::WrongKind { .. })),
            "{wrong:?}"
        );
        let missing = manager.lookup::<ListProxy<u8>>("nope").unwrap_err();
        assert!(
            matches!(missing, ManagerError::Remote(RemoteError::NoSuchName(_))),
            "{missing:?}"
        );
        // A proxy used as another kind is refused by the server, not misread.
        let as_list: ListProxy<u8> =
            postcard::from_bytes(&postcard::to_stdvec(&d).unwrap()).unwrap();
        assert!(matches!(
            as_list.len(),
            Err(ManagerError::Remote(RemoteError::WrongKind { .. }))
        ));
    });
}

#[test]
fn proxies_are_send_sync_clone_and_serde() {
    fn check<T: Send + Sync + Clone + Serialize + for<'de> Deserialize<'de>>() {}
    check::<DictProxy<String, u8>>();
    check::<ListProxy<u8>>();
    check::<ValueProxy<u8>>();
    check::<QueueProxy<u8>>();
    check::<LockProxy>();
    check::<EventProxy>();
    check::<Namespace>();
    check::<multiproc_manager::ObjectProxy<Inventory>>();
    fn send<T: Send>() {}
    send::<Manager>();
    send::<multiproc_manager::LockProxyGuard>();
}
