//! Cursor-paged lists: one page at a time, a bounded collect, or a stream of items.
//!
//! The next request is always rebuilt from the `after` cursor with the client's own auth and
//! the list's own parameters. `paging.next` URLs are never followed (they can carry a token and
//! drop `appsecret_proof`) and are not even kept: a [`Paging`] only records whether there was
//! one.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::marker::PhantomData;

use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::api::core::Core;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::request::Request;

/// One page of a Graph API list.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let page = client.business(demo.business_id).owned_pages().limit(1).send().await?;
/// assert_eq!(page.data.len(), 1);
/// // The next page is built from the cursor with the client's own auth.
/// let next = client.business(demo.business_id).owned_pages().limit(1).after(page.next_cursor().unwrap()).send().await?;
/// assert_ne!(page.data[0].id, next.data[0].id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct ListPage<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Cursors and whether more pages exist.
    pub paging: Option<Paging>,
    /// The `summary` object, when the edge sends one (e.g. `total_count`).
    pub summary: Option<ListSummary>,
}

impl<T> ListPage<T> {
    /// The cursor of the next page, when the server says there is one.
    pub fn next_cursor(&self) -> Option<&str> {
        let paging = self.paging.as_ref()?;
        if paging.has_next {
            paging.cursors.as_ref()?.after.as_deref()
        } else {
            None
        }
    }

    /// Whether the server announced a next page.
    pub fn has_next(&self) -> bool {
        self.paging.as_ref().is_some_and(|p| p.has_next)
    }
}

impl<T> IntoIterator for ListPage<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.data.into_iter()
    }
}

/// The `paging` object of a list, without its URLs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Paging {
    /// The `before`/`after` cursors.
    pub cursors: Option<Cursors>,
    /// Whether the server sent a `next` URL, i.e. announced another page.
    pub has_next: bool,
    /// Whether the server sent a `previous` URL.
    pub has_previous: bool,
}

impl<'de> Deserialize<'de> for Paging {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            cursors: Option<Cursors>,
            #[serde(default)]
            next: Option<serde::de::IgnoredAny>,
            #[serde(default)]
            previous: Option<serde::de::IgnoredAny>,
        }
        let raw = Raw::deserialize(d)?;
        Ok(Paging {
            cursors: raw.cursors,
            has_next: raw.next.is_some(),
            has_previous: raw.previous.is_some(),
        })
    }
}

/// Page cursors. Cursors can be invalidated by the server; do not persist them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Cursors {
    /// Cursor of the first item of the page.
    pub before: Option<String>,
    /// Cursor of the last item of the page.
    pub after: Option<String>,
}

/// The `summary` object of a list.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// let page = client.business(demo.business_id).owned_ad_accounts().with_summary().send().await?;
/// println!("{:?}", page.summary);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListSummary {
    /// Total number of items, when requested and sent.
    pub total_count: Option<u64>,
    /// Any other summary keys.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// The page budget of each list a workflow reads (preflight, plan, audit, offboard), unless
/// its options set another: at the Graph API's default page size (25) that is the 10,000 items
/// the workflows already cap a list at, and against a server that never stops paging it ends a
/// list in 400 requests instead of the client's [`DEFAULT_MAX_PAGES`](crate::DEFAULT_MAX_PAGES).
pub const DEFAULT_WORKFLOW_MAX_PAGES: u32 = 400;

/// Whether an error says a list could not be read to its end (its page budget or item bound
/// ran out, or the server's cursors made no progress), as opposed to a failed request.
pub(crate) fn is_cut_short(err: &Error) -> bool {
    matches!(err, Error::Pagination { .. } | Error::TooManyItems { .. })
}

/// How many cursors the repeat guard remembers; a longer cycle is ended by the page budget.
const REMEMBERED_CURSORS: usize = 4096;

/// Keeps paging honest: stops at the last page, refuses a cursor seen recently, and ends a list
/// that exceeds its page budget or keeps sending empty pages with new cursors.
struct CursorTrail {
    /// Hashes of recent cursors (keyed per process, so a server cannot aim for collisions),
    /// oldest first in `order`: memory stays bounded however long the list.
    seen: HashSet<u64>,
    order: VecDeque<u64>,
    hasher: RandomState,
    path: String,
    pages: u32,
    empty_run: u32,
    max_pages: u32,
    max_empty: u32,
}

impl CursorTrail {
    fn new(path: String, start: Option<&str>, max_pages: u32, max_empty: u32) -> Self {
        let mut trail = CursorTrail {
            seen: HashSet::new(),
            order: VecDeque::new(),
            hasher: RandomState::new(),
            path,
            pages: 0,
            empty_run: 0,
            max_pages: max_pages.max(1),
            max_empty: max_empty.max(1),
        };
        if let Some(start) = start {
            trail.remember(start);
        }
        trail
    }

