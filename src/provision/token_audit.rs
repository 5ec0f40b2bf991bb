//! The token part of an audit: each stored or given token inspected as its own app, and what
//! is wrong with it (invalid, another user's, never expiring, expiring soon, a rotation left
//! half-done).

use std::time::Duration;

use secrecy::SecretString;

use super::audit::{AuditOptions, Finding, FindingKind, Severity, finding};
use super::error::Result;
use crate::client::Client;
use crate::ids::{AppId, BusinessId};
use crate::models::token::TokenInfo;
use crate::store::TokenKey;

/// The findings about the tokens the caller passed: invalid, never expiring, expiring soon.
pub(super) async fn token_findings(
    client: &Client,
    business: &BusinessId,
    options: &AuditOptions,
) -> Result<Vec<Finding>> {
    let window = options
        .expiry_window
        .unwrap_or(Duration::from_secs(14 * 86_400));
    // Each token is inspected as its own app: the caller's tokens as `options.app`, the
    // store's as the app of their key.
    // A stored token has a key: what it must be is known, and checked.
    let mut tokens: Vec<(String, Option<AppId>, SecretString, Option<TokenKey>)> = options
        .tokens
        .iter()
        .map(|(label, token)| (label.clone(), options.app.clone(), token.clone(), None))
        .collect();
    let mut findings = Vec::new();
    if let Some(store) = &options.store {
        for key in store.keys().await? {
            if key.business != *business {
                continue;
            }
            // One entry that cannot be read is a finding about it; the others are still audited.
            match store
                .get(&key)
                .await
                .map(|found| found.map(|found| found.token))
            {
                Ok(Some(stored)) => {
                    if stored.previous().is_some() && !stored.in_grace_at(crate::time::unix_now()) {
                        findings.push(finding(
                            FindingKind::RotationUnfinished,
                            Severity::Warning,
                            &key.to_string(),
                            "a token rotation was left half-done: the record still holds the token it replaced".into(),
                            "run the token keeper, or plan and apply: either finishes it (checks the new token, revokes the old one)",
                        ));
                    }
                    let label = key.to_string();
                    let app = Some(key.app.clone());
                    tokens.push((label, app, stored.secret().clone(), Some(key)));
                }
                Ok(None) => {}
                Err(err) => findings.push(finding(
                    FindingKind::TokenUnknown,
                    Severity::Warning,
                    &key.to_string(),
                    format!("the stored token could not be read: {err}"),
                    "repair or remove the store's entry (a service may be left without its token)",
                )),
            }
        }
    }
    for (label, app, token, key) in &tokens {
        let info = match inspect(client, app.as_ref(), token).await? {
            Ok(info) => info,
            Err(why) => {
                findings.push(finding(
                    FindingKind::TokenUnknown,
                    Severity::Info,
                    label,
                    format!("the token could not be inspected: {why}"),
                    "give the client the secret of the token's app (ClientBuilder::app_secret_for)",
                ));
                continue;
            }
        };
        let mismatch = key
            .as_ref()
            .and_then(|key| crate::keeper::identity::mismatch(&info, key));
        if let Some(why) = mismatch {
            findings.push(finding(
                FindingKind::TokenMismatch,
                Severity::Critical,
                label,
                format!("the stored token is not this key's: {why}"),
                "store a token of this system user and app in its place (plan and apply mint one), and find out how the other got there",
            ));
            continue;
        }
        findings.extend(token_finding(label, &info, window));
    }
    Ok(findings)
}

/// `debug_token` as `app` (or as the client without one). A token the Graph API will not
/// describe (or whose app's secret the client lacks) is a finding, `Ok(Err(why))`, not a
/// failure of the audit; a failure to reach the API stays an error.
pub(crate) async fn inspect(
    client: &Client,
    app: Option<&AppId>,
    token: &SecretString,
) -> crate::Result<std::result::Result<TokenInfo, String>> {
    let inspector = match app {
        Some(app) => match client.as_app(app.clone()) {
            Ok(inspector) => inspector,
            Err(err) => return Ok(Err(err.to_string())),
        },
        None => client.clone(),
    };
    match inspector.debug_token(token.clone()).send().await {
        Ok(info) => Ok(Ok(info)),
        Err(err) if err.api_error().is_some() => Ok(Err(err.to_string())),
        Err(err) => Err(err),
    }
}

fn token_finding(label: &str, info: &TokenInfo, window: Duration) -> Option<Finding> {
    if info.is_valid != Some(true) {
        Some(finding(
            FindingKind::TokenInvalid,
            Severity::Critical,
            label,
            "the token is not valid (revoked, invalidated or expired)".into(),
            "generate a new token and replace it where it is used",
        ))
    } else if info.never_expires() {
        Some(finding(
            FindingKind::TokenNeverExpires,
            Severity::Warning,
            label,
            "the token never expires".into(),
            "prefer 60-day tokens (set_token_expires_in_60_days) and rotate them",
        ))
    } else if info.expires_within(window) {
        Some(finding(
            FindingKind::TokenExpiresSoon,
            Severity::Critical,
            label,
            format!(
                "the token expires within {} days",
                window.as_secs() / 86_400
            ),
            "refresh it now (GET /oauth/access_token), deploy the new one, then revoke the old one",
        ))
    } else {
        None
    }
}
