//! The `parallel_training` case study: train a grid of small perceptrons on a two-moons
//! data set, sequentially and with a [`Pool`], and compare.
//!
//! The example binary (`examples/parallel_training.rs`) prints what [`compare`] measures;
//! the benchmark harness (`cases/parallel_training`) times the same call.
//!
//! ```
//! use multiproc_examples::parallel_training::{compare, grid};
//! let run = compare(&grid(60, 30, [2, 4]), 2, false)?;
//! assert!(run.equal());
//! assert_eq!(run.parallel.len(), 18);
//! # Ok::<(), multiproc::pool::PoolError>(())
//! ```

use std::time::{Duration, Instant};

use multiproc::pool::{Options, Pool, PoolError};
use serde::{Deserialize, Serialize};

use crate::split_mix::SplitMix64;

const DATA_SEED: u64 = 0xda7a_5eed;
const VALIDATION_SEED: u64 = 0x0a11_da7e;
const INIT_SEED: u64 = 0x1417_5eed;
/// The noise added to the points.
pub const NOISE: f64 = 0.2;
/// Hidden units of the perceptron.
pub const HIDDEN: usize = 16;

/// One point of the grid, with what the task needs to rebuild the data itself (cheaper
/// than sending the points to every task).
///
/// ```
/// use multiproc_examples::parallel_training::{Config, train};
/// let config = Config { learning_rate: 0.03, l2: 0.0, epochs: 5, train_size: 100, validation_size: 50 };
/// let outcome = train(config);
/// assert!(outcome.validation_accuracy > 0.5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// The SGD step size.
    pub learning_rate: f64,
    /// The L2 penalty.
    pub l2: f64,
    /// Passes over the training set.
    pub epochs: u32,
    /// Training points.
    pub train_size: u32,
    /// Validation points.
    pub validation_size: u32,
}

/// What one trained model scored.
///
/// ```
/// use multiproc_examples::parallel_training::{Config, train};
/// let config = Config { learning_rate: 0.3, l2: 0.0, epochs: 2, train_size: 40, validation_size: 20 };
/// assert_eq!(train(config).scores(), train(config).scores());
/// ```
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Outcome {
    /// The grid point.
    pub config: Config,
    /// Share of the validation points classified right.
    pub validation_accuracy: f64,
    /// Mean cross-entropy on the validation points.
    pub validation_loss: f64,
    /// Mean cross-entropy on the training points.
    pub training_loss: f64,
    /// Wall time of the training, in the process that ran it.
    pub millis: f64,
}

impl Outcome {
    /// Everything but the timing: what must not change between two runs.
    pub fn scores(&self) -> (Config, u64, u64, u64) {
        (
            self.config,
            self.validation_accuracy.to_bits(),
            self.validation_loss.to_bits(),
            self.training_loss.to_bits(),
        )
    }
}

/// `n` points of the two-moons set: ([x, y], label).
fn two_moons(n: usize, seed: u64) -> Vec<([f64; 2], f64)> {
    let mut rng = SplitMix64(seed);
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
        let mut rng = SplitMix64(seed);
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

/// The pool task: trains one model of the grid and scores it on the validation set
/// (deterministic: the same config always gives the same scores).
///
/// ```
/// use multiproc_examples::parallel_training::{Config, train};
/// let config = Config { learning_rate: 0.03, l2: 1e-4, epochs: 3, train_size: 60, validation_size: 30 };
/// assert_eq!(train(config).config, config);
/// ```
pub fn train(config: Config) -> Outcome {
    let started = Instant::now();
    let training = two_moons(config.train_size as usize, DATA_SEED);
    let validation = two_moons(config.validation_size as usize, VALIDATION_SEED);
    // Every configuration starts from the same weights and sees the same order of
    // examples: the grid compares hyper-parameters, not luck.
    let mut mlp = Mlp::new(INIT_SEED);
    let mut order: Vec<usize> = (0..training.len()).collect();
    let mut rng = SplitMix64(INIT_SEED ^ 0xffff);
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
///
/// ```
/// use multiproc_examples::parallel_training::{better, grid, train};
/// let outcomes: Vec<_> = grid(60, 30, [1, 2]).into_iter().take(2).map(train).collect();
/// let best = outcomes.iter().min_by(|a, b| better(a, b));
/// assert!(best.is_some());
/// ```
pub fn better(a: &Outcome, b: &Outcome) -> std::cmp::Ordering {
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

/// The example's grid: 3 learning rates × 3 L2 penalties × the two epoch counts, each
/// trained on `train_size` points and scored on `validation_size`. The example trains
/// `grid(1000, 500, [150, 300])`, and `grid(400, 300, [30, 60])` with `--quick`.
///
/// ```
/// use multiproc_examples::parallel_training::grid;
/// assert_eq!(grid(400, 300, [30, 60]).len(), 18);
/// ```
pub fn grid(train_size: u32, validation_size: u32, epochs: [u32; 2]) -> Vec<Config> {
    [0.003, 0.03, 0.3]
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
        .collect()
}

/// What the sequential and the parallel training gave, and how long each took.
#[derive(Debug)]
pub struct Comparison {
    /// One outcome per grid point, in grid order, trained in this process.
    pub sequential: Vec<Outcome>,
    /// Its wall time.
    pub sequential_time: Duration,
    /// The same, trained by the pool.
    pub parallel: Vec<Outcome>,
    /// Its wall time, the pool's start included (its close and join are not).
    pub parallel_time: Duration,
}

impl Comparison {
    /// Whether both runs scored every model the same (timings aside).
    pub fn equal(&self) -> bool {
        self.sequential.len() == self.parallel.len()
            && self
                .sequential
                .iter()
                .zip(&self.parallel)
                .all(|(s, p)| s.scores() == p.scores())
    }

    /// Sequential time ÷ parallel time.
    pub fn speed_up(&self) -> f64 {
        self.sequential_time.as_secs_f64() / self.parallel_time.as_secs_f64()
    }
}

/// The case study's work: [`train`] every point of `grid`, first one after the other in
/// this process, then with `pool.map` (one model per task) on a fresh pool of `workers`
/// (its start is part of the measured time), with a progress bar on stderr when `progress`
/// is set (and the crate feature `progress` is on, and stderr is a terminal).
///
/// ```
/// use multiproc_examples::parallel_training::{compare, grid};
/// let run = compare(&grid(40, 20, [1, 2]), 1, false)?;
/// assert!(run.equal());
/// # Ok::<(), multiproc::pool::PoolError>(())
/// ```
pub fn compare(grid: &[Config], workers: usize, progress: bool) -> Result<Comparison, PoolError> {
    let started = Instant::now();
    let sequential: Vec<Outcome> = grid.iter().copied().map(train).collect();
    let sequential_time = started.elapsed();

    let started = Instant::now();
    let pool = Pool::new(workers)?;
    // One model per task: the models differ in cost (epochs), so let idle workers take
    // the next one.
    let options = Options::new().chunksize(1);
    #[cfg(feature = "progress")]
    let options = options.progress_bar(progress);
    #[cfg(not(feature = "progress"))]
    let _ = progress;
    let parallel = pool.with(options).map(train, grid.iter().copied())?;
    let parallel_time = started.elapsed();
    pool.close();
    pool.join()?;
    Ok(Comparison {
        sequential,
        sequential_time,
        parallel,
        parallel_time,
    })
}
