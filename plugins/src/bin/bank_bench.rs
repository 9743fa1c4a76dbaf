//! Benchmark of the mock bank over HTTP (work in progress).

fn main() {}
