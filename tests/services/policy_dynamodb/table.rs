//! Per-test fixtures: a fresh Cognito user pool (users, groups) and a fresh DynamoDB
//! configuration table with the item layout of `adapters::dynamodb_config`, plus builders
//! for the policies and tools written into it.

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use serde_json::json;

use mcp_oauth_gateway::adapters::dynamodb_config::{
    POLICY_PK, policy_sk, policy_to_item, tool_to_item,
};
use mcp_oauth_gateway::catalog::{HttpTarget, Target, ToolDefinition};
use mcp_oauth_gateway::policy::{GroupPolicy, ScopeRequirement};

use super::PASSWORD;
use crate::support::idp::{Process, TestPool, required_env};

/// A fresh pool with `users` (name, groups), all with `PASSWORD`; every group named is
/// created.
pub async fn seed_pool(users: &[(&str, &[&str])]) -> TestPool {
    let users: Vec<(&str, &str, &[&str])> = users
        .iter()
        .map(|(user, groups)| (*user, PASSWORD, *groups))
        .collect();
    TestPool::seed("policy-dynamodb", &[], &users, false).await
}

/// The gateway trusting `cognito` and reading policies from `table`, plus `extra`.
pub fn policy_gateway(cognito: &TestPool, table: &str, extra: &[(&str, &str)]) -> Process {
    let mut envs = vec![("GATEWAY_POLICY_TABLE", table)];
    envs.extend_from_slice(extra);
    cognito.gateway(&envs)
}

/// A DynamoDB client for the shared moto (`AWS_ENDPOINT_URL`) or for `endpoint`.
pub async fn dynamodb(endpoint: Option<&str>) -> aws_sdk_dynamodb::Client {
    required_env("AWS_ENDPOINT_URL");
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let mut config = aws_sdk_dynamodb::config::Builder::from(&sdk);
    if let Some(url) = endpoint {
        config = config.endpoint_url(url);
    }
    aws_sdk_dynamodb::Client::from_conf(config.build())
}

/// A configuration table: `pk` (S, hash) and `sk` (S, range), on demand.
pub struct Table {
    pub client: aws_sdk_dynamodb::Client,
    pub name: String,
}

impl Table {
    pub async fn create(client: aws_sdk_dynamodb::Client) -> Self {
        let name = format!("policies-{}", uuid::Uuid::new_v4());
        Self::create_named(client, name).await
    }

    pub async fn create_named(client: aws_sdk_dynamodb::Client, name: String) -> Self {
        let attribute = |n: &str| {
            AttributeDefinition::builder()
                .attribute_name(n)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definition")
        };
        let key = |n: &str, t: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(n)
                .key_type(t)
                .build()
                .expect("key schema element")
        };
        client
            .create_table()
            .table_name(&name)
            .attribute_definitions(attribute("pk"))
            .attribute_definitions(attribute("sk"))
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateTable {name}: {e:?}"));
        Self { client, name }
    }

    pub async fn put(&self, item: std::collections::HashMap<String, AttributeValue>) {
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutItem into {}: {e:?}", self.name));
    }

    pub async fn put_policy(&self, p: &GroupPolicy) {
        self.put(policy_to_item(p)).await;
    }

    pub async fn put_tool(&self, t: &ToolDefinition) {
        self.put(tool_to_item(t)).await;
    }

    pub async fn seed(&self, policies: &[GroupPolicy], tools: &[ToolDefinition]) {
        for p in policies {
            self.put_policy(p).await;
        }
        for t in tools {
            self.put_tool(t).await;
        }
    }

    pub async fn delete_policy(&self, group: &str) {
        self.client
            .delete_item()
            .table_name(&self.name)
            .key("pk", AttributeValue::S(POLICY_PK.into()))
            .key("sk", AttributeValue::S(policy_sk(group)))
            .send()
            .await
            .expect("DeleteItem");
    }
}

pub fn policy(group: &str, allow: &[&str], deny: &[&str]) -> GroupPolicy {
    GroupPolicy {
        group: group.into(),
        description: Some(format!("the {group} group")),
        allow: allow.iter().map(|s| s.to_string()).collect(),
        deny: deny.iter().map(|s| s.to_string()).collect(),
        scopes: vec![],
        version: Some(1),
        updated_at: Some("2026-11-27T00:00:00Z".into()),
    }
}

pub fn requiring(mut p: GroupPolicy, tools: &str, scopes: &[&str]) -> GroupPolicy {
    p.scopes.push(ScopeRequirement {
        tools: tools.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    });
    p
}

/// A tool served by the echo target at `{base}/{name}`.
pub fn tool(name: &str, base: &str) -> ToolDefinition {
    ToolDefinition {
        name: name.into(),
        title: Some(format!("Tool {name}")),
        description: Some(format!("Runs {name}")),
        input_schema: json!({"type": "object", "properties": {"n": {"type": "integer"}}}),
        output_schema: None,
        annotations: None,
        target: Target::Http(HttpTarget {
            insecure_http: false,
            url: format!("{base}/{name}"),
            timeout_ms: Some(5_000),
            auth: None,
        }),
    }
}

pub fn tools(names: &[&str], base: &str) -> Vec<ToolDefinition> {
    names.iter().map(|n| tool(n, base)).collect()
}
