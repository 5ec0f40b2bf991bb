//! The one way a builder sends: [`Exchange`] says what request a builder makes, what comes
//! back and whether repeating it is safe; [`send`] sends any of them, and [`batch_item`] and
//! [`Exchange::label`] are derived from the same description.
//!
//! Validation happens in one place, always before sending: the deferred input error of the
//! builder's [`Core`] first, then [`Exchange::request`], which checks every input while it
//! builds the request. A bad input is [`Error::InvalidInput`] and nothing is sent.

use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::api::core::Core;
use crate::batch::BatchItem;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::PostProcess;
use crate::models::Ack;
use crate::request::Request;
use crate::retry::Effect;

/// A request a builder makes: how it is built (its inputs checked), what it expects back,
/// and what it does to the server's state (safe to repeat, or a create or a mint that never
/// is). Every builder that sends one request implements it and sends through [`send`].
pub(crate) trait Exchange: Sized {
    /// The answer's wire shape.
    type Answer: DeserializeOwned;
    /// What the builder's `send` returns.
    type Output;

    /// The client, the timeout and the deferred input error.
    fn core(&self) -> &Core;

    /// As [`Exchange::core`], to take the deferred error.
    fn core_mut(&mut self) -> &mut Core;

    /// Every input checked, then the request; nothing is sent. A bad input is
    /// [`Error::InvalidInput`].
    fn request(&self) -> Result<Request>;

    /// The request, for sending: [`Exchange::request`], unless the builder holds it built
    /// already (it is then taken rather than copied).
    fn take_request(&mut self) -> Result<Request> {
        self.request()
    }

    /// [`Exchange::request`] by value, for a caller that keeps only the request (a bulk
    /// operation): a builder of many ids moves them in rather than copying them.
    fn into_request(self) -> Result<Request> {
        self.request()
    }

    /// What the request does to the server's state: whether the retry loop may send it again,
    /// and whether it may mint or create (then never, once it may have reached the server).
    fn effect(&self) -> Effect;

    /// Scrubs a decoded success of the request's secrets, for an answer that can quote them
    /// (`debug_token` about a bad token).
    fn scrub() -> Option<PostProcess<Self::Answer>> {
        None
    }

    /// What the request is about, in progress events and a bulk run's errors: by default its
    /// method and path (a kind's builders name the kind and the asset).
    fn label(&self) -> String {
        match self.request() {
            Ok(request) => {
                let path: Vec<&str> = request.segments.iter().map(AsRef::as_ref).collect();
                format!("{} {}", request.method, path.join("/"))
            }
            Err(_) => "an invalid request".to_owned(),
        }
    }

    /// The decoded answer as the builder's result; an answer that must not be acted on (a
    /// `false` acknowledgement, a node other than the one asked for) is a [`Refusal`].
    fn finish(self, answer: Self::Answer) -> std::result::Result<Self::Output, Refusal>;
}

/// Why a decoded answer is not acted on.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The server answered `success: false` (or `false`).
    NotAcknowledged,
    /// The answer is about another object than the one the request named.
    WrongObject(String),
}

impl Refusal {
    fn into_error(self, client: &Client, request: &Request) -> Error {
        let (method, path) = (request.method.clone(), client.path_for(request));
        match self {
            Refusal::NotAcknowledged => crate::error::UnexpectedResponse::not_acknowledged(
                method,
                path,
                200,
                Default::default(),
            ),
            Refusal::WrongObject(why) => {
                crate::error::UnexpectedResponse::wrong_object(method, path, why)
            }
        }
    }
}

/// An acknowledgement's answer as `()`: `false` is refused.
pub(crate) fn acknowledged(answer: Ack) -> std::result::Result<(), Refusal> {
    match answer {
        Ack(true) => Ok(()),
        Ack(false) => Err(Refusal::NotAcknowledged),
    }
}

/// The request `exchange` would send, every input checked: the deferred error first, then
/// the builder's own checks; the effect and the timeout stamped on it.
pub(crate) fn prepare<X: Exchange>(exchange: &mut X) -> Result<Request> {
    exchange.core_mut().ready()?;
    let effect = exchange.effect();
    let request = exchange.take_request()?.with_effect(effect);
    Ok(exchange.core().timed(request))
}

/// The one generic send: checks, sends (through the client's retry loop, with the plain
/// strategy and the builder's effect), decodes and finishes.
///
/// With a subscriber recording it, the call runs in a `send` span whose `label` is the
/// builder's [`Exchange::label`] (never a parameter, so never a secret).
pub(crate) async fn send<X: Exchange>(exchange: X) -> Result<X::Output> {
    let span = tracing::debug_span!("send", label = tracing::field::Empty);
    // A span no subscriber wants costs nothing to skip, and the label costs a string.
    if span.is_disabled() {
        return send_now(exchange).await;
    }
    span.record("label", exchange.label());
    send_now(exchange).instrument(span).await
}

async fn send_now<X: Exchange>(mut exchange: X) -> Result<X::Output> {
    let request = prepare(&mut exchange)?;
    let client = exchange.core().client.clone();
    let answer = client.execute_with(&request, X::scrub()).await?;
    exchange
        .finish(answer)
        .map_err(|refusal| refusal.into_error(&client, &request))
}

