//! The server's objects and what each request does to them. Type-erased: values are the
//! proxies' postcard bytes, compared and hashed as bytes.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use multiproc_process::{CallError, FunctionRef};

use crate::error::RemoteError;
use crate::ordered_map::OrderedMap;
use crate::sync_store::{
    BarrierState, ConditionState, RLockState, SemaphoreState, barrier_op, condition_op,
    condition_release_all, rlock_op, rlock_release_all, semaphore_op, semaphore_release_all,
};
use crate::user::{UserOp, call_entry};
use crate::waitable::{Peer, Waitable, lock};
use crate::wire::{
    Bytes, DictOp, EventOp, Kind, ListOp, LockOp, NamespaceOp, QueueOp, Reply, Request, ValueOp,
};

#[derive(Debug)]
enum Object {
    Dict(Mutex<OrderedMap>),
    List(Mutex<Vec<Bytes>>),
    Value(Mutex<Bytes>),
    Queue(Waitable<VecDeque<Bytes>>),
    /// The connection that holds the lock.
    Lock(Waitable<Option<u64>>),
    Event(Waitable<bool>),
    Namespace(Mutex<BTreeMap<String, Bytes>>),
    /// The object lives in its type's table (see `user.rs`); this is its entry point.
    User(FunctionRef),
    RLock(Waitable<RLockState>),
    Semaphore(Waitable<SemaphoreState>),
    Barrier(Waitable<BarrierState>),
    /// A list of fixed length.
    Array(Mutex<Vec<Bytes>>),
    Condition(Waitable<ConditionState>),
}

impl Object {
    fn kind(&self) -> Kind {
        match self {
            Object::Dict(_) => Kind::Dict,
            Object::List(_) => Kind::List,
            Object::Value(_) => Kind::Value,
            Object::Queue(_) => Kind::Queue,
            Object::Lock(_) => Kind::Lock,
            Object::Event(_) => Kind::Event,
            Object::Namespace(_) => Kind::Namespace,
            Object::User(_) => Kind::User,
            Object::RLock(_) => Kind::RLock,
            Object::Semaphore(_) => Kind::Semaphore,
            Object::Barrier(_) => Kind::Barrier,
            Object::Array(_) => Kind::Array,
            Object::Condition(_) => Kind::Condition,
        }
    }
}

/// What to take back if the reply to a request cannot be delivered: an item taken from a
/// queue goes back to its front, a lock just acquired is released.
#[derive(Debug)]
pub(crate) enum Undo {
    Requeue(u64, Bytes),
    Unlock(u64),
}

/// Every object of one server.
#[derive(Debug, Default)]
pub(crate) struct Store {
    objects: RwLock<HashMap<u64, Arc<Object>>>,
    next_id: AtomicU64,
    names: Mutex<HashMap<String, u64>>,
    registered: Mutex<HashMap<String, FunctionRef>>,
}

/// The initial state a `Create` carries for kinds that need one.
fn decode_initial<T: serde::de::DeserializeOwned>(initial: Option<Bytes>) -> Result<T, Reply> {
    let bad = |what: String| Reply::Error(RemoteError::BadRequest(what));
    let bytes = initial.ok_or_else(|| bad("no initial state".to_owned()))?;
    postcard::from_bytes(&bytes).map_err(|error| bad(error.to_string()))
}

fn wrong_kind(id: u64, expected: Kind, actual: Kind) -> Reply {
    Reply::Error(RemoteError::WrongKind {
        id,
        expected: expected.name().to_owned(),
        actual: actual.name().to_owned(),
    })
}

/// The new value that an `update_with` function returned, from the encoding of its
/// `Vec<Result<V, CallError>>` of one element.
fn updated_value(output: &[u8]) -> Result<Bytes, RemoteError> {
    match output {
        [1, 0, value @ ..] => Ok(value.to_vec()),
        [1, 1, error @ ..] => Err(RemoteError::Function(
            match postcard::from_bytes::<CallError>(error) {
                Ok(error) => error.to_string(),
                Err(e) => format!("an undecodable error: {e}"),
            },
        )),
        _ => Err(RemoteError::Function(
            "the function returned no result".to_owned(),
        )),
    }
}