    /// Records a cursor; `false` when it was seen recently.
    fn remember(&mut self, cursor: &str) -> bool {
        let hash = self.hasher.hash_one(cursor);
        if !self.seen.insert(hash) {
            return false;
        }
        self.order.push_back(hash);
        if self.order.len() > REMEMBERED_CURSORS
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        true
    }

    fn stop(&self, reason: String) -> Error {
        Error::Pagination {
            path: self.path.clone(),
            reason,
        }
    }

    /// The cursor to fetch next, `None` at the end.
    fn next<T>(&mut self, page: &ListPage<T>) -> Result<Option<String>> {
        self.pages = self.pages.saturating_add(1);
        if !page.has_next() {
            return Ok(None);
        }
        let Some(after) = page
            .paging
            .as_ref()
            .and_then(|p| p.cursors.as_ref())
            .and_then(|c| c.after.as_deref())
        else {
            return Err(
                self.stop("the server announced a next page without an `after` cursor".into())
            );
        };
        if !self.remember(after) {
            return Err(self.stop(
                "the server repeated an `after` cursor; stopping instead of looping".into(),
            ));
        }
        if page.data.is_empty() {
            self.empty_run += 1;
            if self.empty_run >= self.max_empty {
                return Err(self.stop(format!(
                    "{} empty pages in a row still offered a next cursor; stopping instead of paging forever",
                    self.empty_run
                )));
            }
        } else {
            self.empty_run = 0;
        }
        if self.pages >= self.max_pages {
            return Err(self.stop(format!(
                "could not read all of it: it has more than {} pages, the page budget; raise it with `max_pages`",
                self.max_pages
            )));
        }
        Ok(Some(after.to_owned()))
    }
}

/// A list request: send it for one page, collect it with a bound, or stream its items.
///
/// Every page after the first is rebuilt from the previous page's `after` cursor with the same
/// parameters, token and `appsecret_proof`.
///
/// ```
/// use futures_util::TryStreamExt;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> meta_business::Result<()> {
/// # let (emulator, demo) = meta_business::testing::GraphEmulator::demo().await;
/// # let client = emulator.client(demo.admin_token)?;
/// // One page, a bounded Vec, or a stream of items: every list offers all three.
/// let first = client.business(demo.business_id).owned_ad_accounts().limit(1).send().await?;
/// let all = client.business(demo.business_id).owned_ad_accounts().collect(10_000).await?;
/// let streamed: Vec<_> = client.business(demo.business_id).owned_ad_accounts().into_stream().try_collect().await?;
/// assert_eq!((first.data.len(), all.len(), streamed.len()), (1, 2, 2));
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until it is sent"]
pub struct ListRequest<T> {
    core: Core,
    request: Request,
    max_pages: Option<u32>,
    _item: PhantomData<fn() -> T>,
}

/// One page: the list's request as it stands (its `after` cursor, if one was set).
impl<T: DeserializeOwned> crate::api::exchange::Exchange for ListRequest<T> {
    type Answer = ListPage<T>;
    type Output = ListPage<T>;

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
        Ok(crate::api::exchange::taken(&mut self.request))
    }

    fn effect(&self) -> crate::retry::Effect {
        crate::retry::Effect::Reads
    }

    fn finish(
        self,
        page: ListPage<T>,
    ) -> std::result::Result<ListPage<T>, crate::api::exchange::Refusal> {
        Ok(page)
    }
}

impl<T> fmt::Debug for ListRequest<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.request.debug_as("ListRequest", f)
    }
}

impl<T> ListRequest<T> {
    /// Per-request timeout for each page, overriding the client's.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.core.timeout = Some(timeout);
        self
    }
}

