//! Offboarding a system user: the Graph API cannot delete one, so revoke what it holds.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::error::{ProvisionError, Result};
use super::live::{self, Owned};
use crate::client::Client;
use crate::error::Error;
use crate::ids::{BusinessId, SystemUserId};
use crate::kinds::AssetRef;
use crate::store::{TokenKey, TokenStore};

/// The prefix a decommissioned system user's name gets.
pub const DECOMMISSIONED: &str = "[decommissioned";

/// Options for [`offboard`].
///
/// ```
/// use meta_business::provision::OffboardOptions;
/// let mut options = OffboardOptions::default();
/// options.mark_decommissioned = false; // keep the name as it is
/// # let _ = options;
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct OffboardOptions {
    /// Rename it `[decommissioned YYYY-MM-DD] <name>` (default `true`), since it cannot be
    /// deleted.
    pub mark_decommissioned: bool,
    /// A token store to remove the system user's tokens from, once they are invalidated.
    pub store: Option<Arc<dyn TokenStore>>,
}

impl fmt::Debug for OffboardOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OffboardOptions")
            .field("mark_decommissioned", &self.mark_decommissioned)
            .field("store", &self.store.is_some())
            .finish()
    }
}

impl Default for OffboardOptions {
    fn default() -> Self {
        OffboardOptions {
            mark_decommissioned: true,
            store: None,
        }
    }
}

impl OffboardOptions {
    /// Removes the system user's tokens from this store after invalidating them.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }
}

/// What offboarding did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct OffboardReport {
    /// The system user.
    pub system_user: SystemUserId,
    /// Its name before.
    pub name: String,
    /// Every token of it was invalidated.
    pub tokens_invalidated: bool,
    /// The keys of its tokens removed from the store, after they were invalidated.
    pub tokens_removed: Vec<TokenKey>,
    /// The assets it was removed from.
    pub removed: Vec<AssetRef>,
    /// Assets it keeps, with why (pixels: the Graph API has no removal).
    pub left: Vec<(AssetRef, String)>,
    /// Its new name, when renamed now.
    pub renamed_to: Option<String>,
}

impl fmt::Display for OffboardReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Offboarded system user {} ({}):",
            self.system_user, self.name
        )?;
        writeln!(
            f,
            "  tokens invalidated: {}",
            if self.tokens_invalidated { "yes" } else { "no" }
        )?;
        for key in &self.tokens_removed {
            writeln!(f, "  token removed from the store: {key}")?;
        }
        if self.removed.is_empty() {
            writeln!(f, "  no asset assignment to remove")?;
        }
        for asset in &self.removed {
            writeln!(f, "  removed from {} {}", asset.kind_name(), asset.id())?;
        }
        for (asset, why) in &self.left {
            writeln!(f, "  still on {} {}: {why}", asset.kind_name(), asset.id())?;
        }
        match &self.renamed_to {
            Some(name) => writeln!(f, "  renamed to {name:?}"),
            None => writeln!(f, "  name unchanged"),
        }
    }
}

/// Invalidates every token of a system user, removes every asset assignment it has, and (by
/// default) renames it to mark it decommissioned. Running it again is harmless.
///
/// ```
/// use meta_business::provision::{self, OffboardOptions};
/// use meta_business::PageTask;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::provision::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// # let su = client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// client.page(demo.pages[0]).assign(&su.id, [PageTask::Analyze]).send().await?;
/// let report = provision::offboard(&client, demo.business_id, &su.id, &OffboardOptions::default()).await?;
/// assert!(report.tokens_invalidated && report.left.is_empty());
/// assert!(emulator.assignments(demo.pages[0]).is_empty());
/// print!("{report}");
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidInput`] when the id is malformed or not a system user of the business;
/// any request error (what was done before it is not undone; run again to finish).
pub async fn offboard(
    client: &Client,
    business: impl Into<BusinessId>,
    system_user: impl Into<SystemUserId>,
    options: &OffboardOptions,
) -> Result<OffboardReport> {
    let business = business.into();
    let id = system_user.into();
    business.validate()?;
    id.validate()?;
    let users = live::system_users(client, &business).await?;
    let Some(user) = users.iter().find(|u| u.id == id) else {
        return Err(ProvisionError::Client(Error::invalid_input(
            "system_user_id",
            format!("{id} is not a system user of business {business}"),
        )));
    };
    let name = user.name.clone().unwrap_or_default();

    client
        .system_user(id.clone())
        .invalidate_tokens()
        .send()
        .await?;
    // Invalidated first: a token removed from the store but still valid would be forgotten,
    // not gone.
    let mut tokens_removed = Vec::new();
    if let Some(store) = &options.store {
        for key in store.keys().await? {
            if key.business == business && key.system_user == id && store.remove(&key).await? {
                tokens_removed.push(key);
            }
        }
    }

    let owned = Owned::read(client, &business).await?;
    let scanned = owned.unlisted().cloned().collect();
    let held = live::assignments(client, &business, &[id.to_string()], &scanned)
        .await?
        .remove(id.as_str())
        .unwrap_or_default();
    let mut removed = Vec::new();
    let mut left = Vec::new();
    for asset in held.into_keys() {
        if !asset.info().can_unassign {
            let why = format!(
                "the Graph API cannot remove {} assignments: remove it in Business Settings",
                asset.kind_name()
            );
            left.push((asset, why));
            continue;
        }
        super::apply::unassign(client, &asset, &id).await?;
        removed.push(asset);
    }

    let renamed_to = if options.mark_decommissioned && !name.starts_with(DECOMMISSIONED) {
        let new_name = format!(
            "{DECOMMISSIONED} {}] {name}",
            crate::time::date(crate::time::unix_now())
        );
        client
            .business(business.clone())
            .system_users()
            .rename(id.clone(), new_name.as_str())
            .send()
            .await?;
        Some(new_name)
    } else {
        None
    };
    Ok(OffboardReport {
        system_user: id,
        name,
        tokens_invalidated: true,
        tokens_removed,
        removed,
        left,
        renamed_to,
    })
}
