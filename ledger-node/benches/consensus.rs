//! Placeholder: the consensus benchmark is written below.
fn main() {}
