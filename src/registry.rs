//! Every secret a client has been given or has seen, for its whole life: what a server echoes
//! later (into an error, a name, a log line) is removed wherever it comes back.
//!
//! A request's own [`Scrubber`](crate::redact::Scrubber) knows only that request's secrets; a
//! server that keeps what it saw and echoes it into a later answer would get an earlier token
//! through. The registry is shared by a client and all its clones ([`Client::with_token`],
//! [`Client::as_app`]) and holds:
//!
//! - the client's own secrets, always: its token, every app secret, the classic proof of its
//!   token;
//! - up to [`MAX_SEEN`] other secrets, the most recently used kept: tokens of clones, tokens
//!   passed as arguments (`input_token`, `fb_exchange_token`, `revoke_token`, On Behalf Of's),
//!   tokens the server handed out (minted, refreshed, Page tokens), classic proofs of those;
//! - up to [`MAX_STAMPED`] time-stamped proofs, as keyed digests (8 bytes each): a new one is
//!   made every second, so they are found by their shape (64 hex digits) and looked up.
//!
//! Each secret is looked for in every form the [`Scrubber`](crate::redact::Scrubber) knows
//! (raw, percent-encoded in either case, encoded twice, JSON-escaped, and each of those
//! JSON-escaped once more, as it is in a body not yet decoded), by one Aho-Corasick automaton,
//! built again once [`MAX_PENDING`] new forms have been searched for one by one. A body
//! without any secret costs one scan of it (tens of nanoseconds for a usual answer).
//!
//! [`Client::with_token`]: crate::Client::with_token
//! [`Client::as_app`]: crate::Client::as_app

use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use aho_corasick::{AhoCorasick, MatchKind};
use secrecy::{ExposeSecret, SecretString};

use crate::client::lock;
use crate::redact::{MIN_SECRET_LEN, REDACTED, forms};

/// Secrets kept besides the client's own: the most recently registered or used this many.
/// Enough for a keeper pass over a thousand stored tokens; each costs its forms in the
/// automaton (a few hundred bytes for a token).
pub(crate) const MAX_SEEN: usize = 1024;

/// Time-stamped proofs kept, as 8-byte digests: with one request a second, over an hour.
pub(crate) const MAX_STAMPED: usize = 4096;

/// The length of an `appsecret_proof`: 32 bytes of HMAC-SHA256 in hex.
const PROOF_HEX_LEN: usize = 64;

/// A client's secret registry (see the module's doc).
pub(crate) struct Registry {
    /// Keys the digests: a digest of a secret says nothing without them.
    keys: std::hash::RandomState,
    state: Mutex<State>,
    stamped: Mutex<Stamped>,
    /// Whether any time-stamped proof was registered: without one, no text is searched for
    /// their shape.
    any_stamped: AtomicBool,
}

#[derive(Default)]
struct State {
    /// Digests of every secret held (own and seen), to register one only once.
    known: HashSet<u64>,
    own: Vec<SecretString>,
    /// Oldest first.
    seen: VecDeque<(u64, SecretString)>,
    /// Digests of the seen secrets the server handed out (token answers): one may come back
    /// in a later token answer (`fetch_only` answers the existing token), which no other
    /// secret may.
    handed: HashSet<u64>,
    /// The matcher of the current set; `None` after a change, made again on next use.
    matcher: Option<Arc<Matcher>>,
    /// The last automaton built, and the needles it holds: a few secrets added since are
    /// searched on their own rather than building it again for each.
    base: Option<(Arc<AhoCorasick>, HashSet<String>)>,
}

#[derive(Default)]
struct Stamped {
    set: HashSet<u64>,
    order: VecDeque<u64>,
}

/// Needles added since the last automaton was built, past which it is built again: until
/// then each is searched on its own (a keeper pass registers a token per request, and building
/// the automaton of a thousand secrets costs milliseconds).
const MAX_PENDING: usize = 32;

/// Every form of every secret of one registry state.
pub(crate) struct Matcher {
    /// The last automaton built (it may still hold a few secrets forgotten since: they are
    /// scrubbed a little longer, never shown).
    base: Option<Arc<AhoCorasick>>,
    /// Needles added since, each searched on its own.
    pending: Vec<memchr::memmem::Finder<'static>>,
    /// Every needle of this state, for an automaton of them all, built when a text does hold
    /// a secret while some are pending (replacing leftmost-longest over the whole set).
    needles: Vec<String>,
    whole: std::sync::OnceLock<Option<AhoCorasick>>,
    /// The longest form, in bytes.
    longest: usize,
}

