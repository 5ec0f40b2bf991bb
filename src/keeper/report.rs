//! What a keeper pass found and did, for people (`Display`) and machines (serde JSON). Holds
//! no token.

use std::fmt;

use serde::Serialize;

use crate::store::TokenKey;

/// What `debug_token` said of a stored token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenState {
    /// Not inspected (the pass failed before).
    Unknown,
    /// Valid, and not expiring within the window.
    Valid,
    /// Valid, and expiring within the window: refreshed.
    ExpiresSoon,
    /// Expired: it cannot be refreshed; generate a new one.
    Expired,
    /// Invalid (revoked, its system user's tokens invalidated, its app removed).
    Invalid,
    /// Valid and never expiring: nothing to refresh, and one to revoke when offboarding.
    NeverExpires,
    /// Not the token of its key: `debug_token` shows another system user, another app or
    /// another type. Never refreshed; store this key's token in its place.
    Mismatch,
}

/// The step of a refresh that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Step {
    /// Reading the token from the store.
    Read,
    /// `debug_token` on the stored token.
    Inspect,
    /// The exchange for a fresh token.
    Refresh,
    /// Writing the fresh token to the store.
    Store,
    /// `debug_token` on the fresh token.
    Verify,
    /// Finishing a rotation an earlier pass left half-done (the record held the token it
    /// replaced).
    Finish,
}

/// One token's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TokenReport {
    /// Which token.
    pub key: TokenKey,
    /// What it was found to be.
    pub state: TokenState,
    /// When the stored token expires (Unix seconds), when known: the new one's after a
    /// refresh.
    pub expires_at: Option<u64>,
    /// Whether a fresh token was stored, checked and the old one dealt with.
    pub refreshed: bool,
    /// Whether the rotation was asked for ([`TokenKeeper::rotate`](crate::keeper::TokenKeeper::rotate))
    /// rather than due: `Display` says "rotated on demand", not that it expires soon.
    pub on_demand: bool,
    /// Why it was left alone.
    pub skipped: Option<String>,
    /// The step that failed, and why; the store still holds a working token.
    pub failed: Option<(Step, String)>,
    /// Something to know that is not a failure (the old token could not be revoked).
    pub warning: Option<String>,
    /// Set when a token may exist that nobody holds (the answer to minting it was lost, or the
    /// server answered with a token that is not this key's): what happened and the remedy
    /// (invalidate the system user's tokens and mint again).
    pub orphan_risk: Option<String>,
    /// Set when another keeper (another replica) stored its fresh token first: this one stored
    /// nothing, revoked the token it minted (or says why not) and the key holds the winner's.
    pub lost_race: Option<String>,
    /// The end of an old token's grace period this pass: revoked, or why not (shown in the
    /// pass's `retired` and `retire_failures`).
    #[serde(skip)]
    pub(crate) grace_end: Option<Result<(), String>>,
}

impl TokenReport {
    pub(crate) fn new(key: TokenKey) -> Self {
        TokenReport {
            key,
            state: TokenState::Unknown,
            expires_at: None,
            refreshed: false,
            on_demand: false,
            skipped: None,
            failed: None,
            warning: None,
            orphan_risk: None,
            lost_race: None,
            grace_end: None,
        }
    }

    pub(crate) fn skipped(mut self, why: &str) -> Self {
        self.skipped = Some(why.to_owned());
        self
    }

    pub(crate) fn failed(mut self, step: Step, why: String) -> Self {
        self.failed = Some((step, why));
        self
    }
}

/// One line: the key, what was found and done (without a leading indent or newline).
impl fmt::Display for TokenReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self;
        let state = match t.state {
            TokenState::Unknown => "not inspected",
            TokenState::Valid => "valid",
            TokenState::ExpiresSoon => "expires soon",
            TokenState::Expired => "EXPIRED: generate a new token",
            TokenState::Invalid => "INVALID: generate a new token",
            TokenState::NeverExpires => "never expires: revoke it when offboarding",
            TokenState::Mismatch => "NOT THIS KEY'S TOKEN: store this key's token",
        };
        if t.on_demand && t.refreshed {
            // Asked for, so the state found says nothing about why it was rotated.
            write!(f, "{}: rotated on demand", t.key)?;
        } else if t.on_demand {
            write!(f, "{}: {state}; rotation asked for, not done", t.key)?;
        } else {
            write!(f, "{}: {state}", t.key)?;
        }
        if t.refreshed && !t.on_demand {
            write!(f, "; refreshed")?;
        }
        if let Some(at) = t.expires_at {
            write!(f, "; expires {}", crate::time::date(at))?;
        }
        if let Some(why) = &t.skipped {
            write!(f, "; left alone: {why}")?;
        }
        if let Some((step, why)) = &t.failed {
            // Said from the state found, never assumed: a failed refresh of an expired
            // token does not leave a working one.
            let stored = match t.state {
                TokenState::Valid | TokenState::ExpiresSoon | TokenState::NeverExpires => {
                    "the stored token still works"
                }
                TokenState::Expired | TokenState::Invalid => {
                    "the stored token does not work: generate a new one"
                }
                TokenState::Mismatch => "the stored token is not this key's",
                TokenState::Unknown => "the stored token's state is unknown",
            };
            write!(f, "; FAILED at {step:?} ({stored}): {why}")?;
        }
        if let Some(lost) = &t.lost_race {
            write!(f, "; {lost}")?;
        }
        if let Some(orphan) = &t.orphan_risk {
            write!(f, "; {orphan}")?;
        }
        if let Some(warning) = &t.warning {
            write!(f, "; note: {warning}")?;
        }
        Ok(())
    }
}

