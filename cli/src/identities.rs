//! `hookline identities get`: one identity's current state as the enricher stored it (the
//! newest data the provider returned, or a tombstone), with its revision, times and any change
//! not yet accepted by the bus. `list` and `export` read many: `identity_listing`.

use crate::choices::ProviderName;
use crate::failure::Failure;
use crate::identity_listing::{identity_json, state};
use crate::resources::{Resource, ResourceArgs};
use hookline::clock::rfc3339;
use hookline::identity::{Change, DynamoDbIdentities, Identity, IdentityKey, IdentityStore};
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  hookline identities get --stack hookline argyle 0187c66e-f13b-31e4-6b2c-6a0dd4f67e43
  hookline identities get --stack hookline midbound evt_2Qk9 --json | jq .data";

#[derive(clap::Args, Debug)]
pub struct IdentitiesArgs {
    #[command(subcommand)]
    pub command: IdentitiesCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum IdentitiesCommand {
    /// Show one identity's stored state and data.
    #[command(after_help = EXAMPLES)]
    Get(GetArgs),
    /// List a provider's identities (a table, or JSON lines), read at a bounded rate.
    #[command(after_help = crate::identity_listing::LIST_EXAMPLES)]
    List(crate::identity_listing::ListArgs),
    /// Write a provider's identities, data included, as JSON lines: resumable, at a bounded rate.
    #[command(after_help = crate::identity_listing::EXPORT_EXAMPLES)]
    Export(crate::identity_listing::ExportArgs),
    /// Have the enricher read identities again from their provider (no webhook needed): a
    /// change sends a change event, an unchanged identity none.
    #[command(after_help = crate::identity_refresh::EXAMPLES, override_usage = crate::identity_refresh::USAGE)]
    Refresh(crate::identity_refresh::RefreshArgs),
}

/// Which identity: the provider and the provider's id for it (Midbound: the event key).
#[derive(clap::Args, Debug, Clone)]
pub struct IdentityArgs {
    /// The provider.
    #[arg(value_enum)]
    pub provider: ProviderName,
    /// The provider's id for the identity (Midbound: the event's key, `evt_...`).
    pub resource_id: String,
}

impl IdentityArgs {
    pub fn key(&self) -> IdentityKey {
        IdentityKey::new(self.provider.as_str(), self.resource_id.clone())
    }
}

#[derive(clap::Args, Debug)]
pub struct GetArgs {
    #[command(flatten)]
    pub identity: IdentityArgs,
    #[command(flatten)]
    pub resources: ResourceArgs,
    #[command(flatten)]
    pub output: crate::output::Output,
}

pub async fn run(args: &IdentitiesArgs) -> Result<ExitCode, Failure> {
    match &args.command {
        IdentitiesCommand::Get(args) => get(args).await,
        IdentitiesCommand::List(args) => crate::identity_listing::list(args).await,
        IdentitiesCommand::Export(args) => crate::identity_listing::export(args).await,
        IdentitiesCommand::Refresh(args) => crate::identity_refresh::run(args).await,
    }
}

async fn get(args: &GetArgs) -> Result<ExitCode, Failure> {
    let located = args.resources.locate(&[Resource::IdentitiesTable]).await?;
    let store = DynamoDbIdentities::new(
        aws_sdk_dynamodb::Client::new(&located.config),
        located.get(Resource::IdentitiesTable),
    );
    let key = args.identity.key();
    let identity = store
        .get(&key)
        .await
        .map_err(|e| Failure::Failed(e.to_string()))?
        .ok_or_else(|| not_stored(&key))?;
    if args.output.json {
        println!("{}", identity_json(&identity));
    } else {
        print!("{}", identity_block(&identity));
    }
    Ok(ExitCode::SUCCESS)
}

/// The answer for an identity the table does not hold.
pub fn not_stored(key: &IdentityKey) -> Failure {
    Failure::Failed(format!(
        "no identity {} {:?} in the identities table (never fetched, forgotten, or expired \
         after the retention)",
        key.provider, key.resource_id
    ))
}

/// A pending change in one line: its kind, revision and fields.
fn pending_line(change: &Change) -> String {
    let fields = if change.changed_fields.is_empty() {
        "no fields".to_string()
    } else {
        format!("fields {}", change.changed_fields.join(", "))
    };
    format!(
        "{} (revision {}, {fields}), not yet accepted by the bus",
        change.change.as_str(),
        change.revision
    )
}

/// The person's view: the fields as two columns, then the data pretty-printed.
fn identity_block(identity: &Identity) -> String {
    let or_none = |value: Option<&str>| value.unwrap_or("(none)").to_string();
    let row = |name: &str, value: String| [name.to_string(), value];
    let rows = [
        row("resource id", identity.key.resource_id.clone()),
        row("state", state(identity).to_string()),
        row("revision", identity.revision.to_string()),
        row("fetched at", rfc3339(identity.fetched_at)),
        row("changed at", rfc3339(identity.changed_at)),
        row(
            "source updated at",
            or_none(identity.source_updated_at.as_deref()),
        ),
        row("event id", identity.event_id.clone()),
        row("event type", identity.event_type.clone()),
        row("expires at", rfc3339(identity.expires_at)),
        row(
            "pending change",
            identity
                .pending
                .as_ref()
                .map_or_else(|| "(none)".to_string(), pending_line),
        ),
    ];
    // The first row as the heading: a table of fields has no column names.
    let mut text = crate::table::render(["provider", &identity.key.provider], &rows);
    match (identity.data_value(), identity.data.as_deref()) {
        (Some(value), _) => {
            text.push_str("data\n");
            text.push_str(&serde_json::to_string_pretty(&value).expect("a value prints"));
            text.push('\n');
        }
        (None, Some(raw)) => {
            text.push_str("data (as stored, not JSON)\n");
            text.push_str(raw);
            text.push('\n');
        }
        (None, None) => text.push_str("data (none: the provider said the identity is gone)\n"),
    }
    text
}

/// The program's view: the same fields, `data` parsed (`null` for a tombstone).
#[cfg(test)]
mod tests {
    use super::*;
    use hookline::identity::ChangeKind;
    use serde_json::json;

