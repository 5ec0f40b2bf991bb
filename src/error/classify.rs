//! How a Graph error is read: one table of codes, subcodes and wordings, each row giving the
//! class of the failure and its hint, with the source it comes from.
//!
//! Sources (cited by letter in the rows):
//! - [E] Meta, "Handling Errors", <https://developers.facebook.com/docs/graph-api/guides/error-handling>
//!   (codes 1, 2, 3, 4, 10, 17, 100, 102, 104, 190 and its subcodes, 200–299, 341, 368, 506, 613).
//! - [R] Meta, "Rate Limiting", <https://developers.facebook.com/docs/graph-api/overview/rate-limiting>
//!   (4, 17, 32, 613, the Business Use Case codes 80000–80014 and their subcodes).
//! - [M] Meta, Marketing API "Rate Limiting", <https://developers.facebook.com/docs/marketing-apis/rate-limiting>
//!   (17/2446079, 613/1487742, 4/1504022, 4/1504039).
//! - [I] Meta, Instagram Platform "Error Codes",
//!   <https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes>
//!   (4/2207051 "Action is blocked": a block for suspected spam, not a throttle).
//! - [S] facebook-python-business-sdk issue #528 and other public issue threads (the real bodies
//!   of 100 "Invalid appsecret_proof…", 100 "…require an appsecret_proof argument", 104, 2500;
//!   see `tests/fixtures/real/`).
//! - [P] Meta's PHP Business SDK, `RequestException::create` (100, 102, 190 and the token
//!   subcodes are authorization; 1, 2 server; 4, 17, 341 throttle; 10, 200–299 permission).
//! - [D] `../shared/graph-api.md` §9–§10 (what real answers showed; 2500 belongs to `/me`).
//!
//! Meta's own `is_transient` flag, when present, overrides the class's idea of whether a
//! retry may succeed, both ways (§10 of graph-api.md: real envelopes carry `false` on codes
//! that are usually transient).

use super::{ApiError, ErrorHint};

/// What kind of failure a Graph error is, read from Meta's error reference.
///
/// ```
/// use meta_business::ErrorClass;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let err = client.with_token("EAAE-unknown").business(demo.business_id).get().send().await.unwrap_err();
/// assert_eq!(err.class(), Some(ErrorClass::Auth));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// A temporary failure on Meta's side (codes 1, 2, HTTP 5xx): trying again later may work.
    Transient,
    /// A rate limit (codes 4, 17, 32, 341, 613, 80000–80014, HTTP 429): wait, then retry.
    RateLimit,
    /// The token or its proof was refused (190 and its subcodes, 102, 104, 2500, a bad
    /// `appsecret_proof`): get a new token or fix the proof; retrying will not help.
    Auth,
    /// The token lacks a permission, role or capability (3, 10, 200–299, a code 100 "Missing
    /// Permission").
    Permission,
    /// Meta blocked the action for its policies (368, Instagram's 4/2207051): wait for the
    /// block to lift; retrying now does not help and may prolong it.
    PolicyBlock,
    /// The request itself is wrong (100 otherwise, 110, 506, 803): fix it.
    Input,
    /// A code this table does not know.
    Other,
}

/// Which codes a row matches.
#[derive(Clone, Copy)]
enum Codes {
    Is(i64),
    Range(i64, i64),
    Any,
}

/// One row: a code (and, if given, one of `subs` and one of `words` in the message, and the
/// legacy token edge) gives a class and a hint. The first row that matches wins.
struct Row {
    codes: Codes,
    subs: &'static [i64],
    words: &'static [&'static str],
    legacy_edge: bool,
    class: ErrorClass,
    hint: Option<ErrorHint>,
}

const fn row(codes: Codes, class: ErrorClass, hint: Option<ErrorHint>) -> Row {
    Row {
        codes,
        subs: &[],
        words: &[],
        legacy_edge: false,
        class,
        hint,
    }
}

