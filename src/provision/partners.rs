//! Partner businesses in the audit and the plan: who has access to the business
//! (`/{business}/agencies`), whom it serves (`/{business}/clients`), and which partners have
//! access to each owned asset (the asset's partner edges, [`AssetKind::PARTNER_EDGES`]).
//!
//! Meta's API description answers these edges with Business nodes only: what a partner may
//! do on an asset (its permitted tasks) is not in the answer, so the audit says which assets a
//! partner holds, never with which tasks.
//!
//! [`AssetKind::PARTNER_EDGES`]: crate::AssetKind::PARTNER_EDGES

use std::collections::BTreeMap;
use std::fmt;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::audit::{Finding, FindingKind, Severity, finding};
use super::left_alone::NotManaged;
use super::live::Owned;
use super::plan::Plan;
use crate::api::assignments::AssetHandler;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::BusinessId;
use crate::kinds::{AssetKind, AssetRef, KindVisitor, MAX_ITEMS};
use crate::models::business::Business;
use crate::pagination::ListRequest;

/// The most owned assets whose partners the audit reads (one request or more each); past
/// it, an [`FindingKind::IncompleteRead`] says how many were not read.
pub(crate) const MAX_PARTNER_ASSETS: usize = 1_000;

/// How a partner business relates to the audited business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PartnerRelation {
    /// A partner (agency) with access to the business or to some of its assets: listed by
    /// `/{business}/agencies` or by an asset's partner edge.
    Agency,
    /// A client business this business works for (`/{business}/clients`).
    Client,
}

impl fmt::Display for PartnerRelation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            PartnerRelation::Agency => "partner",
            PartnerRelation::Client => "client",
        })
    }
}

/// An owned asset a partner has access to, and the edge that said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PartnerAsset {
    /// The asset (its kind and id).
    pub asset: AssetRef,
    /// The asset's edge that lists the partner (`agencies`, or a pixel's `shared_agencies`).
    pub edge: &'static str,
}

/// A partner business as the audit saw it. The Graph API's answers hold no tasks: what the
/// partner may do on each asset is not known here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuditedPartner {
    /// Its business id.
    pub id: BusinessId,
    /// Its name, when the answer gave one.
    pub name: Option<String>,
    /// Partner of the business, or client of it.
    pub relation: PartnerRelation,
    /// Whether `/{business}/agencies` (or, for a client, `/{business}/clients`) lists it;
    /// `false` for a partner seen only on an asset.
    pub listed_by_business: bool,
    /// The owned assets it has access to (a partner's only).
    pub assets: Vec<PartnerAsset>,
}

impl AuditedPartner {
    /// Its name and id, for messages.
    fn subject(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} ({})", self.id),
            None => format!("business {}", self.id),
        }
    }
}

impl fmt::Display for AuditedPartner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<18} {:<8} {:>3} asset(s)  {}",
            self.id.as_str(),
            self.relation,
            self.assets.len(),
            self.name.as_deref().unwrap_or("")
        )
    }
}

/// What the audit found about partners.
#[derive(Debug, Default)]
pub(super) struct PartnerAudit {
    pub(super) partners: Vec<AuditedPartner>,
    pub(super) findings: Vec<Finding>,
}

/// A list read within `pages` pages: the partners read, and why it stopped short if it did.
type Read = Result<(Vec<Business>, Option<Error>)>;

async fn read(list: ListRequest<Business>, pages: u32) -> Read {
    list.max_pages(pages).collect_partial(MAX_ITEMS).await
}

/// Reads each of an asset's partner edges, through its typed handler.
struct PartnersOf(u32);

impl KindVisitor for PartnersOf {
    type Output = BoxFuture<'static, Vec<(&'static str, Read)>>;
    fn visit<K: AssetKind>(self, handler: AssetHandler<K>) -> Self::Output {
        Box::pin(async move {
            let mut out = Vec::new();
            for edge in K::PARTNER_EDGES {
                out.push((*edge, read(handler.partners_on(edge), self.0).await));
            }
            out
        })
    }
}

/// The partners of the business and of each owned asset, with a finding per partner and
/// one per list that could not be read (fully or at all).
pub(super) async fn audit_partners(
    client: &Client,
    business: &BusinessId,
    owned: &Owned,
    pages: u32,
) -> PartnerAudit {
    let mut audit = Collected::new(business);
    let handler = client.business(business.clone());
    let what = format!("the partners of business {business} (agencies)");
    let agencies = read(handler.agencies(), pages).await;
    for partner in audit.take(agencies, &what) {
        audit
            .partner(partner, PartnerRelation::Agency)
            .listed_by_business = true;
    }
    let what = format!("the clients of business {business}");
    for client_business in audit.take(read(handler.clients(), pages).await, &what) {
        audit
            .partner(client_business, PartnerRelation::Client)
            .listed_by_business = true;
    }
    let assets: Vec<&AssetRef> = owned.by_kind().flat_map(|(_, a)| a).collect();
    for asset in assets.iter().take(MAX_PARTNER_ASSETS) {
        for (edge, answer) in asset.visit(client, PartnersOf(pages)).await {
            let what = format!(
                "the partners of {} {} ({edge})",
                asset.kind_name(),
                asset.id()
            );
            for partner in audit.take(answer, &what) {
                let asset = PartnerAsset {
                    asset: (*asset).clone(),
                    edge,
                };
                let seen = audit.partner(partner, PartnerRelation::Agency);
                if !seen.assets.contains(&asset) {
                    seen.assets.push(asset);
                }
            }
        }
    }
    if assets.len() > MAX_PARTNER_ASSETS {
        audit.findings.push(unread(
            format!("the partners of business {business}'s assets"),
            format!(
                "the partners of {} of the business's {} owned assets were not read (the audit reads those of at most {MAX_PARTNER_ASSETS})",
                assets.len() - MAX_PARTNER_ASSETS,
                assets.len()
            ),
        ));
    }
    audit.finish()
}

