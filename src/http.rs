//! The one private send path: URL, auth, proof, timeouts, decoding and error mapping.
//!
//! Every request of the crate goes through [`Client::execute_with`], called by the one generic
//! send ([`crate::api::exchange::send`]). The token travels only in
//! `Authorization: Bearer`; `appsecret_proof` is attached here to every request, derived from the
//! token that request carries (the classic form cached per token, the time-stamped one fresh); and every error built here is scrubbed of the token, the app secret
//! and the proof. Every secret a request carries is registered with the client's
//! [`Registry`](crate::registry::Registry), and every answer is scrubbed of all the registry
//! holds before it is decoded: what a server saw in an earlier request cannot come back in a
//! later answer's names or errors.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use crate::time::unix_now;

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::client::{Client, SeenUsage, lock};
use crate::config::ProofMode;
use crate::error::{Error, Result};
use crate::redact::Scrubber;
use crate::request::{Request, check_token};
use crate::response::{
    ReadError, ResponseContext, decode, decode_sensitive, read_capped, redirect_error,
};
use crate::retry::{Attempt, Attempts, Strategy};

/// A request's versioned path (`/v26.0/{node}/{edge}`), written out only where it is shown: in
/// an error, or a span a subscriber records. Most calls never need it as a string.
pub(crate) struct PathOf<'a>(pub(crate) &'a Client, pub(crate) &'a Request);

impl std::fmt::Display for PathOf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "/{}", self.0.shared.version.as_str())?;
        for seg in &self.1.segments {
            write!(f, "/{seg}")?;
        }
        Ok(())
    }
}

/// Meta's trace id header, parsed once.
const TRACE_ID: reqwest::header::HeaderName =
    reqwest::header::HeaderName::from_static("x-fb-trace-id");

/// Scrubs a decoded success value of the request's secrets.
pub(crate) type PostProcess<T> = fn(&mut T, &Scrubber<'_>);

/// One request, paced and sent: the plain strategy of the retry loop.
struct Plain<'a, T> {
    client: &'a Client,
    req: &'a Request,
    path: &'a PathOf<'a>,
    post: Option<PostProcess<T>>,
    /// A subscriber records the request's span: worth looking the span up to fill it in.
    traced: bool,
}

impl<T: DeserializeOwned> Attempts for Plain<'_, T> {
    type Output = T;

    fn strategy(&self) -> Strategy {
        Strategy::Plain(self.req.effect)
    }

    fn pace(&self) -> Duration {
        self.client.pace_wait(self.req)
    }

    async fn attempt(&mut self) -> Attempt<T> {
        match self.client.execute_once(self).await {
            Ok(value) => Attempt::Done(Ok(value)),
            Err(err) => Attempt::Again(err),
        }
    }
}

impl Client {
    /// The versioned path of a request, as a string (for messages).
    pub(crate) fn path_for(&self, req: &Request) -> String {
        PathOf(self, req).to_string()
    }

