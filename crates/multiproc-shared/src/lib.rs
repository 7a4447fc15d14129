//! Shared memory for processes: Value, Array, locks, semaphores, conditions, events, barriers and named SharedMemory.
