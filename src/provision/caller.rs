//! Whose token the client uses: the system user (or person) the Graph API says it belongs to.

use crate::client::Client;
use crate::ids::is_numeric_id;
use crate::request::Request;

/// The id of the user whose token the client uses: `debug_token` asked as the client's own
/// app when its id and secret are configured (the app's word on the token), else `GET /me`
/// (the token's own). `Err` says, without any token, why neither answered: the caller then
/// knows it does not know, rather than guessing.
pub(crate) async fn caller_id(client: &Client) -> Result<String, String> {
    let mut why = Vec::new();
    if let (Some(app), true) = (client.app_id(), client.has_app_secret()) {
        let inspected = match client.as_app(app.clone()) {
            Ok(as_app) => as_app.debug_token((*client.token).clone()).send().await,
            Err(err) => Err(err),
        };
        match inspected {
            Ok(info) if info.is_valid != Some(true) => {
                why.push("debug_token says the token is not valid".to_owned());
            }
            Ok(info) => match info.user_id.filter(|id| is_numeric_id(id)) {
                Some(id) => return Ok(id),
                None => why.push("debug_token named no user".to_owned()),
            },
            Err(err) => why.push(format!("debug_token: {err}")),
        }
    }
    #[derive(serde::Deserialize)]
    struct Me {
        #[serde(deserialize_with = "crate::models::id_string")]
        id: String,
    }
    let me = crate::api::exchange::Prepared::<Me>::new(
        crate::api::core::Core::new(client.clone()),
        Request::get(["me"]).param("fields", "id"),
    );
    match crate::api::exchange::send(me).await {
        Ok(me) => Ok(me.id),
        Err(err) => {
            why.push(format!("GET /me: {err}"));
            Err(why.join("; "))
        }
    }
}
