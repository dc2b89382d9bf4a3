//! Fresh Cognito user pools in moto (`TestPool`): app clients, groups and users seeded
//! through the Rust SDK, AdminInitiateAuth logins, and a gateway trusting the pool.

use aws_config::BehaviorVersion;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, ExplicitAuthFlowsType, MessageActionType,
};

use super::*;

/// A fresh user pool in moto's Cognito (`AWS_ENDPOINT_URL`, `AWS_REGION`), seeded through the
/// Rust SDK: one app client the gateway trusts (and optionally another it does not), groups,
/// and users with permanent passwords in their groups.
///
/// moto serves the pool's JWKS at `$AWS_ENDPOINT_URL/<pool>/.well-known/jwks.json`, while its
/// tokens' `iss` is the real `https://cognito-idp.<region>.amazonaws.com/<pool>`.
pub struct TestPool {
    pub idp: Client,
    pub region: String,
    pub pool_id: String,
    /// The app client the gateway trusts.
    pub client_id: String,
    /// Another app client of the same pool, which the gateway does not trust (if asked for).
    pub other_client_id: Option<String>,
    pub jwks_url: String,
    /// username -> password, for `login`.
    passwords: Vec<(String, String)>,
}

/// What AdminInitiateAuth answered.
pub struct Tokens {
    pub access: String,
    pub id: String,
}

impl TestPool {
    /// Creates a pool named `<name>-<uuid>` with `groups` (and every group `users` names),
    /// then `users` as (username, password, groups), each with an `email` attribute.
    /// `other_client`: also create a second app client (`other_client_id`).
    pub async fn seed(
        name: &str,
        groups: &[&str],
        users: &[(&str, &str, &[&str])],
        other_client: bool,
    ) -> Self {
        let endpoint = required_env("AWS_ENDPOINT_URL");
        let region = required_env("AWS_REGION");
        // Follows AWS_ENDPOINT_URL (moto) and the dummy credentials `make test` exports.
        let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
        let idp = Client::new(&config);
        let pool_id = idp
            .create_user_pool()
            .pool_name(format!("{name}-{}", uuid::Uuid::new_v4()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateUserPool against {endpoint}: {e:?}"))
            .user_pool()
            .and_then(|p| p.id())
            .expect("pool id")
            .to_owned();
        let client_id = Self::app_client(&idp, &pool_id, "gateway-client").await;
        let other_client_id = if other_client {
            Some(Self::app_client(&idp, &pool_id, "other-client").await)
        } else {
            None
        };
        let mut all_groups: Vec<&str> = Vec::new();
        for group in groups
            .iter()
            .chain(users.iter().flat_map(|(_, _, g)| g.iter()))
        {
            if !all_groups.contains(group) {
                all_groups.push(group);
            }
        }
        for group in all_groups {
            idp.create_group()
                .user_pool_id(&pool_id)
                .group_name(group)
                .send()
                .await
                .expect("CreateGroup");
        }
        for (user, password, groups) in users {
            idp.admin_create_user()
                .user_pool_id(&pool_id)
                .username(*user)
                .user_attributes(
                    AttributeType::builder()
                        .name("email")
                        .value(format!("{user}@example.com"))
                        .build()
                        .expect("attribute"),
                )
                .message_action(MessageActionType::Suppress)
                .send()
                .await
                .expect("AdminCreateUser");
            idp.admin_set_user_password()
                .user_pool_id(&pool_id)
                .username(*user)
                .password(*password)
                .permanent(true)
                .send()
                .await
                .expect("AdminSetUserPassword");
            for group in *groups {
                idp.admin_add_user_to_group()
                    .user_pool_id(&pool_id)
                    .username(*user)
                    .group_name(*group)
                    .send()
                    .await
                    .expect("AdminAddUserToGroup");
            }
        }
        let jwks_url = format!(
            "{}/{pool_id}/.well-known/jwks.json",
            endpoint.trim_end_matches('/')
        );
        Self {
            idp,
            region,
            pool_id,
            client_id,
            other_client_id,
            jwks_url,
            passwords: users
                .iter()
                .map(|(u, p, _)| ((*u).to_owned(), (*p).to_owned()))
                .collect(),
        }
    }

    /// An app client without a secret that allows ADMIN_USER_PASSWORD_AUTH.
    async fn app_client(idp: &Client, pool: &str, name: &str) -> String {
        idp.create_user_pool_client()
            .user_pool_id(pool)
            .client_name(name)
            .generate_secret(false)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .send()
            .await
            .expect("CreateUserPoolClient")
            .user_pool_client()
            .and_then(|c| c.client_id())
            .expect("app client id")
            .to_owned()
    }

    /// The second app client (panics unless the pool was seeded with one).
    pub fn other_client(&self) -> &str {
        self.other_client_id
            .as_deref()
            .expect("the pool was seeded without a second app client")
    }

    /// Logs seeded `user` in through `client` with ADMIN_USER_PASSWORD_AUTH.
    pub async fn login_with(&self, user: &str, client: &str) -> Tokens {
        let password = self
            .passwords
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, p)| p.as_str())
            .unwrap_or_else(|| panic!("{user} is not a seeded user"));
        let out = self
            .idp
            .admin_initiate_auth()
            .user_pool_id(&self.pool_id)
            .client_id(client)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", user)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .expect("AdminInitiateAuth");
        let auth = out.authentication_result().unwrap_or_else(|| {
            panic!("no tokens for {user}, challenge {:?}", out.challenge_name())
        });
        Tokens {
            access: auth.access_token().expect("access token").to_owned(),
            id: auth.id_token().expect("ID token").to_owned(),
        }
    }

    /// Logs seeded `user` in through the trusted app client.
    pub async fn login(&self, user: &str) -> Tokens {
        self.login_with(user, &self.client_id).await
    }

    /// The `iss` of this pool's tokens.
    pub fn issuer(&self) -> String {
        format!(
            "https://cognito-idp.{}.amazonaws.com/{}",
            self.region, self.pool_id
        )
    }

    /// The standalone gateway trusting this pool's first app client only, plus `extra`.
    pub fn gateway(&self, extra: &[(&str, &str)]) -> Process {
        let mut envs = vec![
            ("GATEWAY_COGNITO_USER_POOL_ID", self.pool_id.as_str()),
            ("GATEWAY_COGNITO_CLIENT_IDS", self.client_id.as_str()),
            ("GATEWAY_COGNITO_JWKS_URL", self.jwks_url.as_str()),
        ];
        envs.extend_from_slice(extra);
        spawn_gateway(&envs)
    }
}