/// The partners as they are read, keyed by (relation, id).
struct Collected<'a> {
    business: &'a BusinessId,
    partners: BTreeMap<(PartnerRelation, String), AuditedPartner>,
    findings: Vec<Finding>,
}

impl<'a> Collected<'a> {
    fn new(business: &'a BusinessId) -> Self {
        Collected {
            business,
            partners: BTreeMap::new(),
            findings: Vec::new(),
        }
    }

    /// The partners a read gave, keeping only real partner business ids (not the business
    /// itself); a read that failed or stopped short, and what was set aside, become findings.
    fn take(&mut self, answer: Read, what: &str) -> Vec<Business> {
        let (items, cut) = match answer {
            Ok(read) => read,
            Err(err) => {
                let message = format!(
                    "could not read {what}: {err}; the partners it would list are not reported"
                );
                self.findings.push(unread(what.to_owned(), message));
                return Vec::new();
            }
        };
        if let Some(err) = cut {
            let message = format!(
                "could not read all of {what}: {err}; the partners past the cut are not reported"
            );
            self.findings.push(unread(what.to_owned(), message));
        }
        let (kept, odd): (Vec<Business>, Vec<Business>) = items
            .into_iter()
            .partition(|b| b.id.validate().is_ok() && &b.id != self.business);
        if !odd.is_empty() {
            let message = format!(
                "{what} listed {} entr{} that are not another business's id; set aside",
                odd.len(),
                if odd.len() == 1 { "y" } else { "ies" }
            );
            self.findings.push(unread(what.to_owned(), message));
        }
        kept
    }

    fn partner(&mut self, b: Business, relation: PartnerRelation) -> &mut AuditedPartner {
        let entry = self
            .partners
            .entry((relation, b.id.as_str().to_owned()))
            .or_insert_with(|| AuditedPartner {
                id: b.id.clone(),
                name: None,
                relation,
                listed_by_business: false,
                assets: Vec::new(),
            });
        if entry.name.is_none() {
            entry.name = b.name;
        }
        entry
    }

    fn finish(self) -> PartnerAudit {
        let partners: Vec<AuditedPartner> = self.partners.into_values().collect();
        let mut findings = self.findings;
        findings.extend(partners.iter().map(partner_finding));
        PartnerAudit { partners, findings }
    }
}

fn unread(subject: String, message: String) -> Finding {
    finding(
        FindingKind::IncompleteRead,
        Severity::Warning,
        &subject,
        message,
        "check the token may read the business's partners (business_management, admin), and the page budget (AuditOptions::max_pages)",
    )
}

/// One partner's finding: a partner holding assets is a warning (old partners keep access
/// until removed), one without is worth knowing, a client relationship too.
fn partner_finding(p: &AuditedPartner) -> Finding {
    let subject = p.subject();
    if p.relation == PartnerRelation::Client {
        return finding(
            FindingKind::ClientBusiness,
            Severity::Info,
            &subject,
            "is a client business: this business is its partner".to_owned(),
            "check the relationship is still current; end it in Business Settings if not",
        );
    }
    const REMEDY: &str = "check the partner still works for you; if not, remove its access in Business Settings > Partners";
    if p.assets.is_empty() {
        return finding(
            FindingKind::PartnerAccess,
            Severity::Info,
            &subject,
            "is a partner of the business (agencies); no owned asset read lists it".to_owned(),
            REMEDY,
        );
    }
    let held: Vec<String> = p
        .assets
        .iter()
        .map(|a| match a.edge {
            "agencies" => format!("{} {}", a.asset.kind_name(), a.asset.id()),
            edge => format!("{} {} ({edge})", a.asset.kind_name(), a.asset.id()),
        })
        .collect();
    finding(
        FindingKind::PartnerAccess,
        Severity::Warning,
        &subject,
        format!(
            "is a partner with access to {}; the Graph API's answer does not say with which tasks",
            held.join(", ")
        ),
        REMEDY,
    )
}

/// The business's partners and clients, added to the plan's "not managed": the desired state
/// does not manage partners. A list that cannot be read is a note, never a failed plan.
pub(super) async fn not_managed(
    client: &Client,
    business: &BusinessId,
    pages: u32,
    plan: &mut Plan,
) {
    let handler = client.business(business.clone());
    let left = &mut plan.not_managed;
    let notes = &mut plan.notes;
    let lists = [
        (PartnerRelation::Agency, handler.agencies(), "agencies"),
        (PartnerRelation::Client, handler.clients(), "clients"),
    ];
    for (relation, list, edge) in lists {
        match read(list, pages).await {
            Ok((items, cut)) => {
                if let Some(err) = cut {
                    notes.push(format!(
                        "the business's {edge} could not be read to the end ({err}): the partners past the cut are not listed"
                    ));
                }
                left.extend(
                    items
                        .into_iter()
                        .filter(|b| b.id.validate().is_ok() && &b.id != business)
                        .map(|b| NotManaged::Partner {
                            id: b.id,
                            name: b.name.unwrap_or_default(),
                            relation,
                            why: "the desired state does not manage partners: review them in Business Settings".to_owned(),
                        }),
                );
            }
            Err(err) => notes.push(format!(
                "the business's {edge} could not be read ({err}): its partners are not listed"
            )),
        }
    }
}
