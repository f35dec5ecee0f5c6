//! How the verbs that read or send events find the stack's tables, queues and bus.
//!
//! With a stack (`--stack`, or `HOOKLINE_STACK`), the stack's outputs name every resource. A
//! resource flag (`--table`, `--queue-url`, ...) may still be given, but one that disagrees with
//! the stack's output is a usage error naming both: nothing is read, changed or sent. The
//! resource environment variables (`HISTORY_TABLE`, `EVENTS_QUEUE_URL`, ...) are ignored, with one
//! line on stderr naming those that were set. They are the names the functions read and that
//! `.local/*.env` exports, so a shell left over from a local run must not turn
//! `forget --stack prod` into an erasure of another stack's table reported as done.
//!
//! Without a stack, each resource is named by its flag, else by its environment variable.
//!
//! A verb that changes or sends something calls [`Located::announce`] before it acts: the stack,
//! the account, the region and each resource it will touch, on stderr (stdout stays the verb's
//! output, `--json` included).

use crate::failure::Failure;
use crate::stack::AwsArgs;
use std::collections::BTreeMap;

/// A table or queue of the stack that a verb works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    HistoryTable,
    EventsQueue,
    DeadLetterQueue,
    IdentitiesTable,
    EventsTable,
    EventBus,
    ChangeArchive,
}

impl Resource {
    /// What a person calls it, in messages.
    fn what(self) -> &'static str {
        match self {
            Self::HistoryTable => "history table",
            Self::EventsQueue => "events queue URL",
            Self::DeadLetterQueue => "dead-letter queue URL",
            Self::IdentitiesTable => "identities table",
            Self::EventsTable => "events table",
            Self::EventBus => "change event bus",
            Self::ChangeArchive => "change event archive",
        }
    }

    fn output(self) -> &'static str {
        match self {
            Self::HistoryTable => "HistoryTableName",
            Self::EventsQueue => "EventsQueueUrl",
            Self::DeadLetterQueue => "EventsDeadLetterQueueUrl",
            Self::IdentitiesTable => "IdentitiesTableName",
            Self::EventsTable => "EventsTableName",
            Self::EventBus => "ChangeEventBusName",
            Self::ChangeArchive => "ChangeEventsArchiveName",
        }
    }

    /// The flag and the environment variable that name it outright.
    fn flag(self) -> (&'static str, &'static str) {
        match self {
            Self::HistoryTable => ("--table", "HISTORY_TABLE"),
            Self::EventsQueue => ("--queue-url", "EVENTS_QUEUE_URL"),
            Self::DeadLetterQueue => ("--dlq-url", "EVENTS_DLQ_URL"),
            Self::IdentitiesTable => ("--identities-table", "IDENTITIES_TABLE"),
            Self::EventsTable => ("--events-table", "EVENTS_TABLE"),
            Self::EventBus => ("--event-bus", "EVENT_BUS_NAME"),
            Self::ChangeArchive => ("--archive", "CHANGE_ARCHIVE"),
        }
    }
}

