//! A server that keeps every secret it sees and echoes all of them into every later answer:
//! error messages, error data, names, headers. Driven through plan, apply with a rotation, the
//! keeper, the audit, preflight, offboarding and On Behalf Of, no report or error (Display,
//! Debug, JSON) and no log line shows any of them, in any encoding the crate scrubs.
//!
//! The server is a proxy in front of the emulator (so every workflow really runs), which reads
//! what goes through: the Bearer token and every credential parameter of each request, and
//! each `access_token` the emulator hands out.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use meta_business::provision::{
    self, AuditOptions, Change, OffboardOptions, PlanOptions, Spec, SystemUserBuilder,
};
use meta_business::testing::{BusinessSeed, DEMO, Fault, FaultRule, GraphEmulator};
use meta_business::{
    AdAccountTask, CatalogTask, Client, ExposeSecret, PageTask, Permission,
    keeper::TokenKeeper,
    obo::{ClientAdminToken, PartnerAdminToken},
    store::{MemoryStore, TokenKey, TokenStore},
};
use serde_json::{Value, json};
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use crate::common::{captured_logs, logs_text};

/// Secrets with characters that change under encoding, so every form is exercised.
const ADMIN: &str = "EAAE-echo/admin+tok=en-7c1d4e";
const APP_SECRET: &str = "echo/app+secret=9f2b61";
const PARTNER_ADMIN: &str = "EAAE-echo/partner+admin=5a0c";
const CLIENT_ADMIN: &str = "EAAE-echo/client+admin=3e9d";

/// Parameters that carry a credential.
const SECRET_PARAMS: &[&str] = &[
    "appsecret_proof",
    "input_token",
    "client_secret",
    "fb_exchange_token",
    "revoke_token",
    "access_token",
];

/// Every secret the proxy has seen, oldest first.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn add(&self, secret: &str) {
        let mut seen = self.0.lock().unwrap();
        if secret.len() >= 8 && !seen.iter().any(|s| s == secret) {
            seen.push(secret.to_owned());
        }
    }

    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    /// Every secret seen, each in the forms a server could echo it in.
    fn echo(&self) -> String {
        let mut out = String::from("seen:");
        for s in self.all() {
            for form in forms(&s) {
                out.push(' ');
                out.push_str(&form);
            }
        }
        out
    }
}

/// A secret as sent, form-encoded (upper- and lower-case hex) and JSON-escaped.
fn forms(secret: &str) -> Vec<String> {
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let lower = encoded
        .split('%')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 || part.len() < 2 {
                part.to_owned()
            } else {
                format!("{}{}", part[..2].to_ascii_lowercase(), &part[2..])
            }
        })
        .collect::<Vec<_>>()
        .join("%");
    vec![
        secret.to_owned(),
        encoded,
        lower,
        secret.replace('/', "\\/"),
    ]
}

/// The proxy: forwards each request to the emulator, notes its secrets and those of the
/// answer, then echoes everything seen so far into the answer.
struct Echo {
    upstream: String,
    seen: Seen,
}

impl Respond for Echo {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if let Some(bearer) = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            self.seen.add(bearer);
        }
        let body_params = url::form_urlencoded::parse(&req.body);
        for (k, v) in req.url.query_pairs().chain(body_params) {
            if SECRET_PARAMS.contains(&k.as_ref()) {
                self.seen.add(&v);
            }
        }
        let (status, content_type, body) = forward(&self.upstream, req);
        let mut answer: Value = match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => return ResponseTemplate::new(status).set_body_raw(body, &content_type),
        };
        note_tokens(&answer, &self.seen);
        let echo = self.seen.echo();
        if let Some(err) = answer.get_mut("error").and_then(Value::as_object_mut) {
            for field in [
                "message",
                "error_user_title",
                "error_user_msg",
                "fbtrace_id",
            ] {
                err.insert(
                    field.into(),
                    json!(format!("{echo} (was {:?})", err.get(field))),
                );
            }
            err.insert(
                "error_data".into(),
                json!({ "echo": echo, echo.clone(): 1 }),
            );
        } else {
            salt(&mut answer, &echo);
        }
        let mut template = ResponseTemplate::new(status)
            .set_body_raw(serde_json::to_vec(&answer).unwrap(), "application/json");
        let header: String = echo
            .chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .collect();
        template = template
            .insert_header("x-fb-debug", header.as_str())
            .insert_header("x-fb-trace-id", header.as_str());
        template
    }
}

