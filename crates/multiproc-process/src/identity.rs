//! Who a process is: its name, pid, daemon flag, place in the tree and parent.

use serde::{Deserialize, Serialize};

/// Who a process is: what [`current_process`](crate::current_process) reports.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Identity {
    pub(crate) name: String,
    pub(crate) pid: u32,
    pub(crate) daemon: bool,
    /// Python's `_identity`: the child's index at each level, `[1, 2]` for `Process-1:2`.
    pub(crate) path: Vec<u32>,
    pub(crate) parent: Option<(String, u32)>,
}

impl Identity {
    /// An identity with no name and no parent, left behind where one was moved out.
    pub(crate) fn empty() -> Identity {
        Identity {
            name: String::new(),
            pid: 0,
            daemon: false,
            path: Vec::new(),
            parent: None,
        }
    }

    pub(crate) fn main_process() -> Identity {
        Identity {
            name: "MainProcess".to_owned(),
            pid: multiproc_sys::process::pid(),
            daemon: false,
            path: Vec::new(),
            parent: None,
        }
    }
}
