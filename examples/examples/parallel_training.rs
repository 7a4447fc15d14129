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

use std::time::{Duration, Instant};

use multiproc::pool::{Options, Pool};
use multiproc::process_cpu_count;
use serde::{Deserialize, Serialize};

const DATA_SEED: u64 = 0xda7a_5eed;
const VALIDATION_SEED: u64 = 0x0a11_da7e;
const INIT_SEED: u64 = 0x1417_5eed;
const NOISE: f64 = 0.2;
const HIDDEN: usize = 16;

/// One point of the grid, with what the task needs to rebuild the data itself (cheaper
/// than sending the points to every task).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Config {
    learning_rate: f64,
    l2: f64,
    epochs: u32,
    train_size: u32,
    validation_size: u32,
}

/// What one trained model scored.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Outcome {
    config: Config,
    validation_accuracy: f64,
    validation_loss: f64,
    training_loss: f64,
    /// Wall time of the training, in the process that ran it.
    millis: f64,
}

impl Outcome {
    /// Everything but the timing: what must not change between two runs.
    fn scores(&self) -> (Config, u64, u64, u64) {
        (
            self.config,
            self.validation_accuracy.to_bits(),
            self.validation_loss.to_bits(),
            self.training_loss.to_bits(),
        )
    }
}

/// SplitMix64: a small seeded generator.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform(); // in (0, 1]: ln(u) is finite
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize
    }
}

/// `n` points of the two-moons set: ([x, y], label).
fn two_moons(n: usize, seed: u64) -> Vec<([f64; 2], f64)> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            let t = rng.uniform() * std::f64::consts::PI;
            let label = (i % 2) as f64;
            let (x, y) = if label == 0.0 {
                (t.cos(), t.sin())
            } else {
                (1.0 - t.cos(), 0.5 - t.sin())
            };
            // Centre the set near the origin, where tanh units start out most sensitive.
            let point = [
                x - 0.5 + NOISE * rng.normal(),
                y - 0.25 + NOISE * rng.normal(),
            ];
            (point, label)
        })
        .collect()
}

/// A hidden unit: its input weights and bias, and its weight in the output.
#[derive(Clone, Copy, Default)]
struct Unit {
    input: [f64; 2],
    bias: f64,
    output: f64,
}

/// A 2-`HIDDEN`-1 perceptron.
struct Mlp {
    units: [Unit; HIDDEN],
    output_bias: f64,
}

impl Mlp {
    fn new(seed: u64) -> Mlp {
        let mut rng = Rng(seed);
        let mut weight = |fan_in: f64| (rng.uniform() * 2.0 - 1.0) * (3.0 / fan_in).sqrt();
        let mut mlp = Mlp {
            units: [Unit::default(); HIDDEN],
            output_bias: 0.0,
        };
        for unit in &mut mlp.units {
            unit.input = [weight(2.0), weight(2.0)];
            unit.output = weight(HIDDEN as f64);
        }
        mlp
    }

    /// The hidden activations and the predicted probability of label 1.
    fn forward(&self, x: &[f64; 2]) -> ([f64; HIDDEN], f64) {
        let mut hidden = [0.0; HIDDEN];
        let mut z = self.output_bias;
        for (h, unit) in hidden.iter_mut().zip(&self.units) {
            *h = (unit.input[0] * x[0] + unit.input[1] * x[1] + unit.bias).tanh();
            z += unit.output * *h;
        }
        (hidden, 1.0 / (1.0 + (-z).exp()))
    }

    /// One SGD step on one example.
    fn step(&mut self, x: &[f64; 2], label: f64, learning_rate: f64, l2: f64) {
        let (hidden, p) = self.forward(x);
        // d(cross-entropy)/dz for a sigmoid output.
        let dz = p - label;
        for (unit, &h) in self.units.iter_mut().zip(&hidden) {
            let dh = dz * unit.output * (1.0 - h * h);
            unit.output -= learning_rate * (dz * h + l2 * unit.output);
            unit.input[0] -= learning_rate * (dh * x[0] + l2 * unit.input[0]);
            unit.input[1] -= learning_rate * (dh * x[1] + l2 * unit.input[1]);
            unit.bias -= learning_rate * dh;
        }
        self.output_bias -= learning_rate * dz;
    }