/// Notes every `access_token` the emulator hands out (minted, refreshed, Page tokens).
fn note_tokens(v: &Value, seen: &Seen) {
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                match val {
                    Value::String(s) if k == "access_token" => seen.add(s),
                    other => note_tokens(other, seen),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| note_tokens(i, seen)),
        _ => {}
    }
}

/// Appends the echo to every name-like string of a success answer (never to a token or an id).
fn salt(v: &mut Value, echo: &str) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                match val {
                    Value::String(s)
                        if matches!(
                            k.as_str(),
                            "name" | "application" | "category" | "username" | "message"
                        ) =>
                    {
                        s.push(' ');
                        s.push_str(echo);
                    }
                    other => salt(other, echo),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| salt(i, echo)),
        _ => {}
    }
}

/// One request to the emulator over plain HTTP/1.1 (the proxy answers synchronously, on its
/// own thread, so a blocking socket is what fits).
fn forward(upstream: &str, req: &Request) -> (u16, String, Vec<u8>) {
    let mut stream = std::net::TcpStream::connect(upstream).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let target = match req.url.query() {
        Some(q) => format!("{}?{q}", req.url.path()),
        None => req.url.path().to_owned(),
    };
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nhost: {upstream}\r\nconnection: close\r\ncontent-length: {}\r\n",
        req.method,
        req.body.len()
    );
    for (name, value) in &req.headers {
        if matches!(
            name.as_str(),
            "host" | "connection" | "content-length" | "transfer-encoding"
        ) {
            continue;
        }
        head.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&req.body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let header = |name: &str| {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    };
    if header("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        body = dechunk(&body);
    }
    let content_type = header("content-type").unwrap_or_else(|| "application/json".into());
    (status, content_type, body)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&raw[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        let start = line_end + 2;
        out.extend_from_slice(&raw[start..start + size]);
        raw = &raw[start + size + 2..];
    }
}

/// The emulator with the demo business (its admin token and app secret replaced by canaries),
/// a partner and a client business for On Behalf Of, and the echoing proxy in front.
async fn world() -> (GraphEmulator, MockServer, Seen) {
    let emulator = GraphEmulator::builder()
        .business(
            BusinessSeed::new(DEMO.business_id, "Acme Demo Retail")
                .app(DEMO.app_id, "Acme Reporting", APP_SECRET)
                .ad_account(DEMO.ad_accounts[0], "Acme EU ads")
                .page(DEMO.pages[0], "Acme")
                .catalog(DEMO.catalog, "Acme products")
                .admin(ADMIN),
        )
        .business(
            BusinessSeed::new("1000000000077", "Agency Partner")
                .app("2000000000077", "Agency Platform", APP_SECRET)
                .system_user("6100000000077", "agency-admin", "ADMIN")
                .system_user_token(
                    "6100000000077",
                    PARTNER_ADMIN,
                    &[
                        "business_management",
                        "pages_read_engagement",
                        "pages_show_list",
                    ],
                ),
        )
        .business(
            BusinessSeed::new("1000000000078", "Client Shop")
                .admin_via_app(CLIENT_ADMIN, "2000000000077")
                .page("3000000000078", "Client Shop Page"),
        )
        .start()
        .await;
    let seen = Seen::default();
    let proxy = MockServer::start().await;
    let upstream = emulator.uri().trim_start_matches("http://").to_owned();
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(Echo {
            upstream,
            seen: seen.clone(),
        })
        .mount(&proxy)
        .await;
    (emulator, proxy, seen)
}

/// Every text a caller can get from a value: Display, Debug (plain and pretty), JSON.
#[derive(Default)]
struct Shown(Vec<(String, String)>);

impl Shown {
    fn add(&mut self, what: &str, display: &dyn std::fmt::Display, debug: &dyn std::fmt::Debug) {
        self.0
            .push((format!("{what} (Display)"), display.to_string()));
        self.0
            .push((format!("{what} (Debug)"), format!("{debug:?} {debug:#?}")));
    }

    fn json(&mut self, what: &str, value: &impl serde::Serialize) {
        self.0.push((
            format!("{what} (JSON)"),
            serde_json::to_string(value).unwrap(),
        ));
    }

