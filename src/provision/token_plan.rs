//! The token part of a plan: a token is ensured through the store, never minted only to be
//! shown; a stored token that drifted from the desired state (scopes, expiry, app) is
//! replaced (mint, store, check, then revoke the old one); a token that cannot be inspected is
//! left alone with a word, not a failed plan.

use std::time::Duration;

use super::change::Change;
use super::error::Result;
use super::identity::{Drift, DriftKind};
use super::left_alone::NotManaged;
use super::spec::{SystemUserSpec, TokenSpec};
use crate::client::Client;
use crate::ids::{BusinessId, SystemUserId};
use crate::models::token::TokenInfo;
use crate::store::{StoredToken, TokenKey};

/// What the plan does about one system user's token.
#[derive(Debug, Default)]
pub(super) struct TokenPlan {
    pub(super) changes: Vec<Change>,
    pub(super) drift: Vec<Drift>,
    pub(super) not_managed: Vec<NotManaged>,
}

/// How tokens are planned.
pub(super) struct TokenContext<'a> {
    pub(super) client: &'a Client,

    pub(super) business: &'a BusinessId,
    /// The stored tokens of this business.
    pub(super) stored: &'a [StoredToken],
    pub(super) renew_within: Duration,
    pub(super) invalidate_orphans: bool,
}