    fn identity(data: Option<&str>) -> Identity {
        Identity {
            key: IdentityKey::new("argyle", "idn_1"),
            data: data.map(str::to_string),
            source_updated_at: Some("2026-12-01T10:00:00Z".into()),
            read_started_ms: 1_796_173_200_000,
            fetched_at: 1_796_173_200,
            event_id: "argyle#e1".into(),
            event_type: "identities.updated".into(),
            revision: 2,
            changed_at: 1_796_173_100,
            version: 4,
            expires_at: 1_796_259_600,
            pending: None,
        }
    }

    #[test]
    fn the_block_shows_every_field_then_the_data() {
        let block = identity_block(&identity(Some(r#"{"b":1,"a":{"c":2}}"#)));
        let expected = "\
provider           argyle
resource id        idn_1
state              present
revision           2
fetched at         2026-12-02T01:00:00Z
changed at         2026-12-02T00:58:20Z
source updated at  2026-12-01T10:00:00Z
event id           argyle#e1
event type         identities.updated
expires at         2026-12-03T01:00:00Z
pending change     (none)
data
{
  \"a\": {
    \"c\": 2
  },
  \"b\": 1
}
";
        assert_eq!(block, expected);
    }

    #[test]
    fn a_tombstone_and_a_pending_change_are_said() {
        let mut gone = identity(None);
        gone.pending = Some(Change {
            provider: "argyle".into(),
            resource_id: "idn_1".into(),
            change: ChangeKind::Deleted,
            changed_fields: vec!["a".into(), "b".into()],
            revision: 2,
            event_id: Some("argyle#e1".into()),
            event_type: Some("identities.removed".into()),
            changed_at: "2026-12-02T00:58:20Z".into(),
            source_updated_at: None,
            had_data_before: true,
        });
        let block = identity_block(&gone);
        assert!(block.contains("state              tombstone\n"), "{block}");
        assert!(
            block.contains(
                "pending change     deleted (revision 2, fields a, b), not yet accepted by the bus\n"
            ),
            "{block}"
        );
        assert!(block.ends_with("data (none: the provider said the identity is gone)\n"));
        let object = identity_json(&gone);
        assert_eq!(object["state"], "tombstone");
        assert_eq!(object["data"], serde_json::Value::Null);
        assert_eq!(object["pending"]["change"], "deleted");
        assert_eq!(object["pending"]["changed_fields"], json!(["a", "b"]));
    }

    #[test]
    fn the_json_has_the_same_fields_and_the_data_parsed() {
        let object = identity_json(&identity(Some(r#"{"a":1}"#)));
        assert_eq!(
            object,
            json!({
                "provider": "argyle",
                "resource_id": "idn_1",
                "state": "present",
                "revision": 2,
                "fetched_at": "2026-12-02T01:00:00Z",
                "changed_at": "2026-12-02T00:58:20Z",
                "source_updated_at": "2026-12-01T10:00:00Z",
                "event_id": "argyle#e1",
                "event_type": "identities.updated",
                "expires_at": "2026-12-03T01:00:00Z",
                "pending": null,
                "data": {"a": 1},
            })
        );
    }
}
