//! Which live system user each user of the desired state is: by the id it was given before
//! (the caller's identities, or the token store's metadata), then by name with case and spaces
//! ignored. A live user that looks like a managed one renamed by hand (a near name, holding
//! the desired state's grants) stops its creation: a duplicate would keep the old one's access.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::change::Change;
use super::error::{ProvisionError, Result};
use super::live::Assignments;
use super::spec::{Spec, SystemUserSpec, fold_name};
use crate::ids::SystemUserId;
use crate::models::system_user::{SystemUser, SystemUserRole};

/// A difference between the desired state and the business that is not a plain missing grant:
/// what was seen and what to do about it.
///
/// ```
/// use meta_business::provision::{Drift, DriftKind};
/// fn show(drift: &[Drift]) {
///     for d in drift.iter().filter(|d| d.kind == DriftKind::PossibleRename) {
///         println!("{}: {} → {}", d.system_user, d.detail, d.remedy);
///     }
/// }
/// # let _ = show;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Drift {
    /// The system user, by its name in the desired state.
    pub system_user: String,
    /// What kind of drift.
    pub kind: DriftKind,
    /// What was seen.
    pub detail: String,
    /// What the plan does, or what a person should do.
    pub remedy: String,
}

/// The kinds of [`Drift`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DriftKind {
    /// The managed system user (known by its id) was renamed; the plan renames it back.
    Renamed,
    /// The live name differs only in case or spaces; the plan renames it to the file's spelling.
    NameSpelling,
    /// A live system user with a near name holds the desired state's grants: it may be the
    /// managed one renamed by hand. Nothing is created for this user until a person decides.
    PossibleRename,
    /// The stored token has permissions the desired state does not ask for.
    ExtraScopes,
    /// The stored token expires where the desired state wants one that does not, or the reverse.
    WrongExpiry,
    /// The stored token belongs to another app than the desired state's.
    WrongApp,
    /// The stored token could not be inspected; it is left as it is.
    TokenUnknown,
    /// A token may exist that nobody holds (none is stored for an existing system user).
    OrphanRisk,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "! {:?}: {}\n      → {}",
            self.system_user, self.detail, self.remedy
        )
    }
}

/// The outcome of matching: the live id of each matched user, the renames that bring names
/// back, the drift seen, and the users whose creation is withheld.
#[derive(Debug, Default)]
pub(super) struct Identities {
    pub(super) ids: BTreeMap<String, SystemUserId>,
    pub(super) renames: Vec<Change>,
    pub(super) drift: Vec<Drift>,
    pub(super) withheld: BTreeSet<String>,
    pub(super) notes: Vec<String>,
}