    fn error(&mut self, what: &str, err: &(dyn std::error::Error + 'static)) {
        self.add(what, err, err);
        let mut source = err.source();
        while let Some(s) = source {
            self.add(&format!("{what} (source)"), s, s);
            source = s.source();
        }
    }

    fn debug(&mut self, what: &str, debug: &dyn std::fmt::Debug) {
        self.0
            .push((format!("{what} (Debug)"), format!("{debug:?}")));
    }
}

fn spec(scopes: &[Permission], page: bool) -> Spec {
    spec_with(scopes, page, false)
}

fn spec_with(scopes: &[Permission], page: bool, ad_account: bool) -> Spec {
    let mut user = SystemUserBuilder::new("echo-uploader")
        .app(DEMO.app_id)
        .catalog(DEMO.catalog, [CatalogTask::Manage])
        .token(DEMO.app_id, scopes.iter().cloned());
    if page {
        user = user.page(DEMO.pages[0], [PageTask::Analyze]);
    }
    if ad_account {
        user = user.ad_account(DEMO.ad_accounts[0], [AdAccountTask::Analyze]);
    }
    Spec::builder(DEMO.business_id)
        .system_user(user)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_a_server_saw_never_come_back_in_any_report_error_or_log() {
    captured_logs();
    let (emulator, proxy, seen) = world().await;
    let client = Client::builder()
        .access_token(ADMIN)
        .app_secret(APP_SECRET)
        .app_id(DEMO.app_id)
        // The partner app of On Behalf Of: its token answer is checked as that app.
        .app_secret_for("2000000000077", APP_SECRET)
        .base_url(proxy.uri())
        .retry_policy(meta_business::retry::RetryPolicy::none())
        .build()
        .unwrap();
    let store = Arc::new(MemoryStore::new());
    let options = PlanOptions::default().store(store.clone());
    let mut shown = Shown::default();

    // Plan and apply: a system user, a grant, a token (minted, stored, checked).
    let broad = spec(
        &[
            Permission::CatalogManagement,
            Permission::BusinessManagement,
        ],
        false,
    );
    let plan = provision::plan(&client, &broad, &options).await.unwrap();
    shown.add("first plan", &plan, &plan);
    shown.json("first plan", &plan);
    let first = plan.apply(&client).await;
    shown.add("first apply", &first, &first);
    shown.json("first apply", &first);
    let id = first.identities["echo-uploader"].clone();
    let key = TokenKey::new(DEMO.business_id, id.clone(), DEMO.app_id);
    let minted = store
        .get(&key)
        .await
        .unwrap()
        .expect("a token stored")
        .token;
    assert!(
        seen.all()
            .iter()
            .any(|s| s == minted.secret().expose_secret()),
        "the proxy saw the minted token"
    );

    // A rotation (fewer scopes) and a new grant that fails: the next plan shows the drift of
    // names the server salted with every secret, and the apply stops with an error that
    // echoes them all, the freshly minted token included.
    let narrow = spec(&[Permission::CatalogManagement], true);
    let plan = provision::plan(&client, &narrow, &options).await.unwrap();
    assert!(
        plan.changes
            .iter()
            .any(|c| matches!(c, Change::GenerateToken { .. })),
        "{plan}"
    );
    shown.add("rotation plan", &plan, &plan);
    shown.json("rotation plan", &plan);
    assert!(
        plan.to_string().contains("[redacted]"),
        "the drift shows the salted names, scrubbed: {plan}"
    );
    emulator.inject(
        FaultRule::new(Fault::graph(100))
            .on("GET", "/oauth/revoke")
            .times(1),
    );
    let applied = plan.apply(&client).await;
    shown.add("rotation apply", &applied, &applied);
    shown.json("rotation apply", &applied);
    let rotated = store
        .get(&key)
        .await
        .unwrap()
        .expect("a token stored")
        .token;
    assert_ne!(
        rotated.secret().expose_secret(),
        minted.secret().expose_secret(),
        "rotated: {applied}"
    );
    assert!(applied.is_complete(), "{applied}");

    // One more grant, refused: the apply stops with an error echoing everything seen, the
    // rotated token and the proofs of every clone included.
    let wider = spec_with(&[Permission::CatalogManagement], true, true);
    let plan = provision::plan(&client, &wider, &options).await.unwrap();
    emulator.inject(
        FaultRule::new(Fault::graph(100))
            .on("POST", "/assigned_users")
            .times(1),
    );
    let incomplete = plan.apply(&client).await.into_result().unwrap_err();
    shown.error("IncompleteApply", &incomplete);
    shown.json("IncompleteApply", &incomplete.0);
    let err = plan_error(&client, &narrow, &options, &emulator).await;
    shown.error("plan error", &err);

    // The keeper: the stored token expires soon, is refreshed; the check of the fresh one
    // fails with an echo of everything (the refreshed token included).
    emulator.advance_clock(Duration::from_secs(59 * 86_400));
    emulator.inject(
        FaultRule::new(Fault::graph(100))
            .on("GET", "/debug_token")
            .after(1)
            .times(1),
    );
    let keeper = TokenKeeper::new(client.clone(), store.clone()).clock(emulator.clock_source());
    let report = keeper.run_once().await;
    shown.add("keeper", &report, &report);
    shown.json("keeper", &report);
    emulator.clear_faults();

    // The audit, with a failing read of the stored tokens.
    emulator.inject(
        FaultRule::new(Fault::graph(100))
            .on("GET", "/debug_token")
            .times(1),
    );
    let audit = provision::audit(
        &client,
        DEMO.business_id,
        &AuditOptions::default()
            .app(DEMO.app_id)
            .store(store.clone())
            .token(
                "ci.token",
                meta_business::SecretString::from(ADMIN.to_owned()),
            ),
    )
    .await;
    match &audit {
        Ok(report) => {
            shown.add("audit", report, report);
            shown.json("audit", report);
        }
        Err(err) => shown.error("audit", err),
    }
    emulator.clear_faults();

    // Preflight, one of its reads failing.
    emulator.inject(
        FaultRule::new(Fault::graph(100))
            .on("GET", "/business_users")
            .times(1),
    );
    let preflight = client
        .business(DEMO.business_id)
        .preflight()
        .app(DEMO.app_id)
        .scopes([Permission::CatalogManagement])
        .send()
        .await;
    shown.add("preflight", &preflight, &preflight);
    shown.json("preflight", &preflight);
    emulator.clear_faults();

    // On Behalf Of: link, the client system user's token, its Pages and their tokens, then a
    // failing unlink that echoes the client admin's, the partner's and the Page tokens.
    obo(&client, &emulator, &seen, &mut shown).await;

    // A saved plan applied after another system user was created: refused as stale, the
    // change named from a list whose names the server salted with every secret.
    stale_plan(&client, &wider, &options, store.clone(), &mut shown).await;

    // Offboarding, its second unassignment failing.
    emulator.inject(
        FaultRule::new(Fault::graph(100))
            .on("DELETE", "/assigned_users")
            .times(1),
    );
    let offboard = provision::offboard(
        &client,
        DEMO.business_id,
        &id,
        &OffboardOptions::default().store(store.clone()),
    )
    .await;
    match offboard {
        Ok(report) => {
            shown.add("offboard", &report, &report);
            shown.json("offboard", &report);
            if let Err(err) = report.into_result() {
                shown.error("offboard error", &err);
            }
        }
        Err(err) => shown.error("offboard", &err),
    }

    // A plain call's error, and a raw one.
    let err = client
        .business("1000000000099")
        .get()
        .send()
        .await
        .unwrap_err();
    shown.error("call", &err);

    check(&seen, &shown);
    drop(proxy);
}

/// A plan saved as JSON, read back and applied after the business changed: the refusal lists
/// what changed, in names the proxy salted.
async fn stale_plan(
    client: &Client,
    spec: &Spec,
    options: &PlanOptions,
    store: Arc<MemoryStore>,
    shown: &mut Shown,
) {
    let plan = provision::plan(client, spec, options).await.unwrap();
    let saved = serde_json::to_string(&plan).unwrap();
    client
        .business(DEMO.business_id)
        .system_users()
        .create("echo-latecomer")
        .role(meta_business::SystemUserRole::Admin)
        .send()
        .await
        .unwrap();
    let loaded = provision::Plan::from_json_str(&saved).unwrap().store(store);
    let report = loaded.apply(client).await;
    assert!(report.stale.is_some(), "{report}");
    shown.add("stale plan", &report, &report);
    shown.json("stale plan", &report);
}

/// The error of a plan whose first read fails (echoing every secret seen so far).
async fn plan_error(
    client: &Client,
    spec: &Spec,
    options: &PlanOptions,
    emulator: &GraphEmulator,
) -> provision::ProvisionError {
    emulator.inject(
        FaultRule::new(Fault::graph(100))
            .on("GET", "/system_users")
            .times(1),
    );
    let err = provision::plan(client, spec, options).await.unwrap_err();
    emulator.clear_faults();
    err
}

async fn obo(client: &Client, emulator: &GraphEmulator, seen: &Seen, shown: &mut Shown) {
    let obo = client.on_behalf_of("1000000000077", "1000000000078");
    let client_admin = ClientAdminToken::new(CLIENT_ADMIN);
    let partner = PartnerAdminToken::new(PARTNER_ADMIN);
    let linked = obo.link(&client_admin).await.unwrap();
    shown.debug("link", &linked);
    let su_token = obo
        .client_system_user_token(&partner, "2000000000077")
        .scopes([Permission::PagesReadEngagement])
        .send()
        .await
        .unwrap();
    let me = obo.client_system_user(&su_token).await.unwrap();
    shown.debug("client system user", &me);
    obo.as_client_admin(&client_admin)
        .page("3000000000078")
        .assign(me.id.as_str(), [PageTask::Analyze])
        .send()
        .await
        .unwrap();
    let pages = obo.pages(&su_token).collect(10).await.unwrap();
    shown.debug("pages", &pages);
    let page_token = pages[0].access_token().expect("a Page token");
    assert!(
        seen.all()
            .iter()
            .any(|s| s == page_token.secret().expose_secret()),
        "the proxy saw the Page token"
    );
    emulator.inject(
        FaultRule::new(Fault::graph(100))
            .on("DELETE", "/managed_businesses")
            .times(1),
    );
    let err = obo.unlink(&client_admin).await.unwrap_err();
    shown.error("unlink", &err);
    emulator.inject(FaultRule::new(Fault::graph(100)).on("GET", "/me").times(1));
    let err = obo.client_system_user(&su_token).await.unwrap_err();
    shown.error("who am I", &err);
    // A client token whose identity check fails: the refusal quotes the check's error.
    emulator.inject(
        FaultRule::new(Fault::graph(100))
            .on("GET", "/debug_token")
            .times(1),
    );
    let err = obo
        .client_system_user_token(&partner, "2000000000077")
        .scopes([Permission::PagesReadEngagement])
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, meta_business::Error::TokenCheck { .. }),
        "{err:?}"
    );
    shown.error("token check", &err);
}

