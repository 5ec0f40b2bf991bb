//! Partner businesses: the typed reads of `/{business}/agencies`, `/{business}/clients`,
//! `/{asset}/agencies` and `/{pixel}/shared_agencies` (exact wire shape, paging, bad input
//! refused before sending), the emulator's partner state, and partners in the audit and the
//! plan (bounded reads, a failed read reported, partners left alone).

use std::time::Duration;

use meta_business::provision::{
    self, AuditOptions, FindingKind, NotManaged, PartnerRelation, PlanOptions, Severity, Spec,
    SystemUserBuilder,
};
use meta_business::testing::{BusinessSeed, DEMO, Fault, FaultRule, GraphEmulator};
use meta_business::{AdAccountTask, Error, asset};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::*;

const AGENCY: &str = "1000000000077";

#[tokio::test]
async fn partner_reads_send_a_get_with_id_name_fields_and_bearer_only() {
    let (server, client) = setup().await;
    let calls = [
        format!("/v26.0/{BIZ}/agencies"),
        format!("/v26.0/{BIZ}/clients"),
        "/v26.0/act_42/agencies".to_owned(),
        "/v26.0/4242/agencies".to_owned(),
        "/v26.0/5252/agencies".to_owned(),
        "/v26.0/6262/agencies".to_owned(),
        "/v26.0/6262/shared_agencies".to_owned(),
        "/v26.0/7272/agencies".to_owned(),
    ];
    for p in &calls {
        Mock::given(method("GET"))
            .and(path(p.as_str()))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"data": [{"id": AGENCY, "name": "Old Agency"}]})),
            )
            .mount(&server)
            .await;
    }
    let timeout = Duration::from_secs(3);
    let business = client.business(BIZ);
    let lists = vec![
        business.agencies().timeout(timeout).collect(10).await,
        business.clients().timeout(timeout).collect(10).await,
        client
            .ad_account("42")
            .agencies()
            .timeout(timeout)
            .collect(10)
            .await,
        client.page("4242").agencies().collect(10).await,
        client.catalog("5252").agencies().collect(10).await,
        client.pixel("6262").agencies().collect(10).await,
        client.pixel("6262").shared_agencies().collect(10).await,
        client.instagram_asset("7272").agencies().collect(10).await,
    ];
    for list in lists {
        let list = list.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id.as_str(), AGENCY);
        assert_eq!(list[0].name.as_deref(), Some("Old Agency"));
    }
    let reqs = received(&server).await;
    assert_wire(&reqs, TOKEN);
    let sent: Vec<(String, String)> = reqs
        .iter()
        .map(|r| (r.method.to_string(), r.url.path().to_owned()))
        .collect();
    let wanted: Vec<(String, String)> = calls
        .iter()
        .map(|p| ("GET".to_owned(), p.clone()))
        .collect();
    assert_eq!(sent, wanted);
    for req in &reqs {
        assert_eq!(params(req), map(&[("fields", "id,name")]), "{}", req.url);
        assert!(req.body.is_empty());
    }
}

#[tokio::test]
async fn partner_lists_follow_cursors_and_stop_at_their_page_budget() {
    let mut seed = BusinessSeed::new("1000000000042", "Shop")
        .app("2000000000042", "Shop App", "secret")
        .page("4000000000042", "Shop")
        .admin("EAAE-shop-admin");
    for i in 0..30 {
        seed = seed.partner(&format!("11000000000{i:02}"), &format!("Agency {i}"));
    }
    let emulator = GraphEmulator::builder().business(seed).start().await;
    let client = emulator.client("EAAE-shop-admin").unwrap();
    let business = client.business("1000000000042");
    let all = business.agencies().limit(10).collect(100).await.unwrap();
    assert_eq!(all.len(), 30);
    assert_eq!(all[29].name.as_deref(), Some("Agency 29"));
    let pages: Vec<_> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/agencies"))
        .collect();
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[0].params.get("after"), None);
    assert!(pages[1].params.contains_key("after"));
    assert_eq!(emulator.partners("1000000000042", "agencies").len(), 30);
    // Every partner knows the business as its client.
    assert_eq!(
        emulator.partners("1100000000007", "clients"),
        ["1000000000042"]
    );

    emulator.clear_requests();
    let err = business
        .agencies()
        .limit(10)
        .max_pages(2)
        .collect(100)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Pagination { .. }), "{err:?}");
    assert_eq!(emulator.requests().len(), 2);
}

