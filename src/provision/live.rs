//! Reading what a business looks like now: its system users, their assignments and apps, its
//! owned assets.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::audit::{Finding, FindingKind, Severity};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::{AppId, BusinessId};
use crate::kinds::{AssetRef, HeldBy, KINDS, KindInfo, MAX_ITEMS};
use crate::models::system_user::SystemUser;
use crate::pagination::is_cut_short;

/// A list a workflow could not read to its end (its page budget ran out, or the server's
/// cursors made no progress): what it was, whose it was, and why.
#[derive(Debug)]
pub(crate) struct Cut {
    /// The list, in words ("the business's owned Pages").
    pub(crate) what: String,
    /// The system user whose list it was, when it was one's.
    pub(crate) user: Option<String>,
    pub(crate) err: Error,
}

impl Cut {
    /// The audit's finding about it.
    pub(crate) fn finding(&self) -> Finding {
        Finding {
            kind: FindingKind::IncompleteRead,
            severity: Severity::Warning,
            subject: self.what.clone(),
            message: format!(
                "could not read all of {}: {}; the findings that depend on it were not checked",
                self.what, self.err
            ),
            remedy: "raise the audit's page budget (AuditOptions::max_pages) if the list is that long; otherwise the server's paging is broken".to_owned(),
        }
    }
}

/// Where the readers put the lists they could not read to the end: `None` makes such a list
/// an error (a plan must not act on half a list), `Some` keeps going without it (an audit
/// reports it).
pub(crate) type Cuts<'a> = Option<&'a mut Vec<Cut>>;

/// An error that cut a list short, recorded when the caller keeps going; else the error.
fn cut_or_fail(cuts: &mut Cuts<'_>, err: Error, what: String, user: Option<&str>) -> Result<()> {
    match cuts {
        Some(cuts) if is_cut_short(&err) => {
            cuts.push(Cut {
                what,
                user: user.map(str::to_owned),
                err,
            });
            Ok(())
        }
        _ => Err(err),
    }
}

/// Tasks per asset, for one system user.
pub(crate) type Assignments = BTreeMap<AssetRef, Vec<String>>;

/// The assets a business owns, kind by kind in the table's order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Owned {
    kinds: Vec<(&'static KindInfo, Vec<AssetRef>)>,
    /// The kinds whose list was cut short (read leniently): their lists here are empty.
    cut: Vec<&'static str>,
}

impl Owned {
    /// Every kind's owned assets, each list read within `pages` pages.
    pub(crate) async fn read(
        client: &Client,
        business: &BusinessId,
        pages: u32,
        mut cuts: Cuts<'_>,
    ) -> Result<Owned> {
        let mut kinds = Vec::with_capacity(KINDS.len());
        let mut cut = Vec::new();
        for info in KINDS {
            let assets = match (info.owned)(client.business(business.clone()), pages).await {
                Ok(assets) => assets,
                Err(err) => {
                    let what = format!("the {}s business {business} owns", info.name);
                    cut_or_fail(&mut cuts, err, what, None)?;
                    cut.push(info.name);
                    Vec::new()
                }
            };
            kinds.push((info, assets));
        }
        Ok(Owned { kinds, cut })
    }

    /// Each kind's name and owned assets, for the kinds whose list was read to the end.
    pub(crate) fn by_kind(&self) -> impl Iterator<Item = (&'static str, &[AssetRef])> {
        self.kinds
            .iter()
            .filter(|(info, _)| !self.cut.contains(&info.name))
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
/// per asset; each list within `pages` pages.
pub(crate) async fn assignments(
    client: &Client,
    business: &BusinessId,
    users: &[String],
    scanned: &BTreeSet<AssetRef>,
    pages: u32,
    mut cuts: Cuts<'_>,
) -> Result<HashMap<String, Assignments>> {
    let mut out: HashMap<String, Assignments> = HashMap::new();
    for id in users {
        let map = out.entry(id.clone()).or_default();
        for info in KINDS {
            if let Some(read) = (info.held_by)(client.system_user(id.as_str()), pages) {
                match read.await {
                    Ok(held) => map.extend(held),
                    Err(err) => {
                        let what = format!("the {}s system user {id} holds", info.name);
                        cut_or_fail(&mut cuts, err, what, Some(id))?;
                    }
                }
            }
        }
    }
    for asset in scanned.iter().filter(|a| read_on_the_asset(a)) {
        let holders = match asset.visit(client, HeldBy(business.clone(), pages)).await {
            Ok(holders) => holders,
            Err(err) => {
                let what = format!("who holds {} {}", asset.kind_name(), asset.id());
                cut_or_fail(&mut cuts, err, what, None)?;
                continue;
            }
        };
        for (user, tasks) in holders {
            if let Some(map) = out.get_mut(&user) {
                map.insert(asset.clone(), tasks);
            }
        }
    }
    Ok(out)
}

/// The apps installed for a system user, or `None` when the Graph API will not say.
pub(crate) async fn installed_apps(
    client: &Client,
    id: &str,
    pages: u32,
) -> Result<Option<BTreeSet<AppId>>> {
    match client
        .system_user(id)
        .assigned_applications()
        .max_pages(pages)
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

/// Every system user of the business, within `pages` pages.
pub(crate) async fn system_users(
    client: &Client,
    business: &BusinessId,
    pages: u32,
) -> Result<Vec<SystemUser>> {
    client
        .business(business.clone())
        .system_users()
        .list()
        .max_pages(pages)
        .collect(MAX_ITEMS)
        .await
}

/// The system users of the business read within `pages` pages, and why the list was cut
/// short if it was.
pub(crate) async fn some_system_users(
    client: &Client,
    business: &BusinessId,
    pages: u32,
) -> Result<(Vec<SystemUser>, Option<Error>)> {
    client
        .business(business.clone())
        .system_users()
        .list()
        .max_pages(pages)
        .collect_partial(MAX_ITEMS)
        .await
}