/// No text shows any secret the server saw, in any form; and the echoes did arrive (each
/// workflow's text holds the redaction mark somewhere, so the check is not vacuous).
fn check(seen: &Seen, shown: &Shown) {
    let secrets = seen.all();
    for expected in [ADMIN, APP_SECRET, PARTNER_ADMIN, CLIENT_ADMIN] {
        assert!(secrets.iter().any(|s| s == expected), "{expected} seen");
    }
    assert!(secrets.len() >= 10, "{} secrets seen", secrets.len());
    let logs = logs_text();
    let all = shown
        .0
        .iter()
        .map(|(w, t)| (w.as_str(), t.as_str()))
        .chain([("TRACE log", logs.as_str())]);
    for (what, text) in all {
        for secret in &secrets {
            for form in forms(secret) {
                assert!(
                    !text.contains(&form),
                    "{what} shows a secret ({}…): {text}",
                    &form[..6]
                );
            }
        }
    }
    for echoed in ECHOED {
        assert!(
            shown
                .0
                .iter()
                .any(|(what, text)| what.starts_with(echoed) && text.contains("[redacted]")),
            "the echo reached {echoed}"
        );
    }
    assert!(logs.contains("[redacted]"), "the echo reached the log");
}

/// The texts the server's echo must reach (so that finding no secret in them means something).
const ECHOED: &[&str] = &[
    "rotation plan",
    "rotation apply",
    "IncompleteApply",
    "plan error",
    "keeper",
    "audit",
    "preflight",
    "link",
    "client system user",
    "pages",
    "unlink",
    "who am I",
    "token check",
    "stale plan",
    "offboard",
    "call",
];

