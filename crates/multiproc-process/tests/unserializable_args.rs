//! Arguments that fail to serialize: under spawn and the fork server (whose parent sends the
//! arguments while the server forks), `start` reports a transfer error, the child started
//! for them does not run its target, and nothing is left behind: no zombie of ours, no
//! child left under the fork server.

use std::time::Duration;

use multiproc_process::{ProcessError, StartMethod, get_context};
use multiproc_test_support::{child_pids, process_table, settle, watchdog, zombie_children};
use serde::{Deserialize, Serialize, Serializer};

/// A value whose serialization always fails.
#[derive(Debug, Deserialize)]
struct Refuses;

impl Serialize for Refuses {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(
            "this value refuses to be serialized",
        ))
    }
}

fn take(_: Refuses) -> u8 {
    7
}

fn plus_one(x: u8) -> u8 {
    x + 1
}

/// The processes whose parent is `parent`, as `/proc` shows them now.
fn children_of(parent: u32) -> Vec<u32> {
    process_table()
        .into_iter()
        .filter(|(_, (ppid, _))| *ppid == parent)
        .map(|(pid, _)| pid)
        .collect()
}

#[test]
fn arguments_that_do_not_serialize_are_an_error_and_leave_nothing_behind() {
    watchdog(Duration::from_secs(120), "unserializable arguments", || {
        for method in [StartMethod::Spawn, StartMethod::Forkserver] {
            let ctx = get_context(method);
            // Brings the fork server up, so that its pid is known below.
            let mut warm = ctx.process(plus_one, (1,));
            warm.start().unwrap();
            assert_eq!(warm.join().unwrap(), 2);
            let before = child_pids();

            let mut p = ctx.process(take, (Refuses,));
            match p.start() {
                Err(ProcessError::Transfer { what, .. }) => {
                    assert_eq!(what, "the arguments", "{method}")
                }
                other => panic!("{method}: expected a transfer error, got {other:?}"),
            }
            assert!(p.join().is_err(), "{method}: a child that never started");
            assert_eq!(zombie_children(), Vec::<u32>::new(), "{method}: zombies");
            settle(Duration::from_secs(10), || {
                let now = child_pids();
                (now != before).then(|| format!("{method}: our children {before:?} -> {now:?}"))
            })
            .unwrap();
            // The fork server (our one child under that method) reaps the killed child on
            // request: it has no child left once the request was served.
            for server in before
                .iter()
                .copied()
                .filter(|_| method == StartMethod::Forkserver)
            {
                settle(Duration::from_secs(10), || {
                    let left = children_of(server);
                    (!left.is_empty())
                        .then(|| format!("{method}: the fork server still has {left:?}"))
                })
                .unwrap();
            }

            // The method still works afterwards.
            let mut after = ctx.process(plus_one, (2,));
            after.start().unwrap();
            assert_eq!(after.join().unwrap(), 3, "{method}");
        }
    });
}
