//! Cognito's online check: `GetUser` called with the access token itself (an operation that
//! needs no AWS credentials — the token is the authorization). Cognito answers
//! NotAuthorizedException for a token revoked by a global sign-out (the user's own or an
//! administrator's) or a revoked refresh token, and for a disabled user;
//! UserNotFoundException for a deleted user. Both are revocations; anything else (throttling,
//! no answer) is "could not say", which the core turns into a refusal unless failing open
//! is configured.

use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::operation::get_user::GetUserError;

use gateway_core::auth::revocation::{Revoked, TokenStatus, TokenStatusSource};
use gateway_core::source::SourceError;

pub struct CognitoGetUser {
    client: aws_sdk_cognitoidentityprovider::Client,
}

impl CognitoGetUser {
    pub fn new(client: aws_sdk_cognitoidentityprovider::Client) -> Self {
        Self { client }
    }
}

/// What a NotAuthorizedException means: Cognito says "User is disabled." for a disabled
/// user and "Access Token has been revoked" after a sign-out; the message is only used to
/// name the reason in the log (both refuse).
fn not_authorized(message: Option<&str>) -> Revoked {
    if message.is_some_and(|m| m.to_ascii_lowercase().contains("disabled")) {
        Revoked::Disabled
    } else {
        Revoked::SignedOut
    }
}

#[async_trait]
impl TokenStatusSource for CognitoGetUser {
    fn name(&self) -> &'static str {
        "cognito GetUser"
    }

    async fn status(&self, token: &str) -> Result<TokenStatus, SourceError> {
        match self.client.get_user().access_token(token).send().await {
            Ok(_) => Ok(TokenStatus::Active),
            Err(SdkError::ServiceError(e)) => match e.err() {
                GetUserError::NotAuthorizedException(x) => {
                    Ok(TokenStatus::Refused(not_authorized(x.message())))
                }
                GetUserError::UserNotFoundException(_) => {
                    Ok(TokenStatus::Refused(Revoked::UserGone))
                }
                other => Err(SourceError::Unavailable(format!(
                    "{}: {}",
                    other.code().unwrap_or("error"),
                    other.message().unwrap_or("")
                ))),
            },
            Err(e) => Err(SourceError::Unavailable(
                match std::error::Error::source(&e) {
                    Some(cause) => format!("{e}: {cause}"),
                    None => e.to_string(),
                },
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_user_is_named_as_such() {
        assert_eq!(not_authorized(Some("User is disabled.")), Revoked::Disabled);
        assert_eq!(
            not_authorized(Some("Access Token has been revoked")),
            Revoked::SignedOut
        );
        assert_eq!(not_authorized(None), Revoked::SignedOut);
    }
}