/// The request `exchange` makes, checked as [`send`] checks it, for a caller that sends it
/// later itself through [`Prepared`] (bulk); the builder's timeout, when it has one, kept on it.
pub(crate) fn checked<X: Exchange>(mut exchange: X) -> Result<Request> {
    exchange.core_mut().ready()?;
    let (effect, timeout) = (exchange.effect(), exchange.core().timeout);
    let request = exchange.into_request()?.with_effect(effect);
    Ok(match timeout {
        Some(timeout) => request.with_timeout(Some(timeout)),
        None => request,
    })
}

/// The request `exchange` makes as an item of a batch, checked as [`send`] checks it.
pub(crate) fn batch_item<X: Exchange>(exchange: &X) -> Result<BatchItem> {
    exchange.core().check()?;
    let request = exchange.request()?.with_effect(exchange.effect());
    Ok(BatchItem::from_request(&request))
}

/// A request built and checked already (a bulk operation, an On Behalf Of step), and how its
/// answer becomes the result: sent through [`send`] like any builder's.
pub(crate) struct Prepared<A, O = A> {
    core: Core,
    request: Request,
    finish: fn(A) -> std::result::Result<O, Refusal>,
}

impl<A> Prepared<A> {
    /// A request whose decoded answer is the result.
    pub(crate) fn new(core: Core, request: Request) -> Self {
        Prepared {
            core,
            request,
            finish: Ok,
        }
    }
}

impl Prepared<Ack, ()> {
    /// A write whose answer is only a success flag; `false` is refused.
    pub(crate) fn ack(core: Core, request: Request) -> Self {
        Prepared {
            core,
            request,
            finish: acknowledged,
        }
    }
}

impl<A: DeserializeOwned, O> Exchange for Prepared<A, O> {
    type Answer = A;
    type Output = O;

    fn core(&self) -> &Core {
        &self.core
    }

    fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    fn request(&self) -> Result<Request> {
        Ok(self.request.clone())
    }

    fn take_request(&mut self) -> Result<Request> {
        Ok(taken(&mut self.request))
    }

    fn effect(&self) -> Effect {
        self.request.effect
    }

    fn finish(self, answer: A) -> std::result::Result<O, Refusal> {
        (self.finish)(answer)
    }
}

/// A builder's request moved out for sending (an empty one left in its place).
pub(crate) fn taken(request: &mut Request) -> Request {
    let effect = request.effect;
    std::mem::replace(
        request,
        Request::get(Vec::<String>::new()).with_effect(effect),
    )
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use crate::AdAccountTask;
    use crate::error::Error;
    use crate::retry::Effect;
    use crate::testing::GraphEmulator;

    /// An assign used to skip its core's deferred error (its send took the request apart);
    /// through the one send it is refused first, with nothing sent, as every builder's is.
    #[tokio::test]
    async fn a_deferred_bad_input_on_an_assign_is_refused_with_zero_requests() {
        let (emulator, demo) = GraphEmulator::demo().await;
        let client = emulator.client(demo.admin_token).unwrap();
        let account = client.ad_account(demo.ad_accounts[0]);
        let deferred = || {
            let mut assign = account.assign("100000008899900", [AdAccountTask::Analyze]);
            assign
                .core
                .refuse(Error::invalid_input("business", "deferred"));
            assign
        };
        let err = deferred().send().await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { field, .. } if field == "business"),
            "{err}"
        );
        // The batch item and the bulk operation refuse it the same way.
        let err = deferred().batch_item().unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        let err = client.bulk([deferred()]).send().await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        assert!(emulator.requests().is_empty());
        assert!(emulator.assignments(demo.ad_accounts[0]).is_empty());
    }

    /// What each builder says it does is what its request carries, on its own and as a batch
    /// item: an assignment may go again, a create or a mint never.
    #[tokio::test]
    async fn the_effect_a_builder_states_is_stamped_on_its_request_and_its_batch_item() {
        let (emulator, demo) = GraphEmulator::demo().await;
        let client = emulator.client(demo.admin_token).unwrap();
        let mut assign = client
            .ad_account(demo.ad_accounts[0])
            .assign("100000008899900", [AdAccountTask::Analyze]);
        let request = super::prepare(&mut assign).unwrap();
        assert_eq!(request.effect, Effect::Sets);
        let item = client
            .ad_account(demo.ad_accounts[0])
            .unassign("100000008899900")
            .batch_item()
            .unwrap();
        assert_eq!(item, item.clone().idempotent(), "an unassign may go again");
        let mut create = client.business(demo.business_id).system_users().create("x");
        assert_eq!(super::prepare(&mut create).unwrap().effect, Effect::Creates);
        let mut mint = client
            .system_user("100000008899900")
            .generate_token(demo.app_id)
            .business(demo.business_id)
            .scopes([crate::models::permissions::Permission::AdsRead]);
        assert_eq!(super::prepare(&mut mint).unwrap().effect, Effect::Creates);
        assert!(emulator.requests().is_empty());
    }
}