const fn sub(
    codes: Codes,
    subs: &'static [i64],
    class: ErrorClass,
    hint: Option<ErrorHint>,
) -> Row {
    Row {
        subs,
        ..row(codes, class, hint)
    }
}

const fn said(
    codes: Codes,
    words: &'static [&'static str],
    class: ErrorClass,
    hint: Option<ErrorHint>,
) -> Row {
    Row {
        words,
        ..row(codes, class, hint)
    }
}

const fn legacy(codes: Codes, words: &'static [&'static str]) -> Row {
    Row {
        words,
        legacy_edge: true,
        ..row(
            codes,
            ErrorClass::Permission,
            Some(ErrorHint::LegacyTokenEdgeClosed),
        )
    }
}

use Codes::{Any, Is, Range};
use ErrorClass::{Auth, Input, Other, Permission, PolicyBlock, RateLimit, Transient};

/// Wordings of "send `appsecret_proof`" (lowercase): "Invalid appsecret_proof provided in the
/// API argument", "API calls from the server require an appsecret_proof argument" [S], "(#100)
/// Pages Public Content Access requires either app secret proof or an app token" [D §10].
const PROOF_WORDS: &[&str] = &["appsecret_proof", "appsecret_time", "app secret proof"];

/// The table. Order matters: subcodes and wordings before their code's general row.
const TABLE: &[Row] = &[
    // [E] "two factor authentication required" when minting an admin system user's token.
    sub(
        Is(415),
        &[2859009],
        Other,
        Some(ErrorHint::TwoFactorRequired),
    ),
    // [E] 190's subcodes; [P] reads them as authorization whatever the code.
    sub(Any, &[463], Auth, Some(ErrorHint::TokenExpired)),
    sub(Any, &[458], Auth, Some(ErrorHint::AppNotInstalled)),
    sub(
        Any,
        &[459, 460, 464, 467, 492],
        Auth,
        Some(ErrorHint::InvalidToken),
    ),
    row(Is(190), Auth, Some(ErrorHint::InvalidToken)),
    row(Is(102), Auth, Some(ErrorHint::InvalidToken)),
    // [S] "An access token is required to request this resource".
    row(Is(104), Auth, Some(ErrorHint::TokenRequired)),
    // [S][D] "An active access token must be used to query information about the current user".
    row(Is(2500), Auth, Some(ErrorHint::TokenRequired)),
    // [S][D] a wrong or missing proof comes back as code 100 (GraphMethodException).
    said(Is(100), PROOF_WORDS, Auth, Some(ErrorHint::BadSignature)),
    // [E] 100/33: "Unsupported get request. Object … does not exist, cannot be loaded due to
    // missing permissions, or does not support this operation": Meta cannot tell which.
    sub(Is(100), &[33], Input, None),
    // [D §10] "(#100) Missing Permission".
    said(
        Is(100),
        &["missing permission"],
        Permission,
        Some(ErrorHint::PermissionDenied),
    ),
    // [D §9] the refusal of the legacy token edge is undocumented [INFER]: the generic
    // capability error, or a permission error naming the 90 days.
    legacy(Is(3), &[]),
    legacy(Is(10), &["90 days"]),
    legacy(Range(200, 299), &["90 days"]),
    // [E] 3 "API Method": the app lacks the capability; no hint, the remedy depends on the call.
    row(Is(3), Permission, None),
    // [E] 10 "API Permission Denied", 200–299 "API Permission (Multiple values depending on
    // permission)".
    row(Is(10), Permission, Some(ErrorHint::PermissionDenied)),
    row(
        Range(200, 299),
        Permission,
        Some(ErrorHint::PermissionDenied),
    ),
    // [E] 368 "The action attempted has been deemed abusive or is otherwise disallowed":
    // temporarily blocked for policy violations; wait, do not retry now.
    row(Is(368), PolicyBlock, Some(ErrorHint::PolicyBlocked)),
    // [I] 4/2207051 "Action is blocked" (HTTP 403, `is_transient: false`): a block, not the
    // app-level rate limit code 4 usually is.
    sub(
        Is(4),
        &[2207051],
        PolicyBlock,
        Some(ErrorHint::PolicyBlocked),
    ),
    // [E][R][M] rate limits: app (4), user (17, with 2446079 for Ads), Pages (32), application
    // limit (341), custom (613), Business Use Case (80000–80014).
    row(Is(4), RateLimit, Some(ErrorHint::RateLimited)),
    row(Is(17), RateLimit, Some(ErrorHint::RateLimited)),
    row(Is(32), RateLimit, Some(ErrorHint::RateLimited)),
    row(Is(341), RateLimit, Some(ErrorHint::RateLimited)),
    row(Is(613), RateLimit, Some(ErrorHint::RateLimited)),
    row(Range(80000, 80014), RateLimit, Some(ErrorHint::RateLimited)),
    // [E] 1 "API Unknown: possibly a temporary issue", 2 "API Service: temporary downtime".
    row(Is(1), Transient, None),
    row(Is(2), Transient, None),
    // [E] 100 invalid parameter, 110 invalid user id, 506 duplicate post; 803 "Some of the
    // aliases you requested do not exist".
    row(Is(100), Input, None),
    row(Is(110), Input, None),
    row(Is(506), Input, None),
    row(Is(803), Input, None),
];