/// A server that answers every request with an error quoting every proof it was sent so far.
#[derive(Clone, Default)]
struct ProofEcho(Arc<Mutex<Vec<String>>>);

impl Respond for ProofEcho {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut proofs = self.0.lock().unwrap();
        if let Some((_, p)) = req.url.query_pairs().find(|(k, _)| k == "appsecret_proof") {
            proofs.push(p.into_owned());
        }
        if req.url.path().ends_with("/1000000000001") {
            return ResponseTemplate::new(200)
                .set_body_json(json!({"id": "1000000000001", "name": "Shop"}));
        }
        ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": format!("proofs seen: {}", proofs.join(" ")), "code": 100}}))
    }
}

#[tokio::test]
async fn time_stamped_proofs_of_earlier_seconds_are_scrubbed_too() {
    let server = MockServer::start().await;
    let echo = ProofEcho::default();
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(echo.clone())
        .mount(&server)
        .await;
    let client = Client::builder()
        .access_token(ADMIN)
        .app_secret(APP_SECRET)
        .proof_mode(meta_business::ProofMode::TimeStamped)
        .base_url(server.uri())
        .retry_policy(meta_business::retry::RetryPolicy::none())
        .build()
        .unwrap();
    client.business("1000000000001").get().send().await.unwrap();
    // The next proof is of another second.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let other = client.with_token("EAAE-echo-another-token-5d1c");
    let err = other
        .business("1000000000002")
        .get()
        .send()
        .await
        .unwrap_err();
    let proofs = echo.0.lock().unwrap().clone();
    assert_eq!(proofs.len(), 2);
    assert_ne!(proofs[0], proofs[1]);
    let text = format!("{err} {err:?}");
    for proof in &proofs {
        assert!(!text.contains(proof.as_str()), "{text}");
    }
    assert_eq!(text.matches("[redacted]").count(), 4, "{text}");
}

