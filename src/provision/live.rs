//! Reading what a business looks like now: its system users, their assignments and apps, its
//! owned assets.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::client::Client;
use crate::error::Result;
use crate::ids::{AppId, BusinessId};
use crate::kinds::{AssetRef, HeldBy, KINDS, KindInfo, MAX_ITEMS};
use crate::models::system_user::SystemUser;

/// Tasks per asset, for one system user.
pub(crate) type Assignments = BTreeMap<AssetRef, Vec<String>>;

/// The assets a business owns, kind by kind in the table's order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Owned {
    kinds: Vec<(&'static KindInfo, Vec<AssetRef>)>,
}

impl Owned {
    pub(crate) async fn read(client: &Client, business: &BusinessId) -> Result<Owned> {
        let mut kinds = Vec::with_capacity(KINDS.len());
        for info in KINDS {
            let assets = (info.owned)(client.business(business.clone())).await?;
            kinds.push((info, assets));
        }
        Ok(Owned { kinds })
    }

    /// Each kind's name and owned assets.
    pub(crate) fn by_kind(&self) -> impl Iterator<Item = (&'static str, &[AssetRef])> {
        self.kinds
            .iter()
            .map(|(info, assets)| (info.name, assets.as_slice()))
    }

    /// The owned assets of the kinds no system-user edge lists (pixels, Instagram assets):
    /// who holds them is read asset by asset.
    pub(crate) fn unlisted(&self) -> impl Iterator<Item = &AssetRef> {
        self.kinds
            .iter()
            .filter(|(info, _)| info.system_user_edge.is_none())
            .flat_map(|(_, assets)| assets)
    }
}

/// Whether who holds this asset is read on the asset itself (no system-user edge lists it).
pub(crate) fn read_on_the_asset(asset: &AssetRef) -> bool {
    asset.info().system_user_edge.is_none()
}

/// Reads the assignments of system users: each kind's system-user edge, and for the kinds
/// without one (pixels, Instagram assets) each scanned asset's `assigned_users`, read once
/// per asset.
pub(crate) async fn assignments(
    client: &Client,
    business: &BusinessId,
    users: &[String],
    scanned: &BTreeSet<AssetRef>,
) -> Result<HashMap<String, Assignments>> {
    let mut out: HashMap<String, Assignments> = HashMap::new();
    for id in users {
        let map = out.entry(id.clone()).or_default();
        for info in KINDS {
            if let Some(read) = (info.held_by)(client.system_user(id.as_str())) {
                map.extend(read.await?);
            }
        }
    }
    for asset in scanned.iter().filter(|a| read_on_the_asset(a)) {
        for (user, tasks) in asset.visit(client, HeldBy(business.clone())).await? {
            if let Some(map) = out.get_mut(&user) {
                map.insert(asset.clone(), tasks);
            }
        }
    }
    Ok(out)
}

/// The apps installed for a system user, or `None` when the Graph API will not say.
pub(crate) async fn installed_apps(client: &Client, id: &str) -> Result<Option<BTreeSet<AppId>>> {
    match client
        .system_user(id)
        .assigned_applications()
        .collect(MAX_ITEMS)
        .await
    {
        Ok(apps) => Ok(Some(apps.into_iter().map(|a| a.id).collect())),
        Err(err) if err.api_error().is_some() && !err.is_auth() && !err.is_transient() => {
            tracing::debug!(system_user = id, error = %err, "cannot read installed apps; installs will be ensured");
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

/// Every system user of the business.
pub(crate) async fn system_users(
    client: &Client,
    business: &BusinessId,
) -> Result<Vec<SystemUser>> {
    client
        .business(business.clone())
        .system_users()
        .list()
        .collect(MAX_ITEMS)
        .await
}
