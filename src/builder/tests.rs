//! `ClientBuilder`'s unit tests: variables, base URLs, setter order.
use super::*;

#[test]
fn from_env_names_the_variable_of_a_bad_tier() {
    let vars = |name: &str| (name == "META_ACCESS_TIER").then(|| "gold".to_owned());
    let err = Client::builder().with_vars_from(vars).unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with("invalid input `META_ACCESS_TIER`: expected `limited`"),
        "{shown}"
    );
    assert!(!shown.contains("`access_tier`"), "{shown}");
    let vars = |name: &str| (name == "META_ACCESS_TIER").then(|| "full".to_owned());
    let tier = Client::builder().with_vars_from(vars).unwrap().tier;
    assert_eq!(tier, Some(AccessTier::Full));
}

#[test]
fn base_url_rules() {
    assert!(parse_base_url("http://127.0.0.1:8080").is_ok());
    assert!(parse_base_url("https://proxy.example/graph/").is_ok());
    for bad in [
        "ftp://x",
        "not a url",
        "https://x/?access_token=1",
        "https://u:p@x",
        "https://x/#f",
    ] {
        assert!(parse_base_url(bad).is_err(), "{bad}");
    }
}

/// What a built client shows of the settings `with_vars_from` may fill.
fn settings(builder: ClientBuilder) -> (String, String, QuotaPolicy) {
    let client = builder.build().unwrap();
    (
        client.base_url().to_string(),
        client.api_version().to_string(),
        client.quota_policy(),
    )
}

#[test]
fn a_setter_wins_over_its_variable_before_or_after_from_env() {
    let vars = |name: &str| match name {
        "META_ACCESS_TOKEN" => Some("EAAB-from-env-0123456789".to_owned()),
        "META_GRAPH_URL" => Some("http://127.0.0.1:9/env".to_owned()),
        "META_API_VERSION" => Some("v25.0".to_owned()),
        "META_ACCESS_TIER" => Some("full".to_owned()),
        _ => None,
    };
    let set = |b: ClientBuilder| {
        b.base_url("http://127.0.0.1:9/set")
            .api_version("v26.0")
            .access_tier(AccessTier::Limited)
    };
    let before = settings(set(ClientBuilder::default()).with_vars_from(vars).unwrap());
    let after = settings(set(ClientBuilder::default().with_vars_from(vars).unwrap()));
    assert_eq!(before, after);
    assert_eq!(
        before,
        (
            "http://127.0.0.1:9/set".to_owned(),
            "v26.0".to_owned(),
            QuotaPolicy::Tier(AccessTier::Limited)
        )
    );
    // What no setter gives still comes from the variables.
    let env_only = settings(ClientBuilder::default().with_vars_from(vars).unwrap());
    assert_eq!(env_only.1, "v25.0");
    assert_eq!(env_only.2, QuotaPolicy::Tier(AccessTier::Full));
}
