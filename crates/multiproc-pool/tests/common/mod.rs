//! What only the pool tests share: the start methods to run under and how long a worker may
//! take to end. The rest comes from `multiproc-test-support`.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use multiproc_process::StartMethod;

/// Every start method, for tests that run under each.
pub const METHODS: [StartMethod; 3] = [
    StartMethod::Fork,
    StartMethod::Spawn,
    StartMethod::Forkserver,
];

/// How long [`multiproc_test_support::gone`] waits for a worker to end.
pub const GONE_LIMIT: Duration = Duration::from_secs(10);