/// The automaton of these needles: leftmost-longest, so that a form holding another is
/// replaced whole. Building fails only past its size limits, which the registry's bounds keep
/// far from.
fn automaton(needles: &[String]) -> Option<AhoCorasick> {
    if needles.is_empty() {
        return None;
    }
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(needles)
        .ok()
}

impl Matcher {
    /// Whether `haystack` holds any form of any secret.
    pub(crate) fn is_match(&self, haystack: &[u8]) -> bool {
        self.base.as_ref().is_some_and(|ac| ac.is_match(haystack))
            || self.pending.iter().any(|f| f.find(haystack).is_some())
    }

    /// The automaton that replaces: the base when nothing is pending.
    fn replacer(&self) -> Option<&AhoCorasick> {
        if self.pending.is_empty() {
            return self.base.as_deref();
        }
        self.whole.get_or_init(|| automaton(&self.needles)).as_ref()
    }

    /// The longest form of any secret, in bytes.
    pub(crate) fn longest(&self) -> usize {
        self.longest
    }

    /// `s` with every form of every secret replaced.
    pub(crate) fn text<'s>(&self, s: &'s str) -> Cow<'s, str> {
        if !self.is_match(s.as_bytes()) {
            return Cow::Borrowed(s);
        }
        let Some(ac) = self.replacer() else {
            return Cow::Borrowed(s);
        };
        let mut out = String::with_capacity(s.len());
        ac.replace_all_with(s, &mut out, |_, _, dst| {
            dst.push_str(REDACTED);
            true
        });
        Cow::Owned(out)
    }

    fn bytes(&self, b: &[u8]) -> Option<Vec<u8>> {
        if !self.is_match(b) {
            return None;
        }
        let ac = self.replacer()?;
        let mut out = Vec::with_capacity(b.len());
        ac.replace_all_with_bytes(b, &mut out, |_, _, dst| {
            dst.extend_from_slice(REDACTED.as_bytes());
            true
        });
        Some(out)
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            keys: std::hash::RandomState::new(),
            state: Mutex::default(),
            stamped: Mutex::default(),
            any_stamped: AtomicBool::new(false),
        }
    }
}

impl Registry {
    fn digest(&self, secret: &[u8]) -> u64 {
        self.keys.hash_one(secret)
    }

    /// Registers one of the client's own secrets: kept for the client's lifetime.
    pub(crate) fn own(&self, secret: &SecretString) {
        let raw = secret.expose_secret();
        if raw.len() < MIN_SECRET_LEN {
            return;
        }
        let digest = self.digest(raw.as_bytes());
        let mut state = lock(&self.state);
        if !state.known.insert(digest) {
            // Seen before as another's: now it is the client's own, never evicted.
            let Some(at) = state.seen.iter().position(|(d, _)| *d == digest) else {
                return;
            };
            state.seen.remove(at);
        }
        state.own.push(secret.clone());
        state.matcher = None;
    }

    /// Registers a secret the client was given or saw (a token passed as an argument, minted,
    /// refreshed, read from a store, a Page token, a proof). Registering it again marks it
    /// recently used; past [`MAX_SEEN`], the least recently used one is forgotten.
    pub(crate) fn seen(&self, secret: &str) {
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        let digest = self.digest(secret.as_bytes());
        let mut state = lock(&self.state);
        if state.known.contains(&digest) {
            // Most recently used last; the automaton does not change.
            if let Some(at) = state.seen.iter().rposition(|(d, _)| *d == digest)
                && at + 1 != state.seen.len()
                && let Some(entry) = state.seen.remove(at)
            {
                state.seen.push_back(entry);
            }
            return;
        }
        state.known.insert(digest);
        state
            .seen
            .push_back((digest, SecretString::from(secret.to_owned())));
        while state.seen.len() > MAX_SEEN {
            if let Some((old, _)) = state.seen.pop_front() {
                state.known.remove(&old);
                state.handed.remove(&old);
            }
        }
        state.matcher = None;
    }

