//! The AWS clients, every one derived from one `SdkConfig` loaded once at start-up (one
//! credentials chain, one region lookup, one HTTPS connector), each with the retry and
//! time-out settings its calls need.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::identity_kms::KMS_TIMEOUT;

/// Makes the gateway's AWS clients from one loaded configuration.
#[derive(Clone)]
pub struct AwsClients {
    sdk: SdkConfig,
    /// An endpoint every client uses, over any per-service `AWS_ENDPOINT_URL_*` (the CLI's
    /// `--endpoint-url`).
    endpoint: Option<String>,
}

impl AwsClients {
    /// Loads the configuration from the environment (credentials, region, endpoints): no
    /// network until a client makes a call.
    pub async fn load() -> Self {
        Self::from_sdk(aws_config::defaults(BehaviorVersion::latest()).load().await)
    }

    /// As `load`, with the region and an endpoint for every service given (the CLI).
    pub async fn load_with(endpoint: Option<&str>, region: Option<&str>) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(r) = region {
            loader = loader.region(Region::new(r.to_owned()));
        }
        let mut me = Self::from_sdk(loader.load().await);
        me.endpoint = endpoint.map(str::to_owned);
        me
    }

    pub fn from_sdk(sdk: SdkConfig) -> Self {
        Self {
            sdk,
            endpoint: None,
        }
    }

    /// The region every client uses, when one is configured.
    pub fn region(&self) -> Option<&str> {
        self.sdk.region().map(|r| r.as_ref())
    }

    /// DynamoDB (policies, deny-list, registrations, audit): bounded retries and time-outs, so
    /// a throttled or unreachable table costs a bounded wait before the last good snapshot
    /// is used.
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let mut b = aws_sdk_dynamodb::config::Builder::from(&self.sdk)
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .timeout_config(timeouts(1, Some(2), Some(5)));
        if let Some(u) = &self.endpoint {
            b = b.endpoint_url(u);
        }
        aws_sdk_dynamodb::Client::from_conf(b.build())
    }

    /// Lambda targets: one attempt (a tool call is not known to be idempotent, so a call
    /// that may have run is never repeated); the per-target deadline bounds the whole call.
    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        let mut b = aws_sdk_lambda::config::Builder::from(&self.sdk)
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .timeout_config(timeouts(2, None, None));
        if let Some(u) = &self.endpoint {
            b = b.endpoint_url(u);
        }
        aws_sdk_lambda::Client::from_conf(b.build())
    }

    /// Secrets Manager (outbound credentials, the identity key, the façade's secrets).
    pub fn secrets(&self) -> aws_sdk_secretsmanager::Client {
        let mut b = aws_sdk_secretsmanager::config::Builder::from(&self.sdk)
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .timeout_config(timeouts(2, None, Some(5)));
        if let Some(u) = &self.endpoint {
            b = b.endpoint_url(u);
        }
        aws_sdk_secretsmanager::Client::from_conf(b.build())
    }

    /// KMS (identity statements, audit chain heads): bounded by `KMS_TIMEOUT`.
    pub fn kms(&self) -> aws_sdk_kms::Client {
        let mut b = aws_sdk_kms::config::Builder::from(&self.sdk)
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(1))
                    .operation_attempt_timeout(Duration::from_secs(2))
                    .operation_timeout(KMS_TIMEOUT)
                    .build(),
            );
        if let Some(u) = &self.endpoint {
            b = b.endpoint_url(u);
        }
        aws_sdk_kms::Client::from_conf(b.build())
    }

    /// Cognito in the configured region (the façade's app clients, `gatewayctl clients`).
    pub fn cognito(&self) -> aws_sdk_cognitoidentityprovider::Client {
        let mut b = aws_sdk_cognitoidentityprovider::config::Builder::from(&self.sdk);
        if let Some(u) = &self.endpoint {
            b = b.endpoint_url(u);
        }
        aws_sdk_cognitoidentityprovider::Client::from_conf(b.build())
    }

    /// Cognito in a pool's own region, for the GetUser online check: one attempt (the core's
    /// time-out bounds the wait and a retry would only eat into it), a short connect.
    pub fn cognito_in(&self, region: &str) -> aws_sdk_cognitoidentityprovider::Client {
        let mut b = aws_sdk_cognitoidentityprovider::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_owned()))
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .timeout_config(timeouts(1, None, None));
        if let Some(u) = &self.endpoint {
            b = b.endpoint_url(u);
        }
        aws_sdk_cognitoidentityprovider::Client::from_conf(b.build())
    }
}

fn timeouts(connect: u64, attempt: Option<u64>, operation: Option<u64>) -> TimeoutConfig {
    let mut t = TimeoutConfig::builder().connect_timeout(Duration::from_secs(connect));
    if let Some(a) = attempt {
        t = t.operation_attempt_timeout(Duration::from_secs(a));
    }
    if let Some(o) = operation {
        t = t.operation_timeout(Duration::from_secs(o));
    }
    t.build()
}
