//! Set-up shared by the end-to-end tests: a `cypherlink` service process that can be killed
//! with SIGKILL and started again on its files ([`process`]), the load the crash tests strike
//! under ([`load`]), and a committee of `cypherlink node` validators written to a directory
//! ([`committee`]), and the anchoring service's configuration ([`anchoring`]).
// Each test binary uses only part of this.
#![allow(dead_code)]

pub(crate) mod anchoring;
pub(crate) mod committee;
pub(crate) mod load;
pub(crate) mod process;
