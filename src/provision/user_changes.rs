//! The changes of one system user of the desired state: everything a new one needs, and for
//! an existing one the apps and grants it lacks or (with prune) should lose; what is kept
//! is listed as not managed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::change::Change;
use super::error::Result;
use super::identity;
use super::left_alone::{self, NotManaged};
use super::live::{self, Owned};
use super::plan::Plan;
use super::spec::{Spec, SystemUserSpec};
use crate::client::Client;
use crate::ids::SystemUserId;
use crate::kinds::AssetRef;
use crate::models::system_user::SystemUser;

fn same(a: &[String], b: &[String]) -> bool {
    a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
}

/// The live system users the file does not name, with what they hold.
pub(super) fn strangers(
    prune: bool,
    users: &[SystemUser],
    ids: &BTreeMap<String, SystemUserId>,
    held: &HashMap<String, live::Assignments>,
) -> Vec<NotManaged> {
    let managed: BTreeSet<&SystemUserId> = ids.values().collect();
    users
        .iter()
        .filter(|u| !managed.contains(&u.id))
        .map(|u| NotManaged::SystemUser {
            id: u.id.clone(),
            name: u.name.clone().unwrap_or_default(),
            grants: held
                .get(u.id.as_str())
                .map(|h| h.iter().map(|(a, t)| (a.clone(), t.clone())).collect())
                .unwrap_or_default(),
            why: if identity::is_decommissioned(u) {
                "decommissioned".to_owned()
            } else if prune {
                "not in the desired state; prune removes only what the desired state's system users hold (offboard it if it is unused)".to_owned()
            } else {
                "not in the desired state".to_owned()
            },
        })
        .collect()
}

/// The assets whose assigned users must be read on the asset (their kind has no system-user
/// edge: pixels, Instagram assets): those in the file, and with prune every one the business owns.
pub(super) fn scanned_assets(spec: &Spec, owned: Option<&Owned>) -> BTreeSet<AssetRef> {
    let mut scanned: BTreeSet<AssetRef> = spec
        .system_users
        .iter()
        .flat_map(|s| s.assets.iter().map(|a| a.asset.clone()))
        .filter(live::read_on_the_asset)
        .collect();
    if let Some(owned) = owned {
        scanned.extend(owned.unlisted().cloned());
    }
    scanned
}

/// Everything a system user that does not exist yet needs (its token is planned apart).
pub(super) fn new_user_changes(wanted: &SystemUserSpec) -> Vec<Change> {
    let name = &wanted.name;
    let mut changes = vec![Change::CreateSystemUser {
        name: name.clone(),
        role: wanted.role.clone(),
    }];
    changes.extend(wanted.apps.iter().map(|app| Change::InstallApp {
        system_user: name.clone(),
        app: app.clone(),
    }));
    changes.extend(wanted.assets.iter().map(|a| Change::Assign {
        system_user: name.clone(),
        asset: a.asset.clone(),
        tasks: a.tasks.clone(),
    }));
    changes
}

/// The app installs an existing system user lacks (all of them when its apps cannot be read:
/// installing is idempotent); the apps installed that the file does not list are left alone
/// (the Graph API has no uninstall).
pub(super) async fn app_changes(
    client: &Client,
    prune: bool,
    wanted: &SystemUserSpec,
    id: &SystemUserId,
    plan: &mut Plan,
    pages: u32,
) -> Result<Vec<Change>> {
    let name = &wanted.name;
    let installed = live::installed_apps(client, id.as_str(), pages).await?;
    plan.basis.apps.insert(id.clone(), installed.clone());
    let Some(installed) = installed else {
        if !wanted.apps.is_empty() {
            plan.notes.push(format!("the installed apps of {name:?} cannot be read; installs are sent again (they are idempotent)"));
        }
        return Ok(wanted
            .apps
            .iter()
            .map(|app| Change::InstallApp {
                system_user: name.clone(),
                app: app.clone(),
            })
            .collect());
    };
    let why = if prune {
        "not in the desired state; the Graph API cannot uninstall an app from a system user: remove it in Business Settings".to_owned()
    } else {
        left_alone::unlisted(false)
    };
    plan.not_managed.extend(
        installed
            .iter()
            .filter(|app| !wanted.apps.contains(app))
            .map(|app| NotManaged::App {
                system_user: name.clone(),
                app: app.clone(),
                why: why.clone(),
            }),
    );
    Ok(wanted
        .apps
        .iter()
        .filter(|app| !installed.contains(*app))
        .map(|app| Change::InstallApp {
            system_user: name.clone(),
            app: app.clone(),
        })
        .collect())
}

/// Assignments to make, change and (with prune) remove for an existing system user; the ones
/// kept are listed as not managed.
pub(super) fn assignment_changes(
    prune: bool,
    wanted: &SystemUserSpec,
    current: &live::Assignments,
    not_managed: &mut Vec<NotManaged>,
) -> Vec<Change> {
    let name = &wanted.name;
    let mut changes = Vec::new();
    for a in &wanted.assets {
        match current.get(&a.asset) {
            None => changes.push(Change::Assign {
                system_user: name.clone(),
                asset: a.asset.clone(),
                tasks: a.tasks.clone(),
            }),
            Some(have) if !same(have, &a.tasks) => changes.push(Change::ChangeTasks {
                system_user: name.clone(),
                asset: a.asset.clone(),
                from: have.clone(),
                to: a.tasks.clone(),
            }),
            Some(_) => {}
        }
    }
    for (asset, tasks) in current {
        if wanted.assets.iter().any(|a| &a.asset == asset) {
            continue;
        }
        let why = if !prune {
            left_alone::unlisted(false)
        } else if !asset.info().can_unassign {
            format!(
                "not in the desired state; the Graph API cannot remove {} assignments: remove it in Business Settings",
                asset.kind_name()
            )
        } else {
            changes.push(Change::Unassign {
                system_user: name.clone(),
                asset: asset.clone(),
                tasks: tasks.clone(),
            });
            continue;
        };
        not_managed.push(NotManaged::Grant {
            system_user: name.clone(),
            asset: asset.clone(),
            tasks: tasks.clone(),
            why,
        });
    }
    changes
}
