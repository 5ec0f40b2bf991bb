//! Rate-limit usage headers, parsed: `X-App-Usage`, `X-Ad-Account-Usage`,
//! `X-Business-Use-Case-Usage`; the [`Pacing`] that slows calls down as they near the limit;
//! and the system-user quota's use ([`QuotaUsage`]).
//!
//! Read them from any error ([`ApiError::usage`](crate::ApiError::usage)) or, after any call,
//! from [`Client::last_usage`](crate::Client::last_usage). Percentages are whole numbers from 0
//! to 100 (Meta may send more than 100 when over the limit).

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Deserializer, Serialize};

pub use crate::pacing::Pacing;
pub use crate::quota::QuotaUsage;

/// Every usage header of one response.
///
/// ```
/// use reqwest::header::{HeaderMap, HeaderValue};
/// use meta_business::usage::Usage;
/// let mut headers = HeaderMap::new();
/// headers.insert("x-app-usage", HeaderValue::from_static(r#"{"call_count":72,"total_time":10,"total_cputime":8}"#));
/// let usage = Usage::from_headers(&headers);
/// assert_eq!(usage.app.map(|a| a.max_pct()), Some(72.0));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// `X-App-Usage`: the app's platform rate limit.
    pub app: Option<AppUsage>,
    /// `X-Ad-Account-Usage`: the ad account's limit.
    pub ad_account: Option<AdAccountUsage>,
    /// `X-Business-Use-Case-Usage`: per business object (ad account, Page…), per use case.
    pub business_use_case: BTreeMap<String, Vec<BusinessUseCaseUsage>>,
}

/// `X-App-Usage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AppUsage {
    /// Percentage of calls used.
    #[serde(default, deserialize_with = "pct")]
    pub call_count: f64,
    /// Percentage of total time used.
    #[serde(default, deserialize_with = "pct")]
    pub total_time: f64,
    /// Percentage of CPU time used.
    #[serde(default, deserialize_with = "pct")]
    pub total_cputime: f64,
    /// Keys this crate does not know, kept.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// `X-Ad-Account-Usage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AdAccountUsage {
    /// Percentage of the ad account's quota used.
    #[serde(default, deserialize_with = "pct")]
    pub acc_id_util_pct: f64,
    /// Seconds until the usage resets.
    #[serde(default, deserialize_with = "secs")]
    pub reset_time_duration: u64,
    /// The access tier string, kept as sent (`standard_access`, …).
    pub ads_api_access_tier: Option<String>,
    /// Keys this crate does not know, kept.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// One entry of `X-Business-Use-Case-Usage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BusinessUseCaseUsage {
    /// The use case: `ads_management`, `ads_insights`, `custom_audience`, `pages`…, kept as sent.
    #[serde(rename = "type", default)]
    pub use_case: String,
    /// Percentage of calls used.
    #[serde(default, deserialize_with = "pct")]
    pub call_count: f64,
    /// Percentage of CPU time used.
    #[serde(default, deserialize_with = "pct")]
    pub total_cputime: f64,
    /// Percentage of total time used.
    #[serde(default, deserialize_with = "pct")]
    pub total_time: f64,
    /// Minutes until calls are allowed again (0 when not throttled).
    #[serde(default, deserialize_with = "secs")]
    pub estimated_time_to_regain_access: u64,
    /// The access tier string, kept as sent.
    pub ads_api_access_tier: Option<String>,
    /// Keys this crate does not know, kept.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl AppUsage {
    /// The highest of the three percentages.
    pub fn max_pct(&self) -> f64 {
        self.call_count.max(self.total_time).max(self.total_cputime)
    }
}

impl BusinessUseCaseUsage {
    /// The highest of the three percentages.
    pub fn max_pct(&self) -> f64 {
        self.call_count.max(self.total_time).max(self.total_cputime)
    }

    /// How long until access returns.
    pub fn regain_access_in(&self) -> Duration {
        Duration::from_secs(self.estimated_time_to_regain_access.saturating_mul(60))
    }
}

