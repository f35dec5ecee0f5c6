//! `hookline identities list` and `identities export`: every identity of a provider, read a page
//! at a time at a bounded rate (`hookline::ops::identity_export`). `list` shows them (a table, or
//! JSON lines), `export` writes each whole, data included, as a JSON line to a file or stdout,
//! and can be stopped and resumed: a new consumer's starting point.

use crate::choices::ProviderName;
use crate::failure::Failure;
use crate::resources::{Resource, ResourceArgs};
use crate::when::When;
use hookline::clock::{rfc3339, unix_now};
use hookline::identity::Identity;
use hookline::ops::identity_export::{
    scan_identities, DynamoDbIdentityScan, Pace, ScanError, Selection,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const LIST_EXAMPLES: &str = "\
Examples:
  hookline identities list --stack hookline --provider argyle
  hookline identities list --stack hookline --provider clearid --state tombstone --changed-since 7d --json";

pub const EXPORT_EXAMPLES: &str = "\
Examples:
  hookline identities export --stack hookline --provider argyle --output argyle.jsonl
  hookline identities export --stack hookline --provider argyle --output argyle.jsonl   # again: resumes
  hookline identities export --stack hookline --provider baack --state present --rate 20 | jq .resource_id";

/// An identity's state, as the flags say it.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Present,
    Tombstone,
}

/// Which identities, and how fast to read them.
#[derive(clap::Args, Debug, Clone)]
pub struct SelectionArgs {
    /// The provider whose identities to read.
    #[arg(long, value_enum)]
    pub provider: ProviderName,
    /// Only identities in this state.
    #[arg(long, value_enum)]
    pub state: Option<State>,
    /// Only identities changed at or after: RFC 3339, a date (UTC midnight) or a duration ago
    /// (90s, 30m, 2h, 7d).
    #[arg(long, value_name = "TIME")]
    pub changed_since: Option<When>,
    /// At most this many read units a second from the identities table (a read unit is 8 KB
    /// scanned), so that the enricher's reads are not starved.
    #[arg(long, value_name = "UNITS", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub rate: u32,
    /// Items read per page.
    #[arg(long, value_name = "N", default_value_t = 100, hide = true,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub page_size: u32,
}

impl SelectionArgs {
    fn selection(&self, now: i64) -> Selection {
        Selection {
            provider: self.provider.as_str().to_string(),
            tombstones: self.state.map(|state| state == State::Tombstone),
            changed_since: self.changed_since.map(|when| when.at(now)),
            changed_before: None,
        }
    }

