//! The desired-state parser's errors: each names where the problem is.
use super::*;

const GOOD: &str = r#"{
    "business": "1000000000001",
    "access_tier": "Advanced",
    "system_users": [{
        "name": "ads-reporting-server",
        "apps": ["2000000000001"],
        "assets": [{"ad_account": "3000000000001", "tasks": ["analyze"]}, {"page": "4000000000001", "tasks": ["ANALYZE", "ADVERTISE"]}],
        "token": {"app": "2000000000001", "scopes": ["ads_read"]}
    }]
}"#;

#[test]
fn parses_and_normalizes() {
    let spec = Spec::from_json_str(GOOD).unwrap();
    assert_eq!(spec.access_tier, Some(AccessTier::Full));
    let su = &spec.system_users[0];
    assert_eq!(su.role, SystemUserRole::Employee);
    assert_eq!(
        su.assets[0].asset,
        AssetRef::AdAccount("act_3000000000001".into())
    );
    assert_eq!(su.assets[0].tasks, ["ANALYZE"]);
    assert!(su.token.as_ref().unwrap().expires_in_60_days);
}

fn err_of(json: &str) -> String {
    Spec::from_json_str(json).unwrap_err().to_string()
}

#[test]
fn errors_name_their_path() {
    let cases = [
        (r#"{"business": "1", "extra": 1}"#, "unknown field `extra`"),
        (
            r#"{"business": "1", "system_users": [{"name": "a", "colour": "red"}]}"#,
            "system_users[0]",
        ),
        (r#"{"business": "x"}"#, "at business:"),
        (
            r#"{"business": "1", "access_tier": "gold"}"#,
            "at access_tier:",
        ),
        (
            r#"{"business": "1", "system_users": [{"name": "a"}, {"name": "a"}]}"#,
            "system_users[1].name",
        ),
        (
            r#"{"business": "1", "system_users": [{"name": "CRM-Sync-EU"}, {"name": " crm-sync-eu"}]}"#,
            "system_users[1].name",
        ),
        (
            r#"{"business": "1", "system_users": [{"name": "a", "role": "ADMIN", "assets": [{"page": "5", "tasks": ["ANALYZE"]}]}]}"#,
            "system_users[0].assets:",
        ),
        (
            r#"{"business": "1", "system_users": [{"name": "a", "role": "OWNER"}]}"#,
            "system_users[0].role",
        ),
        (
            r#"{"business": "1", "system_users": [{"name": "a", "assets": [{"catalog": "5", "tasks": ["EDIT"]}]}]}"#,
            "system_users[0].assets[0].tasks[0]",
        ),
        (
            r#"{"business": "1", "system_users": [{"name": "a", "assets": [{"page": "5", "pixel": "6", "tasks": ["ANALYZE"]}]}]}"#,
            "system_users[0].assets[0]:",
        ),
        (
            r#"{"business": "1", "system_users": [{"name": "a", "assets": [{"page": "p5", "tasks": ["ANALYZE"]}]}]}"#,
            "system_users[0].assets[0].page",
        ),
        (
            r#"{"business": "1", "system_users": [{"name": "a", "assets": [{"page": "5"}]}]}"#,
            "system_users[0].assets[0].tasks",
        ),
        (
            r#"{"business": "1", "system_users": [{"name": "a", "token": {"app": "2", "scopes": ["ads_read"]}}]}"#,
            "system_users[0].token.app",
        ),
        (
            r#"{"business": "1", "system_users": [{"name": "a", "apps": ["2"], "token": {"app": "2", "scopes": ["ads_reed"]}}]}"#,
            "system_users[0].token.scopes[0]",
        ),
        ("{\"business\": \"1\",\n \"system_users\": [}", "line 2"),
    ];
    for (json, needle) in cases {
        let err = err_of(json);
        assert!(err.contains(needle), "{json}\n  → {err}");
    }
}

#[test]
fn an_admin_may_hold_assets_when_allowed() {
    let spec = Spec::from_json_str(
        r#"{"business": "1", "system_users": [{"name": "admin-ops", "role": "ADMIN", "allow_admin_assets": true, "assets": [{"page": "5", "tasks": ["ANALYZE"]}]}]}"#,
    )
    .unwrap();
    assert!(spec.system_users[0].allow_admin_assets);
    assert!(spec.system_user("ADMIN-OPS ").is_some());
}

#[test]
fn toml_errors_name_the_line() {
    let err = Spec::from_toml_str(
        "business = \"1\"\n\n[[system_users]]\nname = \"a\"\nrole = \"EMPLOYEE\"\nfavourite = 3\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("line 6, column 1") && err.contains("favourite"),
        "{err}"
    );
    let err = Spec::from_toml_str("business = \"1\"\nprune = \"yes\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 2, column 9"), "{err}");
}

#[test]
fn file_errors_name_the_file() {
    let path = std::env::temp_dir().join(format!("meta-business-spec-{}.toml", std::process::id()));
    std::fs::write(&path, "business = \"1\"\nprune = \"yes\"\n").unwrap();
    let err = Spec::from_path(&path).unwrap_err().to_string();
    let _ = std::fs::remove_file(&path);
    assert!(
        err.contains(&format!("{}: line 2, column 9", path.display())),
        "{err}"
    );
}

#[test]
fn a_missing_file_is_a_file_that_cannot_be_read() {
    let err = Spec::from_path("nope.toml").unwrap_err();
    assert!(
        matches!(&err, ProvisionError::SpecFile { path, .. } if path == "nope.toml"),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("cannot read the desired-state file nope.toml:")
            && !text.contains("invalid desired state"),
        "{text}"
    );
}

#[test]
fn errors_about_a_spec_built_in_code_never_say_file() {
    use crate::provision::SystemUserBuilder;
    let built = [
        Spec::builder("x").build(),
        Spec::builder("1")
            .system_user(SystemUserBuilder::new(" "))
            .build(),
        Spec::builder("1")
            .system_user(SystemUserBuilder::new("a").token("2", [Permission::AdsRead]))
            .build(),
        Spec::builder("1")
            .system_user(SystemUserBuilder::new("a"))
            .system_user(SystemUserBuilder::new("A "))
            .build(),
    ];
    for result in built {
        let text = result.unwrap_err().to_string();
        assert!(
            text.starts_with("invalid desired state at system_users[")
                || text.starts_with("invalid desired state at business"),
            "{text}"
        );
        assert!(!text.contains("file"), "{text}");
    }
}

#[test]
fn a_spec_serializes_to_the_form_it_reads() {
    let spec = Spec::from_json_str(GOOD).unwrap();
    let json = serde_json::to_value(&spec).unwrap();
    assert_eq!(
        json["system_users"][0]["assets"][0],
        serde_json::json!({"ad_account": "act_3000000000001", "tasks": ["ANALYZE"]})
    );
    assert_eq!(json["access_tier"], "full");
    assert_eq!(Spec::from_json_str(&json.to_string()).unwrap(), spec);
    let toml = toml::to_string(&spec).unwrap();
    assert_eq!(Spec::from_toml_str(&toml).unwrap(), spec, "{toml}");
    // Through serde itself, the same checks: an invalid spec is refused.
    assert_eq!(serde_json::from_value::<Spec>(json).unwrap(), spec);
    let bad = serde_json::json!({"business": "1", "system_users": [{"name": "a", "assets": [{"page": "4", "tasks": ["DRIVE"]}]}]});
    let err = serde_json::from_value::<Spec>(bad).unwrap_err().to_string();
    assert!(err.contains("system_users[0].assets[0].tasks[0]"), "{err}");
}
