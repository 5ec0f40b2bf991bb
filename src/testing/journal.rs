//! What the emulator shows of itself: the journal of requests, and its system users.

use std::collections::BTreeMap;

/// One request the emulator received.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// client.business(demo.business_id).system_users().list().send().await?;
/// let sent = &emulator.requests()[0];
/// assert_eq!((sent.method.as_str(), sent.path.as_str()), ("GET", "/v26.0/1000000000001/system_users"));
/// assert!(sent.bearer && !sent.access_token_in_url && sent.proof);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// Path, with the version.
    pub path: String,
    /// Query and form parameters, without `access_token`, `appsecret_proof` and
    /// `appsecret_time` (see the flags).
    pub params: BTreeMap<String, String>,
    /// Whether the token came in `Authorization: Bearer`.
    pub bearer: bool,
    /// Whether an `access_token` parameter was in the URL.
    pub access_token_in_url: bool,
    /// Whether an `appsecret_proof` came.
    pub proof: bool,
    /// Whether it came with `appsecret_time` (time-stamped form).
    pub proof_timed: bool,
    /// HTTP status answered.
    pub status: u16,
    /// When it arrived, counted from the emulator's start.
    pub at: std::time::Duration,
    /// The last 6 characters of the token it carried: enough to tell which token a step used,
    /// too little to use it.
    pub token_suffix: Option<String>,
    /// The node type of the path's object as Meta's description names it (`Business`,
    /// `SystemUser`, `AdAccount`…), when the emulator knows the object.
    pub node_type: Option<String>,
    /// Whether this was an item of a batch request (journaled after the batch itself).
    pub in_batch: bool,
}

impl Recorded {
    /// An entry built by hand (a request that was not sent), for checking a request shape the
    /// way the journal's entries are checked. Flags are false, status 0.
    ///
    /// ```
    /// use meta_business::testing::Recorded;
    /// // An entry built by hand, for a test double of your own that keeps the same journal shape.
    /// let entry = Recorded::new("GET", "/v26.0/me", &[("fields", "id")], Some("User"));
    /// assert_eq!(entry.params["fields"], "id");
    /// ```
    pub fn new(method: &str, path: &str, params: &[(&str, &str)], node_type: Option<&str>) -> Self {
        Recorded {
            method: method.to_owned(),
            path: path.to_owned(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            bearer: false,
            access_token_in_url: false,
            proof: false,
            proof_timed: false,
            status: 0,
            at: std::time::Duration::ZERO,
            token_suffix: None,
            node_type: node_type.map(str::to_owned),
            in_batch: false,
        }
    }
}

/// A system user as the emulator holds it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// client.business(demo.business_id).system_users().create("ads-reporting").send().await?;
/// let held = emulator.system_users(demo.business_id);
/// assert_eq!((held[0].name.as_str(), held[0].role.as_str()), ("ads-reporting", "EMPLOYEE"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmulatedSystemUser {
    /// Its app-scoped id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its role (`ADMIN`, `EMPLOYEE`…).
    pub role: String,
    /// Apps installed for it.
    pub installed_apps: Vec<String>,
}