    /// Mean cross-entropy and accuracy on `data`.
    fn evaluate(&self, data: &[([f64; 2], f64)]) -> (f64, f64) {
        let mut loss = 0.0;
        let mut correct = 0usize;
        for (x, label) in data {
            let p = self.forward(x).1.clamp(1e-12, 1.0 - 1e-12);
            loss -= label * p.ln() + (1.0 - label) * (1.0 - p).ln();
            if (p >= 0.5) == (*label == 1.0) {
                correct += 1;
            }
        }
        let n = data.len() as f64;
        (loss / n, correct as f64 / n)
    }
}

/// The pool task: trains one model of the grid and scores it on the validation set.
fn train(config: Config) -> Outcome {
    let started = Instant::now();
    let training = two_moons(config.train_size as usize, DATA_SEED);
    let validation = two_moons(config.validation_size as usize, VALIDATION_SEED);
    // Every configuration starts from the same weights and sees the same order of
    // examples: the grid compares hyper-parameters, not luck.
    let mut mlp = Mlp::new(INIT_SEED);
    let mut order: Vec<usize> = (0..training.len()).collect();
    let mut rng = Rng(INIT_SEED ^ 0xffff);
    for _ in 0..config.epochs {
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        for &i in &order {
            let (x, label) = &training[i];
            mlp.step(x, *label, config.learning_rate, config.l2);
        }
    }
    let (training_loss, _) = mlp.evaluate(&training);
    let (validation_loss, validation_accuracy) = mlp.evaluate(&validation);
    Outcome {
        config,
        validation_accuracy,
        validation_loss,
        training_loss,
        millis: started.elapsed().as_secs_f64() * 1e3,
    }
}

/// Best accuracy first; a lower validation loss breaks ties; a NaN loss (a diverged
/// model) sorts last.
fn better(a: &Outcome, b: &Outcome) -> std::cmp::Ordering {
    b.validation_accuracy
        .total_cmp(&a.validation_accuracy)
        .then_with(|| {
            let key = |o: &Outcome| {
                if o.validation_loss.is_nan() {
                    f64::INFINITY
                } else {
                    o.validation_loss
                }
            };
            key(a).total_cmp(&key(b))
        })
}

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
    let grid: Vec<Config> = [0.003, 0.03, 0.3]
        .into_iter()
        .flat_map(|learning_rate| {
            [0.0, 1e-4, 1e-2].into_iter().flat_map(move |l2| {
                epochs.into_iter().map(move |epochs| Config {
                    learning_rate,
                    l2,
                    epochs,
                    train_size,
                    validation_size,
                })
            })
        })
        .collect();

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

    let started = Instant::now();
    let sequential: Vec<Outcome> = grid.iter().copied().map(train).collect();
    let sequential_time = started.elapsed();
    println!(
        "sequential: {} models in {}",
        grid.len(),
        seconds(sequential_time)
    );

    let workers = process_cpu_count();
    let started = Instant::now();
    let pool = Pool::new(workers)?;
    // One model per task: the models differ in cost (epochs), so let idle workers take
    // the next one.
    let options = Options::new().chunksize(1);
    // `--features progress` (on by default) draws a bar on stderr while the pool works.
    #[cfg(feature = "progress")]
    let options = options.progress_bar(true);
    let parallel = pool.with(options).map(train, grid.iter().copied())?;
    let parallel_time = started.elapsed();
    pool.close();
    pool.join()?;
    println!(
        "parallel:   {} models in {} ({workers} workers)",
        grid.len(),
        seconds(parallel_time)
    );

    let best = parallel
        .iter()
        .min_by(|a, b| better(a, b))
        .ok_or("empty grid")?;
    println!();
    println!("  learning rate      L2  epochs  val accuracy  val loss  train loss    time");
    for outcome in &parallel {
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

    let equal = sequential.len() == parallel.len()
        && sequential
            .iter()
            .zip(&parallel)
            .all(|(s, p)| s.scores() == p.scores());
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
        sequential_time.as_secs_f64() / parallel_time.as_secs_f64()
    );
    if equal {
        Ok(())
    } else {
        Err("the parallel results differ from the sequential ones".into())
    }
}
