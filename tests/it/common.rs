//! Shared helpers: canary secrets, a configured client, wire-shape assertions, and a small
//! stateful store of system users for quota tests.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::OnceLock;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use meta_business::{AccessTier, Client, ExposeSecret, SecretString};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Canary values: no output of the crate may ever contain them.
pub const TOKEN: &str = "EAAB-CANARY-ADMIN-TOKEN-7f3a9c1e";
pub const SECRET: &str = "CANARY-APP-SECRET-0b5d2e8f4a";
pub const BIZ: &str = "1234567890";

pub fn proof_for(token: &str) -> String {
    meta_business::tokens::appsecret_proof(&SecretString::from(SECRET), &SecretString::from(token))
        .expose_secret()
        .to_owned()
}

/// A server with a catch-all that answers a Graph-shaped error naming the route.
pub async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &Request| {
            ResponseTemplate::new(400).set_body_json(json!({"error": {
                "message": format!("Unknown path components: {} {}", req.method, req.url.path()),
                "type": "OAuthException", "code": 2500, "fbtrace_id": "CatchAll"}}))
        })
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    server
}

pub fn client_for(server: &MockServer, tier: AccessTier) -> Client {
    Client::builder()
        .access_token(TOKEN)
        .app_secret(SECRET)
        .base_url(server.uri())
        .access_tier(tier)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client builds")
}

pub async fn setup() -> (MockServer, Client) {
    let server = server().await;
    let client = client_for(&server, AccessTier::Limited);
    (server, client)
}

pub fn query(req: &Request) -> BTreeMap<String, String> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn form(req: &Request) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The parameters of a request, wherever the method puts them, without the proof.
pub fn params(req: &Request) -> BTreeMap<String, String> {
    let mut all = if req.method.as_str() == "POST" {
        form(req)
    } else {
        query(req)
    };
    all.remove("appsecret_proof");
    all.remove("appsecret_time");
    all
}

pub fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Every request: Bearer token, correct proof in the right place, no token in the URL, our
/// User-Agent, a versioned path, form encoding for POST.
pub fn assert_wire(requests: &[Request], token: &str) {
    for req in requests {
        let url = req.url.as_str();
        assert!(
            !query(req).contains_key("access_token"),
            "token parameter in URL: {url}"
        );
        assert!(
            !form(req).contains_key("access_token"),
            "token parameter in body: {url}"
        );
        assert!(!url.contains(token), "token in URL: {url}");
        assert_eq!(
            req.headers
                .get("authorization")
                .and_then(|v| v.to_str().ok()),
            Some(format!("Bearer {token}").as_str()),
            "{url}"
        );
        let ua = req
            .headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert_eq!(ua, concat!("meta-business/", env!("CARGO_PKG_VERSION")));
        assert!(
            req.url.path().starts_with("/v26.0/"),
            "unversioned path {}",
            req.url.path()
        );
        let (in_query, in_form) = (query(req), form(req));
        if req.method.as_str() == "POST" {
            assert_eq!(
                req.headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok()),
                Some("application/x-www-form-urlencoded")
            );
            assert!(req.url.query().is_none(), "POST with a query: {url}");
            assert_eq!(
                in_form.get("appsecret_proof"),
                Some(&proof_for(token)),
                "{url}"
            );
        } else {
            assert_eq!(
                in_query.get("appsecret_proof"),
                Some(&proof_for(token)),
                "{url}"
            );
        }
    }
}

pub async fn received(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

pub async fn count(server: &MockServer, verb: &str, p: &str) -> usize {
    received(server)
        .await
        .iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == p)
        .count()
}

/// A business's system users, kept between requests: GET lists them (paged by two, with
/// cursors), POST creates (or renames with `system_user_id`).
#[derive(Clone, Default)]
pub struct SystemUserStore {
    pub users: Arc<Mutex<Vec<(String, String, String)>>>,
    pub post_delay: Duration,
}

impl SystemUserStore {
    pub fn with(users: &[(&str, &str)]) -> Self {
        let store = SystemUserStore::default();
        for (i, (name, role)) in users.iter().enumerate() {
            store
                .users
                .lock()
                .unwrap()
                .push((format!("10000{i}"), (*name).into(), (*role).into()));
        }
        store
    }

    pub async fn mount(&self, server: &MockServer, business: &str) {
        let p = format!("/v26.0/{business}/system_users");
        Mock::given(method("GET"))
            .and(path(p.clone()))
            .respond_with(self.clone())
            .mount(server)
            .await;
        Mock::given(method("POST"))
            .and(path(p))
            .respond_with(self.clone())
            .mount(server)
            .await;
    }
}