#[tokio::test]
async fn partner_reads_refuse_bad_ids_and_edges_the_description_lacks_sending_nothing() {
    let (server, client) = setup().await;
    let refused = vec![
        client.business("12ab").agencies().send().await.map(|_| ()),
        client.business("").clients().send().await.map(|_| ()),
        client
            .page("not-a-page")
            .agencies()
            .send()
            .await
            .map(|_| ()),
        client
            .pixel("6262/x")
            .shared_agencies()
            .send()
            .await
            .map(|_| ()),
        client
            .business(BIZ)
            .agencies()
            .limit(0)
            .send()
            .await
            .map(|_| ()),
        // WhatsApp Business Accounts have no `agencies` edge in Meta's description.
        client
            .whatsapp_business_account("8080")
            .agencies()
            .send()
            .await
            .map(|_| ()),
    ];
    for result in refused {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }
    assert!(received(&server).await.is_empty());
    use meta_business::AssetKind;
    assert!(asset::WhatsApp::PARTNER_EDGES.is_empty());
    assert_eq!(asset::Pixel::PARTNER_EDGES, ["agencies", "shared_agencies"]);
    assert_eq!(asset::AdAccount::PARTNER_EDGES, ["agencies"]);
}

#[test]
fn the_contract_holds_the_partner_edges_meta_describes_and_no_other() {
    let contract = meta_business::testing::contract::Contract::get();
    let none = std::collections::BTreeMap::new();
    for (node, edge) in [
        ("Business", "agencies"),
        ("Business", "clients"),
        ("AdAccount", "agencies"),
        ("Page", "agencies"),
        ("ProductCatalog", "agencies"),
        ("AdsPixel", "agencies"),
        ("AdsPixel", "shared_agencies"),
        ("InstagramBusinessAsset", "agencies"),
    ] {
        assert!(
            contract.check(node, "GET", edge, &none).is_ok(),
            "{node} {edge}"
        );
    }
    assert!(
        contract
            .check("WhatsAppBusinessAccount", "GET", "agencies", &none)
            .is_err()
    );
    // A partner is a Business node: only its fields may be asked for.
    let fields = map(&[("fields", "id,name,tasks")]);
    assert!(
        contract
            .check("AdAccount", "GET", "agencies", &fields)
            .is_err()
    );
}

/// The demo world with a partner of the business, one with access to an ad account and the
/// pixel (shared), and a client business.
async fn demo_with_partners() -> (GraphEmulator, meta_business::Client) {
    let (emulator, demo) = GraphEmulator::demo().await;
    emulator.add_partner(demo.business_id, "1000000000071", "Idle Agency");
    emulator.share_with_partner(demo.ad_accounts[0], AGENCY, "Old Agency");
    emulator.share_pixel_with_agency(demo.pixel, AGENCY, "Old Agency");
    emulator.add_client(demo.business_id, "1000000000088", "A Client");
    let client = emulator.client(demo.admin_token).unwrap();
    (emulator, client)
}

#[tokio::test]
async fn the_audit_reports_each_partner_with_the_assets_it_has_access_to() {
    let (emulator, client) = demo_with_partners().await;
    let report = provision::audit(&client, DEMO.business_id, &AuditOptions::default())
        .await
        .unwrap();

    let partners: Vec<_> = report
        .partners
        .iter()
        .map(|p| {
            (
                p.id.as_str(),
                p.relation,
                p.listed_by_business,
                p.assets.len(),
            )
        })
        .collect();
    assert_eq!(
        partners,
        [
            ("1000000000071", PartnerRelation::Agency, true, 0),
            (AGENCY, PartnerRelation::Agency, true, 2),
            ("1000000000088", PartnerRelation::Client, true, 0),
        ]
    );
    let old = &report.partners[1];
    assert_eq!(old.name.as_deref(), Some("Old Agency"));
    let held: Vec<_> = old
        .assets
        .iter()
        .map(|a| (a.asset.kind(), a.asset.id(), a.edge))
        .collect();
    assert_eq!(
        held,
        [
            ("ad_account", DEMO.ad_accounts[0], "agencies"),
            ("pixel", DEMO.pixel, "shared_agencies"),
        ]
    );

    let access: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::PartnerAccess)
        .collect();
    assert_eq!(access.len(), 2, "{report}");
    let warning = access
        .iter()
        .find(|f| f.severity == Severity::Warning)
        .unwrap();
    assert_eq!(warning.subject, format!("Old Agency ({AGENCY})"));
    assert!(
        warning.message.contains("ad account act_3000000000001")
            && warning
                .message
                .contains("pixel 6000000000001 (shared_agencies)")
            && warning.message.contains("does not say with which tasks"),
        "{}",
        warning.message
    );
    let client_finding = report
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::ClientBusiness)
        .unwrap();
    assert_eq!(client_finding.subject, "A Client (1000000000088)");
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::IncompleteRead),
        "{report}"
    );

    let text = report.to_string();
    assert!(
        text.contains(&format!("{AGENCY:<18} partner    2 asset(s)  Old Agency")),
        "{text}"
    );
    assert!(
        text.contains("1000000000088      client     0 asset(s)  A Client"),
        "{text}"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["partners"][1]["relation"], "agency");
    assert_eq!(json["partners"][1]["assets"][1]["asset"]["kind"], "pixel");
    assert_eq!(json["partners"][1]["assets"][1]["edge"], "shared_agencies");
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "partner_access")
    );

    // Each owned asset of a kind with a partner edge was read once per edge; the WhatsApp
    // account (no such edge) was not; all reads, nothing written, partners untouched.
    let requests = emulator.requests();
    let partner_paths: Vec<&str> = requests
        .iter()
        .filter(|r| r.path.ends_with("agencies") || r.path.ends_with("/clients"))
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(
        partner_paths.len(),
        2 + 2 + 2 + 1 + 2 + 1,
        "{partner_paths:?}"
    );
    assert!(!partner_paths.iter().any(|p| p.contains(DEMO.whatsapp)));
    assert!(requests.iter().all(|r| r.method == "GET" && r.bearer));
    assert_eq!(emulator.partners(DEMO.ad_accounts[0], "agencies"), [AGENCY]);
}

