//! `hookline secrets`: each provider's webhook secrets in a deployed stack
//! (`hookline::ops::secrets`): their state without their values; a new secret put alone or
//! beside the others, printed once for the provider's portal; the older ones dropped. This verb
//! finds each secret by the stack's outputs, asks by the one confirmation rule, and prints.

use crate::choices::{with_provider, with_provider_arms, ProviderName, ProviderOptions};
use crate::confirm::{Action, Confirmation, Yes};
use crate::failure::Failure;
use crate::stack::StackArgs;
use hookline::ops::secrets::{
    apply, change, new_secret, status, Change, ChangeError, Changed, SecretStore,
    SecretsManagerStore, Status,
};
use hookline::secrets::Secret;
use hookline::Provider;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  hookline secrets status --stack hookline
  hookline secrets set --stack hookline --provider argyle --yes    # prints the new secret once
  hookline secrets rotate --stack hookline --provider clearid       # a new one beside the old
  hookline secrets drop-old --stack hookline --provider clearid     # once ClearID sends the new one
  HOOKLINE_SECRET=whsec_... hookline secrets set --stack hookline --provider midbound --yes

ClearID and Argyle take a secret you choose: these verbs generate it and print it once. Baack and
Midbound issue their own: pass it with --secret or HOOKLINE_SECRET.

A rotation refuses no delivery: rotate, wait SecretsCacheSeconds (300 s by default) so that every
running function has both, switch the provider to the new secret, then drop-old.";

#[derive(clap::Args, Debug)]
pub struct SecretsArgs {
    #[command(subcommand)]
    pub command: SecretsCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum SecretsCommand {
    /// How many secrets each provider has, how strong, when last changed (never a value).
    Status(StatusArgs),
    /// Put one new secret alone: the first registration, or after a leak (the others stop
    /// verifying).
    Set(ChangeArgs),
    /// Put a new secret beside the current ones: a rotation's first step.
    Rotate(ChangeArgs),
    /// Keep only the newest secret: a rotation's last step, once the provider signs with it.
    DropOld(Target),
}

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// One provider only (default: every provider).
    #[arg(long, value_enum)]
    pub provider: Option<ProviderName>,
    #[command(flatten)]
    pub options: ProviderOptions,
    #[command(flatten)]
    pub output: crate::output::Output,
}

/// What every change names: the stack and provider, and the one confirmation rule's flags.
#[derive(clap::Args, Debug)]
pub struct Target {
    #[command(flatten)]
    pub stack: StackArgs,
    #[arg(long, value_enum)]
    pub provider: ProviderName,
    /// Change nothing: say what would change.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub yes: Yes,
    #[command(flatten)]
    pub output: crate::output::Output,
}

#[derive(clap::Args, Debug)]
pub struct ChangeArgs {
    #[command(flatten)]
    pub target: Target,
    /// The new secret, when the provider issues its own (Baack, Midbound): put as given instead
    /// of a generated one, and not printed.
    #[arg(long, env = "HOOKLINE_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
}

pub async fn run(args: &SecretsArgs) -> Result<ExitCode, Failure> {
    match &args.command {
        SecretsCommand::Status(args) => show(args).await,
        SecretsCommand::Set(args) => {
            let new = new_value(args)?;
            let verb = Verb {
                name: "set",
                change: Change::Alone(new.value.clone()),
            };
            put(&args.target, &verb, new.shown()).await
        }
        SecretsCommand::Rotate(args) => {
            let new = new_value(args)?;
            let verb = Verb {
                name: "rotate",
                change: Change::Beside(new.value.clone()),
            };
            put(&args.target, &verb, new.shown()).await
        }
        SecretsCommand::DropOld(target) => {
            let verb = Verb {
                name: "drop-old",
                change: Change::DropOlder,
            };
            put(target, &verb, None).await
        }
    }
}

/// The stack output that names a provider's secret (`ArgyleWebhookSecretsArn`).
fn output_name(provider: ProviderName) -> String {
    format!("{}WebhookSecretsArn", provider.registered().template_prefix)
}

/// A new secret and whether this tool made it (then it is printed, once).
struct NewValue {
    value: Secret,
    generated: bool,
}

impl NewValue {
    /// The value to print: one this tool made, none given by the operator.
    fn shown(&self) -> Option<&str> {
        self.generated.then(|| self.value.expose())
    }
}

fn new_value(args: &ChangeArgs) -> Result<NewValue, Failure> {
    if let Some(given) = &args.secret {
        if given.trim().is_empty() {
            return Err(Failure::Usage("--secret is empty".into()));
        }
        return Ok(NewValue {
            value: Secret::new(given.trim()),
            generated: false,
        });
    }
    with_provider!(args.target.provider, generated())
}

/// A secret for provider `P` from the operating system's random source, unless `P` issues its
/// own: none this tool made would verify then.
fn generated<P: Provider>() -> Result<NewValue, Failure> {
    if P::ISSUES_ITS_SECRET {
        return Err(Failure::Usage(format!(
            "{} issues its own secret (docs/deploy.md, Register each provider): pass it with \
             --secret or HOOKLINE_SECRET",
            P::NAME
        )));
    }
    let mut random = [0u8; 32];
    aws_lc_rs::rand::fill(&mut random)
        .map_err(|_| Failure::Failed("the operating system's random source failed".into()))?;
    Ok(NewValue {
        value: new_secret::<P>(&random),
        generated: true,
    })
}

struct Verb {
    name: &'static str,
    change: Change,
}