    /// Sends a request and decodes its JSON answer (scrubbed by `post` when given), retrying
    /// as the client's policy and the request's effect allow. Called only by the one generic
    /// send, [`crate::api::exchange::send`], which keeps the request to name it in an error
    /// about the answer.
    pub(crate) async fn execute_with<T: DeserializeOwned>(
        &self,
        req: &Request,
        post: Option<PostProcess<T>>,
    ) -> Result<T> {
        // Credentials passed as arguments (`input_token`, `fb_exchange_token`, …): the server
        // sees them, so the client remembers them.
        for (_, secret) in &req.secret_params {
            self.shared.secrets.seen(secret.expose_secret());
        }
        let path = PathOf(self, req);
        let span = tracing::debug_span!(
            "graph_request",
            http.request.method = %req.method,
            url.path = %path,
            http.response.status_code = tracing::field::Empty,
            fbtrace_id = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        // A span no subscriber wants costs nothing to skip, and polling through it does cost.
        if span.is_disabled() {
            self.execute_with_retries(req, &path, post, false).await
        } else {
            self.execute_with_retries(req, &path, post, true)
                .instrument(span)
                .await
        }
    }

    async fn execute_with_retries<T: DeserializeOwned>(
        &self,
        req: &Request,
        path: &PathOf<'_>,
        post: Option<PostProcess<T>>,
        traced: bool,
    ) -> Result<T> {
        let mut send = Plain {
            client: self,
            req,
            path,
            post,
            traced,
        };
        let (result, attempts) = crate::retry::retry(self.shared.retry, &mut send).await;
        if traced {
            tracing::Span::current().record("attempts", attempts);
        }
        if let Err(err) = &result {
            tracing::debug!(error = %err, "graph request failed");
        }
        result
    }

    /// How long to wait before a call when the last usage reported for its business object (or
    /// the app) passed the pacing threshold. The retry loop holds the wait to its deadline.
    fn pace_wait(&self, req: &Request) -> Duration {
        let Some(pacing) = self.shared.pacing else {
            return Duration::ZERO;
        };
        let object = req
            .segments
            .first()
            .map(|s| s.strip_prefix("act_").unwrap_or(s).to_owned());
        let usage = lock(&self.shared.usage);
        let mut wait = usage.app.map_or(Duration::ZERO, |u| pacing.wait_for(u));
        if let Some(seen) = object.as_deref().and_then(|o| usage.objects.get(o)) {
            wait = wait.max(pacing.wait_for(*seen));
        }
        wait
    }

    fn record_usage(&self, headers: &HeaderMap) {
        let Some(raw) = crate::usage::RawUsage::from_headers(headers) else {
            return;
        };
        if self.shared.pacing.is_none() {
            // Nothing reads it before someone asks: keep the headers, parse them then.
            let mut seen = lock(&self.shared.usage);
            seen.last_raw = Some(raw);
            seen.last = None;
            return;
        }
        let usage = raw.parse();
        let mut seen = lock(&self.shared.usage);
        let now = Instant::now();
        if let Some(app) = &usage.app {
            seen.app = Some(SeenUsage {
                pct: app.max_pct(),
                regain: Duration::ZERO,
                at: now,
            });
        }
        for (object, entries) in &usage.business_use_case {
            let pct = entries.iter().map(|e| e.max_pct()).fold(0.0, f64::max);
            let regain = entries
                .iter()
                .map(|e| e.regain_access_in())
                .max()
                .unwrap_or_default();
            seen.objects.insert(
                object.clone(),
                SeenUsage {
                    pct,
                    regain,
                    at: now,
                },
            );
        }
        seen.last_raw = None;
        seen.last = Some(usage);
    }

    /// One attempt of `call`: its HTTP request sent, its answer read and decoded.
    async fn execute_once<T: DeserializeOwned>(&self, call: &Plain<'_, T>) -> Result<T> {
        let Plain {
            req,
            path,
            post,
            traced,
            ..
        } = *call;
        let proof = self.proof();
        let builder = self.http_request(req, proof.as_ref())?;

        let transport = |e: reqwest::Error| Error::Transport {
            method: req.method.clone(),
            path: path.to_string(),
            host: self.host(),
            base_url: self.shared.base_url.to_string(),
            attempts: 1,
            source: e.without_url(),
        };
        self.shared
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut response = builder.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());

        let scrubber = Scrubber::new(
            [self.token.expose_secret()]
                .into_iter()
                .chain(self.app_secrets_exposed())
                .chain(proof.as_ref().map(|(p, _)| p.expose_secret()))
                .chain(req.secret_params.iter().map(|(_, v)| v.expose_secret())),
        )
        .with_registry(&self.shared.secrets);

        self.record_usage(&headers);
        let span = if traced {
            tracing::Span::current()
        } else {
            tracing::Span::none()
        };
        span.record("http.response.status_code", status);
        // Scrubbing builds every encoded form of every secret: only for a span that records.
        if traced && let Some(trace) = headers.get(TRACE_ID).and_then(|v| v.to_str().ok()) {
            span.record("fbtrace_id", scrubber.text(trace).as_ref());
        }
        if (300..400).contains(&status) {
            return Err(redirect_error(
                &req.method,
                path,
                status,
                &headers,
                &scrubber,
            ));
        }
        let body = read_capped(&mut response, self.shared.limits.max_response_bytes)
            .await
            .map_err(|e| match e {
                ReadError::Transport(e) => transport(e),
                ReadError::TooLarge(limit) => Error::ResponseTooLarge {
                    method: req.method.clone(),
                    path: path.to_string(),
                    status,
                    limit,
                },
            })?;

        let ctx = ResponseContext {
            method: &req.method,
            path,
            status,
            headers: &headers,
            sensitive: req.sensitive_response,
        };
        let result = if req.sensitive_response {
            // Its tokens are checked against the registry, then registered.
            decode_sensitive(&ctx, &body, &scrubber, &self.shared.secrets)
        } else {
            // One scan: a body holding no secret is decoded as it came.
            decode(&ctx, &self.shared.secrets.body(&body), &scrubber)
        };
        match result {
            Ok(mut value) => {
                if let Some(post) = post {
                    post(&mut value, &scrubber);
                }
                Ok(value)
            }
            Err(err) => {
                if let Some(trace) = err.api_error().and_then(|a| a.graph.fbtrace_id.as_deref()) {
                    span.record("fbtrace_id", trace);
                }
                Err(err)
            }
        }
    }

