//! How the verbs that read or send events find the stack's tables, queues and bus: each one named
//! outright (a flag, or the environment variable the functions themselves read), else taken from
//! the stack's outputs. The stack is described only when something is not named outright.

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
        }
    }
}

/// The stack's resources as flags; flattened into every verb that needs them.
#[derive(clap::Args, Debug, Clone)]
pub struct ResourceArgs {
    /// The CloudFormation stack hookline was deployed as: where the tables, queues and bus are
    /// found when not named outright.
    #[arg(long, env = "HOOKLINE_STACK")]
    pub stack: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The history table (default: the stack's HistoryTableName output).
    #[arg(long, env = "HISTORY_TABLE", value_name = "NAME")]
    pub table: Option<String>,
    /// The events queue (default: the stack's EventsQueueUrl output).
    #[arg(long, env = "EVENTS_QUEUE_URL", value_name = "URL")]
    pub queue_url: Option<String>,
    /// The dead-letter queue (default: the stack's EventsDeadLetterQueueUrl output).
    #[arg(long, env = "EVENTS_DLQ_URL", value_name = "URL")]
    pub dlq_url: Option<String>,
    /// The identities table (default: the stack's IdentitiesTableName output).
    #[arg(long, env = "IDENTITIES_TABLE", value_name = "NAME")]
    pub identities_table: Option<String>,
    /// The events (dedup) table (default: the stack's EventsTableName output).
    #[arg(long, env = "EVENTS_TABLE", value_name = "NAME")]
    pub events_table: Option<String>,
    /// The change event bus (default: the stack's ChangeEventBusName output).
    #[arg(long, env = "EVENT_BUS_NAME", value_name = "NAME")]
    pub event_bus: Option<String>,
}

/// The SDK configuration and the resources a verb asked for.
pub struct Located {
    pub config: aws_config::SdkConfig,
    found: BTreeMap<Resource, String>,
}

impl Located {
    /// A resource given to [`ResourceArgs::locate`]; asking for another is a bug of the verb.
    pub fn get(&self, resource: Resource) -> &str {
        self.found
            .get(&resource)
            .unwrap_or_else(|| panic!("{resource:?} was not asked for when locating"))
    }
}

impl ResourceArgs {
    fn named(&self, resource: Resource) -> Option<&str> {
        match resource {
            Resource::HistoryTable => self.table.as_deref(),
            Resource::EventsQueue => self.queue_url.as_deref(),
            Resource::DeadLetterQueue => self.dlq_url.as_deref(),
            Resource::IdentitiesTable => self.identities_table.as_deref(),
            Resource::EventsTable => self.events_table.as_deref(),
            Resource::EventBus => self.event_bus.as_deref(),
        }
        .filter(|value| !value.is_empty())
    }

    /// Finds each of `wanted`: named outright, else from the stack's outputs; one that is
    /// neither is a usage error saying both ways to give it.
    pub async fn locate(&self, wanted: &[Resource]) -> Result<Located, Failure> {
        let config = self.aws.sdk_config().await?;
        let unnamed: Vec<Resource> = wanted
            .iter()
            .copied()
            .filter(|r| self.named(*r).is_none())
            .collect();
        let stack = self.stack.as_deref().filter(|stack| !stack.is_empty());
        let outputs = match (unnamed.first(), stack) {
            (None, _) => BTreeMap::new(),
            (Some(first), None) => return Err(not_given(*first)),
            (Some(_), Some(stack)) => crate::stack::outputs(&config, stack).await?,
        };
        let mut found = BTreeMap::new();
        for &resource in wanted {
            let value = match self.named(resource) {
                Some(value) => value.to_string(),
                None => outputs
                    .get(resource.output())
                    .cloned()
                    .ok_or_else(|| not_in_stack(resource, stack.unwrap_or_default()))?,
            };
            found.insert(resource, value);
        }
        Ok(Located { config, found })
    }
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
    let (flag, variable) = resource.flag();
    Failure::Usage(format!(
        "stack {stack:?} has no {} output (deployed from an older template.yaml?): update the \
         stack, or pass {flag} (or set {variable})",
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
        }
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

    #[tokio::test]
    async fn neither_named_nor_a_stack_is_a_usage_error_naming_both_ways() {
        let Err(failure) = args(None, None)
            .locate(&[Resource::EventsQueue, Resource::HistoryTable])
            .await
        else {
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

    #[tokio::test]
    async fn each_new_resource_names_its_flag_variable_and_output() {
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
            let Err(failure) = args(Some("history"), None).locate(&[resource]).await else {
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
}