impl Respond for SystemUserStore {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut users = self.users.lock().unwrap();
        if req.method.as_str() == "POST" {
            let f = form(req);
            if let Some(id) = f.get("system_user_id") {
                if let Some(u) = users.iter_mut().find(|u| &u.0 == id) {
                    u.1 = f["name"].clone();
                    return ResponseTemplate::new(200).set_body_json(json!({"success": true}));
                }
                return ResponseTemplate::new(400)
                    .set_body_json(json!({"error": {"message": "Invalid user id", "code": 110}}));
            }
            let id = format!("20000{}", users.len());
            users.push((
                id.clone(),
                f["name"].clone(),
                f.get("role").cloned().unwrap_or("EMPLOYEE".into()),
            ));
            return ResponseTemplate::new(200)
                .set_body_json(json!({"id": id}))
                .set_delay(self.post_delay);
        }
        let start: usize = query(req)
            .get("after")
            .and_then(|a| a.strip_prefix("c").map(|n| n.parse().unwrap()))
            .unwrap_or(0);
        let page: Vec<Value> = users
            .iter()
            .skip(start)
            .take(2)
            .map(|(id, name, role)| json!({"id": id, "name": name, "role": role}))
            .collect();
        let end = start + page.len();
        let mut paging =
            json!({"cursors": {"before": format!("c{start}"), "after": format!("c{end}")}});
        if end < users.len() {
            paging["next"] = json!(format!(
                "https://graph.facebook.com/v26.0/x?access_token=LEAK&after=c{end}"
            ));
        }
        ResponseTemplate::new(200).set_body_json(json!({"data": page, "paging": paging}))
    }
}

#[derive(Clone, Default)]
pub struct Sink(pub Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One process-wide TRACE subscriber: it records the log lines of every test in this binary,
/// all of which must be free of secrets.
pub fn captured_logs() -> &'static Sink {
    static SINK: OnceLock<Sink> = OnceLock::new();
    SINK.get_or_init(|| {
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        // reqwest logs through `log`: bring those records into the same capture.
        let _ = tracing_log::LogTracer::init();
        sink
    })
}

/// Everything logged so far by any test of this binary (after the capture started).
pub fn logs_text() -> String {
    String::from_utf8_lossy(&captured_logs().0.lock().unwrap()).into_owned()
}

/// What a store's write or remove did, for tests that expect it to have happened.
pub trait StoreOutcome {
    /// What it yields when it happened.
    type Done;
    /// Panics (naming what happened instead) unless it happened.
    fn done(self) -> Self::Done;
}

impl StoreOutcome for Result<meta_business::store::Put, meta_business::store::StoreError> {
    type Done = meta_business::store::Version;
    fn done(self) -> meta_business::store::Version {
        match self {
            Ok(meta_business::store::Put::Written(version)) => version,
            other => panic!("expected a write, got {other:?}"),
        }
    }
}

impl StoreOutcome for Result<meta_business::store::Removed, meta_business::store::StoreError> {
    /// Whether there was a token to remove.
    type Done = bool;
    fn done(self) -> bool {
        match self {
            Ok(meta_business::store::Removed::Removed) => true,
            Ok(meta_business::store::Removed::Absent) => false,
            other => panic!("expected a remove, got {other:?}"),
        }
    }
}

/// A new system user (`name`) of the demo business with the app installed, and a 60-day
/// ads_read token of it stored under its key (nothing stored there before): the world the
/// keeper's tests start from. Returns the key and the token.
pub async fn stored_60_day_token(
    client: &Client,
    store: &dyn meta_business::store::TokenStore,
    name: &str,
) -> (meta_business::store::TokenKey, String) {
    use meta_business::testing::DEMO;
    use meta_business::{
        Permission,
        store::{Expect, Minted, StoredToken, TokenKey, TokenMeta},
    };
    let su = client
        .business(DEMO.business_id)
        .system_users()
        .create(name)
        .send()
        .await
        .unwrap();
    client
        .system_user(&su.id)
        .install_app(DEMO.app_id)
        .send()
        .await
        .unwrap();
    let minted = client
        .system_user(&su.id)
        .generate_token(DEMO.app_id)
        .business(DEMO.business_id)
        .scopes([Permission::AdsRead])
        .expires_in_60_days(true)
        .send()
        .await
        .unwrap();
    let token = minted.secret().expose_secret().to_owned();
    let key = TokenKey::new(DEMO.business_id, su.id.clone(), DEMO.app_id);
    let meta = TokenMeta::new([Permission::AdsRead], None, Minted::Generated);
    let put = store
        .put(
            StoredToken::new(key.clone(), token.clone(), meta),
            Expect::Absent,
        )
        .await
        .unwrap();
    assert!(
        matches!(put, meta_business::store::Put::Written(_)),
        "the key was empty"
    );
    (key, token)
}