    /// The `Authorization` header of this client's token, built once per token.
    fn auth_header(&self) -> Result<HeaderValue> {
        let cached = self.auth.get_or_init(|| {
            check_token(&self.token).ok()?;
            let mut auth =
                HeaderValue::try_from(format!("Bearer {}", self.token.expose_secret())).ok()?;
            auth.set_sensitive(true);
            Some(auth)
        });
        match cached {
            Some(auth) => Ok(auth.clone()),
            // Said again in detail: which check failed.
            None => Err(check_token(&self.token).err().unwrap_or_else(|| {
                Error::invalid_input("access_token", "cannot travel in an HTTP header")
            })),
        }
    }

    /// `host:port` of the base URL, for messages.
    fn host(&self) -> String {
        let url = &self.shared.base_url;
        match (url.host_str(), url.port_or_known_default()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => String::new(),
        }
    }

    /// The HTTP request for one attempt: the versioned URL, the parameters in the query (GET,
    /// DELETE) or the form body (POST) with the proof, the Bearer header, the timeout.
    fn http_request(
        &self,
        req: &Request,
        proof: Option<&(Cow<'_, SecretString>, Option<u64>)>,
    ) -> Result<reqwest::RequestBuilder> {
        let auth = self.auth_header()?;
        let mut url = self.shared.versioned_url.clone();
        url.path_segments_mut()
            .map_err(|()| Error::invalid_input("base_url", "cannot be a base"))?
            .extend(req.segments.iter().map(|s| s.as_ref()));
        let proof_pairs =
            proof.map(|(proof, time)| (proof.expose_secret(), time.map(|t| t.to_string())));
        let builder = if req.method == Method::POST {
            // The crate's own encoder: a batch's JSON is long, and `url`'s goes byte by byte.
            let encoded = req.encoded_param.as_ref();
            let mut body = Vec::with_capacity(
                req.params
                    .iter()
                    .map(|(k, v)| k.len() + v.len() * 3 / 2 + 2)
                    .sum::<usize>()
                    + encoded.map_or(0, |(k, v)| k.len() + v.len() + 1)
                    + 100,
            );
            if let Some((key, value)) = encoded {
                crate::form::encode_bytes(&mut body, key.as_bytes());
                body.push(b'=');
                body.extend_from_slice(value);
            }
            for (key, value) in each_param(req, proof_pairs.as_ref()) {
                crate::form::append_pair_bytes(&mut body, key, value);
            }
            self.shared
                .http
                .request(req.method.clone(), url)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body)
        } else {
            if req.encoded_param.is_some() {
                return Err(Error::invalid_input(
                    "request",
                    "a form-encoded parameter goes in a POST body only",
                ));
            }
            if !(req.params.is_empty() && req.secret_params.is_empty() && proof_pairs.is_none()) {
                // Appended in place: `set_query` would parse the whole query again.
                url.query_pairs_mut()
                    .extend_pairs(each_param(req, proof_pairs.as_ref()));
            }
            self.shared.http.request(req.method.clone(), url)
        };
        let builder = builder
            .header(AUTHORIZATION, auth)
            .timeout(req.timeout.unwrap_or(self.shared.timeout));
        // The crate's own HTTP client sends the user agent already; a caller's may not.
        Ok(if self.shared.own_http {
            builder
        } else {
            builder.header(USER_AGENT, crate::client::USER_AGENT)
        })
    }