/// The usage headers' names, parsed once.
pub(crate) const APP_USAGE: HeaderName = HeaderName::from_static("x-app-usage");
pub(crate) const AD_ACCOUNT_USAGE: HeaderName = HeaderName::from_static("x-ad-account-usage");
pub(crate) const BUSINESS_USAGE: HeaderName = HeaderName::from_static("x-business-use-case-usage");

/// A response's usage headers as sent, parsed only when someone asks: most calls never do
/// (parsing them was about 7k instructions a call, more than the rest of the crate's own work).
#[derive(Debug, Clone)]
pub(crate) struct RawUsage {
    app: Option<HeaderValue>,
    ad_account: Option<HeaderValue>,
    business: Option<HeaderValue>,
}

impl RawUsage {
    /// The usage headers of a response; `None` when it has none of the three.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let app = headers.get(APP_USAGE);
        let business = headers.get(BUSINESS_USAGE);
        let ad_account = headers.get(AD_ACCOUNT_USAGE);
        if app.is_none() && business.is_none() && ad_account.is_none() {
            return None;
        }
        // Copied, not shared: a shared value keeps the whole buffer it was read into alive.
        let own =
            |v: Option<&HeaderValue>| v.and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok());
        Some(RawUsage {
            app: own(app),
            ad_account: own(ad_account),
            business: own(business),
        })
    }

    /// The headers parsed, as [`Usage::from_headers`] parses them.
    pub(crate) fn parse(&self) -> Usage {
        Usage::from_values(|name| {
            if name == APP_USAGE {
                self.app.as_ref()
            } else if name == AD_ACCOUNT_USAGE {
                self.ad_account.as_ref()
            } else {
                self.business.as_ref()
            }
        })
    }
}

impl Usage {
    /// Parses the usage headers of a response; malformed headers are skipped (and logged).
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self::from_values(|name| headers.get(name))
    }

    /// The usage of whatever header values `get` finds by name.
    fn from_values<'a>(get: impl Fn(&HeaderName) -> Option<&'a HeaderValue>) -> Self {
        fn parse<T: serde::de::DeserializeOwned>(
            value: Option<&HeaderValue>,
            name: &HeaderName,
        ) -> Option<T> {
            let raw = value?.to_str().ok()?;
            match serde_json::from_str(raw) {
                Ok(v) => Some(v),
                // The parser's message quotes the value, which the server chose: name only.
                Err(_) => {
                    tracing::debug!(header = name.as_str(), "malformed usage header skipped");
                    None
                }
            }
        }
        Usage {
            app: parse(get(&APP_USAGE), &APP_USAGE),
            ad_account: parse(get(&AD_ACCOUNT_USAGE), &AD_ACCOUNT_USAGE),
            business_use_case: parse(get(&BUSINESS_USAGE), &BUSINESS_USAGE).unwrap_or_default(),
        }
    }

    /// Whether no usage header was present.
    pub fn is_empty(&self) -> bool {
        self.app.is_none() && self.ad_account.is_none() && self.business_use_case.is_empty()
    }

    /// The highest percentage reported for this business object (an ad account id with or
    /// without `act_`, a Page id…), across its use cases.
    pub fn object_pct(&self, object_id: &str) -> Option<f64> {
        let key = object_id.strip_prefix("act_").unwrap_or(object_id);
        self.business_use_case.get(key).map(|entries| {
            entries
                .iter()
                .map(BusinessUseCaseUsage::max_pct)
                .fold(0.0, f64::max)
        })
    }

    /// The Marketing API access tier this business's usage header reports
    /// (`ads_api_access_tier`: `development_access` is the lower tier, Limited; `standard_access`
    /// the upper one, Full, as Meta's Marketing API rate-limiting page maps them), when it reports one this crate knows.
    pub fn business_tier(&self, business: &str) -> Option<crate::config::AccessTier> {
        self.business_use_case
            .get(business)?
            .iter()
            .filter_map(|e| e.ads_api_access_tier.as_deref())
            .find_map(header_tier)
    }

    /// The highest percentage reported: the app's, the ad account's, or any business object's
    /// use case.
    pub(crate) fn highest_pct(&self) -> Option<f64> {
        let objects = self
            .business_use_case
            .values()
            .flatten()
            .map(BusinessUseCaseUsage::max_pct);
        self.app
            .as_ref()
            .map(AppUsage::max_pct)
            .into_iter()
            .chain(self.ad_account.as_ref().map(|a| a.acc_id_util_pct))
            .chain(objects)
            .reduce(f64::max)
    }

    /// The longest `estimated_time_to_regain_access` of any business object.
    pub fn regain_access_in(&self) -> Option<Duration> {
        self.business_use_case
            .values()
            .flatten()
            .map(BusinessUseCaseUsage::regain_access_in)
            .filter(|d| !d.is_zero())
            .max()
    }
}

