//! The answers the emulator builds: success, Meta's error shapes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::testing::state;

#[derive(Debug)]
pub(crate) enum Body {
    Json(Value),
    Raw(String, &'static str),
}

/// An answer, before it becomes a wiremock response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Body,
    pub(crate) throttled: Option<u64>,
    pub(crate) delay: Option<Duration>,
}

pub(crate) fn ok(body: Value) -> Reply {
    Reply {
        status: 200,
        body: Body::Json(body),
        throttled: None,
        delay: None,
    }
}

pub(crate) fn error(
    status: u16,
    code: i64,
    subcode: Option<i64>,
    kind: &str,
    message: impl Into<String>,
) -> Reply {
    let mut err = json!({
        "message": message.into(),
        "type": kind,
        "code": code,
        "fbtrace_id": format!("EmU{:x}", state::real_now() % 0xFFFF_FFFF),
    });
    if let Some(sub) = subcode {
        err["error_subcode"] = json!(sub);
    }
    if matches!(code, 1 | 2) {
        err["is_transient"] = json!(true);
    }
    Reply {
        status,
        body: Body::Json(json!({ "error": err })),
        throttled: None,
        delay: None,
    }
}

/// `(#100) …`, the Graph API's invalid-parameter error.
/// Code 104, what Meta answers a request without an access token (outside `/me`).
pub(crate) fn token_required() -> Reply {
    error(
        400,
        104,
        None,
        "OAuthException",
        "An access token is required to request this resource.",
    )
}

/// Refuses an empty or over-long `name`. [INFER] Meta documents no limit and no message; the
/// emulator refuses what the crate refuses ([`MAX_NAME_CHARS`](crate::models::MAX_NAME_CHARS))
/// so a caller that skips the crate's checks still meets a refusal.
pub(crate) fn check_name_param(name: &str) -> Option<Reply> {
    if name.trim().is_empty() {
        return Some(invalid("Param name must be a non-empty string"));
    }
    if name.chars().count() > crate::models::MAX_NAME_CHARS {
        return Some(invalid(format!(
            "Param name must be at most {} characters",
            crate::models::MAX_NAME_CHARS
        )));
    }
    None
}

pub(crate) fn invalid(message: impl AsRef<str>) -> Reply {
    error(
        400,
        100,
        None,
        "OAuthException",
        format!("(#100) {}", message.as_ref()),
    )
}

pub(crate) fn permission_denied(what: &str) -> Reply {
    error(
        403,
        200,
        None,
        "OAuthException",
        format!("(#200) Permissions error: {what}"),
    )
}

pub(crate) fn unknown_path(path: &str) -> Reply {
    error(
        400,
        2500,
        None,
        "OAuthException",
        format!("Unknown path components: {path}"),
    )
}

pub(crate) fn no_such_object(id: &str) -> Reply {
    unsupported("", id)
}

/// Meta's 100/33: `method` is `"get "`, `"delete "`… or empty.
pub(crate) fn unsupported(method: &str, id: &str) -> Reply {
    error(
        400,
        100,
        Some(33),
        "GraphMethodException",
        format!(
            "Unsupported {method}request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation"
        ),
    )
}
