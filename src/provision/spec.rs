//! The desired-state file: which system users a business should have, their assets and tasks,
//! their apps and their tokens. JSON or TOML; unknown keys and invalid values are errors that
//! name where they are.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::{ProvisionError, Result};
use crate::config::AccessTier;
use crate::error::Error;
use crate::ids::{AppId, BusinessId};
use crate::kinds::{AssetRef, KINDS, kind_keys};
use crate::models::permissions::Permission;
use crate::models::system_user::SystemUserRole;

/// What a business should look like.
///
/// It serializes (serde, JSON or TOML) to the file's own form and deserializes through the
/// file's checks: `Spec::from_json_str(&serde_json::to_string(&spec)?)` gives `spec` back.
///
/// ```
/// use meta_business::provision::Spec;
/// let spec = Spec::from_toml_str(r#"
/// business = "1000000000001"
/// access_tier = "limited"
///
/// [[system_users]]
/// name = "ads-reporting-server"
/// apps = ["2000000000001"]
/// assets = [{ ad_account = "act_3000000000001", tasks = ["ANALYZE"] }]
/// token = { app = "2000000000001", scopes = ["ads_read"] }
/// "#)?;
/// assert_eq!(spec.system_users[0].assets.len(), 1);
/// # Ok::<(), meta_business::provision::ProvisionError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Spec {
    /// The business.
    pub business: BusinessId,
    /// Its access tier (sets the quota the plan is checked against; default: the client's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_tier: Option<AccessTier>,
    /// Whether assignments not in the file are removed (default `false`: they are reported by
    /// the audit but left alone).
    pub prune: bool,
    /// The system users.
    pub system_users: Vec<SystemUserSpec>,
}

/// One system user as it should be.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SystemUserSpec {
    /// Its name (also how it is found: names are unique within a spec).
    pub name: String,
    /// `ADMIN` or `EMPLOYEE` (default).
    pub role: SystemUserRole,
    /// Its assets, each with its tasks.
    pub assets: Vec<AssetSpec>,
    /// Apps installed for it.
    pub apps: Vec<AppId>,
    /// The token it should have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenSpec>,
    /// Whether an admin system user may hold assets (default `false`: admins should only
    /// administer, and a spec giving one assets is refused unless this is set).
    pub allow_admin_assets: bool,
}

/// An asset and the tasks the system user should have on it. Its serde form is the file's:
/// the kind's key with the id, and the tasks (`{"page": "4000000000001", "tasks": ["ANALYZE"]}`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AssetSpec {
    /// The asset.
    pub asset: AssetRef,
    /// Its tasks, as the Graph API spells them (checked against the kind's task list).
    pub tasks: Vec<String>,
}