    /// Registers a token the server handed out (minted, refreshed, a Page token).
    pub(crate) fn handed_out(&self, token: &str) {
        self.seen(token);
        let digest = self.digest(token.as_bytes());
        let mut state = lock(&self.state);
        if state.seen.iter().any(|(d, _)| *d == digest) {
            state.handed.insert(digest);
        }
    }

    /// Whether this token is one the server handed out before (and the registry still holds).
    pub(crate) fn was_handed_out(&self, token: &str) -> bool {
        let digest = self.digest(token.as_bytes());
        lock(&self.state).handed.contains(&digest)
    }

    /// Registers a time-stamped proof (a new one every second: kept as a digest).
    pub(crate) fn stamped_proof(&self, proof: &str) {
        let digest = self.digest(proof.as_bytes());
        let mut stamped = lock(&self.stamped);
        if !stamped.set.insert(digest) {
            return;
        }
        stamped.order.push_back(digest);
        while stamped.order.len() > MAX_STAMPED {
            if let Some(old) = stamped.order.pop_front() {
                stamped.set.remove(&old);
            }
        }
        self.any_stamped.store(true, Ordering::Relaxed);
    }

    /// The automaton of the current set (built now if the set changed since it last was).
    pub(crate) fn matcher(&self) -> Arc<Matcher> {
        let mut state = lock(&self.state);
        if let Some(m) = &state.matcher {
            return Arc::clone(m);
        }
        let mut needles: Vec<String> = Vec::new();
        let mut unique: HashSet<String> = HashSet::new();
        let secrets = state
            .own
            .iter()
            .chain(state.seen.iter().map(|(_, s)| s))
            .map(ExposeSecret::expose_secret);
        for secret in secrets {
            for form in forms(secret) {
                // Answers are scrubbed before they are decoded: a form with a character JSON
                // escapes (`\/` holds a backslash) is in the body escaped once more.
                let escaped = serde_json::to_string(&form)
                    .ok()
                    .map(|json| json[1..json.len() - 1].to_owned())
                    .filter(|escaped| *escaped != form);
                for needle in std::iter::once(form).chain(escaped) {
                    if unique.insert(needle.clone()) {
                        needles.push(needle);
                    }
                }
            }
        }
        let longest = needles.iter().map(String::len).max().unwrap_or(0);
        let pending: Vec<&String> = match &state.base {
            Some((_, held)) => needles.iter().filter(|n| !held.contains(*n)).collect(),
            None => needles.iter().collect(),
        };
        let (base, pending) = match &state.base {
            Some((ac, _)) if pending.len() <= MAX_PENDING => (
                Some(Arc::clone(ac)),
                pending
                    .into_iter()
                    .map(|n| memchr::memmem::Finder::new(n.as_bytes()).into_owned())
                    .collect(),
            ),
            _ => {
                let ac = automaton(&needles).map(Arc::new);
                state.base = ac
                    .as_ref()
                    .map(|ac| (Arc::clone(ac), needles.iter().cloned().collect()));
                (ac, Vec::new())
            }
        };
        let matcher = Arc::new(Matcher {
            base,
            pending,
            needles,
            whole: std::sync::OnceLock::new(),
            longest,
        });
        state.matcher = Some(Arc::clone(&matcher));
        matcher
    }

    /// Whether `token` is, or holds, a secret the registry knows.
    #[cfg(test)]
    pub(crate) fn knows(&self, token: &str) -> bool {
        self.matcher().is_match(token.as_bytes())
            || matches!(self.stamped_text(token), Cow::Owned(_))
    }

