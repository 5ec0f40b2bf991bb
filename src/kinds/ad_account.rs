//! Ad accounts, whose ids take the form `act_<digits>`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;
use crate::ids::{check_digits, deserialize_ad_account_id};
use crate::macros::string_enum;

/// An ad account id in its canonical form, `act_<digits>`.
///
/// Bare digits are normalized: `AdAccountId::from("42")` and `AdAccountId::from("act_42")`
/// are equal and both send `act_42`.
///
/// ```
/// use meta_business::AdAccountId;
/// let id: AdAccountId = "42".parse()?;
/// assert_eq!(id.as_str(), "act_42");
/// assert_eq!(id.account_id(), "42");
/// # Ok::<(), meta_business::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AdAccountId(String);

impl AdAccountId {
    /// Wraps a raw ad account id, adding the `act_` prefix to bare digits; requests validate
    /// it before sending.
    pub fn new(raw: impl Into<String>) -> Self {
        let owned = raw.into();
        let raw = owned.trim();
        if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
            Self::prefixed(raw)
        } else if raw.len() == owned.len() {
            Self(owned)
        } else {
            Self(raw.to_owned())
        }
    }

    /// `act_` and the digits, in one allocation.
    fn prefixed(digits: &str) -> Self {
        let mut id = String::with_capacity(4 + digits.len());
        id.push_str("act_");
        id.push_str(digits);
        Self(id)
    }

    /// The id's string, without a copy.
    pub(crate) fn into_string(self) -> String {
        self.0
    }

    /// The canonical id, `act_<digits>`, as used in paths.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The numeric part, without the `act_` prefix.
    pub fn account_id(&self) -> &str {
        self.0.strip_prefix("act_").unwrap_or(&self.0)
    }

    /// Checks the `act_<digits>` form.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming `ad_account_id` when the value is not an ad account id.
    pub fn validate(&self) -> Result<(), Error> {
        match self.0.strip_prefix("act_") {
            Some(digits) => check_digits("ad_account_id", digits, &self.0).map_err(|_| {
                Error::invalid_input(
                    "ad_account_id",
                    format!(
                        "must be `act_` followed by digits (or the digits alone), got {:?}",
                        crate::error::clip(&self.0, 40)
                    ),
                )
            }),
            None => Err(Error::invalid_input(
                "ad_account_id",
                format!(
                    "must be `act_<digits>` or digits, got {:?}",
                    crate::error::clip(&self.0, 40)
                ),
            )),
        }
    }
}

impl crate::ids::NodeId for AdAccountId {
    fn as_str(&self) -> &str {
        &self.0
    }
    fn validate(&self) -> Result<(), Error> {
        AdAccountId::validate(self)
    }
}

impl fmt::Debug for AdAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AdAccountId({})", self.0)
    }
}

impl fmt::Display for AdAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for AdAccountId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for AdAccountId {
    fn from(raw: &str) -> Self {
        Self::new(raw)
    }
}

impl From<String> for AdAccountId {
    fn from(raw: String) -> Self {
        Self::new(raw)
    }
}

impl From<&AdAccountId> for AdAccountId {
    fn from(id: &AdAccountId) -> Self {
        id.clone()
    }
}

impl From<u64> for AdAccountId {
    fn from(raw: u64) -> Self {
        // Digits written by hand: bulk jobs build thousands of these, and `format!` was most of
        // the cost of each.
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = raw;
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        Self::prefixed(std::str::from_utf8(&digits[at..]).unwrap_or_default())
    }
}

impl FromStr for AdAccountId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let id = Self::new(s);
        id.validate()?;
        Ok(id)
    }
}

impl Serialize for AdAccountId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AdAccountId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_ad_account_id(d).map(Self::new)
    }
}

string_enum! {
    /// Tasks on an ad account.
    ///
    /// ```
    /// use meta_business::AdAccountTask;
    /// // Least privilege: ANALYZE reads reports; MANAGE can change everything.
    /// let read_only = [AdAccountTask::Analyze];
    /// assert_eq!(read_only[0].as_str(), "ANALYZE");
    /// ```
    pub enum AdAccountTask {
        AaAnalyze => "AA_ANALYZE",
        Advertise => "ADVERTISE",
        Analyze => "ANALYZE",
        Draft => "DRAFT",
        Manage => "MANAGE",
    }
    /// A task this crate does not list (kept when received; checked, then sent verbatim).
    escape Other;
}

crate::kinds::asset_kind! {
    /// An ad account (`act_<digits>`); the Graph API accepts an assignment without tasks (this crate does not).
    AdAccount: AdAccount {
        id: AdAccountId,
        task: AdAccountTask,
        owned: crate::models::assets::AdAccount,
        name: "ad account",
        key: "ad_account",
        node: "AdAccount",
        owned_edge: "owned_ad_accounts",
        owned_fields: crate::models::assets::AD_ACCOUNT_FIELDS,
        system_user_edge: Some("assigned_ad_accounts"),
        tasks_required: false,
        can_unassign: true,
        partner_edges: &["agencies"],
    }
}
