//! Provisioning as desired state: describe the system users a business should have, then
//! [`plan`] the changes, [`Plan::apply`] them idempotently, [`audit`] a business, or
//! [`offboard`] a system user.
//!
//! ```no_run
//! use std::sync::Arc;
//! use meta_business::store::FileStore;
//! use meta_business::provision::{self, PlanOptions, Spec};
//! # async fn run(client: meta_business::Client) -> meta_business::provision::Result<()> {
//! let spec = Spec::from_path("examples/provision.toml")?;
//! // Tokens live in a store: minted into it, checked there by the next plan.
//! let options = PlanOptions::default().store(Arc::new(FileStore::open("tokens")?));
//! let plan = provision::plan(&client, &spec, &options).await?;
//! print!("{plan}");                         // like a Terraform plan, with drift and what it leaves alone
//! let report = plan.apply(&client).await;   // one system user at a time, stops at the first failure
//! println!("{report}");
//! # Ok(()) }
//! ```
//!
//! A [`Spec`] serializes (serde, or [`Spec::to_toml_string`]) to the file's own form and reads
//! back equal, so a service may keep it in its own database. A [`Plan`] serializes to JSON to
//! be reviewed and applied later, as Terraform applies a saved plan: read it back with
//! [`Plan::from_json_str`], give it its token store again ([`Plan::store`]), and
//! [`Plan::apply`] first reads again the live state the plan was computed from (system users,
//! their grants and apps, the stored tokens' versions) and refuses a stale plan before its
//! first write ([`StalePlan`]).

mod apply;
mod audit;
mod build;
mod caller;
mod change;
mod error;
mod forget;
mod identity;
mod left_alone;
mod live;
mod offboard;
mod partners;
mod plan;
mod saved;
mod spec;
mod spec_serde;
mod tier;
mod token_audit;
mod token_plan;
mod user_changes;

pub use apply::{ApplyReport, IncompleteApply};
pub use audit::{
    AuditOptions, AuditReport, AuditedUser, Finding, FindingKind, Severity, audit, name_warning,
    vague_name,
};
pub use build::{SpecBuilder, SystemUserBuilder};
pub use error::{ProvisionError, Result};
pub use identity::{Drift, DriftKind};
pub use left_alone::NotManaged;
pub use offboard::{
    DECOMMISSIONED, IncompleteOffboard, OffboardOptions, OffboardReport, OffboardStep, offboard,
};
pub use partners::{AuditedPartner, PartnerAsset, PartnerRelation};
pub use plan::{Change, Plan, PlanOptions, plan};
pub use saved::StalePlan;
pub use spec::{AssetSpec, Spec, SystemUserSpec, TokenSpec};
