//! A deployed hookline stack, read through CloudFormation: its outputs by name; and the account
//! the verbs act in. The region and credentials come from the AWS SDK's standard chain
//! (environment, profile, SSO, instance role) or from `--region` / `--profile`.

use crate::failure::Failure;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use std::collections::BTreeMap;

/// Where and as whom the verbs call AWS.
#[derive(clap::Args, Debug, Clone)]
pub struct AwsArgs {
    /// AWS region (default: the SDK's, e.g. AWS_REGION or the profile's).
    #[arg(long)]
    pub region: Option<String>,
    /// AWS profile (default: the SDK's, e.g. AWS_PROFILE).
    #[arg(long)]
    pub profile: Option<String>,
}

impl AwsArgs {
    pub async fn sdk_config(&self) -> Result<aws_config::SdkConfig, Failure> {
        let mut loader = aws_config::from_env();
        if let Some(region) = &self.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        let config = loader.load().await;
        if config.region().is_none() {
            return Err(Failure::Failed(
                "no AWS region: pass --region, or set AWS_REGION or a profile's region".into(),
            ));
        }
        Ok(config)
    }
}

/// How a verb that needs nothing but a deployed stack names it.
#[derive(clap::Args, Debug, Clone)]
pub struct StackArgs {
    /// The CloudFormation stack hookline was deployed as.
    #[arg(long, env = "HOOKLINE_STACK")]
    pub stack: String,
    #[command(flatten)]
    pub aws: AwsArgs,
}

impl StackArgs {
    /// The stack's outputs, key to value.
    pub async fn outputs(&self) -> Result<BTreeMap<String, String>, Failure> {
        let config = self.aws.sdk_config().await?;
        outputs(&config, &self.stack).await
    }
}

/// Stack `name`'s outputs, key to value.
pub async fn outputs(
    config: &aws_config::SdkConfig,
    name: &str,
) -> Result<BTreeMap<String, String>, Failure> {
    let region = config.region().map(ToString::to_string).unwrap_or_default();
    let client = aws_sdk_cloudformation::Client::new(config);
    let described = client
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| {
            let message = e.message().unwrap_or_default();
            if e.code() == Some("ValidationError") && message.contains("does not exist") {
                Failure::Failed(format!("no stack {name:?} in {region}"))
            } else {
                Failure::Failed(format!(
                    "cannot read stack {name:?} in {region}: {}",
                    short(&e)
                ))
            }
        })?;
    let stack = described
        .stacks()
        .first()
        .ok_or_else(|| Failure::Failed(format!("no stack {name:?} in {region}")))?;
    Ok(stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect())
}

/// The AWS account the credentials belong to (STS GetCallerIdentity). The call needs no
/// permission: AWS answers it for any valid credentials, even under an explicit deny, so the
/// operator policy does not grant it. The reason, in one line, when it fails.
pub async fn account(config: &aws_config::SdkConfig) -> Result<String, String> {
    let identity = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| short(&e))?;
    identity
        .account()
        .map(String::from)
        .ok_or_else(|| "STS answered no account".into())
}

pub use hookline::ops::sdk_error::short;