    fn pace(&self, most: Option<u64>) -> Pace {
        Pace {
            page_items: self.page_size as usize,
            read_units_per_second: f64::from(self.rate),
            most,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub resources: ResourceArgs,
    #[command(flatten)]
    pub output: crate::output::Output,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Write to this file, resumably: a run stopped early (--limit, an error, Ctrl-C) is
    /// continued by the same command (its place is kept in FILE.resume). Default: stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Export at most this many in this run.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// Go on after this identity (stdout only: the key an earlier run said it stopped after).
    #[arg(long, value_name = "KEY", conflicts_with = "output")]
    pub resume_after: Option<String>,
    #[command(flatten)]
    pub resources: ResourceArgs,
}

fn table_of(located: &crate::resources::Located) -> DynamoDbIdentityScan {
    DynamoDbIdentityScan::new(
        aws_sdk_dynamodb::Client::new(&located.config),
        located.get(Resource::IdentitiesTable),
    )
}

fn read_failed<E: std::fmt::Display>(error: ScanError<E>) -> Failure {
    Failure::Failed(error.to_string())
}

pub async fn list(args: &ListArgs) -> Result<ExitCode, Failure> {
    let located = args.resources.locate(&[Resource::IdentitiesTable]).await?;
    let table = table_of(&located);
    let selection = args.selection.selection(unix_now());
    let spinner = crate::progress::spinner("the identities table");
    let mut rows: Vec<[String; 5]> = Vec::new();
    let json = args.output.json;
    let mut out = std::io::stdout().lock();
    scan_identities(
        &table,
        &selection,
        None,
        args.selection.pace(None),
        |page, _| {
            for identity in page {
                if json {
                    writeln!(out, "{}", identity_json(identity))?;
                } else {
                    rows.push(row(identity));
                }
            }
            spinner.set_message(format!("{} listed", rows.len()));
            spinner.tick();
            out.flush()
        },
    )
    .await
    .map_err(read_failed)?;
    spinner.finish_and_clear();
    if !json {
        print!(
            "{}",
            crate::table::render(
                [
                    "RESOURCE ID",
                    "STATE",
                    "REVISION",
                    "CHANGED AT",
                    "FETCHED AT"
                ],
                &rows
            )
        );
        let count = rows.len();
        eprintln!(
            "{count} {}",
            if count == 1 { "identity" } else { "identities" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn row(identity: &Identity) -> [String; 5] {
    [
        identity.key.resource_id.clone(),
        if identity.is_tombstone() {
            "tombstone"
        } else {
            "present"
        }
        .to_string(),
        identity.revision.to_string(),
        rfc3339(identity.changed_at),
        rfc3339(identity.fetched_at),
    ]
}

/// Where an export to a file stands, kept beside it: the key after which to go on, and how
/// many bytes of the file that run had written (what a crash wrote after them is cut on resume,
/// so each identity is in the file once).
#[derive(Debug, PartialEq)]
struct Progress {
    provider: String,
    state: Option<String>,
    changed_since: Option<i64>,
    resume_after: Option<String>,
    bytes: u64,
}

impl Progress {
    fn to_json(&self) -> Vec<u8> {
        serde_json::json!({
            "provider": self.provider,
            "state": self.state,
            "changed_since": self.changed_since,
            "resume_after": self.resume_after,
            "bytes": self.bytes,
        })
        .to_string()
        .into_bytes()
    }

    fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let text = |name: &str| value[name].as_str().map(String::from);
        Ok(Self {
            provider: text("provider").ok_or("no provider")?,
            state: text("state"),
            changed_since: value["changed_since"].as_i64(),
            resume_after: text("resume_after"),
            bytes: value["bytes"].as_u64().ok_or("no byte count")?,
        })
    }
}

fn progress_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".resume");
    PathBuf::from(name)
}

pub async fn export(args: &ExportArgs) -> Result<ExitCode, Failure> {
    let now = unix_now();
    let selection = args.selection.selection(now);
    let located = args.resources.locate(&[Resource::IdentitiesTable]).await?;
    let table = table_of(&located);
    let pace = args.selection.pace(args.limit);
    match &args.output {
        None => {
            let mut out = std::io::stdout().lock();
            let stopped = scan_identities(
                &table,
                &selection,
                args.resume_after.clone(),
                pace,
                |page, _| {
                    for identity in page {
                        writeln!(out, "{}", identity_json(identity))?;
                    }
                    out.flush()
                },
            )
            .await
            .map_err(read_failed)?;
            match stopped.resume_after {
                Some(key) => eprintln!(
                    "exported {}; stopped early: go on with --resume-after {key:?}",
                    stopped.handed_over
                ),
                None => eprintln!("exported {}", stopped.handed_over),
            }
        }
        Some(path) => export_to_file(&table, &selection, args, path, pace).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn export_to_file(
    table: &DynamoDbIdentityScan,
    selection: &Selection,
    args: &ExportArgs,
    path: &Path,
    pace: Pace,
) -> Result<(), Failure> {
    let io =
        |what: &str, e: std::io::Error| Failure::Failed(format!("{what} {}: {e}", path.display()));
    let kept = progress_path(path);
    let state = args
        .selection
        .state
        .map(|s| format!("{s:?}").to_lowercase());
    let before = match std::fs::read(&kept) {
        Ok(bytes) => {
            let progress = Progress::from_json(&bytes).map_err(|e| {
                Failure::Failed(format!(
                    "{} is not an export's progress: {e}",
                    kept.display()
                ))
            })?;
            if (&progress.provider, &progress.state, progress.changed_since)
                != (&selection.provider, &state, selection.changed_since)
            {
                return Err(Failure::Usage(format!(
                    "{} continues an export of another selection (provider {}, state {:?}); \
                     choose another --output or delete {}",
                    path.display(),
                    progress.provider,
                    progress.state,
                    kept.display()
                )));
            }
            Some(progress)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io("cannot read the progress of", e)),
    };
    if before.as_ref().is_some_and(|p| p.resume_after.is_none()) {
        eprintln!(
            "{} is complete already (delete {} to export again)",
            path.display(),
            kept.display()
        );
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(before.is_none())
        .open(path)
        .map_err(|e| io("cannot open", e))?;
    let mut bytes = before.as_ref().map_or(0, |p| p.bytes);
    // What a run wrote after its last kept progress is written again from there.
    file.set_len(bytes).map_err(|e| io("cannot cut", e))?;
    use std::io::Seek;
    file.seek(std::io::SeekFrom::End(0))
        .map_err(|e| io("cannot seek", e))?;
    let resume = before.and_then(|p| p.resume_after);
    let spinner = crate::progress::spinner("the identities table");
    let mut exported = 0u64;
    let stopped = scan_identities(table, selection, resume, pace, |page, next| {
        for identity in page {
            let line = format!("{}\n", identity_json(identity));
            file.write_all(line.as_bytes())?;
            bytes += line.len() as u64;
        }
        file.sync_data()?;
        exported += page.len() as u64;
        let progress = Progress {
            provider: selection.provider.clone(),
            state: state.clone(),
            changed_since: selection.changed_since,
            resume_after: next.map(String::from),
            bytes,
        };
        // Written whole, then renamed over the last: a crash leaves one or the other.
        let partial = kept.with_extension("resume.partial");
        std::fs::write(&partial, progress.to_json())?;
        std::fs::rename(&partial, &kept)?;
        spinner.set_message(format!("{exported} exported"));
        spinner.tick();
        Ok::<_, std::io::Error>(())
    })
    .await
    .map_err(read_failed)?;
    spinner.finish_and_clear();
    match stopped.resume_after {
        Some(_) => eprintln!(
            "exported {} to {}; stopped early: the same command goes on",
            stopped.handed_over,
            path.display()
        ),
        None => eprintln!(
            "exported {} to {} (complete)",
            stopped.handed_over,
            path.display()
        ),
    }
    Ok(())
}

/// An identity for programs: every field of its record, its data as JSON.
pub fn identity_json(identity: &Identity) -> serde_json::Value {
    let data = match (identity.data_value(), &identity.data) {
        (Some(value), _) => value,
        (None, Some(raw)) => serde_json::Value::String(raw.clone()),
        (None, None) => serde_json::Value::Null,
    };
    serde_json::json!({
        "provider": identity.key.provider,
        "resource_id": identity.key.resource_id,
        "state": state(identity),
        "revision": identity.revision,
        "fetched_at": rfc3339(identity.fetched_at),
        "changed_at": rfc3339(identity.changed_at),
        "source_updated_at": identity.source_updated_at,
        "event_id": identity.event_id,
        "event_type": identity.event_type,
        "expires_at": rfc3339(identity.expires_at),
        "pending": identity
            .pending
            .as_ref()
            .map(|c| serde_json::to_value(c).expect("a change serializes")),
        "data": data,
    })
}

/// Its state in the flags' words.
pub fn state(identity: &Identity) -> &'static str {
    if identity.is_tombstone() {
        "tombstone"
    } else {
        "present"
    }
}
