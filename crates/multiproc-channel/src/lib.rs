//! Pipes and queues between processes: Pipe, Connection, Queue, SimpleQueue, JoinableQueue and wait.