/// The token a system user should have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TokenSpec {
    /// The app it is for (one of the system user's apps).
    pub app: AppId,
    /// Its permissions.
    pub scopes: Vec<Permission>,
    /// Whether it expires after 60 days (default `true`: expiring tokens limit the damage of a
    /// leak).
    pub expires_in_60_days: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpec {
    pub(super) business: String,
    #[serde(default)]
    pub(super) access_tier: Option<String>,
    #[serde(default)]
    pub(super) prune: bool,
    #[serde(default)]
    pub(super) system_users: Vec<RawSystemUser>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSystemUser {
    pub(super) name: String,
    #[serde(default)]
    pub(super) role: Option<String>,
    #[serde(default)]
    pub(super) assets: Vec<RawAsset>,
    #[serde(default)]
    pub(super) apps: Vec<String>,
    #[serde(default)]
    pub(super) token: Option<RawToken>,
    #[serde(default)]
    pub(super) allow_admin_assets: bool,
}

/// One asset of a system user: its kind's key (`ad_account`, `page`, …) with the id, and the
/// tasks. The kinds are the table's (`crate::kinds`), so the form has no field per kind.
#[derive(Debug, Deserialize, Default)]
pub(super) struct RawAsset {
    #[serde(default)]
    pub(super) tasks: Vec<String>,
    /// Every other key: the kind and its id (anything else is refused when checked).
    #[serde(flatten)]
    pub(super) ids: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawToken {
    pub(super) app: String,
    pub(super) scopes: Vec<String>,
    #[serde(default = "yes")]
    pub(super) expires_in_60_days: bool,
}

/// The 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn yes() -> bool {
    true
}

fn at(location: impl Into<String>, message: impl Into<String>) -> ProvisionError {
    ProvisionError::InvalidSpec {
        location: location.into(),
        message: message.into(),
    }
}

/// Re-labels an id error with the spec path.
fn id_at<T>(path: &str, parsed: crate::Result<T>) -> Result<T> {
    parsed.map_err(|e| match e {
        Error::InvalidInput { reason, .. } => at(path, reason),
        other => ProvisionError::Client(other),
    })
}

impl Spec {
    /// Parses a JSON desired state.
    ///
    /// ```
    /// use meta_business::provision::Spec;
    /// let spec = Spec::from_json_str(r#"{
    ///   "business": "1000000000001",
    ///   "system_users": [{ "name": "crm-sync-eu", "assets": [{ "page": "4000000000001", "tasks": ["ANALYZE"] }] }]
    /// }"#)?;
    /// assert!(spec.system_user("crm-sync-eu").is_some());
    /// # Ok::<(), meta_business::provision::ProvisionError>(())
    /// ```
    ///
    /// # Errors
    /// [`ProvisionError::InvalidSpec`] naming the key path (and line) of the first problem.
    pub fn from_json_str(text: &str) -> Result<Self> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let raw: RawSpec = serde_path_to_error::deserialize(de).map_err(|e| {
            let inner = e.inner();
            at(
                format!(
                    "{} (line {}, column {})",
                    display_path(&e.path().to_string()),
                    inner.line(),
                    inner.column()
                ),
                inner.to_string(),
            )
        })?;
        raw.validate()
    }

    /// Parses a TOML desired state.
    ///
    /// ```
    /// use meta_business::provision::Spec;
    /// let spec = Spec::from_toml_str(r#"
    /// business = "1000000000001"
    /// [[system_users]]
    /// name = "ads-reporting-server"
    /// assets = [{ ad_account = "act_3000000000001", tasks = ["ANALYZE"] }]
    /// "#)?;
    /// assert_eq!(spec.system_users[0].name, "ads-reporting-server");
    /// // A task that does not exist for the kind is refused, with its line and column.
    /// let err = Spec::from_toml_str(r#"
    /// business = "1000000000001"
    /// [[system_users]]
    /// name = "x"
    /// assets = [{ page = "4000000000001", tasks = ["DRIVE"] }]
    /// "#).unwrap_err();
    /// println!("{err}");
    /// # Ok::<(), meta_business::provision::ProvisionError>(())
    /// ```
    ///
    /// # Errors
    /// [`ProvisionError::InvalidSpec`] naming the line and key of the first problem.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let raw: RawSpec = toml::from_str(text).map_err(|e| {
            let location = match e.span() {
                Some(span) => {
                    let (line, column) = line_and_column(text, span.start);
                    format!("line {line}, column {column}")
                }
                None => "the document".to_owned(),
            };
            at(location, e.message().to_owned())
        })?;
        raw.validate()
    }

    /// Reads a `.json` or `.toml` file.
    ///
    /// ```
    /// use meta_business::provision::Spec;
    /// let spec = Spec::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/provision.toml"))?;
    /// assert_eq!(spec.business.as_str(), "1000000000001");
    /// # Ok::<(), meta_business::provision::ProvisionError>(())
    /// ```
    ///
    /// # Errors
    /// [`ProvisionError::SpecFile`] for a file that cannot be read; [`ProvisionError::InvalidSpec`]
    /// for an unknown extension or invalid content (its location starts with the file).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ProvisionError::SpecFile {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let parsed = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Self::from_json_str(&text),
            Some("toml") => Self::from_toml_str(&text),
            _ => {
                return Err(at(
                    path.display().to_string(),
                    "the file must end in .json or .toml",
                ));
            }
        };
        // Name the file in front of the place inside it.
        parsed.map_err(|e| match e {
            ProvisionError::InvalidSpec { location, message } => ProvisionError::InvalidSpec {
                location: format!("{}: {location}", path.display()),
                message,
            },
            other => other,
        })
    }

    /// The system user of this name (case and spaces ignored, as the plan matches them).
    pub fn system_user(&self, name: &str) -> Option<&SystemUserSpec> {
        let folded = fold_name(name);
        self.system_users
            .iter()
            .find(|s| fold_name(&s.name) == folded)
    }
}

