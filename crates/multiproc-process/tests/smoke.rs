use multiproc_process::{Process, StartMethod, get_context};

fn double(x: u32) -> u32 {
    x * 2
}

#[test]
fn smoke_all_methods() {
    for method in StartMethod::ALL {
        let mut p = get_context(method).process(double, (21,));
        p.start().unwrap();
        assert_eq!(p.join().unwrap(), 42, "{method}");
        assert_eq!(p.exitcode(), Some(0));
    }
}
