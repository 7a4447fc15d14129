//! Type-level promises: every shared type is `Send + Sync`, cloneable, serde and Debug.

use multiproc_shared::{
    Array, Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, RawArray, RawValue, Segment,
    Semaphore, SharedMemory, Value,
};

fn assert_handle<
    T: Send + Sync + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
>() {
}
fn assert_clone<T: Clone>() {}

#[test]
fn shared_types_are_send_sync_serde_debug() {
    assert_handle::<Segment>();
    assert_handle::<Value<i32>>();
    assert_handle::<RawValue<f64>>();
    assert_handle::<Array<u8>>();
    assert_handle::<RawArray<[u32; 4]>>();
    assert_handle::<Lock>();
    assert_handle::<RLock>();
    assert_handle::<Semaphore>();
    assert_handle::<BoundedSemaphore>();
    assert_handle::<Condition>();
    assert_handle::<Event>();
    assert_handle::<Barrier>();
    assert_handle::<SharedMemory>();
    assert_clone::<Segment>();
    assert_clone::<Value<i32>>();
    assert_clone::<RawValue<i32>>();
    assert_clone::<Array<i32>>();
    assert_clone::<RawArray<i32>>();
    assert_clone::<Lock>();
    assert_clone::<RLock>();
    assert_clone::<Semaphore>();
    assert_clone::<BoundedSemaphore>();
    assert_clone::<Condition>();
    assert_clone::<Event>();
    assert_clone::<Barrier>();
}