impl<T: DeserializeOwned + Send + 'static> ListRequest<T> {
    /// `GET /{node}/{edge}` with these fields; `invalid` is the node id's check, reported by
    /// `send` before anything is sent.
    pub(crate) fn edge(
        client: &Client,
        node: &impl crate::ids::NodeId,
        edge: &str,
        fields: &'static str,
    ) -> Self {
        let request = Request::get([node.as_str(), edge]).param("fields", fields);
        ListRequest::new(client.clone(), request, node.validate().err())
    }

    pub(crate) fn new(client: Client, request: Request, invalid: Option<Error>) -> Self {
        ListRequest {
            core: Core::new(client).refusing(invalid),
            request,
            max_pages: None,
            _item: PhantomData,
        }
    }

    /// Items per page (the server may send fewer, or cap it).
    pub fn limit(mut self, limit: u32) -> Self {
        if limit == 0 {
            self.core
                .refuse(Error::invalid_input("limit", "must be at least 1"));
        } else {
            self.request.set_param("limit", limit.to_string());
        }
        self
    }

    /// Starts after this cursor (from [`ListPage::next_cursor`]).
    pub fn after(mut self, cursor: impl Into<String>) -> Self {
        let cursor = cursor.into();
        if cursor.is_empty() {
            self.core
                .refuse(Error::invalid_input("after", "must not be empty"));
        } else {
            self.request.set_param("after", cursor);
        }
        self
    }

    /// Replaces the default `fields` with a raw Graph field list, e.g. `"id,name,tasks"`. Fields
    /// the item type does not model are kept in its `extra` map where it has one.
    pub fn fields_raw(mut self, fields: impl Into<String>) -> Self {
        let fields = fields.into();
        match crate::models::check_fields(&fields) {
            Ok(()) => self.request.set_param("fields", fields),
            Err(e) => self.core.refuse(e),
        }
        self
    }

    /// Asks for the edge's `summary` (e.g. `total_count`) in each page.
    pub fn with_summary(mut self) -> Self {
        self.request.set_param("summary", "total_count");
        self
    }

    /// The most pages [`collect`](Self::collect), [`pages`](Self::pages) and
    /// [`into_stream`](Self::into_stream) read before failing with [`Error::Pagination`],
    /// overriding the client's budget
    /// ([`ClientBuilder::max_pages`](crate::ClientBuilder::max_pages)).
    pub fn max_pages(mut self, pages: u32) -> Self {
        if pages == 0 {
            self.core
                .refuse(Error::invalid_input("max_pages", "must be at least 1"));
        } else {
            self.max_pages = Some(pages);
        }
        self
    }

    /// Fetches one page.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before sending when an argument was bad; any request error.
    pub async fn send(self) -> Result<ListPage<T>> {
        crate::api::exchange::send(self).await
    }

    /// Fetches every page and returns all items, failing with [`Error::TooManyItems`] (rather
    /// than truncating) if there are more than `max`.
    ///
    /// # Errors
    /// As [`ListRequest::send`], plus [`Error::TooManyItems`] and [`Error::Pagination`].
    pub async fn collect(self, max: usize) -> Result<Vec<T>> {
        let path = self.core.client.path_for(&self.request);
        let mut pages = self.pages();
        let mut items = Vec::new();
        while let Some(page) = pages.try_next().await? {
            if items.len() + page.data.len() > max {
                return Err(Error::TooManyItems { path, max });
            }
            items.extend(page.data);
        }
        Ok(items)
    }

    /// As [`collect`](Self::collect), but a list cut short ([`is_cut_short`]) keeps the items
    /// read before the cut and returns the reason with them; any other error is an error.
    pub(crate) async fn collect_partial(self, max: usize) -> Result<(Vec<T>, Option<Error>)> {
        let path = self.core.client.path_for(&self.request);
        let mut pages = self.pages();
        let mut items = Vec::new();
        loop {
            match pages.try_next().await {
                Ok(Some(page)) => {
                    if items.len() + page.data.len() > max {
                        return Ok((items, Some(Error::TooManyItems { path, max })));
                    }
                    items.extend(page.data);
                }
                Ok(None) => return Ok((items, None)),
                Err(err) if is_cut_short(&err) => return Ok((items, Some(err))),
                Err(err) => return Err(err),
            }
        }
    }

    /// Every page, in order, as a stream. The stream ends after the last page or the first
    /// error.
    pub fn pages(mut self) -> BoxStream<'static, Result<ListPage<T>>> {
        if let Err(err) = self.core.ready() {
            return stream::once(async move { Err(err) }).boxed();
        }
        let path = self.core.client.path_for(&self.request);
        let start = self
            .request
            .params
            .iter()
            .find(|(k, _)| k == "after")
            .map(|(_, v)| v.clone());
        let limits = self.core.client.shared.limits;
        let trail = CursorTrail::new(
            path,
            start.as_deref(),
            self.max_pages.unwrap_or(limits.max_pages),
            limits.max_empty_pages,
        );
        // After a page that ends the paging in error, the page is still delivered and the
        // error comes next.
        // Boxed: a request keeps its path and parameters inline, and this state moves per page.
        enum Next {
            Fetch(Box<(Client, Request, CursorTrail)>),
            Fail(Error),
            Done,
        }
        let request = self.core.timed(self.request);
        let state = Next::Fetch(Box::new((self.core.client, request, trail)));
        stream::try_unfold(state, |state| async move {
            let (client, request, mut trail) = match state {
                Next::Fetch(fetch) => *fetch,
                Next::Fail(err) => return Err(err),
                Next::Done => return Ok(None),
            };
            // Each page through the one send; the request kept for the next cursor.
            let page: ListPage<T> = crate::api::exchange::send(
                crate::api::exchange::Prepared::new(Core::new(client.clone()), request.clone()),
            )
            .await?;
            let next = match trail.next(&page) {
                Ok(Some(after)) => {
                    let mut request = request;
                    request.set_param("after", after);
                    Next::Fetch(Box::new((client, request, trail)))
                }
                Ok(None) => Next::Done,
                Err(err) => Next::Fail(err),
            };
            Ok(Some((page, next)))
        })
        .boxed()
    }

    /// Every item of every page, as a stream.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// # async fn run(client: meta_business::Client) -> meta_business::Result<()> {
    /// let mut users = client.business("1234").system_users().list().into_stream();
    /// while let Some(user) = users.try_next().await? {
    ///     println!("{} {:?}", user.id, user.role);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn into_stream(self) -> BoxStream<'static, Result<T>> {
        self.pages()
            .map_ok(|page| stream::iter(page.data.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_drops_urls_and_keeps_cursors() {
        let page: ListPage<u32> = serde_json::from_str(
            r#"{"data":[1,2],"paging":{"cursors":{"before":"B","after":"A"},
                "next":"https://graph.facebook.com/v26.0/x?access_token=SECRET&after=A"}}"#,
        )
        .unwrap();
        assert_eq!(page.next_cursor(), Some("A"));
        assert!(!format!("{page:?}").contains("SECRET"));
        let last: ListPage<u32> =
            serde_json::from_str(r#"{"data":[3],"paging":{"cursors":{"before":"B","after":"C"}}}"#)
                .unwrap();
        assert_eq!(last.next_cursor(), None);
    }

    #[test]
    fn trail_refuses_repeats() {
        let mut trail = CursorTrail::new("/x".into(), None, 100, 100);
        let page: ListPage<u32> =
            serde_json::from_str(r#"{"data":[],"paging":{"cursors":{"after":"A"},"next":"n"}}"#)
                .unwrap();
        assert_eq!(trail.next(&page).unwrap().as_deref(), Some("A"));
        assert!(matches!(trail.next(&page), Err(Error::Pagination { .. })));
        let no_cursor: ListPage<u32> =
            serde_json::from_str(r#"{"data":[],"paging":{"next":"n"}}"#).unwrap();
        assert!(matches!(
            trail.next(&no_cursor),
            Err(Error::Pagination { .. })
        ));
    }

    fn page_with(items: usize, after: &str) -> ListPage<u32> {
        serde_json::from_value(serde_json::json!({
            "data": vec![1; items],
            "paging": {"cursors": {"after": after}, "next": "n"}
        }))
        .unwrap()
    }

    #[test]
    fn empty_runs_and_the_page_budget_stop_a_list() {
        let mut trail = CursorTrail::new("/x".into(), None, 1000, 3);
        assert!(trail.next(&page_with(0, "a")).unwrap().is_some());
        assert!(trail.next(&page_with(0, "b")).unwrap().is_some());
        assert!(trail.next(&page_with(1, "c")).unwrap().is_some());
        assert!(trail.next(&page_with(0, "d")).unwrap().is_some());
        assert!(trail.next(&page_with(0, "e")).unwrap().is_some());
        let err = trail.next(&page_with(0, "f")).unwrap_err();
        assert!(err.to_string().contains("empty pages"), "{err}");

        let mut trail = CursorTrail::new("/x".into(), None, 5, 3);
        for n in 0..4 {
            assert!(trail.next(&page_with(2, &n.to_string())).unwrap().is_some());
        }
        let err = trail.next(&page_with(2, "z")).unwrap_err();
        assert!(err.to_string().contains("page budget"), "{err}");
    }

    #[test]
    fn the_repeat_guard_stays_bounded() {
        let mut trail = CursorTrail::new("/x".into(), None, u32::MAX, 10);
        for n in 0..(REMEMBERED_CURSORS * 3) {
            assert!(
                trail
                    .next(&page_with(1, &format!("c{n}")))
                    .unwrap()
                    .is_some()
            );
        }
        assert!(trail.seen.len() <= REMEMBERED_CURSORS && trail.order.len() <= REMEMBERED_CURSORS);
        let last = format!("c{}", REMEMBERED_CURSORS * 3 - 1);
        assert!(trail.next(&page_with(1, &last)).is_err());
    }
}