impl TokenContext<'_> {
    /// The token changes of one system user; `id` is `None` for a user still to be created.
    pub(super) async fn plan(
        &self,
        wanted: &SystemUserSpec,
        id: Option<&SystemUserId>,
    ) -> Result<TokenPlan> {
        let mut out = TokenPlan::default();
        let name = &wanted.name;
        let stored_keys: Vec<&TokenKey> = match id {
            Some(id) => self
                .stored
                .iter()
                .map(|t| &t.key)
                .filter(|k| &k.system_user == id)
                .collect(),
            None => Vec::new(),
        };
        // A rotation left half-done is finished first, alone: the next plan compares the
        // token it leaves with the file.
        out.changes = self.unfinished(name, id);
        if !out.changes.is_empty() {
            return Ok(out);
        }
        let Some(token) = &wanted.token else {
            out.not_managed
                .extend(stored_keys.into_iter().map(|key| NotManaged::Token {
                    system_user: name.clone(),
                    key: key.clone(),
                    why: "the desired state asks for no token: it is kept".to_owned(),
                }));
            return Ok(out);
        };
        let Some(id) = id else {
            out.changes
                .push(generate(name, token, "new system user", Vec::new()));
            return Ok(out);
        };
        let key = TokenKey::new(self.business.clone(), id.clone(), token.app.clone());
        // Tokens of other apps: the file's app changed.
        let mut replaces: Vec<TokenKey> = Vec::new();
        for other in stored_keys.iter().filter(|k| k.app != token.app) {
            out.drift.push(Drift {
                system_user: name.clone(),
                kind: DriftKind::WrongApp,
                detail: format!(
                    "a token for app {} is stored; the desired state wants one for app {}",
                    other.app, token.app
                ),
                remedy: format!(
                    "a token for app {} is minted and stored, then the other is revoked",
                    token.app
                ),
            });
            replaces.push((*other).clone());
        }
        let stored = self.stored.iter().find(|t| t.key == key);
        let mut revoke_stored = false;
        let reason = match stored {
            None => {
                if !self.invalidate_orphans {
                    out.drift.push(orphan_risk(name));
                }
                Some("no token in the store".to_owned())
            }
            Some(stored) => {
                let (reason, revoke) = self
                    .inspect_stored(name, token, &key, stored, &mut out.drift)
                    .await?;
                revoke_stored = revoke;
                reason
            }
        };
        let reason = match (reason, replaces.is_empty()) {
            (Some(reason), _) => reason,
            (None, false) => "the stored token is for another app".to_owned(),
            (None, true) => return Ok(out),
        };
        if revoke_stored {
            replaces.push(key.clone());
        }
        if self.invalidate_orphans {
            out.changes.push(Change::InvalidateTokens {
                system_user: name.clone(),
                reason: "tokens minted before may be valid and held by nobody (invalidate_orphans)"
                    .to_owned(),
            });
            replaces.clear();
        }
        out.changes.push(generate(name, token, &reason, replaces));
        Ok(out)
    }

    /// Why the stored token of `key` must be replaced, if it must, and whether it is to be
    /// revoked once replaced: a valid token of this user and app is (also when only another
    /// app's token is the reason to mint: it would be overwritten); one that is not valid, or
    /// not this user's or app's, is only overwritten.
    async fn inspect_stored(
        &self,
        name: &str,
        token: &TokenSpec,
        key: &TokenKey,
        stored: &StoredToken,
        drift: &mut Vec<Drift>,
    ) -> Result<(Option<String>, bool)> {
        let inspected =
            super::token_audit::inspect(self.client, Some(&token.app), stored.secret()).await?;
        Ok(match inspected {
            Err(why) => {
                drift.push(Drift {
                    system_user: name.to_owned(),
                    kind: DriftKind::TokenUnknown,
                    detail: format!("the stored token cannot be inspected: {why}"),
                    remedy: "left as it is; give the client the secret of its app (ClientBuilder::app_secret_for) to check it".to_owned(),
                });
                (None, false)
            }
            Ok(info) => {
                let revoke =
                    info.is_valid == Some(true) && crate::keeper::identity::revocable(&info, key);
                (
                    self.judge(name, token, &key.system_user, &info, drift),
                    revoke,
                )
            }
        })
    }

    /// The rotations of this user left half-done (a record still holding the token it
    /// replaced, outside a grace period a keeper keeps it for), each to finish.
    fn unfinished(&self, name: &str, id: Option<&SystemUserId>) -> Vec<Change> {
        let Some(id) = id else {
            return Vec::new();
        };
        self.stored
            .iter()
            .filter(|t| {
                &t.key.system_user == id
                    && t.previous().is_some()
                    && !t.in_grace_at(crate::time::unix_now())
            })
            .map(|t| Change::FinishRotation {
                system_user: name.to_owned(),
                key: t.key.clone(),
            })
            .collect()
    }

    /// Why the stored token must be replaced, if it must; drift is recorded on the way.
    fn judge(
        &self,
        name: &str,
        token: &TokenSpec,
        id: &SystemUserId,
        info: &TokenInfo,
        drift: &mut Vec<Drift>,
    ) -> Option<String> {
        let mut push = |kind, detail: String| {
            drift.push(Drift {
                system_user: name.to_owned(),
                kind,
                detail,
                remedy: "a new token is minted and stored, checked, then the old one is revoked"
                    .to_owned(),
            });
        };
        if info.is_valid != Some(true) {
            return Some("the stored token is not valid".to_owned());
        }
        if info.user_id.as_deref() != Some(id.as_str()) {
            return Some("the stored token belongs to another user".to_owned());
        }
        if !info.is_system_user() {
            return Some("the stored token is not a system user's".to_owned());
        }
        if info.app_id.as_ref().is_some_and(|app| *app != token.app) {
            let app = info.app_id.as_ref().map(ToString::to_string);
            push(
                DriftKind::WrongApp,
                format!(
                    "the stored token is of app {}, not {}",
                    app.unwrap_or_default(),
                    token.app
                ),
            );
            return Some("the stored token is of another app".to_owned());
        }
        if let Some(missing) = token.scopes.iter().find(|s| !info.has_scope(s)) {
            return Some(format!("the stored token lacks {missing}"));
        }
        let extra: Vec<&str> = info
            .scopes
            .iter()
            .filter(|s| !token.scopes.contains(s))
            .map(|s| s.as_str())
            .collect();
        if !extra.is_empty() {
            push(
                DriftKind::ExtraScopes,
                format!(
                    "the stored token also has {}, which the desired state does not ask for",
                    extra.join(", ")
                ),
            );
            return Some(format!(
                "the stored token has more permissions than {}",
                scopes(token)
            ));
        }
        if token.expires_in_60_days && info.never_expires() {
            push(
                DriftKind::WrongExpiry,
                "the stored token never expires; the desired state wants a 60-day token".to_owned(),
            );
            return Some("the stored token never expires".to_owned());
        }
        if !token.expires_in_60_days && !info.never_expires() && info.expires_at.is_some() {
            push(
                DriftKind::WrongExpiry,
                "the stored token expires; the desired state wants one that does not".to_owned(),
            );
            return Some("the stored token expires".to_owned());
        }
        if info.expires_within(self.renew_within) {
            return Some(format!(
                "the stored token expires within {} days",
                self.renew_within.as_secs() / 86_400
            ));
        }
        None
    }
}

fn scopes(token: &TokenSpec) -> String {
    token
        .scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn orphan_risk(name: &str) -> Drift {
    Drift {
        system_user: name.to_owned(),
        kind: DriftKind::OrphanRisk,
        detail: "no token of it is stored: a token minted before (by hand, or by a run whose answer was lost) may be valid and held by nobody".to_owned(),
        remedy: "the plan mints one and stores it; plan with PlanOptions::invalidate_orphans(true) to invalidate every earlier token of it first".to_owned(),
    }
}

fn generate(name: &str, token: &TokenSpec, reason: &str, replaces: Vec<TokenKey>) -> Change {
    Change::GenerateToken {
        system_user: name.to_owned(),
        app: token.app.clone(),
        scopes: token.scopes.clone(),
        expires_in_60_days: token.expires_in_60_days,
        reason: reason.to_owned(),
        replaces,
    }
}
