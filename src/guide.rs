//! Guides: the reference pages behind the README, one per concern. Each page is also a
//! Markdown file in the repository's `docs/` folder, and its code blocks are compiled as
//! doctests, so a page cannot drift from the API.
//!
//! | page | what |
//! |---|---|
//! | [`calls`] | the call shape, every call by resource, the access tier, preflight, Business On Behalf Of |
//! | [`provisioning`] | desired state: the file, plan, apply, drift, audit, offboarding |
//! | [`keeper`] | token stores and the keeper |
//! | [`replicas`] | several replicas: stores, locks, what they guarantee and cost |
//! | [`emulator`] | the emulator in your tests |
//! | [`security`] | what never leaves the process, bounds, hostile servers, each guarantee with its test |
//! | [`fidelity`] | Meta's API description as the contract, real answers replayed, Meta's SDK as a client |
//! | [`reliability`] | retries, usage headers and pacing, paging, batch |
//! | [`performance`] | bulk work, per-call overhead, the figures and their commands |

#[doc = include_str!("../docs/calls.md")]
pub mod calls {}

#[doc = include_str!("../docs/provisioning.md")]
pub mod provisioning {}

#[doc = include_str!("../docs/keeper.md")]
pub mod keeper {}

#[doc = include_str!("../docs/replicas.md")]
pub mod replicas {}

#[doc = include_str!("../docs/emulator.md")]
pub mod emulator {}

#[doc = include_str!("../docs/security.md")]
pub mod security {}

#[doc = include_str!("../docs/fidelity.md")]
pub mod fidelity {}

#[doc = include_str!("../docs/reliability.md")]
pub mod reliability {}

#[doc = include_str!("../docs/performance.md")]
pub mod performance {}