impl Identities {
    /// Matches each wanted user to a live one. `known` maps folded names to the ids a previous
    /// apply recorded; `held` is what every live user holds.
    pub(super) fn resolve(
        spec: &Spec,
        users: &[SystemUser],
        known: &BTreeMap<String, SystemUserId>,
        held: &HashMap<String, Assignments>,
    ) -> Result<Identities> {
        let mut out = Identities::default();
        let mut taken: BTreeSet<SystemUserId> = BTreeSet::new();
        // Ids first: a renamed user is still the same user.
        for wanted in &spec.system_users {
            let Some(id) = known.get(&fold_name(&wanted.name)) else {
                continue;
            };
            match users.iter().find(|u| &u.id == id) {
                Some(live) => out.adopt(wanted, live, DriftKind::Renamed, &mut taken),
                None => out.notes.push(format!(
                    "{:?} was recorded as system user {id}, which the business no longer lists; it is matched by name instead",
                    wanted.name
                )),
            }
        }
        // Then names, with case and spaces ignored.
        for (i, wanted) in spec.system_users.iter().enumerate() {
            if out.ids.contains_key(&wanted.name) {
                continue;
            }
            let folded = fold_name(&wanted.name);
            let same: Vec<&SystemUser> = users
                .iter()
                .filter(|u| !taken.contains(&u.id))
                .filter(|u| u.name.as_deref().map(fold_name).as_deref() == Some(folded.as_str()))
                .collect();
            match same.as_slice() {
                [] => {}
                [live] => out.adopt(wanted, live, DriftKind::NameSpelling, &mut taken),
                several => {
                    return Err(ProvisionError::InvalidSpec {
                        location: format!("system_users[{i}].name"),
                        message: format!(
                            "{} system users of business {} are named {:?} (case and spaces ignored): {}; rename all but one",
                            several.len(),
                            spec.business,
                            wanted.name,
                            several
                                .iter()
                                .map(|u| u.id.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
            }
        }
        // Last, the ones that look renamed by hand: never create a duplicate beside them.
        for wanted in &spec.system_users {
            if out.ids.contains_key(&wanted.name) {
                continue;
            }
            let suspects: Vec<&SystemUser> = users
                .iter()
                .filter(|u| !taken.contains(&u.id))
                .filter(|u| !is_decommissioned(u))
                .filter(|u| u.name.as_deref().is_some_and(|n| near(&wanted.name, n)))
                .filter(|u| holds_any(wanted, held.get(u.id.as_str())))
                .collect();
            if suspects.is_empty() {
                continue;
            }
            let list = suspects
                .iter()
                .map(|u| format!("{:?} ({})", u.name.as_deref().unwrap_or(""), u.id))
                .collect::<Vec<_>>()
                .join(", ");
            out.withheld.insert(wanted.name.clone());
            out.drift.push(Drift {
                system_user: wanted.name.clone(),
                kind: DriftKind::PossibleRename,
                detail: format!(
                    "no system user is named {:?}, but {list} has a near name and holds its grants",
                    wanted.name
                ),
                remedy: format!(
                    "not created: if it is the same integration, adopt it (PlanOptions::identity({:?}, id)) and the plan renames it back; if not, rename it to a name that does not resemble {:?}",
                    wanted.name, wanted.name
                ),
            });
        }
        Ok(out)
    }

    fn adopt(
        &mut self,
        wanted: &SystemUserSpec,
        live: &SystemUser,
        kind: DriftKind,
        taken: &mut BTreeSet<SystemUserId>,
    ) {
        taken.insert(live.id.clone());
        self.ids.insert(wanted.name.clone(), live.id.clone());
        let live_name = live.name.clone().unwrap_or_default();
        if live_name != wanted.name {
            self.drift.push(Drift {
                system_user: wanted.name.clone(),
                kind,
                detail: format!(
                    "system user {} is named {live_name:?}{}",
                    live.id,
                    if kind == DriftKind::Renamed {
                        " (renamed since it was provisioned)"
                    } else {
                        ""
                    }
                ),
                remedy: format!("the plan renames it back to {:?}", wanted.name),
            });
            self.renames.push(Change::RenameSystemUser {
                system_user: wanted.name.clone(),
                id: live.id.clone(),
                from: live_name,
            });
        }
        if live.role.as_ref().is_some_and(|r| {
            SystemUserRole::kind_of(Some(r)) != SystemUserRole::kind_of(Some(&wanted.role))
        }) {
            self.notes.push(format!(
                "{:?} exists as {} but the desired state says {}; the Graph API cannot change a system user's role",
                wanted.name,
                live.role.as_ref().map_or("-", |r| r.as_str()),
                wanted.role
            ));
        }
    }
}

/// Whether offboarding marked this user.
pub(super) fn is_decommissioned(user: &SystemUser) -> bool {
    user.name
        .as_deref()
        .is_some_and(|n| n.starts_with(super::DECOMMISSIONED))
}

/// Whether the live user holds at least one asset the wanted user should have.
fn holds_any(wanted: &SystemUserSpec, held: Option<&Assignments>) -> bool {
    held.is_some_and(|held| wanted.assets.iter().any(|a| held.contains_key(&a.asset)))
}

/// Whether two names are near: one extends the other past a separator
/// (`catalog-feed-uploader-v1`), or they differ by at most two edits in names of five
/// characters or more (`crm_sync_eu` for `crm-sync-eu`).
pub(crate) fn near(wanted: &str, live: &str) -> bool {
    let (a, b) = (fold_name(wanted), fold_name(live));
    if a == b {
        return true;
    }
    let extends = |long: &str, short: &str| {
        long.strip_prefix(short)
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| !c.is_alphanumeric())
    };
    if extends(&a, &b) || extends(&b, &a) {
        return true;
    }
    a.chars().count().min(b.chars().count()) >= 5 && edits(&a, &b) <= 2
}

/// The Levenshtein distance, in characters.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::{edits, near};

    #[test]
    fn near_names() {
        assert!(near("catalog-feed-uploader", "catalog-feed-uploader-v1"));
        assert!(!near(
            "catalog-feed-uploader",
            "Catalog Feed Uploader (old)"
        ));
        assert!(near("crm-sync-eu", "crm_sync_eu"));
        assert!(near("crm-sync-eu", " CRM-Sync-EU"));
        assert!(!near("crm", "erp"));
        assert!(!near("crm-sync-eu", "ads-reporting-server"));
        assert!(!near("crm-sync-eu", "crm-sync-eudora"));
        assert_eq!(edits("kitten", "sitting"), 3);
    }
}