/// The stack's resources as flags; flattened into every verb that needs them. The resource
/// flags carry no clap `env`: their variables are read in [`ResourceArgs::locate`], which must
/// tell a flag from a variable (a variable is ignored with a stack, a flag is checked against it).
#[derive(clap::Args, Debug, Clone)]
pub struct ResourceArgs {
    /// The CloudFormation stack hookline was deployed as: its outputs name the tables, queues and
    /// bus (a resource flag that disagrees is an error; HISTORY_TABLE and the like are ignored).
    #[arg(long, env = "HOOKLINE_STACK")]
    pub stack: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The history table (default: the stack's HistoryTableName output; without --stack,
    /// HISTORY_TABLE).
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// The events queue (default: the stack's EventsQueueUrl output; without --stack,
    /// EVENTS_QUEUE_URL).
    #[arg(long, value_name = "URL")]
    pub queue_url: Option<String>,
    /// The dead-letter queue (default: the stack's EventsDeadLetterQueueUrl output; without
    /// --stack, EVENTS_DLQ_URL).
    #[arg(long, value_name = "URL")]
    pub dlq_url: Option<String>,
    /// The identities table (default: the stack's IdentitiesTableName output; without --stack,
    /// IDENTITIES_TABLE).
    #[arg(long, value_name = "NAME")]
    pub identities_table: Option<String>,
    /// The events (dedup) table (default: the stack's EventsTableName output; without --stack,
    /// EVENTS_TABLE).
    #[arg(long, value_name = "NAME")]
    pub events_table: Option<String>,
    /// The change event bus (default: the stack's ChangeEventBusName output; without --stack,
    /// EVENT_BUS_NAME).
    #[arg(long, value_name = "NAME")]
    pub event_bus: Option<String>,
    /// The change events' archive (default: the stack's ChangeEventsArchiveName output; without
    /// --stack, CHANGE_ARCHIVE).
    #[arg(long, value_name = "NAME")]
    pub archive: Option<String>,
}

/// Where a located resource's name came from, as the resolved block says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Flag,
    Variable,
    Output,
}

/// The SDK configuration and the resources a verb asked for.
pub struct Located {
    pub config: aws_config::SdkConfig,
    stack: Option<String>,
    found: BTreeMap<Resource, (String, Source)>,
}

impl Located {
    /// A resource given to [`ResourceArgs::locate`]; asking for another is a bug of the verb.
    pub fn get(&self, resource: Resource) -> &str {
        &self
            .found
            .get(&resource)
            .unwrap_or_else(|| panic!("{resource:?} was not asked for when locating"))
            .0
    }

    /// Says on stderr, before `verb` acts, where it will act: the stack, the account (STS
    /// GetCallerIdentity, which needs no permission), the region and each resource located with
    /// where its name came from. An account that cannot be read is said so; the verb goes on (its
    /// own calls fail the same way if the credentials are the cause).
    pub async fn announce(&self, verb: &str) {
        let account = match crate::stack::account(&self.config).await {
            Ok(account) => account,
            Err(reason) => format!("unknown ({reason})"),
        };
        eprint!("{}", self.block(verb, &account));
    }

    fn block(&self, verb: &str, account: &str) -> String {
        let region = self.config.region().map_or("", |r| r.as_ref());
        let mut rows = vec![
            (
                "stack",
                self.stack
                    .clone()
                    .unwrap_or_else(|| "none (resources named outright)".into()),
            ),
            ("account", account.to_string()),
            ("region", region.to_string()),
        ];
        for (resource, (name, source)) in &self.found {
            let (flag, variable) = resource.flag();
            let from = match source {
                Source::Flag => flag,
                Source::Variable => variable,
                Source::Output => resource.output(),
            };
            rows.push((resource.what(), format!("{name} ({from})")));
        }
        let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
        let mut block = format!("hookline {verb} acts on:\n");
        for (label, value) in rows {
            block.push_str(&format!("  {label:width$}  {value}\n"));
        }
        block
    }
}

impl ResourceArgs {
    fn flag_value(&self, resource: Resource) -> Option<&str> {
        match resource {
            Resource::HistoryTable => self.table.as_deref(),
            Resource::EventsQueue => self.queue_url.as_deref(),
            Resource::DeadLetterQueue => self.dlq_url.as_deref(),
            Resource::IdentitiesTable => self.identities_table.as_deref(),
            Resource::EventsTable => self.events_table.as_deref(),
            Resource::EventBus => self.event_bus.as_deref(),
            Resource::ChangeArchive => self.archive.as_deref(),
        }
        .filter(|value| !value.is_empty())
    }

    fn stack_name(&self) -> Option<&str> {
        self.stack.as_deref().filter(|stack| !stack.is_empty())
    }