impl Codes {
    fn matches(self, code: Option<i64>) -> bool {
        match (self, code) {
            (Any, _) => true,
            (Is(want), Some(code)) => code == want,
            (Range(lo, hi), Some(code)) => (lo..=hi).contains(&code),
            _ => false,
        }
    }
}

impl Row {
    fn matches(&self, api: &ApiError, message: &str, legacy_edge: bool) -> bool {
        self.codes.matches(api.graph.code)
            && (self.subs.is_empty()
                || api
                    .graph
                    .error_subcode
                    .is_some_and(|s| self.subs.contains(&s)))
            && (self.words.is_empty() || self.words.iter().any(|w| message.contains(w)))
            && (!self.legacy_edge || legacy_edge)
    }
}

/// The class and hint of `api`: the first matching row, else by HTTP status (429 a rate limit,
/// 5xx transient).
pub(super) fn classify(api: &ApiError) -> (ErrorClass, Option<ErrorHint>) {
    let message = api.graph.message.to_ascii_lowercase();
    let legacy_edge = api.method == reqwest::Method::POST && api.path.ends_with("/access_tokens");
    if let Some(row) = TABLE
        .iter()
        .find(|row| row.matches(api, &message, legacy_edge))
    {
        return (row.class, row.hint);
    }
    match api.status {
        429 => (RateLimit, Some(ErrorHint::RateLimited)),
        500.. => (Transient, None),
        _ => (Other, None),
    }
}

/// Whether a retry may succeed: Meta's `is_transient` when it sent one (either way), else the
/// class (transient or rate limit) or an HTTP 5xx.
pub(super) fn transient(api: &ApiError, class: ErrorClass) -> bool {
    match api.graph.is_transient {
        Some(flag) => flag,
        None => matches!(class, Transient | RateLimit) || api.status >= 500,
    }
}

/// Whether it is a rate limit: the class, or HTTP 429 unless a row reads it as something else
/// (a policy block is not a throttle).
pub(super) fn rate_limited(api: &ApiError, class: ErrorClass) -> bool {
    class == RateLimit || (api.status == 429 && matches!(class, Other | Transient))
}

#[cfg(test)]
mod tests {
    use reqwest::Method;
    use reqwest::header::HeaderMap;

    use super::*;
    use crate::error::GraphError;

    fn api(
        code: i64,
        sub: Option<i64>,
        flag: Option<bool>,
        status: u16,
        message: &str,
    ) -> ApiError {
        ApiError {
            graph: GraphError {
                code: Some(code),
                error_subcode: sub,
                is_transient: flag,
                message: message.into(),
                ..Default::default()
            },
            status,
            method: Method::GET,
            path: "/v26.0/1".into(),
            headers: HeaderMap::new(),
        }
    }