    /// `s` with every registered secret replaced, time-stamped proofs included.
    pub(crate) fn text<'s>(&self, matcher: &Matcher, s: &'s str) -> Cow<'s, str> {
        match matcher.text(s) {
            Cow::Borrowed(s) => self.stamped_text(s),
            Cow::Owned(clean) => Cow::Owned(self.stamped_text(&clean).into_owned()),
        }
    }

    /// A body with every registered secret replaced; borrowed (not copied) when it holds
    /// none, which one scan tells.
    pub(crate) fn body<'b>(&self, body: &'b [u8]) -> Cow<'b, [u8]> {
        let matcher = self.matcher();
        let body = match matcher.bytes(body) {
            Some(clean) => Cow::Owned(clean),
            None => Cow::Borrowed(body),
        };
        if !self.any_stamped.load(Ordering::Relaxed) {
            return body;
        }
        // Proofs are hex: the same in every encoding, and replaced as text is.
        let clean = match std::str::from_utf8(&body) {
            Ok(text) => match self.stamped_text(text) {
                Cow::Borrowed(_) => None,
                Cow::Owned(clean) => Some(clean.into_bytes()),
            },
            Err(_) => None,
        };
        match clean {
            Some(clean) => Cow::Owned(clean),
            None => body,
        }
    }

    /// `s` with every registered time-stamped proof replaced: each run of exactly 64 hex
    /// digits is looked up by its digest.
    fn stamped_text<'s>(&self, s: &'s str) -> Cow<'s, str> {
        if !self.any_stamped.load(Ordering::Relaxed) {
            return Cow::Borrowed(s);
        }
        let bytes = s.as_bytes();
        let mut hits: Vec<usize> = Vec::new();
        let mut start = 0;
        while start < bytes.len() {
            if !bytes[start].is_ascii_hexdigit() {
                start += 1;
                continue;
            }
            let len = bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_hexdigit())
                .count();
            if len == PROOF_HEX_LEN {
                hits.push(start);
            }
            start += len;
        }
        if hits.is_empty() {
            return Cow::Borrowed(s);
        }
        let stamped = lock(&self.stamped);
        let mut out = String::new();
        let mut from = 0;
        for at in hits {
            let run = &s[at..at + PROOF_HEX_LEN];
            if stamped.set.contains(&self.digest(run.as_bytes())) {
                out.push_str(&s[from..at]);
                out.push_str(REDACTED);
                from = at + PROOF_HEX_LEN;
            }
        }
        if from == 0 {
            return Cow::Borrowed(s);
        }
        out.push_str(&s[from..]);
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "EAAB/REGISTRY+tok=en/42";

    #[test]
    fn every_encoding_of_every_secret_is_replaced() {
        let reg = Registry::default();
        reg.own(&SecretString::from("own-app-secret-1234"));
        reg.seen(CANARY);
        let form: String = url::form_urlencoded::byte_serialize(CANARY.as_bytes()).collect();
        let m = reg.matcher();
        for shown in [
            CANARY.to_owned(),
            form.clone(),
            form.replace("%2F", "%2f")
                .replace("%2B", "%2b")
                .replace("%3D", "%3d"),
            form.replace('%', "%25"),
            form.replace('+', "%20"),
            CANARY.replace('/', "\\/"),
            "own-app-secret-1234".to_owned(),
        ] {
            let text = format!("x={shown}&y=1");
            let out = reg.text(&m, &text);
            assert!(!out.contains(&shown), "{out}");
            assert_eq!(out, format!("x={REDACTED}&y=1"));
            let body = reg.body(text.as_bytes());
            assert_eq!(&body[..], format!("x={REDACTED}&y=1").as_bytes());
        }
        // In a JSON body, the `\/` form is escaped once more.
        let body =
            serde_json::to_vec(&serde_json::json!({ "name": CANARY.replace('/', "\\/") })).unwrap();
        let clean: serde_json::Value = serde_json::from_slice(&reg.body(&body)).unwrap();
        assert_eq!(clean["name"], REDACTED);
        assert!(reg.knows(&format!("pre{CANARY}post")));
        assert!(!reg.knows("EAAB-another-token-entirely"));
    }

    #[test]
    fn a_clean_body_is_not_copied() {
        let reg = Registry::default();
        reg.seen(CANARY);
        let body = b"{\"id\":\"1\",\"name\":\"plain\"}";
        assert!(matches!(reg.body(body), Cow::Borrowed(_)));
    }

    #[test]
    fn seen_secrets_are_capped_least_recently_used_first_own_never() {
        let reg = Registry::default();
        reg.own(&SecretString::from("the-clients-own-token"));
        let first = "seen-token-number-first";
        reg.seen(first);
        for i in 0..MAX_SEEN - 1 {
            reg.seen(&format!("seen-token-number-{i:06}"));
        }
        // Used again: now the most recent.
        reg.seen(first);
        reg.seen("seen-token-number-overflow");
        assert!(reg.knows(first), "a secret used again is kept");
        assert!(
            !reg.knows("seen-token-number-000000"),
            "the oldest is forgotten"
        );
        assert!(reg.knows("seen-token-number-000001"));
        assert!(reg.knows("seen-token-number-overflow"));
        assert!(reg.knows("the-clients-own-token"));
        let state = lock(&reg.state);
        assert_eq!(state.seen.len(), MAX_SEEN);
        assert_eq!(state.known.len(), MAX_SEEN + 1);
    }

    #[test]
    fn registering_again_keeps_the_automaton() {
        let reg = Registry::default();
        reg.seen(CANARY);
        let m = reg.matcher();
        reg.seen(CANARY);
        assert!(Arc::ptr_eq(&m, &reg.matcher()));
        reg.seen("another-secret-value");
        assert!(!Arc::ptr_eq(&m, &reg.matcher()));
    }

    #[test]
    fn a_few_new_secrets_are_searched_without_building_again_and_replaced_exactly() {
        let reg = Registry::default();
        reg.seen("first-secret-value-0");
        let base = reg.matcher();
        // A new secret that holds an older one: replaced whole, not around the older one.
        reg.seen("xx-first-secret-value-0-yy");
        let m = reg.matcher();
        assert!(Arc::ptr_eq(
            base.base.as_ref().unwrap(),
            m.base.as_ref().unwrap()
        ));
        assert_eq!(m.pending.len(), 1);
        assert_eq!(
            reg.text(&m, "a xx-first-secret-value-0-yy b first-secret-value-0"),
            format!("a {REDACTED} b {REDACTED}")
        );
        for i in 0..=MAX_PENDING {
            reg.seen(&format!("pending-secret-{i:04}"));
        }
        let m = reg.matcher();
        assert!(m.pending.is_empty(), "built again past {MAX_PENDING}");
        assert!(reg.knows("pending-secret-0000"));
    }

    #[test]
    fn a_token_handed_out_is_told_apart_until_forgotten() {
        let reg = Registry::default();
        reg.seen("given-as-an-argument");
        reg.handed_out("minted-by-the-server");
        assert!(reg.was_handed_out("minted-by-the-server"));
        assert!(!reg.was_handed_out("given-as-an-argument"));
        for i in 0..MAX_SEEN {
            reg.seen(&format!("seen-token-number-{i:06}"));
        }
        assert!(!reg.was_handed_out("minted-by-the-server"));
        assert!(lock(&reg.state).handed.is_empty());
    }

    #[test]
    fn a_seen_secret_that_becomes_own_is_never_forgotten() {
        let reg = Registry::default();
        reg.seen("promoted-secret-value");
        reg.own(&SecretString::from("promoted-secret-value"));
        for i in 0..MAX_SEEN + 5 {
            reg.seen(&format!("seen-token-number-{i:06}"));
        }
        assert!(reg.knows("promoted-secret-value"));
    }

    #[test]
    fn stamped_proofs_are_found_by_digest_and_capped() {
        let reg = Registry::default();
        let proof = |t: u64| {
            crate::auth::appsecret_proof_at(&"app-secret-x".into(), &"a-token-value".into(), t)
                .expose_secret()
                .to_owned()
        };
        reg.stamped_proof(&proof(1));
        let m = reg.matcher();
        let text = format!("proof={} other={}", proof(1), proof(2));
        let out = reg.text(&m, &text);
        assert_eq!(out, format!("proof={REDACTED} other={}", proof(2)));
        // A longer hex run that contains it is not a proof of ours.
        let long = format!("{}ab", proof(1));
        assert_eq!(reg.text(&m, &long), long);
        for t in 2..=(MAX_STAMPED as u64 + 1) {
            reg.stamped_proof(&proof(t));
        }
        assert!(!reg.knows(&proof(1)), "the oldest is forgotten");
        assert!(reg.knows(&proof(MAX_STAMPED as u64 + 1)));
        assert_eq!(lock(&reg.stamped).set.len(), MAX_STAMPED);
    }

    #[test]
    fn short_values_are_not_registered() {
        let reg = Registry::default();
        reg.seen("abc");
        reg.own(&SecretString::from("abcdef"));
        assert_eq!(reg.text(&reg.matcher(), "abc abcdef"), "abc abcdef");
    }
}