    /// Finds each of `wanted` by the module's rule; one that is found nowhere is a usage error
    /// saying how to give it.
    pub async fn locate(&self, wanted: &[Resource]) -> Result<Located, Failure> {
        let config = self.aws.sdk_config().await?;
        let variable = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let stack = self.stack_name();
        let outputs = match stack {
            Some(stack) => Some(crate::stack::outputs(&config, stack).await?),
            None => None,
        };
        let resolved = self.resolve(wanted, variable, outputs.as_ref())?;
        if !resolved.ignored.is_empty() {
            eprintln!(
                "hookline: ignoring {} from the environment: stack {:?} names its resources \
                 (its outputs)",
                resolved.ignored.join(", "),
                stack.unwrap_or_default()
            );
        }
        Ok(Located {
            config,
            stack: stack.map(String::from),
            found: resolved.found,
        })
    }

    /// The rule, without AWS: `variable` reads the environment, `outputs` are the stack's
    /// (`None` without a stack).
    fn resolve(
        &self,
        wanted: &[Resource],
        variable: impl Fn(&str) -> Option<String>,
        outputs: Option<&BTreeMap<String, String>>,
    ) -> Result<Resolved, Failure> {
        let mut resolved = Resolved::default();
        for &resource in wanted {
            let flag = self.flag_value(resource);
            let (_, variable_name) = resource.flag();
            let set = variable(variable_name);
            let located = match outputs {
                None => match (flag, set) {
                    (Some(flag), _) => (flag.to_string(), Source::Flag),
                    (None, Some(set)) => (set, Source::Variable),
                    (None, None) => return Err(not_given(resource)),
                },
                Some(outputs) => {
                    let stack = self.stack_name().unwrap_or_default();
                    if set.is_some() && !resolved.ignored.contains(&variable_name) {
                        resolved.ignored.push(variable_name);
                    }
                    match (outputs.get(resource.output()), flag) {
                        (Some(output), Some(flag)) if output != flag => {
                            return Err(disagrees(resource, flag, stack, output));
                        }
                        (Some(output), _) => (output.clone(), Source::Output),
                        // An older stack without the output: the flag names it.
                        (None, Some(flag)) => (flag.to_string(), Source::Flag),
                        (None, None) => return Err(not_in_stack(resource, stack)),
                    }
                }
            };
            resolved.found.insert(resource, located);
        }
        Ok(resolved)
    }
}

/// What [`ResourceArgs::resolve`] found, and the variables it ignored (set, with a stack).
#[derive(Default)]
struct Resolved {
    found: BTreeMap<Resource, (String, Source)>,
    ignored: Vec<&'static str>,
}

fn not_given(resource: Resource) -> Failure {
    let (flag, variable) = resource.flag();
    Failure::Usage(format!(
        "no {}: pass {flag} (or set {variable}), or --stack (or set HOOKLINE_STACK) to read it \
         from the stack's {} output",
        resource.what(),
        resource.output()
    ))
}

fn not_in_stack(resource: Resource, stack: &str) -> Failure {
    let (flag, _) = resource.flag();
    Failure::Usage(format!(
        "stack {stack:?} has no {} output (deployed from an older template.yaml?): update the \
         stack, or pass {flag}",
        resource.output()
    ))
}