    #[test]
    fn metas_flag_wins_both_ways() {
        // Real: code 1/1965014 with is_transient false (graph-api.md §10).
        let e = api(
            1,
            Some(1965014),
            Some(false),
            500,
            "An unknown error occurred",
        );
        assert_eq!(e.class(), Transient);
        assert!(!e.is_transient(), "Meta's false is final, even on a 5xx");
        assert!(api(1, None, None, 500, "x").is_transient());
        assert!(api(190, None, Some(true), 400, "x").is_transient());
        let throttle = api(17, None, Some(false), 400, "User request limit reached");
        assert!(throttle.is_rate_limited() && !throttle.is_transient());
    }

    #[test]
    fn a_block_is_not_a_throttle() {
        let e = api(4, Some(2207051), Some(false), 403, "Action is blocked");
        assert_eq!(e.class(), PolicyBlock);
        assert!(!e.is_rate_limited() && !e.is_transient());
        assert_eq!(e.hint(), Some(ErrorHint::PolicyBlocked));
        // Without Meta's flag too: the subcode alone says block.
        assert!(!api(4, Some(2207051), None, 403, "x").is_transient());
        let e = api(
            368,
            None,
            None,
            400,
            "temporarily blocked for policies violations",
        );
        assert_eq!(e.class(), PolicyBlock);
        assert_eq!(e.hint(), Some(ErrorHint::PolicyBlocked));
        assert!(e.hint().unwrap().remedy().contains("do not retry now"));
        assert!(!e.is_transient() && !e.is_rate_limited());
        // Code 4 otherwise stays the app-level rate limit.
        let e = api(4, Some(1504022), None, 400, "too many calls from this app");
        assert!(e.is_rate_limited() && e.is_transient());
    }

    #[test]
    fn the_other_wordings() {
        let e = api(
            100,
            None,
            None,
            400,
            "(#100) Pages Public Content Access requires either app secret proof or an app token",
        );
        assert_eq!((e.class(), e.hint()), (Auth, Some(ErrorHint::BadSignature)));
        let e = api(
            2500,
            None,
            None,
            400,
            "An active access token must be used to query information about the current user.",
        );
        assert!(e.is_auth());
        assert_eq!(e.hint(), Some(ErrorHint::TokenRequired));
        let e = api(100, None, None, 400, "(#100) Missing Permission");
        assert!(e.is_permission() && !e.is_auth());
        assert_eq!(e.hint(), Some(ErrorHint::PermissionDenied));
        let e = api(
            100,
            Some(33),
            None,
            400,
            "Unsupported get request. Object with ID '1' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
        );
        assert_eq!((e.class(), e.hint()), (Input, None));
        assert_eq!(
            api(100, None, None, 400, "Invalid parameter").class(),
            Input
        );
        assert_eq!(
            api(3, None, None, 400, "(#3) capability").class(),
            Permission
        );
        assert_eq!(api(3, None, None, 400, "(#3) capability").hint(), None);
        assert_eq!(api(12345, None, None, 400, "x").class(), Other);
        assert_eq!(api(12345, None, None, 429, "x").class(), RateLimit);
        assert_eq!(api(12345, None, None, 503, "x").class(), Transient);
    }

    #[test]
    fn every_row_is_reachable() {
        // A row hidden behind an earlier, wider one would never apply.
        for (i, row) in TABLE.iter().enumerate() {
            let code = match row.codes {
                Is(c) | Range(c, _) => c,
                Any => 190,
            };
            let mut e = api(
                code,
                row.subs.first().copied(),
                None,
                400,
                row.words.first().copied().unwrap_or(""),
            );
            if row.legacy_edge {
                e.method = Method::POST;
                e.path = "/v26.0/61000000000001/access_tokens".into();
            }
            assert_eq!(classify(&e), (row.class, row.hint), "row {i}");
        }
    }
}