/// A keeper pass: every stored token's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
#[must_use = "a failed refresh is inside the report; check `is_healthy()` or call `into_result()`"]
pub struct KeeperReport {
    /// When the pass started (Unix seconds, by the keeper's clock).
    pub checked_at: u64,
    /// Each token, in key order.
    pub tokens: Vec<TokenReport>,
    /// Why the pass could not run at all (the store could not be listed).
    pub error: Option<String>,
    /// Keys whose old token was revoked this pass, its grace period over.
    pub retired: Vec<TokenKey>,
    /// Old tokens whose revocation failed this pass (they expire by themselves).
    pub retire_failures: Vec<String>,
}

impl KeeperReport {
    pub(crate) fn new(checked_at: u64, tokens: Vec<TokenReport>) -> Self {
        KeeperReport {
            checked_at,
            tokens,
            error: None,
            retired: Vec::new(),
            retire_failures: Vec::new(),
        }
    }

    pub(crate) fn failed(checked_at: u64, error: String) -> Self {
        KeeperReport {
            checked_at,
            tokens: Vec::new(),
            error: Some(error),
            retired: Vec::new(),
            retire_failures: Vec::new(),
        }
    }

    /// Whether every token is usable now and nothing failed.
    pub fn is_healthy(&self) -> bool {
        self.error.is_none()
            && self.tokens.iter().all(|t| {
                t.failed.is_none()
                    && t.orphan_risk.is_none()
                    && matches!(
                        t.state,
                        TokenState::Valid | TokenState::ExpiresSoon | TokenState::NeverExpires
                    )
            })
    }

    /// The report when it [`is_healthy`](KeeperReport::is_healthy), else
    /// [`TokensNeedAttention`], which keeps it.
    ///
    /// # Errors
    /// [`TokensNeedAttention`] when a step failed or a token is expired or invalid.
    pub fn into_result(self) -> Result<KeeperReport, TokensNeedAttention> {
        if self.is_healthy() {
            Ok(self)
        } else {
            Err(TokensNeedAttention(Box::new(self)))
        }
    }

    /// One line: how many tokens were checked, refreshed, failed, and need a person.
    pub fn summary(&self) -> String {
        if let Some(error) = &self.error {
            return format!("the pass could not run: {error}");
        }
        let count = |f: &dyn Fn(&TokenReport) -> bool| self.tokens.iter().filter(|t| f(t)).count();
        let mut line = format!(
            "{} token(s) checked: {} refreshed, {} failed, {} expired or invalid, {} never expiring",
            self.tokens.len(),
            count(&|t| t.refreshed && !t.on_demand),
            count(&|t| t.failed.is_some()),
            count(&|t| matches!(
                t.state,
                TokenState::Expired | TokenState::Invalid | TokenState::Mismatch
            )),
            count(&|t| t.state == TokenState::NeverExpires),
        );
        let rotated = count(&|t| t.refreshed && t.on_demand);
        if rotated > 0 {
            line.push_str(&format!(", {rotated} rotated on demand"));
        }
        let lost = count(&|t| t.lost_race.is_some());
        if lost > 0 {
            line.push_str(&format!(", {lost} refreshed by another replica first"));
        }
        let orphans = count(&|t| t.orphan_risk.is_some());
        if orphans > 0 {
            line.push_str(&format!(
                ", {orphans} may have left a token that nobody holds"
            ));
        }
        line
    }
}

impl fmt::Display for KeeperReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary())?;
        for t in &self.tokens {
            writeln!(f, "  {t}")?;
        }
        for key in &self.retired {
            writeln!(f, "  {key}: the old token's grace period is over; revoked")?;
        }
        for failure in &self.retire_failures {
            writeln!(f, "  {failure}")?;
        }
        Ok(())
    }
}

/// A keeper pass after which a token needs a person; the report is inside.
#[derive(Debug)]
pub struct TokensNeedAttention(pub Box<KeeperReport>);

impl fmt::Display for TokensNeedAttention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tokens need attention: {}", self.0.summary())
    }
}

impl std::error::Error for TokensNeedAttention {}