    /// Decodes a response that did not come through [`Client::execute_with`] (a batch item), with
    /// the same error mapping and scrubbing: the token, the app secret and the proofs the
    /// batch request could have carried.
    pub(crate) fn decode_detached<T: DeserializeOwned>(
        &self,
        method: &Method,
        path: &dyn std::fmt::Display,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<T> {
        let proofs = || {
            self.recent_proofs()
                .iter()
                .map(|p| p.expose_secret().to_owned())
                .collect()
        };
        let scrubber = Scrubber::new(
            [self.token.expose_secret()]
                .into_iter()
                .chain(self.app_secrets_exposed()),
        )
        .with_derived(&proofs)
        .with_registry(&self.shared.secrets);
        let ctx = ResponseContext {
            method,
            path,
            status,
            headers,
            sensitive: false,
        };
        decode(&ctx, &self.shared.secrets.body(body), &scrubber)
    }

    /// Every proof a request of the last few minutes may have carried: the classic one, and in
    /// time-stamped mode one per second of the client's timeout and then some.
    fn recent_proofs(&self) -> Vec<SecretString> {
        let Some(secret) = self.proof_secret() else {
            return Vec::new();
        };
        let classic = self
            .classic_proof
            .get_or_init(|| crate::auth::appsecret_proof(secret, &self.token));
        let mut out = vec![classic.clone()];
        if self.shared.proof_mode == ProofMode::TimeStamped {
            let now = unix_now();
            let window = self.shared.timeout.as_secs().saturating_add(10).min(600);
            for t in now.saturating_sub(window)..=now {
                out.push(crate::auth::appsecret_proof_at(secret, &self.token, t));
            }
        }
        out
    }

    /// The proof of this request (borrowed when it is the classic one, cached per token) and,
    /// for the time-stamped form, its time.
    fn proof(&self) -> Option<(Cow<'_, SecretString>, Option<u64>)> {
        let secret = self.proof_secret()?;
        Some(match self.shared.proof_mode {
            ProofMode::Classic => {
                let proof = self.classic_proof.get_or_init(|| {
                    let proof = crate::auth::appsecret_proof(secret, &self.token);
                    self.shared.secrets.seen(proof.expose_secret());
                    proof
                });
                (Cow::Borrowed(proof), None)
            }
            ProofMode::TimeStamped => {
                let now = unix_now();
                let proof = crate::auth::appsecret_proof_at(secret, &self.token, now);
                self.shared.secrets.stamped_proof(proof.expose_secret());
                (Cow::Owned(proof), Some(now))
            }
        })
    }
}

/// Every parameter a request sends, in order: its own, its credential parameters, the proof
/// (and its time). Form-encoded into the query of a GET or DELETE, or the body of a POST.
fn each_param<'a>(
    req: &'a Request,
    proof: Option<&'a (&'a str, Option<String>)>,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    let own = req.params.iter().map(|(k, v)| (k.as_ref(), v.as_ref()));
    let secret = req
        .secret_params
        .iter()
        .map(|(k, v)| (*k, v.expose_secret()));
    let proof = proof.into_iter().flat_map(|(proof, time)| {
        std::iter::once(("appsecret_proof", *proof))
            .chain(time.as_deref().map(|t| ("appsecret_time", t)))
    });
    own.chain(secret).chain(proof)
}
