//! The facade alone, through its prelude.

use multiproc::prelude::*;

fn square(x: u64) -> u64 {
    x * x
}

#[test]
fn the_prelude_is_enough_for_a_process_and_shared_state() {
    let total = Value::<u64>::new(0).unwrap();
    fn add_square(total: Value<u64>, x: u64) {
        *total.lock().unwrap() += x * x;
    }
    let mut p = Process::new(add_square, (total.clone(), 7));
    p.start().unwrap();
    p.join().unwrap();
    assert_eq!(total.get(), 49);

    let mut q = Process::new(square, (9,));
    q.start().unwrap();
    assert_eq!(q.join().unwrap(), 81);
}
