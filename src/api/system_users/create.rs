//! The system-user create: its request (checked where every builder's is), and its attempts
//! under the look-before-retry strategy ([`Strategy::LookBeforeRetry`]).

use super::{CreateSystemUser, SystemUsersHandler};
use crate::api::core::Core;
use crate::api::exchange::{self, Exchange, Refusal};
use crate::error::{Error, Result};
use crate::ids::SystemUserId;
use crate::models::system_user::{SystemUser, SystemUserRole};
use crate::models::{check_enum_escape, check_new_name};
use crate::request::Request;
use crate::retry::{Attempt, Attempts, Effect, Strategy};

impl CreateSystemUser {
    /// Sends the create; when its outcome is unknown, settles it against `before`, and sends
    /// it again only once the list shows it did not happen.
    pub(super) async fn post_and_settle(
        &self,
        handler: &SystemUsersHandler,
        req: Request,
        name: String,
        before: &[SystemUser],
    ) -> Result<SystemUser> {
        let mut create = LookBeforeRetry {
            create: self,
            handler,
            req,
            name,
            before,
        };
        crate::retry::retry(self.core.client.retry_policy(), &mut create)
            .await
            .0
    }
}

/// The create's request: described like any builder's, so that its inputs are checked where
/// every builder's are ([`exchange::prepare`]); sent by [`CreateSystemUser::send`] under the
/// create lock, with the look-before-retry strategy, never by the plain send.
impl Exchange for CreateSystemUser {
    type Answer = Created;
    type Output = SystemUser;

    fn core(&self) -> &Core {
        &self.core
    }

    fn core_mut(&mut self) -> &mut Core {
        &mut self.core
    }

    fn request(&self) -> Result<Request> {
        self.business.validate()?;
        check_new_name(&self.name)?;
        if let Some(SystemUserRole::Other(raw)) = &self.role {
            check_enum_escape("role", raw)?;
        }
        let mut req =
            Request::post([self.business.as_str(), "system_users"]).param("name", self.name.trim());
        if let Some(role) = &self.role {
            req = req.param("role", role.as_str());
        }
        Ok(req)
    }

    /// A create: never sent again blindly (only after the look shows it did not happen).
    fn effect(&self) -> Effect {
        Effect::Creates
    }

    /// The user as answered. The create's own send builds the same in its attempt, after
    /// checking the answer against the list read before (which this cannot see).
    fn finish(self, created: Created) -> std::result::Result<SystemUser, Refusal> {
        let name = self.name.trim().to_owned();
        Ok(SystemUser::created(created.id, name, self.role))
    }
}

/// The create's answer.
#[derive(serde::Deserialize)]
pub(crate) struct Created {
    id: SystemUserId,
    #[serde(default)]
    name: Option<String>,
}

/// The create's strategy for the retry loop: after an ambiguous failure, read the list; the
/// user found there is the answer, and only a verified absence makes trying again safe.
struct LookBeforeRetry<'a> {
    create: &'a CreateSystemUser,
    handler: &'a SystemUsersHandler,
    req: Request,
    name: String,
    before: &'a [SystemUser],
}

impl Attempts for LookBeforeRetry<'_> {
    type Output = SystemUser;

    fn strategy(&self) -> Strategy {
        Strategy::LookBeforeRetry
    }

    async fn attempt(&mut self) -> Attempt<SystemUser> {
        let (name, role) = (&self.name, &self.create.role);
        let post = exchange::Prepared::<Created>::new(
            Core::new(self.create.core.client.clone()),
            self.req.clone(),
        );
        let err = match exchange::send(post).await {
            Ok(created) => {
                return Attempt::Done(
                    self.check_answer(&created.id, created.name.as_deref())
                        .map(|()| SystemUser::created(created.id, name.clone(), role.clone())),
                );
            }
            // Not sent, or definitely refused: nothing to find out.
            Err(err) if !err.outcome_unknown() => return Attempt::Done(Err(err)),
            Err(err) => err,
        };
        // Sent, and no clear answer: the create may have happened. Look, never guess.
        tracing::warn!(error = %err, "creating a system user failed ambiguously; re-reading to find out whether it happened");
        let after = match self.handler.read_all(self.create.core.timeout, None).await {
            Ok(after) => after,
            Err(reread) => {
                return Attempt::Done(Err(Error::OutcomeUnknown {
                    operation: format!(
                        "creating system user {:?} in business {}",
                        crate::error::clip(name, 60),
                        self.create.business
                    ),
                    source: Box::new(err),
                    reread: Box::new(reread),
                }));
            }
        };
        match find_created(&after, self.before, name) {
            Some(found) => {
                tracing::info!(id = %found.id, "the system user was created despite the error");
                Attempt::Done(Ok(SystemUser::created(
                    found.id.clone(),
                    name.clone(),
                    role.clone(),
                )))
            }
            // Verified absent: sending it again is no longer blind.
            None => Attempt::Again(err),
        }
    }
}

impl LookBeforeRetry<'_> {
    /// Refuses an answer about another user than this create made (an id there before, another
    /// name): a proxy or a bug answering for someone else must not earn that user grants.
    fn check_answer(&self, id: &SystemUserId, answered_name: Option<&str>) -> Result<()> {
        let why = if self.before.iter().any(|u| &u.id == id) {
            format!("the answer names system user {id}, which existed before this create")
        } else if let Some(other) = answered_name.filter(|n| n.trim() != self.name) {
            format!(
                "the answer names system user {id} {:?}, not {:?}, the name sent",
                crate::error::clip(other, 60),
                crate::error::clip(&self.name, 60)
            )
        } else {
            return Ok(());
        };
        tracing::warn!(business = %self.create.business, %id, "a create answer is about another system user; refusing it");
        Err(crate::error::UnexpectedResponse::wrong_object(
            self.req.method.clone(),
            self.create.core.client.path_for(&self.req),
            format!(
                "{why}: it is not the user this request created, and nothing is done with it; the create may or may not have happened, so list the business's system users before trying again"
            ),
        ))
    }
}

/// The system user of this name that was not there before the create.
fn find_created<'a>(
    after: &'a [SystemUser],
    before: &[SystemUser],
    name: &str,
) -> Option<&'a SystemUser> {
    after
        .iter()
        .find(|u| u.name.as_deref() == Some(name) && before.iter().all(|b| b.id != u.id))
}