impl Store {
    fn insert(&self, object: Object) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        self.objects
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::new(object));
        id
    }

    fn object(&self, id: u64) -> Result<Arc<Object>, Reply> {
        self.objects
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
            .ok_or(Reply::Error(RemoteError::NoSuchObject(id)))
    }

    /// Runs one request. `Shutdown` is the server's, not the store's.
    pub(crate) fn handle(
        &self,
        request: Request,
        peer: &dyn Peer,
        held_locks: &mut HashSet<u64>,
    ) -> (Reply, Option<Undo>) {
        let result = match request {
            Request::Create(kind, initial) => self.create(kind, initial),
            Request::Register { name, entry } => {
                lock(&self.registered).insert(name, entry);
                Ok(Reply::Done)
            }
            Request::CreateUser { name, init } => self.create_user(name, init),
            Request::Publish { name, id } => self.object(id).map(|_| {
                lock(&self.names).insert(name, id);
                Reply::Done
            }),
            Request::Lookup(name) => {
                let id = lock(&self.names).get(&name).copied();
                match id {
                    Some(id) => self
                        .object(id)
                        .map(|object| Reply::Found(object.kind(), id)),
                    None => Err(Reply::Error(RemoteError::NoSuchName(name))),
                }
            }
            Request::Dict(id, op) => self.with(id, Kind::Dict, |object| match object {
                Object::Dict(map) => Some(dict(map, op)),
                _ => None,
            }),
            Request::List(id, op) => self.with(id, Kind::List, |object| match object {
                Object::List(list) => Some(self::list(list, op)),
                _ => None,
            }),
            Request::Value(id, op) => self.with(id, Kind::Value, |object| match object {
                Object::Value(value) => Some(match op {
                    ValueOp::Get => Reply::Bytes(Some(lock(value).clone())),
                    ValueOp::Set(new) => {
                        *lock(value) = new;
                        Reply::Done
                    }
                }),
                _ => None,
            }),
            Request::Namespace(id, op) => self.with(id, Kind::Namespace, |object| match object {
                Object::Namespace(names) => Some(namespace(names, op)),
                _ => None,
            }),
            Request::Event(id, op) => self.with(id, Kind::Event, |object| match object {
                Object::Event(event) => Some(self::event(event, op, peer)),
                _ => None,
            }),
            Request::User(id, request) => self.with(id, Kind::User, |object| match object {
                Object::User(entry) => {
                    Some(match call_entry(entry, UserOp::Call { id, request }) {
                        Ok(reply) => Reply::Bytes(Some(reply)),
                        Err(error) => Reply::Error(error),
                    })
                }
                _ => None,
            }),
            Request::Queue(id, op) => {
                let object = match self.object(id) {
                    Ok(object) => object,
                    Err(reply) => return (reply, None),
                };
                let Object::Queue(queue) = &*object else {
                    return (wrong_kind(id, Kind::Queue, object.kind()), None);
                };
                return self::queue(id, queue, op, peer);
            }
            Request::Lock(id, op) => {
                let object = match self.object(id) {
                    Ok(object) => object,
                    Err(reply) => return (reply, None),
                };
                let Object::Lock(lock) = &*object else {
                    return (wrong_kind(id, Kind::Lock, object.kind()), None);
                };
                return self::lock_op(id, lock, op, peer, held_locks);
            }
            Request::Shutdown | Request::UsePipes => Ok(Reply::Done),
            Request::RLock(id, op) => {
                let object = match self.object(id) {
                    Ok(object) => object,
                    Err(reply) => return (reply, None),
                };
                let Object::RLock(state) = &*object else {
                    return (wrong_kind(id, Kind::RLock, object.kind()), None);
                };
                let (reply, held) = rlock_op(state, op, peer);
                if held {
                    held_locks.insert(id);
                }
                return (reply, None);
            }
            Request::Semaphore(id, op) => {
                let object = match self.object(id) {
                    Ok(object) => object,
                    Err(reply) => return (reply, None),
                };
                let Object::Semaphore(state) = &*object else {
                    return (wrong_kind(id, Kind::Semaphore, object.kind()), None);
                };
                let (reply, held) = semaphore_op(state, op, peer);
                if held {
                    held_locks.insert(id);
                }
                return (reply, None);
            }
            Request::Condition(id, op) => {
                let object = match self.object(id) {
                    Ok(object) => object,
                    Err(reply) => return (reply, None),
                };
                let Object::Condition(state) = &*object else {
                    return (wrong_kind(id, Kind::Condition, object.kind()), None);
                };
                let (reply, held) = condition_op(state, op, peer);
                if held {
                    held_locks.insert(id);
                }
                return (reply, None);
            }
            Request::Barrier(id, op) => self.with(id, Kind::Barrier, |object| match object {
                Object::Barrier(state) => Some(barrier_op(state, op, peer)),
                _ => None,
            }),
            Request::Array(id, op) => self.with(id, Kind::Array, |object| match object {
                Object::Array(items) => Some(match op {
                    ListOp::Get(_) | ListOp::Set(..) | ListOp::Len | ListOp::Snapshot => {
                        list(items, op)
                    }
                    _ => Reply::Error(RemoteError::BadRequest(
                        "an array keeps its length".to_owned(),
                    )),
                }),
                _ => None,
            }),
        };
        (result.unwrap_or_else(|reply| reply), None)
    }

    fn with(
        &self,
        id: u64,
        kind: Kind,
        f: impl FnOnce(&Object) -> Option<Reply>,
    ) -> Result<Reply, Reply> {
        let object = self.object(id)?;
        f(&object).ok_or_else(|| wrong_kind(id, kind, object.kind()))
    }

    fn create(&self, kind: Kind, initial: Option<Bytes>) -> Result<Reply, Reply> {
        let object = match kind {
            Kind::Dict => Object::Dict(Mutex::default()),
            Kind::List => Object::List(Mutex::default()),
            Kind::Value => Object::Value(Mutex::new(initial.unwrap_or_default())),
            Kind::Queue => Object::Queue(Waitable::default()),
            Kind::Lock => Object::Lock(Waitable::default()),
            Kind::Event => Object::Event(Waitable::default()),
            Kind::Namespace => Object::Namespace(Mutex::default()),
            Kind::RLock => Object::RLock(Waitable::default()),
            Kind::Condition => Object::Condition(Waitable::default()),
            Kind::Semaphore => {
                let (value, bounded) = decode_initial::<(u64, bool)>(initial)?;
                Object::Semaphore(Waitable::new(SemaphoreState::new(value, bounded)))
            }
            Kind::Barrier => {
                let parties = decode_initial::<u64>(initial)?;
                Object::Barrier(Waitable::new(BarrierState::new(parties)))
            }
            Kind::Array => Object::Array(Mutex::new(decode_initial::<Vec<Bytes>>(initial)?)),
            Kind::User => {
                return Err(Reply::Error(RemoteError::BadRequest(
                    "a registered object is made with CreateUser".to_owned(),
                )));
            }
        };
        Ok(Reply::Id(self.insert(object)))
    }

    fn create_user(&self, name: String, init: Bytes) -> Result<Reply, Reply> {
        let Some(entry) = lock(&self.registered).get(&name).copied() else {
            return Err(Reply::Error(RemoteError::NotRegistered(name)));
        };
        // The id is taken first: the type's table files the object under it.
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        call_entry(&entry, UserOp::Create { id, init }).map_err(Reply::Error)?;
        self.objects
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::new(Object::User(entry)));
        Ok(Reply::Id(id))
    }

    /// Releases the locks (and reentrant locks and semaphores) that a closed connection
    /// still holds, as if it had called `release`: a lock never stays held by a client
    /// that is gone.
    pub(crate) fn release_locks_of(&self, connection: u64, held_locks: &HashSet<u64>) {
        for &id in held_locks {
            let Ok(object) = self.object(id) else {
                continue;
            };
            match &*object {
                Object::RLock(state) => rlock_release_all(state, connection),
                Object::Semaphore(state) => semaphore_release_all(state, connection),
                Object::Condition(state) => condition_release_all(state, connection),
                _ => {}
            }
            if let Object::Lock(lock_state) = &*object {
                let mut holder = lock(&lock_state.state);
                if *holder == Some(connection) {
                    *holder = None;
                    lock_state.changed.notify_one();
                    log::debug!("lock {id} released: its holder's connection closed");
                }
            }
        }
    }

    /// Takes back what a request did when its reply could not be delivered.
    pub(crate) fn undo(&self, undo: Undo) {
        match undo {
            Undo::Requeue(id, item) => {
                if let Ok(object) = self.object(id)
                    && let Object::Queue(queue) = &*object
                {
                    lock(&queue.state).push_front(item);
                    queue.changed.notify_one();
                }
            }
            Undo::Unlock(id) => {
                if let Ok(object) = self.object(id)
                    && let Object::Lock(lock_state) = &*object
                {
                    *lock(&lock_state.state) = None;
                    lock_state.changed.notify_one();
                }
            }
        }
    }
}

