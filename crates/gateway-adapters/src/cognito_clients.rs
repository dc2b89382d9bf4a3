//! Cognito app clients for the façade's registrations: `CreateUserPoolClient` (public,
//! authorization code + PKCE, the registration's callback URLs, the gateway's scopes) and,
//! for `gatewayctl clients remove`, `DeleteUserPoolClient`.

use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{ExplicitAuthFlowsType, OAuthFlowType};

use gateway_core::oauth::{ClientFactory, OAuthError};

pub struct CognitoClients {
    client: Client,
    user_pool_id: String,
}

impl CognitoClients {
    pub fn new(client: Client, user_pool_id: String) -> Self {
        Self {
            client,
            user_pool_id,
        }
    }

    /// Deletes an app client; `Ok(false)` when it did not exist.
    pub async fn delete(&self, client_id: &str) -> Result<bool, OAuthError> {
        match self
            .client
            .delete_user_pool_client()
            .user_pool_id(&self.user_pool_id)
            .client_id(client_id)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(OAuthError::Upstream(format!(
                "DeleteUserPoolClient: {}",
                aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(e)
            ))),
        }
    }
}

#[async_trait]
impl ClientFactory for CognitoClients {
    async fn create(
        &self,
        name: &str,
        callback_urls: &[String],
        scopes: &[String],
    ) -> Result<String, OAuthError> {
        let out = self
            .client
            .create_user_pool_client()
            .user_pool_id(&self.user_pool_id)
            .client_name(name)
            .generate_secret(false)
            .allowed_o_auth_flows_user_pool_client(true)
            .allowed_o_auth_flows(OAuthFlowType::Code)
            .set_allowed_o_auth_scopes(Some(scopes.to_vec()))
            .set_callback_urls(Some(callback_urls.to_vec()))
            .supported_identity_providers("COGNITO")
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .prevent_user_existence_errors(
                aws_sdk_cognitoidentityprovider::types::PreventUserExistenceErrorTypes::Enabled,
            )
            .send()
            .await
            .map_err(|e| {
                OAuthError::Upstream(format!(
                    "CreateUserPoolClient: {}",
                    aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(e)
                ))
            })?;
        out.user_pool_client()
            .and_then(|c| c.client_id())
            .map(str::to_owned)
            .ok_or_else(|| OAuthError::Upstream("CreateUserPoolClient: no client id".into()))
    }

    async fn delete(&self, client_id: &str) -> Result<bool, OAuthError> {
        CognitoClients::delete(self, client_id).await
    }
}
