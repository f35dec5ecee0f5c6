//! An SDK error as the operator reads it, in one line: the operations' adapters and the CLI's
//! own calls (the stack's outputs, the account) say their failures the same way.

use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};

/// An SDK error in one line (`aws_error::one_line`); for an answer the SDK could not read (a
/// proxy's or gateway's page), its HTTP status; with no credentials, how to give them.
pub fn short<E: ProvideErrorMetadata + std::error::Error + 'static>(
    error: &SdkError<E, HttpResponse>,
) -> String {
    if error.code().is_none() || error.message().is_none() {
        if let Some(status) = error
            .raw_response()
            .map(|r| r.status().as_u16())
            .filter(|s| !(200..300).contains(s))
        {
            return format!("HTTP {status} from AWS, with no error code the SDK could read");
        }
    }
    let line = crate::aws_error::one_line(error);
    if line.contains("no credentials found in chain") {
        // The operations run only in the operator's tool, whose flags these are.
        return "no AWS credentials found (environment, profile, SSO or instance role): pass \
                --profile or set AWS_PROFILE"
            .into();
    }
    line
}
