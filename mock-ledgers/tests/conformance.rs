//! The conformance suite against the mock bank and both CBDC ledgers, each over real HTTP on
//! 127.0.0.1 with a `ManualClock`.

mod common;

plugins::conformance_suite!(mock_bank, crate::common::bank());
plugins::conformance_suite!(digital_euro, crate::common::digital_euro());
plugins::conformance_suite!(e_cny, crate::common::e_cny());
