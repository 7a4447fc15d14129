//! How many CPUs there are (the seed article, section 6).
fn main() {
    println!("Number of CPUs: {}", multiproc::cpu_count());
    println!(
        "CPUs this process may use: {}",
        multiproc::process_cpu_count()
    );
    println!("Physical cores: {}", multiproc::physical_cpu_count());
}
