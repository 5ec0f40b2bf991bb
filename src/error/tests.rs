use reqwest::header::HeaderMap;

use super::*;

fn api(code: i64, sub: Option<i64>, status: u16) -> ApiError {
    ApiError {
        graph: GraphError {
            code: Some(code),
            error_subcode: sub,
            ..Default::default()
        },
        status,
        method: Method::GET,
        path: "/v26.0/me".into(),
        headers: HeaderMap::new(),
    }
}

#[test]
fn classification() {
    let e = api(190, Some(463), 400);
    assert!(e.is_auth() && !e.is_transient() && !e.is_permission() && !e.is_rate_limited());
    let e = api(200, None, 403);
    assert!(e.is_permission() && !e.is_auth() && !e.is_transient());
    let e = api(100, None, 400);
    assert!(!e.is_permission() && !e.is_auth() && !e.is_transient() && !e.is_rate_limited());
    for code in [4, 17, 32, 341, 613, 80000, 80004, 80014] {
        let e = api(code, None, 400);
        assert!(e.is_rate_limited() && e.is_transient(), "{code}");
    }
    for code in [1, 2] {
        let e = api(code, None, 500);
        assert!(e.is_transient() && !e.is_rate_limited(), "{code}");
    }
    assert!(!api(80015, None, 400).is_rate_limited());
    let mut flagged = api(999, None, 400);
    flagged.graph.is_transient = Some(true);
    assert!(flagged.is_transient());
}

#[test]
fn envelope_decodes_every_key_and_both_error_data_forms() {
    let raw = r#"{"message":"m","type":"OAuthException","code":"3979","error_subcode":1752140,
        "is_transient":"false","error_user_title":"t","error_user_msg":"u","fbtrace_id":"F",
        "error_data":"{\"blame_field_specs\":[[\"name\"]]}"}"#;
    let g: GraphError = serde_json::from_str(raw).unwrap();
    assert_eq!(g.code, Some(3979));
    assert_eq!(g.error_subcode, Some(1752140));
    assert_eq!(g.is_transient, Some(false));
    assert_eq!(g.error_data.unwrap()["blame_field_specs"][0][0], "name");
    let g: GraphError = serde_json::from_str(r#"{"error_data":{"a":1},"message":"x"}"#).unwrap();
    assert_eq!(g.error_data.unwrap()["a"], 1);
    let g: GraphError = serde_json::from_str(r#"{"error_data":"plain words"}"#).unwrap();
    assert_eq!(g.error_data.unwrap(), "plain words");
}

#[test]
fn display_has_code_message_and_trace() {
    let mut e = api(190, Some(463), 400);
    e.graph.message = "Session has expired".into();
    e.graph.fbtrace_id = Some("AbC".into());
    let s = Error::Api(Box::new(e)).to_string();
    assert!(
        s.contains("#190/463") && s.contains("Session has expired") && s.contains("AbC"),
        "{s}"
    );
}

#[test]
fn hints() {
    assert_eq!(
        api(415, Some(2859009), 400).hint(),
        Some(ErrorHint::TwoFactorRequired)
    );
    assert_eq!(
        api(190, Some(463), 400).hint(),
        Some(ErrorHint::TokenExpired)
    );
    assert_eq!(
        api(190, Some(458), 400).hint(),
        Some(ErrorHint::AppNotInstalled)
    );
    assert_eq!(api(190, None, 400).hint(), Some(ErrorHint::InvalidToken));
    assert_eq!(
        api(200, None, 400).hint(),
        Some(ErrorHint::PermissionDenied)
    );
    assert_eq!(api(80004, None, 400).hint(), Some(ErrorHint::RateLimited));
    assert_eq!(api(104, None, 400).hint(), Some(ErrorHint::TokenRequired));
    let mut proof = api(100, None, 400);
    proof.graph.message = "Invalid appsecret_proof provided in the API argument".into();
    assert_eq!(proof.hint(), Some(ErrorHint::BadSignature));
    proof.graph.message = "API calls from the server require an appsecret_proof argument".into();
    assert_eq!(proof.hint(), Some(ErrorHint::BadSignature));
    let mut legacy = api(3, None, 400);
    assert_eq!(
        legacy.hint(),
        None,
        "code 3 elsewhere is not about the token edge"
    );
    legacy.method = Method::POST;
    legacy.path = "/v26.0/61000000000001/access_tokens".into();
    assert_eq!(legacy.hint(), Some(ErrorHint::LegacyTokenEdgeClosed));
    assert!(
        Error::Api(Box::new(legacy))
            .to_string()
            .contains("system_user_access_tokens")
    );
    assert_eq!(api(100, None, 400).hint(), None);
    assert!(
        Error::Api(Box::new(api(415, Some(2859009), 400)))
            .to_string()
            .contains("two-factor")
    );
}

#[test]
fn clip_respects_char_boundaries() {
    assert_eq!(clip("héllo", 2), "hé…");
    assert_eq!(clip("ab", 5), "ab");
}
