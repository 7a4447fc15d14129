//! `multiproc-process` with `multiproc-shared`, no channels, no pool: the seed article's shared
//! counter under every start method.

use multiproc_process::{StartMethod, get_context};
use multiproc_shared::Value;

fn increment(counter: Value<i32>) {
    *counter.lock().unwrap() += 1;
}

#[test]
fn five_processes_increment_one_value() {
    for method in StartMethod::ALL {
        let counter = Value::<i32>::new(0).unwrap();
        let mut processes: Vec<_> = (0..5)
            .map(|_| get_context(method).process(increment, (counter.clone(),)))
            .collect();
        for p in &mut processes {
            p.start().unwrap();
        }
        for p in &mut processes {
            p.join().unwrap();
        }
        assert_eq!(counter.get(), 5, "{method}");
    }
}
