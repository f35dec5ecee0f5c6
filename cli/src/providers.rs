//! `hookline providers`: the providers this version receives, from the library's registry (the
//! one list the functions, the scripts and the tests read).

use crate::failure::Failure;
use std::process::ExitCode;

pub const EXAMPLES: &str = "\
Examples:
  hookline providers
  hookline providers --names
  hookline providers --json | jq -r .template_prefix";

#[derive(clap::Args, Debug)]
pub struct ProvidersArgs {
    #[command(flatten)]
    pub output: crate::output::Output,
    /// Print each provider's name alone, one per line (for scripts).
    #[arg(long, conflicts_with = "json")]
    pub names: bool,
}

pub async fn run(args: &ProvidersArgs) -> Result<ExitCode, Failure> {
    let all = hookline::providers::ALL;
    if args.names {
        for provider in all {
            println!("{}", provider.name);
        }
    } else if args.output.json {
        for provider in all {
            let outputs: Vec<_> = provider
                .webhook_outputs()
                .into_iter()
                .map(|(output, event_type)| {
                    serde_json::json!({"output": output, "event_type": event_type})
                })
                .collect();
            let settings: Vec<_> = provider
                .settings
                .iter()
                .map(|s| serde_json::json!({"name": s.name, "default": s.default}))
                .collect();
            let line = serde_json::json!({
                "name": provider.name,
                "template_prefix": provider.template_prefix,
                "webhook_outputs": outputs,
                "api_credentials": provider.credentials,
                "api_settings": settings,
            });
            println!("{line}");
        }
    } else {
        let rows: Vec<[String; 4]> = all
            .iter()
            .map(|provider| {
                let urls = provider.webhook_outputs().len();
                [
                    provider.name.to_string(),
                    format!("{}Function", provider.template_prefix),
                    if urls == 1 {
                        "1".to_string()
                    } else {
                        format!("{urls} (one per event type)")
                    },
                    match provider.credentials {
                        [] => "none (the data comes with the event)".to_string(),
                        names => names.join(", "),
                    },
                ]
            })
            .collect();
        crate::table::print(
            ["PROVIDER", "FUNCTION", "URLS", "ENRICHER CREDENTIALS"],
            &rows,
        );
    }
    Ok(ExitCode::SUCCESS)
}