fn disagrees(resource: Resource, flag_value: &str, stack: &str, output: &str) -> Failure {
    let (flag, _) = resource.flag();
    Failure::Usage(format!(
        "{flag} {flag_value} is not stack {stack:?}'s {} ({} output: {output}): drop {flag} to \
         use the stack's, or --stack to use {flag} (nothing was done)",
        resource.what(),
        resource.output()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(failure: Failure) -> (u8, String) {
        match failure {
            Failure::Failed(message) => (1, message),
            Failure::Usage(message) => (2, message),
        }
    }

    fn args(table: Option<&str>, stack: Option<&str>) -> ResourceArgs {
        ResourceArgs {
            stack: stack.map(Into::into),
            aws: AwsArgs {
                region: Some("eu-west-1".into()),
                profile: None,
            },
            table: table.map(Into::into),
            queue_url: Some("https://sqs.eu-west-1.amazonaws.com/1/q".into()),
            dlq_url: None,
            identities_table: None,
            events_table: None,
            event_bus: Some("hookline-changes".into()),
            archive: None,
        }
    }

    /// An environment that sets nothing.
    fn unset(_: &str) -> Option<String> {
        None
    }

    /// A shell left over from a local run: every resource variable names another stack's.
    fn local(name: &str) -> Option<String> {
        Some(format!("local-{name}"))
    }

    /// Stack "prod"'s outputs.
    fn prod() -> BTreeMap<String, String> {
        [
            Resource::HistoryTable,
            Resource::EventsQueue,
            Resource::DeadLetterQueue,
            Resource::IdentitiesTable,
            Resource::EventsTable,
            Resource::EventBus,
        ]
        .iter()
        .map(|r| (r.output().to_string(), format!("prod-{}", r.output())))
        .collect()
    }

    fn resolved(
        args: &ResourceArgs,
        wanted: &[Resource],
        variable: impl Fn(&str) -> Option<String>,
        outputs: Option<&BTreeMap<String, String>>,
    ) -> Resolved {
        args.resolve(wanted, variable, outputs)
            .unwrap_or_else(|failure| panic!("{:?}", code(failure)))
    }

    fn name(resolved: &Resolved, resource: Resource) -> &str {
        &resolved.found[&resource].0
    }

    #[tokio::test]
    async fn what_is_named_outright_needs_no_stack() {
        let located = args(Some("history"), None)
            .locate(&[
                Resource::HistoryTable,
                Resource::EventsQueue,
                Resource::EventBus,
            ])
            .await
            .unwrap_or_else(|_| panic!("located"));
        assert_eq!(located.get(Resource::HistoryTable), "history");
        assert_eq!(located.get(Resource::EventBus), "hookline-changes");
        assert_eq!(
            located.get(Resource::EventsQueue),
            "https://sqs.eu-west-1.amazonaws.com/1/q"
        );
    }

    #[test]
    fn without_a_stack_a_flag_wins_over_its_variable_and_a_variable_names_the_rest() {
        let found = resolved(
            &args(Some("history"), None),
            &[Resource::HistoryTable, Resource::EventsTable],
            local,
            None,
        );
        assert_eq!(name(&found, Resource::HistoryTable), "history");
        assert_eq!(name(&found, Resource::EventsTable), "local-EVENTS_TABLE");
        assert!(found.ignored.is_empty());
    }

    #[test]
    fn with_a_stack_its_outputs_win_and_the_variables_set_are_ignored_by_name() {
        let wanted = [
            Resource::HistoryTable,
            Resource::IdentitiesTable,
            Resource::EventsTable,
            Resource::DeadLetterQueue,
        ];
        let mut stack = args(None, Some("prod"));
        stack.queue_url = None;
        let found = resolved(&stack, &wanted, local, Some(&prod()));
        for resource in wanted {
            assert_eq!(
                found.found[&resource],
                (format!("prod-{}", resource.output()), Source::Output)
            );
        }
        assert_eq!(
            found.ignored,
            [
                "HISTORY_TABLE",
                "IDENTITIES_TABLE",
                "EVENTS_TABLE",
                "EVENTS_DLQ_URL"
            ]
        );
        // Nothing set, nothing said.
        assert!(resolved(&stack, &wanted, unset, Some(&prod()))
            .ignored
            .is_empty());
    }

    #[test]
    fn with_a_stack_a_flag_that_disagrees_is_a_usage_error_naming_both() {
        // args() names a queue URL that is not prod's.
        let Err(failure) = args(None, Some("prod")).resolve(
            &[Resource::HistoryTable, Resource::EventsQueue],
            unset,
            Some(&prod()),
        ) else {
            panic!("a disagreeing --queue-url was taken");
        };
        let (exit, message) = code(failure);
        assert_eq!(exit, 2);
        for part in [
            "--queue-url https://sqs.eu-west-1.amazonaws.com/1/q",
            "\"prod\"",
            "EventsQueueUrl output: prod-EventsQueueUrl",
            "nothing was done",
        ] {
            assert!(message.contains(part), "{part}: {message}");
        }
    }

    #[test]
    fn with_a_stack_a_flag_that_agrees_is_fine_and_one_names_what_an_older_stack_lacks() {
        let mut outputs = prod();
        let agreeing = args(Some("prod-HistoryTableName"), Some("prod"));
        let found = resolved(&agreeing, &[Resource::HistoryTable], unset, Some(&outputs));
        assert_eq!(
            name(&found, Resource::HistoryTable),
            "prod-HistoryTableName"
        );
        outputs.remove("EventsQueueUrl");
        let found = resolved(&agreeing, &[Resource::EventsQueue], unset, Some(&outputs));
        assert_eq!(
            found.found[&Resource::EventsQueue],
            (
                "https://sqs.eu-west-1.amazonaws.com/1/q".to_string(),
                Source::Flag
            )
        );
        let Err(failure) = agreeing.resolve(
            &[Resource::EventsTable],
            local,
            Some(&{
                let mut older = prod();
                older.remove("EventsTableName");
                older
            }),
        ) else {
            panic!("a variable named what the stack lacks");
        };
        let (exit, message) = code(failure);
        assert_eq!(exit, 2);
        assert!(
            message.contains("no EventsTableName output") && message.contains("--events-table"),
            "{message}"
        );
    }

    #[test]
    fn neither_named_nor_a_stack_is_a_usage_error_naming_both_ways() {
        let Err(failure) = args(None, None).resolve(
            &[Resource::EventsQueue, Resource::HistoryTable],
            unset,
            None,
        ) else {
            panic!("located without a table");
        };
        let (exit, message) = code(failure);
        assert_eq!(exit, 2);
        assert!(
            message.contains("--table (or set HISTORY_TABLE)"),
            "{message}"
        );
        assert!(message.contains("--stack"), "{message}");
        assert!(message.contains("HistoryTableName"), "{message}");
    }

    #[test]
    fn each_new_resource_names_its_flag_variable_and_output() {
        for (resource, flag, output) in [
            (
                Resource::IdentitiesTable,
                "--identities-table (or set IDENTITIES_TABLE)",
                "IdentitiesTableName",
            ),
            (
                Resource::EventsTable,
                "--events-table (or set EVENTS_TABLE)",
                "EventsTableName",
            ),
        ] {
            let Err(failure) = args(Some("history"), None).resolve(&[resource], unset, None) else {
                panic!("located {resource:?} without a name");
            };
            let (exit, message) = code(failure);
            assert_eq!(exit, 2);
            assert!(
                message.contains(flag) && message.contains(output),
                "{message}"
            );
        }
    }

    #[tokio::test]
    async fn the_block_names_stack_account_region_and_each_resource_with_its_source() {
        let mut args = args(None, Some("prod"));
        args.event_bus = None;
        let config = args
            .aws
            .sdk_config()
            .await
            .unwrap_or_else(|_| panic!("config"));
        let mut found = resolved(
            &args,
            &[Resource::HistoryTable, Resource::EventBus],
            unset,
            Some(&prod()),
        )
        .found;
        found.insert(
            Resource::EventsQueue,
            ("https://q".to_string(), Source::Variable),
        );
        let located = Located {
            config,
            stack: Some("prod".into()),
            found,
        };
        assert_eq!(
            located.block("forget", "123456789012"),
            "hookline forget acts on:\n\
             \x20 stack             prod\n\
             \x20 account           123456789012\n\
             \x20 region            eu-west-1\n\
             \x20 history table     prod-HistoryTableName (HistoryTableName)\n\
             \x20 events queue URL  https://q (EVENTS_QUEUE_URL)\n\
             \x20 change event bus  prod-ChangeEventBusName (ChangeEventBusName)\n"
        );
    }
}
