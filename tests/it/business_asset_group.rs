//! Business asset groups, the kind whose tasks travel in one list per asset type: the exact
//! wire shape, the emulator's resulting state, refusals before sending, and provisioning,
//! audit and offboarding of a spec that grants one.

use meta_business::provision::{self, AuditOptions, OffboardOptions, PlanOptions, Spec};
use meta_business::testing::{DEMO, GraphEmulator};
use meta_business::{BusinessAssetGroupTask as Task, Error, asset, asset::AssetRef};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::*;

const SU: &str = "100000008899900";

#[tokio::test]
async fn assigning_a_group_sends_one_json_list_per_asset_type_and_no_tasks() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/v26.0/9100000000001/assigned_users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .mount(&server)
        .await;
    client
        .asset::<asset::BusinessAssetGroup>("9100000000001")
        .assign(
            SU,
            [
                Task::PageManage,
                Task::AdAccountAnalyze,
                Task::PixelUpload,
                Task::OfflineConversionDataSetView,
                Task::PageAnalyze,
            ],
        )
        .send()
        .await
        .unwrap();
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), "/v26.0/9100000000001/assigned_users");
    assert_eq!(
        params(req),
        map(&[
            ("user", SU),
            ("adaccount_tasks", r#"["ANALYZE"]"#),
            ("offline_conversion_data_set_tasks", r#"["VIEW"]"#),
            ("page_tasks", r#"["MANAGE","ANALYZE"]"#),
            ("pixel_tasks", r#"["UPLOAD"]"#),
        ])
    );
    // Each list a form-encoded JSON array, in the kind's order of lists.
    let body = String::from_utf8_lossy(&req.body);
    assert!(
        body.contains("&adaccount_tasks=%5B%22ANALYZE%22%5D&offline_conversion_data_set_tasks=")
            && body.contains("page_tasks=%5B%22MANAGE%22%2C%22ANALYZE%22%5D"),
        "{body}"
    );
}

#[tokio::test]
async fn the_emulator_keeps_a_groups_tasks_per_list_and_every_read_answers_them() {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let su = client
        .business(demo.business_id)
        .system_users()
        .create("group-reporting")
        .send()
        .await
        .unwrap();
    let group = client.asset::<asset::BusinessAssetGroup>(demo.business_asset_group);
    group
        .assign(&su.id, [Task::PageAnalyze, Task::AdAccountAnalyze])
        .send()
        .await
        .unwrap();
    assert_eq!(
        emulator.assignments(demo.business_asset_group)[su.id.as_str()],
        ["ADACCOUNT:ANALYZE", "PAGE:ANALYZE"]
    );

    emulator.clear_requests();
    let users = group
        .assigned_users(demo.business_id)
        .collect(10)
        .await
        .unwrap();
    assert_eq!(users[0].id, su.id.as_str());
    assert_eq!(users[0].tasks, [Task::AdAccountAnalyze, Task::PageAnalyze]);
    let held = client
        .system_user(&su.id)
        .assigned_business_asset_groups()
        .collect(10)
        .await
        .unwrap();
    assert_eq!(held[0].id.as_str(), demo.business_asset_group);
    assert_eq!(held[0].tasks, [Task::AdAccountAnalyze, Task::PageAnalyze]);
    let asked: Vec<String> = emulator
        .requests()
        .iter()
        .map(|r| r.params.get("fields").cloned().unwrap_or_default())
        .collect();
    // Only the fields Meta documents: the generic `tasks` edge field, which answers the
    // group's tasks unpacked (`PAGE:ANALYZE`); the per-type lists are the POST's parameters,
    // not fields of any node (asking them would be refused with code 100).
    assert_eq!(
        asked,
        [
            "id,name,user_type,tasks,permitted_tasks",
            "id,name,tasks,permitted_tasks"
        ]
    );

    // Changing the tasks replaces them; removing the user leaves the group without it.
    group
        .change_tasks(&su.id, [Task::PixelEdit])
        .send()
        .await
        .unwrap();
    assert_eq!(
        emulator.assignments(demo.business_asset_group)[su.id.as_str()],
        ["PIXEL:EDIT"]
    );
    group.unassign(&su.id).send().await.unwrap();
    assert!(
        !emulator
            .assignments(demo.business_asset_group)
            .contains_key(su.id.as_str())
    );
}

#[tokio::test]
async fn bad_group_tasks_are_refused_before_sending() {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let group = client.asset::<asset::BusinessAssetGroup>(demo.business_asset_group);
    let refused = [
        // No task at all.
        group.assign(SU, []),
        // A task naming no list of the group.
        group.assign(SU, [Task::from("MANAGE")]),
        group.assign(SU, [Task::from("CATALOG:MANAGE")]),
        // A malformed task in a list.
        group.assign(SU, [Task::from("PAGE:bad task")]),
        // The same task twice.
        group.assign(SU, [Task::PageManage, Task::PageManage]),
    ];
    for request in refused {
        let err = request.send().await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    }
    let err = client
        .asset::<asset::BusinessAssetGroup>("group-7")
        .assign(SU, [Task::PageManage])
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("business_asset_group_id"), "{err}");
    assert!(emulator.requests().is_empty());
    assert!(emulator.assignments(demo.business_asset_group).is_empty());
}

fn group_spec(tasks: &str) -> String {
    format!(
        r#"business = "{business}"

[[system_users]]
name = "group-reporting"
assets = [{{ business_asset_group = "{group}", tasks = [{tasks}] }}]
"#,
        business = DEMO.business_id,
        group = DEMO.business_asset_group,
    )
}

#[tokio::test]
async fn a_spec_granting_a_group_is_planned_applied_audited_and_offboarded() {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let spec = Spec::from_toml_str(&group_spec(r#""page:analyze", "ADACCOUNT:ANALYZE""#)).unwrap();
    let asset = &spec.system_users[0].assets[0];
    assert_eq!(
        asset.asset,
        AssetRef::BusinessAssetGroup(demo.business_asset_group.into())
    );
    assert_eq!(asset.tasks, ["PAGE:ANALYZE", "ADACCOUNT:ANALYZE"]);
    // One shape: written and read again, the same spec.
    let toml = spec.to_toml_string().unwrap();
    assert_eq!(Spec::from_toml_str(&toml).unwrap(), spec);

    let options = PlanOptions::default();
    let plan = provision::plan(&client, &spec, &options).await.unwrap();
    assert!(
        plan.to_string()
            .contains("assign business asset group 9000000000001 to \"group-reporting\""),
        "{plan}"
    );
    let report = plan.apply(&client).await;
    assert!(report.is_complete(), "{report}");
    let su = client
        .business(demo.business_id)
        .system_users()
        .list()
        .collect(10)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.name.as_deref() == Some("group-reporting"))
        .unwrap();
    let mut held = emulator.assignments(demo.business_asset_group)[su.id.as_str()].clone();
    held.sort();
    assert_eq!(held, ["ADACCOUNT:ANALYZE", "PAGE:ANALYZE"]);
    // Read back through the system user's edge, the group's lists match the spec: no change.
    assert!(
        provision::plan(&client, &spec, &options)
            .await
            .unwrap()
            .is_empty()
    );

    let audit = provision::audit(&client, demo.business_id, &AuditOptions::default())
        .await
        .unwrap();
    // The audit reads the group through the table: the user's one asset is the group.
    let json = serde_json::to_value(&audit).unwrap();
    assert_eq!(json["system_users"][0]["name"], "group-reporting");
    assert_eq!(json["system_users"][0]["assets"], 1, "{json}");

    let off = provision::offboard(
        &client,
        demo.business_id,
        &su.id,
        &OffboardOptions::default(),
    )
    .await
    .unwrap();
    assert!(
        off.removed.contains(&AssetRef::BusinessAssetGroup(
            demo.business_asset_group.into()
        )),
        "{off:?}"
    );
    assert!(emulator.assignments(demo.business_asset_group).is_empty());
}

#[test]
fn a_spec_naming_a_task_of_no_list_is_refused_with_the_groups_tasks() {
    let err = Spec::from_toml_str(&group_spec(r#""PAGE:FLY""#)).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("\"PAGE:FLY\" is not a task of a business asset group")
            && text.contains("PAGE:MANAGE"),
        "{text}"
    );
}

#[tokio::test]
async fn the_emulator_refuses_a_value_metas_list_lacks_whatever_the_crate_sends() {
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let su = client
        .business(demo.business_id)
        .system_users()
        .create("group-reporting")
        .send()
        .await
        .unwrap();
    // Well-formed, so the crate sends it; not in Meta's page_tasks enum, so the emulator (whose
    // values come from Meta's description, not the crate's enum) refuses it.
    let err = client
        .asset::<asset::BusinessAssetGroup>(demo.business_asset_group)
        .assign(&su.id, [Task::from("PAGE:CREATE_ADS")])
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("page_tasks"), "{err}");
    let sent = emulator.requests();
    let last = sent.last().unwrap();
    assert_eq!(
        last.params.get("page_tasks").map(String::as_str),
        Some(r#"["CREATE_ADS"]"#)
    );
    assert!(emulator.assignments(demo.business_asset_group).is_empty());
}

#[tokio::test]
async fn the_groups_shortcuts_are_the_generic_calls() {
    use meta_business::provision::SystemUserBuilder;
    let (emulator, demo) = GraphEmulator::demo().await;
    let client = emulator.client(demo.admin_token).unwrap();
    let su = client
        .business(demo.business_id)
        .system_users()
        .create("group-shortcuts")
        .send()
        .await
        .unwrap();

    // `client.business_asset_group(id)` is `client.asset::<asset::BusinessAssetGroup>(id)`.
    emulator.clear_requests();
    client
        .business_asset_group(demo.business_asset_group)
        .assign(&su.id, [Task::PageAnalyze])
        .send()
        .await
        .unwrap();
    let sent = emulator.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].method.as_str(), sent[0].path.as_str()),
        (
            "POST",
            format!("/v26.0/{}/assigned_users", demo.business_asset_group).as_str()
        )
    );
    assert_eq!(sent[0].params["page_tasks"], r#"["ANALYZE"]"#);
    assert_eq!(
        emulator.assignments(demo.business_asset_group)[su.id.as_str()],
        ["PAGE:ANALYZE"]
    );

    // `business(id).business_asset_groups()` reads the owned edge of that name.
    emulator.clear_requests();
    let groups = client
        .business(demo.business_id)
        .business_asset_groups()
        .collect(10)
        .await
        .unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].id.as_str(), demo.business_asset_group);
    assert_eq!(
        emulator.requests()[0].path,
        format!("/v26.0/{}/business_asset_groups", demo.business_id)
    );

    // `SystemUserBuilder::business_asset_group` writes the spec the file form does.
    let built = Spec::builder(demo.business_id)
        .system_user(
            SystemUserBuilder::new("group-shortcuts")
                .business_asset_group(demo.business_asset_group, [Task::PageAnalyze]),
        )
        .build()
        .unwrap();
    let from_file = Spec::from_json_str(
        &json!({
            "business": demo.business_id,
            "system_users": [{"name": "group-shortcuts", "assets": [
                {"business_asset_group": demo.business_asset_group, "tasks": ["PAGE:ANALYZE"]}
            ]}]
        })
        .to_string(),
    )
    .unwrap();
    assert_eq!(built, from_file);
    let plan = provision::plan(&client, &built, &PlanOptions::default())
        .await
        .unwrap();
    assert!(plan.is_empty(), "already granted: {plan}");
}