/// The highest percentage kept: Meta reports more than 100 when over the limit, and nothing
/// needs more than this to decide.
const MAX_PCT: f64 = 10_000.0;

/// A percentage, finite and within 0..=[`MAX_PCT`] whatever was sent (`"NaN"`, `"inf"`, `-5`).
fn pct<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let raw = match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n.as_f64().unwrap_or(0.0),
        serde_json::Value::String(s) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    };
    Ok(if raw.is_finite() {
        raw.clamp(0.0, MAX_PCT)
    } else {
        0.0
    })
}

fn secs<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().map(|f| f.max(0.0) as u64))
            .unwrap_or(0),
        serde_json::Value::String(s) => s.trim().parse().unwrap_or(0),
        _ => 0,
    })
}

/// The tier an `ads_api_access_tier` string of a usage header names.
///
/// The header speaks the Marketing API's own names, which are not the feature's: Meta's
/// Marketing API rate-limiting page maps "Development access" to the feature's Standard access
/// (the lower tier, now Limited) and "Standard access" to its Advanced access (the upper tier,
/// now Full), and says new apps start in `development_access`
/// (<https://developers.facebook.com/docs/marketing-apis/rate-limiting>). So in this header
/// `standard_access` is the upper tier, unlike [`AccessTier`](crate::config::AccessTier)'s
/// `FromStr`, which reads the feature's names. [INFER] The feature's names after the 2026
/// rename (`limited_access`, `full_access`) and `advanced_access`, should Meta send them, are
/// read as the tiers they name.
pub(crate) fn header_tier(tier: &str) -> Option<crate::config::AccessTier> {
    use crate::config::AccessTier;
    match tier.trim().to_ascii_lowercase().as_str() {
        "development_access" | "dev_access" | "limited_access" => Some(AccessTier::Limited),
        "standard_access" | "advanced_access" | "full_access" => Some(AccessTier::Full),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_headers_parse_as_the_response_would() {
        let mut headers = HeaderMap::new();
        assert!(RawUsage::from_headers(&headers).is_none());
        headers.insert(
            AD_ACCOUNT_USAGE,
            HeaderValue::from_static(r#"{"acc_id_util_pct":95.5}"#),
        );
        // The ad account's header alone counts: the adaptive controller reads all three.
        let raw = RawUsage::from_headers(&headers).expect("kept");
        assert_eq!(raw.parse().highest_pct(), Some(95.5));
        headers.insert(
            APP_USAGE,
            HeaderValue::from_static(r#"{"call_count":7,"total_cputime":1,"total_time":2}"#),
        );
        headers.insert(
            BUSINESS_USAGE,
            HeaderValue::from_static(
                r#"{"1":[{"type":"ads_management","call_count":80,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":3}]}"#,
            ),
        );
        let raw = RawUsage::from_headers(&headers).expect("kept");
        assert_eq!(raw.parse(), Usage::from_headers(&headers));
        assert_eq!(raw.parse().object_pct("act_1"), Some(80.0));
        headers.insert(APP_USAGE, HeaderValue::from_static("not json"));
        let raw = RawUsage::from_headers(&headers).expect("kept");
        assert_eq!(raw.parse(), Usage::from_headers(&headers));
        assert!(raw.parse().app.is_none());
    }

    #[test]
    fn parses_the_documented_samples_and_keeps_unknown_keys() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-app-usage",
            r#"{"call_count":28,"total_time":25,"total_cputime":25,"new_key":1}"#
                .parse()
                .unwrap(),
        );
        h.insert(
            "x-ad-account-usage",
            r#"{"acc_id_util_pct":9.67,"reset_time_duration":100,"ads_api_access_tier":"limited_access"}"#.parse().unwrap(),
        );
        let buc = concat!(
            r#"{"112233":[{"type":"ads_management","call_count":95,"total_cputime":20,"total_time":30,"#,
            r#""estimated_time_to_regain_access":3,"ads_api_access_tier":"standard_access"},"#,
            r#"{"type":"ads_insights","call_count":"10","total_cputime":1,"total_time":1,"#,
            r#""estimated_time_to_regain_access":0}]}"#
        );
        h.insert("x-business-use-case-usage", buc.parse().unwrap());
        let u = Usage::from_headers(&h);
        // The header's `standard_access` is the upper tier (see `header_tier`).
        assert_eq!(
            u.business_tier("112233"),
            Some(crate::config::AccessTier::Full)
        );
        assert_eq!(u.business_tier("445566"), None);
        for (sent, tier) in [
            (
                "development_access",
                Some(crate::config::AccessTier::Limited),
            ),
            ("standard_access", Some(crate::config::AccessTier::Full)),
            ("limited_access", Some(crate::config::AccessTier::Limited)),
            ("full_access", Some(crate::config::AccessTier::Full)),
            ("advanced_access", Some(crate::config::AccessTier::Full)),
            ("tier_x", None),
        ] {
            assert_eq!(header_tier(sent), tier, "{sent}");
        }
        let app = u.app.as_ref().unwrap();
        assert_eq!(app.max_pct(), 28.0);
        assert_eq!(app.other["new_key"], 1);
        assert_eq!(u.ad_account.as_ref().unwrap().acc_id_util_pct, 9.67);
        assert_eq!(
            u.ad_account
                .as_ref()
                .unwrap()
                .ads_api_access_tier
                .as_deref(),
            Some("limited_access")
        );
        assert_eq!(u.object_pct("act_112233"), Some(95.0));
        assert_eq!(u.business_use_case["112233"][1].call_count, 10.0);
        assert_eq!(u.regain_access_in(), Some(Duration::from_secs(180)));
    }

    #[test]
    fn numbers_are_finite_and_in_range() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-app-usage",
            r#"{"call_count":"NaN","total_time":"inf","total_cputime":-4}"#
                .parse()
                .unwrap(),
        );
        h.insert(
            "x-business-use-case-usage",
            r#"{"1":[{"type":"x","call_count":1e308,"estimated_time_to_regain_access":1e300}]}"#
                .parse()
                .unwrap(),
        );
        let u = Usage::from_headers(&h);
        assert_eq!(u.app.as_ref().unwrap().max_pct(), 0.0);
        assert_eq!(u.object_pct("1"), Some(MAX_PCT));
        assert!(u.regain_access_in().is_some());
    }

    proptest::proptest! {
        #[test]
        fn any_header_value_parses_without_panic_into_finite_numbers(raw in "\\PC{0,200}", json in r#"\{("(call_count|total_time|estimated_time_to_regain_access|type|[0-9]{1,3})":("NaN"|"-1"|1e999|-1e999|\[|\{|null|"x"|[0-9.e+-]{1,8}),?){0,6}\}?\]?"#) {
            for value in [raw.as_str(), json.as_str()] {
                let Ok(value) = reqwest::header::HeaderValue::from_str(value) else { continue };
                let mut h = HeaderMap::new();
                for name in ["x-app-usage", "x-ad-account-usage", "x-business-use-case-usage"] {
                    h.insert(name, value.clone());
                }
                let u = Usage::from_headers(&h);
                if let Some(app) = &u.app {
                    proptest::prop_assert!(app.max_pct().is_finite());
                }
                for entries in u.business_use_case.values() {
                    for e in entries {
                        proptest::prop_assert!(e.max_pct().is_finite());
                        let _ = e.regain_access_in();
                    }
                }
            }
        }
    }

    #[test]
    fn malformed_headers_are_skipped() {
        let mut h = HeaderMap::new();
        h.insert("x-app-usage", "not json".parse().unwrap());
        assert!(Usage::from_headers(&h).is_empty());
    }
}
