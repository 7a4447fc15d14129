//! The three case studies of `multiproc-examples` (`parallel_files`, `parallel_training`,
//! `web_crawl`) against their own one-process baselines: each sample is the sequential time
//! ÷ the parallel time of one call of the case study's `compare`, the very function its
//! example binary runs and prints. Every sample checks that both runs found the same.

use std::time::Duration;

use multiproc_examples::{parallel_files, parallel_training, web_crawl};

use super::fail;
use crate::measure::{BoxError, Outcome, Params, ensure};

/// The pool's size in the two CPU-bound case studies: the examples take one worker per CPU,
/// and the harness's machine has 2.
const WORKERS: usize = 2;

/// `parallel_files` over a generated corpus of `n` files (the example's is 360).
pub(crate) fn parallel_files(params: &Params) -> Outcome {
    (|| {
        let files = usize::try_from(params.n)?;
        let dir = parallel_files::TempDir::new("multiproc-bench-files")?;
        parallel_files::write_sample_corpus(dir.path(), files)?;
        let (found, notes) = parallel_files::collect_files(dir.path())?;
        ensure(found.len() == files && notes.is_empty(), || {
            format!("the corpus has {} files, not {files}", found.len())
        })?;
        let paths = parallel_files::path_bytes(found);
        let mut samples = Vec::with_capacity(params.repeats);
        for _ in 0..params.repeats {
            let run = parallel_files::compare(&paths, WORKERS, false).map_err(fail)?;
            ensure(run.equal() && run.parallel.files == params.n, || {
                "the parallel statistics differ from the sequential ones".into()
            })?;
            samples.push(run.speed_up());
        }
        dir.remove()?;
        Ok::<_, BoxError>(samples)
    })()
    .into()
}

/// `parallel_training`'s grid of 18 models, trained for `n / 2` and `n` epochs: `n = 300`
/// is the example's grid (1000 training points), `n = 60` its `--quick` grid (400).
pub(crate) fn parallel_training(params: &Params) -> Outcome {
    (|| {
        let epochs = u32::try_from(params.n)?;
        let (train_size, validation_size) = if epochs >= 150 {
            (1000, 500)
        } else {
            (400, 300)
        };
        let grid = parallel_training::grid(train_size, validation_size, [epochs / 2, epochs]);
        let mut samples = Vec::with_capacity(params.repeats);
        for _ in 0..params.repeats {
            let run = parallel_training::compare(&grid, WORKERS, false).map_err(fail)?;
            ensure(run.equal(), || {
                "the parallel results differ from the sequential ones".into()
            })?;
            samples.push(run.speed_up());
        }
        Ok::<_, BoxError>(samples)
    })()
    .into()
}

/// `web_crawl` of its generated site (220 URLs), each answer after `n` ms, with the
/// example's 8 worker processes.
pub(crate) fn web_crawl(params: &Params) -> Outcome {
    (|| {
        const WORKERS: usize = 8;
        const MAX_URLS: usize = 500;
        // A server error shows as a broken page, so the two crawls differ and the row fails.
        let server = web_crawl::Server::start(Duration::from_millis(params.n), |_| {})?;
        let mut samples = Vec::with_capacity(params.repeats);
        for _ in 0..params.repeats {
            let run = web_crawl::compare(&server.url(), MAX_URLS, true, WORKERS, false)?;
            ensure(
                run.equal() && run.parallel.crawled() == web_crawl::PAGES,
                || "the parallel crawl differs from the sequential one".into(),
            )?;
            samples.push(run.speed_up());
        }
        Ok::<_, BoxError>(samples)
    })()
    .into()
}