fn dict(map: &Mutex<OrderedMap>, op: DictOp) -> Reply {
    let mut map = lock(map);
    match op {
        DictOp::Get(key) => Reply::Bytes(map.get(&key).cloned()),
        DictOp::Insert(key, value) => Reply::Bytes(map.insert(key, value)),
        DictOp::Remove(key) => Reply::Bytes(map.remove(&key)),
        DictOp::ContainsKey(key) => Reply::Bool(map.contains_key(&key)),
        DictOp::Len => Reply::Len(map.len() as u64),
        DictOp::Keys => Reply::List(map.iter().map(|(k, _)| k.clone()).collect()),
        DictOp::Values => Reply::List(map.iter().map(|(_, v)| v.clone()).collect()),
        DictOp::Items => Reply::Pairs(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        DictOp::Update(pairs) => {
            for (key, value) in pairs {
                map.insert(key, value);
            }
            Reply::Done
        }
        DictOp::UpdateWith(key, function) => {
            // The call's input is the encoding of `vec![(old,)]`, `old: Option<V>`: a
            // length of 1, then `None` (0) or `Some` (1) and the value's bytes.
            let mut input = vec![1];
            match map.get(&key) {
                Some(old) => {
                    input.push(1);
                    input.extend_from_slice(old);
                }
                None => input.push(0),
            }
            // The dict stays locked during the call: the update is atomic.
            let output = match function.call(&input) {
                Ok(output) => output,
                Err(error) => return Reply::Error(RemoteError::Function(error)),
            };
            match updated_value(&output) {
                Ok(new) => {
                    map.insert(key, new.clone());
                    Reply::Bytes(Some(new))
                }
                Err(error) => Reply::Error(error),
            }
        }
        DictOp::Clear => {
            map.clear();
            Reply::Done
        }
    }
}

fn list(list: &Mutex<Vec<Bytes>>, op: ListOp) -> Reply {
    let mut list = lock(list);
    let out_of_range = |index: u64, len: usize| {
        Reply::Error(RemoteError::IndexOutOfRange {
            index,
            len: len as u64,
        })
    };
    match op {
        ListOp::Push(item) => {
            list.push(item);
            Reply::Done
        }
        ListOp::Pop => Reply::Bytes(list.pop()),
        ListOp::Get(index) => match usize::try_from(index).ok().and_then(|i| list.get(i)) {
            Some(item) => Reply::Bytes(Some(item.clone())),
            None => out_of_range(index, list.len()),
        },
        ListOp::Set(index, item) => {
            let len = list.len();
            match usize::try_from(index).ok().and_then(|i| list.get_mut(i)) {
                Some(slot) => {
                    *slot = item;
                    Reply::Done
                }
                None => out_of_range(index, len),
            }
        }
        ListOp::Len => Reply::Len(list.len() as u64),
        ListOp::Extend(items) => {
            list.extend(items);
            Reply::Done
        }
        ListOp::Snapshot => Reply::List(list.clone()),
        ListOp::Clear => {
            list.clear();
            Reply::Done
        }
    }
}

fn namespace(names: &Mutex<BTreeMap<String, Bytes>>, op: NamespaceOp) -> Reply {
    let mut names = lock(names);
    match op {
        NamespaceOp::Get(name) => Reply::Bytes(names.get(&name).cloned()),
        NamespaceOp::Set(name, value) => Reply::Bytes(names.insert(name, value)),
        NamespaceOp::Remove(name) => Reply::Bytes(names.remove(&name)),
        NamespaceOp::Names => Reply::Names(names.keys().cloned().collect()),
    }
}

fn event(event: &Waitable<bool>, op: EventOp, peer: &dyn Peer) -> Reply {
    match op {
        EventOp::Set => {
            *lock(&event.state) = true;
            event.changed.notify_all();
            Reply::Done
        }
        EventOp::Clear => {
            *lock(&event.state) = false;
            Reply::Done
        }
        EventOp::IsSet => Reply::Bool(*lock(&event.state)),
        EventOp::Wait(timeout) => match event.wait_for(timeout, peer, |set| set.then_some(())) {
            Some(()) => Reply::Bool(true),
            None => Reply::Bool(false),
        },
    }
}

fn queue(
    id: u64,
    queue: &Waitable<VecDeque<Bytes>>,
    op: QueueOp,
    peer: &dyn Peer,
) -> (Reply, Option<Undo>) {
    match op {
        QueueOp::Put(item) => {
            lock(&queue.state).push_back(item);
            queue.changed.notify_one();
            (Reply::Done, None)
        }
        QueueOp::Len => (Reply::Len(lock(&queue.state).len() as u64), None),
        QueueOp::Get(timeout) => match queue.wait_for(timeout, peer, VecDeque::pop_front) {
            Some(item) => (
                Reply::Bytes(Some(item.clone())),
                Some(Undo::Requeue(id, item)),
            ),
            None => (Reply::TimedOut, None),
        },
    }
}

fn lock_op(
    id: u64,
    state: &Waitable<Option<u64>>,
    op: LockOp,
    peer: &dyn Peer,
    held_locks: &mut HashSet<u64>,
) -> (Reply, Option<Undo>) {
    match op {
        LockOp::Acquire(timeout) => {
            let me = peer.id();
            let acquired = state.wait_for(timeout, peer, |holder| {
                holder.is_none().then(|| *holder = Some(me))
            });
            match acquired {
                Some(()) => {
                    held_locks.insert(id);
                    (Reply::Bool(true), Some(Undo::Unlock(id)))
                }
                None => (Reply::Bool(false), None),
            }
        }
        LockOp::Release => {
            let mut holder = lock(&state.state);
            if holder.take().is_none() {
                return (Reply::Error(RemoteError::NotLocked), None);
            }
            state.changed.notify_one();
            (Reply::Done, None)
        }
        LockOp::Locked => (Reply::Bool(lock(&state.state).is_some()), None),
    }
}