/// A system-user name as it is compared: trimmed, lower-case, inner runs of white space as one
/// space. `CRM-Sync-EU`, `crm-sync-eu` and `crm-sync-eu ` are one name.
pub(crate) fn fold_name(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn display_path(path: &str) -> String {
    if path == "." {
        "the document".to_owned()
    } else {
        path.to_owned()
    }
}

impl RawSpec {
    pub(super) fn validate(self) -> Result<Spec> {
        let business = id_at("business", self.business.parse::<BusinessId>())?;
        let access_tier = match &self.access_tier {
            Some(raw) => Some(raw.parse::<AccessTier>().map_err(|_| {
                at(
                    "access_tier",
                    format!("{raw:?} is not a tier (limited/standard or full/advanced)"),
                )
            })?),
            None => None,
        };
        let mut names = BTreeMap::new();
        let mut system_users = Vec::with_capacity(self.system_users.len());
        for (i, raw) in self.system_users.into_iter().enumerate() {
            let path = format!("system_users[{i}]");
            let name = raw.name.trim().to_owned();
            crate::models::check_name("name", &name)
                .map_err(|e| at(format!("{path}.name"), reason(e)))?;
            if let Some(earlier) = names.insert(fold_name(&name), name.clone()) {
                return Err(at(
                    format!("{path}.name"),
                    format!(
                        "{name:?} is the same name as {earlier:?} once case and spaces are ignored; names identify system users"
                    ),
                ));
            }
            system_users.push(raw.validate(&path, name)?);
        }
        Ok(Spec {
            business,
            access_tier,
            prune: self.prune,
            system_users,
        })
    }
}

fn reason(e: Error) -> String {
    match e {
        Error::InvalidInput { reason, .. } => reason,
        other => other.to_string(),
    }
}

impl RawSystemUser {
    /// One system user outside a spec (its name checked here, not against the others').
    pub(super) fn validate_alone(self, path: &str) -> Result<SystemUserSpec> {
        let name = self.name.trim().to_owned();
        crate::models::check_name("name", &name)
            .map_err(|e| at(format!("{path}.name"), reason(e)))?;
        self.validate(path, name)
    }

    fn validate(self, path: &str, name: String) -> Result<SystemUserSpec> {
        let role = match self.role.as_deref().map(str::to_ascii_uppercase).as_deref() {
            None | Some("EMPLOYEE") => SystemUserRole::Employee,
            Some("ADMIN") => SystemUserRole::Admin,
            Some(other) => {
                return Err(at(
                    format!("{path}.role"),
                    format!("{other:?} is not a system-user role (ADMIN or EMPLOYEE)"),
                ));
            }
        };
        let mut apps = Vec::new();
        for (j, raw) in self.apps.iter().enumerate() {
            let app = id_at(&format!("{path}.apps[{j}]"), raw.parse::<AppId>())?;
            if !apps.contains(&app) {
                apps.push(app);
            }
        }
        let mut assets: Vec<AssetSpec> = Vec::new();
        for (j, raw) in self.assets.into_iter().enumerate() {
            let asset_path = format!("{path}.assets[{j}]");
            let spec = raw.validate(&asset_path)?;
            if assets.iter().any(|a| a.asset == spec.asset) {
                return Err(at(
                    asset_path,
                    format!("{} {} appears twice", spec.asset.kind(), spec.asset.id()),
                ));
            }
            assets.push(spec);
        }
        let token = match self.token {
            None => None,
            Some(raw) => {
                let token = raw.validate(&format!("{path}.token"))?;
                if !apps.contains(&token.app) {
                    return Err(at(
                        format!("{path}.token.app"),
                        format!(
                            "app {} is not in this system user's apps; a token needs the app installed",
                            token.app
                        ),
                    ));
                }
                Some(token)
            }
        };
        if role == SystemUserRole::Admin && !assets.is_empty() && !self.allow_admin_assets {
            return Err(at(
                format!("{path}.assets"),
                "an admin system user should only administer, not hold assets: give them to a regular system user, or set allow_admin_assets = true",
            ));
        }
        Ok(SystemUserSpec {
            name,
            role,
            assets,
            apps,
            token,
            allow_admin_assets: self.allow_admin_assets,
        })
    }
}

impl RawToken {
    pub(super) fn validate(self, path: &str) -> Result<TokenSpec> {
        let app = id_at(&format!("{path}.app"), self.app.parse::<AppId>())?;
        if self.scopes.is_empty() {
            return Err(at(format!("{path}.scopes"), "name at least one permission"));
        }
        let mut scopes = Vec::new();
        for (k, s) in self.scopes.iter().enumerate() {
            let p = Permission::from(s.as_str());
            p.check()
                .map_err(|e| at(format!("{path}.scopes[{k}]"), reason(e)))?;
            if p.is_unlisted() {
                return Err(at(
                    format!("{path}.scopes[{k}]"),
                    format!("{s:?} is not a system-user permission"),
                ));
            }
            scopes.push(p);
        }
        Ok(TokenSpec {
            app,
            scopes,
            expires_in_60_days: self.expires_in_60_days,
        })
    }
}

impl RawAsset {
    pub(super) fn validate(self, path: &str) -> Result<AssetSpec> {
        let mut given = self.ids.into_iter();
        let (Some((kind, id)), None) = (given.next(), given.next()) else {
            return Err(at(
                path,
                format!("name exactly one asset: one of {}", kind_keys()),
            ));
        };
        let id_path = format!("{path}.{kind}");
        let asset = match AssetRef::parse(&kind, &id) {
            Ok(asset) => asset,
            Err(_) if !KINDS.iter().any(|k| k.key == kind) => {
                return Err(at(
                    &id_path,
                    format!("{kind:?} is not an asset kind: one of {}", kind_keys()),
                ));
            }
            Err(err) => return id_at(&id_path, Err(err)),
        };
        let allowed = asset.known_tasks();
        let mut tasks: Vec<String> = Vec::new();
        for (k, task) in self.tasks.iter().enumerate() {
            let task = task.trim().to_ascii_uppercase();
            if !allowed.contains(&task.as_str()) {
                return Err(at(
                    format!("{path}.tasks[{k}]"),
                    format!(
                        "{task:?} is not a task of {} {} (one of {})",
                        crate::models::article(asset.kind_name()),
                        asset.kind_name(),
                        allowed.join(", ")
                    ),
                ));
            }
            if !tasks.contains(&task) {
                tasks.push(task);
            }
        }
        if tasks.is_empty() {
            return Err(at(
                format!("{path}.tasks"),
                "name at least one task (least privilege: only what is needed)",
            ));
        }
        Ok(AssetSpec { asset, tasks })
    }
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
