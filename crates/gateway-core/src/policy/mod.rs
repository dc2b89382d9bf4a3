//! Tool policies: the model, the one decision function, and the consistent snapshot of
//! policies and catalog that every request decides on. Pure: sources (the embedded file,
//! DynamoDB) reach it through the `ConfigSource` trait.

pub mod decision;
pub mod document;
pub mod model;
pub mod snapshot;

pub use decision::{Caller, Decision, Rule};
pub use document::ConfigDocument;
pub use model::{EVERYONE, GroupPolicy, PolicySet, ScopeRequirement};
pub use snapshot::{ConfigSource, Snapshot, SnapshotError, SnapshotStore};