impl Verb {
    fn action(&self, provider: ProviderName, stack: &str) -> Action {
        let what = match self.change {
            Change::Alone(_) => "puts one new secret alone, and the others stop verifying",
            Change::Beside(_) => "puts a new secret beside the current ones",
            Change::DropOlder => "keeps only the newest secret, and the older ones stop verifying",
        };
        Action {
            what: format!(
                "secrets {} {what} in {}'s webhook secret of stack {stack} (running functions \
                 follow within SecretsCacheSeconds)",
                self.name,
                provider.as_str()
            ),
            go_ahead: "change it",
            instead: "see what would change",
            untouched: "changed",
        }
    }
}

async fn put(target: &Target, verb: &Verb, shown: Option<&str>) -> Result<ExitCode, Failure> {
    let (stack, provider) = (&target.stack, target.provider);
    let confirmation = Confirmation::new(target.yes, target.dry_run);
    confirmation.nobody_to_ask(|| verb.action(provider, &stack.stack))?;
    let config = stack.aws.sdk_config().await?;
    let outputs = crate::stack::outputs(&config, &stack.stack).await?;
    let name = output_name(provider);
    let arn = outputs.get(&name).ok_or_else(|| {
        Failure::Failed(format!(
            "stack {:?} has no output {name}: update it from the current template.yaml",
            stack.stack
        ))
    })?;
    let store = SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&config));
    let failed = |e: ChangeError| Failure::Failed(format!("{}: {e}", provider.as_str()));
    if target.dry_run {
        let stored = store.read(arn).await.map_err(|e| failed(e.into()))?;
        let planned = apply(&stored.text, &verb.change).map_err(|e| failed(e.into()))?;
        report(provider, verb, planned.counts(), None, true, target.output);
        return Ok(ExitCode::SUCCESS);
    }
    confirmation.ask(&verb.action(provider, &stack.stack))?;
    let changed = change(&store, arn, &verb.change).await.map_err(failed)?;
    report(provider, verb, changed, shown, false, target.output);
    Ok(ExitCode::SUCCESS)
}

/// What a change did (or would do). A generated secret goes to stdout once, alone on its line
/// (or in the JSON), so that it can be pasted or piped; what to do with it goes to stderr.
fn report(
    provider: ProviderName,
    verb: &Verb,
    Changed { before, after }: Changed,
    generated: Option<&str>,
    dry_run: bool,
    output: crate::output::Output,
) {
    let provider = provider.as_str();
    if output.json {
        let line = serde_json::json!({
            "provider": provider, "change": verb.name, "dry_run": dry_run,
            "secrets_before": before, "secrets_after": after, "secret": generated,
        });
        println!("{line}");
        return;
    }
    let would = if dry_run { "would go" } else { "went" };
    eprintln!("{provider}: {before} secret(s) {would} to {after}");
    if let Some(value) = generated {
        eprintln!("the new secret, shown this once: register it with {provider}");
        println!("{value}");
    }
}

async fn show(args: &StatusArgs) -> Result<ExitCode, Failure> {
    let config = args.stack.aws.sdk_config().await?;
    let outputs = crate::stack::outputs(&config, &args.stack.stack).await?;
    let store = SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&config));
    let options = args.options.auth_options(None);
    let chosen: Vec<ProviderName> = match args.provider {
        Some(provider) => vec![provider],
        None => <ProviderName as clap::ValueEnum>::value_variants().to_vec(),
    };
    let mut rows = Vec::new();
    let mut unreadable = Vec::new();
    for provider in chosen {
        let Some(arn) = outputs.get(&output_name(provider)) else {
            unreadable.push(format!(
                "{}: no output {}",
                provider.as_str(),
                output_name(provider)
            ));
            continue;
        };
        match store.read(arn).await {
            Ok(stored) => {
                let status = with_provider!(provider, status(&stored, &options));
                rows.push((provider, status));
            }
            Err(e) => unreadable.push(format!("{}: {e}", provider.as_str())),
        }
    }
    if args.output.json {
        for (provider, status) in &rows {
            println!("{}", status_json(*provider, status));
        }
    } else {
        let table: Vec<[String; 4]> = rows.iter().map(|(p, s)| status_row(*p, s)).collect();
        crate::table::print(["PROVIDER", "SECRETS", "STRENGTH", "LAST CHANGED"], &table);
    }
    if !unreadable.is_empty() {
        return Err(Failure::Failed(unreadable.join("; ")));
    }
    Ok(ExitCode::SUCCESS)
}

fn changed_at(status: &Status) -> String {
    status
        .changed
        .map(hookline::clock::rfc3339)
        .unwrap_or_else(|| "unknown".into())
}

fn status_row(provider: ProviderName, status: &Status) -> [String; 4] {
    // On AWS a secret never put since the stack created it is the stack's placeholder.
    let count = if status.as_created {
        format!("{} (as created)", status.count)
    } else {
        status.count.to_string()
    };
    let bytes: Vec<String> = status.strengths.iter().map(ToString::to_string).collect();
    let strength = match (status.strong(), bytes.is_empty()) {
        (_, true) => "none".to_string(),
        (true, false) => format!("ok ({} bytes)", bytes.join(", ")),
        (false, false) => format!("short ({} bytes; 16 needed)", bytes.join(", ")),
    };
    [
        provider.as_str().to_string(),
        count,
        strength,
        changed_at(status),
    ]
}

fn status_json(provider: ProviderName, status: &Status) -> serde_json::Value {
    serde_json::json!({
        "provider": provider.as_str(), "secrets": status.count, "strengths": status.strengths,
        "strong": status.strong(), "as_created": status.as_created,
        "last_changed": status.changed.map(hookline::clock::rfc3339),
    })
}