#[tokio::test]
async fn a_partner_read_that_fails_is_a_finding_and_the_audit_goes_on() {
    let (emulator, client) = demo_with_partners().await;
    emulator.inject(
        FaultRule::new(Fault::graph(200)).on("GET", &format!("{}/agencies", DEMO.pages[1])),
    );
    let report = provision::audit(&client, DEMO.business_id, &AuditOptions::default())
        .await
        .unwrap();
    let unread: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::IncompleteRead)
        .collect();
    assert_eq!(unread.len(), 1, "{report}");
    assert_eq!(
        unread[0].subject,
        format!("the partners of Page {} (agencies)", DEMO.pages[1])
    );
    assert!(
        unread[0].message.starts_with("could not read"),
        "{}",
        unread[0].message
    );
    // The rest was read.
    assert_eq!(report.partners.len(), 3);
}

#[tokio::test]
async fn hostile_partner_answers_are_bounded_and_odd_entries_set_aside() {
    let (emulator, client) = demo_with_partners().await;
    // The business's agencies never end; an ad account's answer names the business itself
    // and one real partner; a Page's names an ad account id where a business id belongs.
    emulator.inject(
        FaultRule::new(Fault::Raw {
            status: 200,
            body: json!({"data": [{"id": "1000000000099", "name": "Loop"}],
                         "paging": {"cursors": {"after": "again"}, "next": "https://x/next"}})
            .to_string(),
        })
        .on("GET", &format!("{}/agencies", DEMO.business_id)),
    );
    emulator.inject(
        FaultRule::new(Fault::Raw {
            status: 200,
            body:
                json!({"data": [{"id": DEMO.business_id}, {"id": "1000000000055", "name": "Real"}]})
                    .to_string(),
        })
        .on("GET", &format!("{}/agencies", DEMO.ad_accounts[1])),
    );
    emulator.inject(
        FaultRule::new(Fault::Raw {
            status: 200,
            body: json!({"data": [{"id": "act_3000000000002", "name": "Odd"}]}).to_string(),
        })
        .on("GET", &format!("{}/agencies", DEMO.pages[0])),
    );
    let report = provision::audit(
        &client,
        DEMO.business_id,
        &AuditOptions::default().max_pages(4),
    )
    .await
    .unwrap();
    let loops = emulator
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&format!("{}/agencies", DEMO.business_id)))
        .count();
    assert!(loops <= 4, "{loops}");
    let subjects: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::IncompleteRead)
        .map(|f| f.subject.as_str())
        .collect();
    assert!(
        subjects.contains(
            &format!("the partners of business {} (agencies)", DEMO.business_id).as_str()
        ),
        "{report}"
    );
    let set_aside = report
        .findings
        .iter()
        .find(|f| f.message.contains("set aside"))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        set_aside.message.contains("1 entry"),
        "{}",
        set_aside.message
    );
    assert_eq!(
        set_aside.subject,
        format!(
            "the partners of ad account {} (agencies)",
            DEMO.ad_accounts[1]
        )
    );
    // An answer that is not Business nodes is refused whole, and said so.
    let refused = format!("the partners of Page {} (agencies)", DEMO.pages[0]);
    assert!(subjects.contains(&refused.as_str()), "{report}");
    let ids: Vec<&str> = report.partners.iter().map(|p| p.id.as_str()).collect();
    assert!(ids.contains(&"1000000000055") && ids.contains(&"1000000000099"));
    assert!(!ids.contains(&DEMO.business_id) && !ids.iter().any(|i| i.starts_with("act_")));
}

