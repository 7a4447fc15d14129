//! Case study: train a grid of models in parallel with a `Pool` and keep the best.
//!
//! The data set is two interleaved half-moons with Gaussian noise (seeded, so every run
//! sees the same points): a boundary no straight line separates. The model is a small
//! multi-layer perceptron (2 inputs, one hidden layer of tanh units, a sigmoid output)
//! written in plain Rust and trained by stochastic gradient descent on the cross-entropy
//! with an L2 penalty. Each point of the hyper-parameter grid (learning rate × L2 ×
//! epochs) is one pool task that trains a model and returns its validation accuracy and
//! loss. The grid is trained once sequentially and once with `pool.map` (with the pool's
//! progress bar on stderr when it is a terminal); the results must be identical, since
//! training is deterministic. It prints the table, the best configuration and the
//! speed-up.
//!
//! `--quick` trains smaller models on less data (what the test runs, in a debug build).
//! The run below is from a 2-CPU machine at a quiet moment; when other programs keep the
//! CPUs busy the speed-up drops, down to about 1x.
//!
//! ```text
//! $ cargo run --release -p multiproc-examples --example parallel_training [-- --quick]
//! data: two interleaved half-moons, noise 0.2: 1000 training and 500 validation points
//! model: perceptron 2-16-1 (tanh hidden layer, sigmoid output), SGD on cross-entropy with an L2 penalty
//! grid: 3 learning rates x 3 L2 penalties x 2 epoch counts = 18 models
//! sequential: 18 models in 2.15 s
//! parallel:   18 models in 1.12 s (2 workers)
//!
//!   learning rate      L2  epochs  val accuracy  val loss  train loss    time
//!          0.003       0     150        0.9600    0.1366      0.0922    90 ms
//!          0.003       0     300        0.9600    0.1350      0.0820   160 ms
//!          0.003  0.0001     150        0.9580    0.1362      0.0932    78 ms
//!          0.003  0.0001     300        0.9600    0.1329      0.0832   155 ms
//!          0.003    0.01     150        0.9100    0.2235      0.2123    76 ms
//!          0.003    0.01     300        0.9120    0.2213      0.2104   152 ms
//!           0.03       0     150        0.9640    0.1278      0.0700    86 ms
//!           0.03       0     300        0.9560    0.1327      0.0665   175 ms
//! *         0.03  0.0001     150        0.9660    0.1247      0.0726    83 ms
//!           0.03  0.0001     300        0.9620    0.1177      0.0697   172 ms
//!           0.03    0.01     150        0.9180    0.2229      0.2081    73 ms
//!           0.03    0.01     300        0.9200    0.2173      0.2103   144 ms
//!            0.3       0     150        0.9540    0.1940      0.0705    79 ms
//!            0.3       0     300        0.9540    0.1768      0.0702   161 ms
//!            0.3  0.0001     150        0.9620    0.1190      0.0770    80 ms
//!            0.3  0.0001     300        0.9580    0.1307      0.0804   156 ms
//!            0.3    0.01     150        0.8600    0.3002      0.2945    68 ms
//!            0.3    0.01     300        0.8520    0.3190      0.2964   143 ms
//!
//! results equal: yes
//! best: learning rate 0.03, L2 0.0001, 150 epochs: validation accuracy 0.9660 (chance 0.5), loss 0.1247
//! speed-up: 1.92x over training the grid sequentially (2 workers)
//! ```

use std::time::Duration;

use multiproc::process_cpu_count;
use multiproc_examples::parallel_training::{self, HIDDEN, NOISE, better, grid};

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut quick = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => quick = true,
            _ => {
                return Err(format!(
                    "unknown argument {arg:?}; usage: parallel_training [--quick]"
                )
                .into());
            }
        }
    }
    let (train_size, validation_size, epochs) = if quick {
        (400, 300, [30, 60])
    } else {
        (1000, 500, [150, 300])
    };
    let grid = grid(train_size, validation_size, epochs);

    println!(
        "data: two interleaved half-moons, noise {NOISE}: {train_size} training and {validation_size} validation points"
    );
    println!(
        "model: perceptron 2-{HIDDEN}-1 (tanh hidden layer, sigmoid output), SGD on cross-entropy with an L2 penalty"
    );
    println!(
        "grid: 3 learning rates x 3 L2 penalties x {} epoch counts = {} models",
        epochs.len(),
        grid.len()
    );

    // The sequential run, then the pool's (its start included); `--features progress` (on
    // by default) draws a bar on stderr while the pool works.
    let workers = process_cpu_count();
    let run = parallel_training::compare(&grid, workers, true)?;
    println!(
        "sequential: {} models in {}",
        grid.len(),
        seconds(run.sequential_time)
    );
    println!(
        "parallel:   {} models in {} ({workers} workers)",
        grid.len(),
        seconds(run.parallel_time)
    );

    let parallel = &run.parallel;
    let best = parallel
        .iter()
        .min_by(|a, b| better(a, b))
        .ok_or("empty grid")?;
    println!();
    println!("  learning rate      L2  epochs  val accuracy  val loss  train loss    time");
    for outcome in parallel {
        let c = &outcome.config;
        println!(
            "{} {:>12} {:>7} {:>7} {:>13.4} {:>9.4} {:>11.4} {:>5.0} ms",
            if std::ptr::eq(outcome, best) {
                "*"
            } else {
                " "
            },
            c.learning_rate,
            c.l2,
            c.epochs,
            outcome.validation_accuracy,
            outcome.validation_loss,
            outcome.training_loss,
            outcome.millis,
        );
    }
    println!();

    let equal = run.equal();
    println!("results equal: {}", if equal { "yes" } else { "no" });
    println!(
        "best: learning rate {}, L2 {}, {} epochs: validation accuracy {:.4} (chance 0.5), loss {:.4}",
        best.config.learning_rate,
        best.config.l2,
        best.config.epochs,
        best.validation_accuracy,
        best.validation_loss
    );
    println!(
        "speed-up: {:.2}x over training the grid sequentially ({workers} workers)",
        run.speed_up()
    );
    if equal {
        Ok(())
    } else {
        Err("the parallel results differ from the sequential ones".into())
    }
}