#[tokio::test]
async fn a_token_answer_that_echoes_a_known_secret_is_refused_and_a_new_token_is_remembered() {
    let server = MockServer::start().await;
    let answer = Arc::new(Mutex::new(String::new()));
    let shown = answer.clone();
    wiremock::Mock::given(wiremock::matchers::path("/v26.0/oauth/access_token"))
        .respond_with(move |_: &Request| {
            ResponseTemplate::new(200).set_body_json(json!({
                "access_token": *shown.lock().unwrap(), "token_type": "bearer", "expires_in": 5_184_000}))
        })
        .mount(&server)
        .await;
    let fresh = "EAAE-echo-freshly-refreshed-token-0a9b";
    wiremock::Mock::given(wiremock::matchers::path("/v26.0/1000000000001"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": format!("the token you got earlier was {fresh}"), "code": 100}})))
        .mount(&server)
        .await;
    let client = Client::builder()
        .access_token(ADMIN)
        .app_secret(APP_SECRET)
        .app_id(DEMO.app_id)
        .base_url(server.uri())
        .retry_policy(meta_business::retry::RetryPolicy::none())
        .build()
        .unwrap();
    let stored = "EAAE-echo-stored-token-to-refresh-77";
    for echoed in [
        ADMIN.to_owned(),
        format!("{APP_SECRET}-and-more"),
        stored.to_owned(),
        format!(
            "x{}",
            url::form_urlencoded::byte_serialize(ADMIN.as_bytes()).collect::<String>()
        ),
    ] {
        *answer.lock().unwrap() = echoed.clone();
        let err = client
            .refresh_token(DEMO.app_id, stored)
            .send()
            .await
            .unwrap_err();
        assert!(err.outcome_unknown(), "{err}");
        let text = format!("{err} {err:?}");
        assert!(text.contains("a secret this client was given"), "{text}");
        assert!(!text.contains(&echoed) && !text.contains(ADMIN), "{text}");
    }
    // A new token is taken, and remembered: a later error that quotes it shows it redacted.
    *answer.lock().unwrap() = fresh.to_owned();
    let refreshed = client
        .refresh_token(DEMO.app_id, stored)
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.secret().expose_secret(), fresh);
    // A token the server handed out may come back as it is (`fetch_only` answers the existing
    // token): taken whole, not redacted.
    let again = client
        .refresh_token(DEMO.app_id, stored)
        .send()
        .await
        .unwrap();
    assert_eq!(again.secret().expose_secret(), fresh);
    let err = client
        .business("1000000000001")
        .get()
        .send()
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(fresh), "{text}");
    assert!(
        text.contains("the token you got earlier was [redacted]"),
        "{text}"
    );
}