#[tokio::test]
async fn the_plan_lists_partners_as_not_managed_and_leaves_them_alone() {
    let (emulator, client) = demo_with_partners().await;
    let spec = Spec::builder(DEMO.business_id)
        .system_user(
            SystemUserBuilder::new("ads-reporting-server")
                .ad_account(DEMO.ad_accounts[0], [AdAccountTask::Analyze]),
        )
        .build()
        .unwrap();
    let plan = provision::plan(&client, &spec, &PlanOptions::default())
        .await
        .unwrap();
    let partners: Vec<_> = plan
        .not_managed
        .iter()
        .filter_map(|n| match n {
            NotManaged::Partner {
                id, relation, why, ..
            } => Some((id.as_str(), *relation, why.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(partners.len(), 3, "{plan}");
    assert!(
        partners
            .iter()
            .any(|p| p.0 == AGENCY && p.1 == PartnerRelation::Agency)
    );
    assert!(
        partners
            .iter()
            .any(|p| p.0 == "1000000000088" && p.1 == PartnerRelation::Client)
    );
    assert!(
        partners
            .iter()
            .all(|p| p.2.contains("does not manage partners"))
    );
    let text = plan.to_string();
    assert!(
        text.contains(&format!("= partner business \"Old Agency\" ({AGENCY}): the desired state does not manage partners")),
        "{text}"
    );
    assert!(
        text.contains("= client business \"A Client\" (1000000000088)"),
        "{text}"
    );
    // Saved and read back, the partners are still there.
    let back = provision::Plan::from_json_str(&serde_json::to_string(&plan).unwrap()).unwrap();
    assert_eq!(back.not_managed, plan.not_managed);

    let _applied = plan.apply(&client).await.into_result().unwrap();
    assert!(
        !emulator
            .requests()
            .iter()
            .any(|r| r.method != "GET"
                && (r.path.contains("agencies") || r.path.contains("clients")))
    );
    assert_eq!(emulator.partners(DEMO.business_id, "agencies").len(), 2);
    assert_eq!(
        emulator.partners(DEMO.business_id, "clients"),
        ["1000000000088"]
    );
}

#[tokio::test]
async fn a_plan_whose_partner_read_fails_says_so_in_a_note() {
    let (emulator, client) = demo_with_partners().await;
    emulator.inject(
        FaultRule::new(Fault::graph(200)).on("GET", &format!("{}/clients", DEMO.business_id)),
    );
    let spec = Spec::builder(DEMO.business_id).build().unwrap();
    let plan = provision::plan(&client, &spec, &PlanOptions::default())
        .await
        .unwrap();
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("clients could not be read")),
        "{plan}"
    );
    let agencies = plan
        .not_managed
        .iter()
        .filter(|n| matches!(n, NotManaged::Partner { .. }))
        .count();
    assert_eq!(agencies, 2, "{plan}");
}

#[tokio::test]
async fn the_audit_reads_the_partners_of_at_most_1000_assets_and_says_what_it_left() {
    let emulator = GraphEmulator::builder()
        .business(
            BusinessSeed::new("1000000000042", "Big Shop")
                .app("2000000000042", "Shop App", "secret")
                .ad_accounts(3000000000001, 1_005)
                .admin("EAAE-shop-admin"),
        )
        .start()
        .await;
    let client = emulator.client("EAAE-shop-admin").unwrap();
    let report = provision::audit(&client, "1000000000042", &AuditOptions::default())
        .await
        .unwrap();
    let asset_reads = emulator
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/agencies") && r.path.contains("/act_"))
        .count();
    assert_eq!(asset_reads, 1_000);
    let left = report
        .findings
        .iter()
        .find(|f| f.subject == "the partners of business 1000000000042's assets")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(left.kind, FindingKind::IncompleteRead);
    assert!(
        left.message
            .contains("5 of the business's 1005 owned assets"),
        "{}",
        left.message
    );
}
