//! `hookline urls`: the URL to register with each provider, from the stack's outputs. ClearID
//! has one webhook per event type, each registered with its own URL (the type in its query).

use crate::failure::Failure;
use crate::stack::StackArgs;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  hookline urls --stack hookline
  hookline urls --stack hookline --region eu-west-1 --json | jq -r '.[] | .url'";

#[derive(clap::Args, Debug)]
pub struct UrlsArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[command(flatten)]
    pub output: crate::output::Output,
}

/// The template's webhook URL outputs: output name, provider, and the event type the URL is
/// for (ClearID), `None` when one URL takes every type.
pub fn webhook_outputs() -> Vec<(String, &'static str, Option<&'static str>)> {
    hookline::providers::ALL
        .iter()
        .flat_map(|provider| {
            provider
                .webhook_outputs()
                .into_iter()
                .map(|(output, event_type)| (output, provider.name, event_type))
        })
        .collect()
}

pub async fn run(args: &UrlsArgs) -> Result<ExitCode, Failure> {
    let outputs = args.stack.outputs().await?;
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for (output, provider, event_type) in webhook_outputs() {
        match outputs.get(&output) {
            Some(url) => rows.push((provider, event_type, url.as_str(), output)),
            None => missing.push(output),
        }
    }
    if rows.is_empty() {
        return Err(Failure::Failed(format!(
            "stack {:?} has no webhook URL outputs: is it a hookline stack?",
            args.stack.stack
        )));
    }
    if args.output.json {
        let rows: Vec<_> = rows
            .iter()
            .map(|(provider, event_type, url, output)| {
                serde_json::json!({
                    "provider": provider, "event_type": event_type, "url": url, "output": output
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("JSON serializes")
        );
    } else {
        let table: Vec<[&str; 3]> = rows
            .iter()
            .map(|(provider, event_type, url, _)| [*provider, event_type.unwrap_or("(all)"), url])
            .collect();
        crate::table::print(["PROVIDER", "EVENT TYPE", "URL"], &table);
    }
    if !missing.is_empty() {
        return Err(Failure::Failed(format!(
            "stack {:?} lacks the outputs {}: update it from the current template.yaml",
            args.stack.stack,
            missing.join(", ")
        )));
    }
    Ok(ExitCode::SUCCESS)
}
