//! Examples for multiproc: see the `examples/` folder. This library holds the reusable core
//! of the case studies, so that the example binaries and the benchmark harness
//! (`multiproc-bench`, rows `cases/...`) run the same work.
#![forbid(unsafe_code)]

pub mod parallel_files;
pub mod parallel_training;
pub mod web_crawl;

mod split_mix;
