//! Settings read once from the environment at start.

use crate::read::ReadLimits;

/// What the operator can configure.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `invokeIdentityArn` of every hydrated record: the failing consumer's
    /// execution role, which Lambda puts there. When unset, the consumer's own
    /// ARN from the failure record stands in (see the README).
    pub invoke_identity_arn: Option<String>,
    pub read_limits: ReadLimits,
}

impl Settings {
    /// `INVOKE_IDENTITY_ARN`, `MAX_EMPTY_PAGES`, `MAX_GET_RECORDS_CALLS`; a
    /// malformed number is a start-up error rather than a silent default.
    pub fn from_env() -> Result<Self, String> {
        let defaults = ReadLimits::default();
        Ok(Self {
            invoke_identity_arn: std::env::var("INVOKE_IDENTITY_ARN")
                .ok()
                .filter(|v| !v.is_empty()),
            read_limits: ReadLimits {
                max_empty_pages: number("MAX_EMPTY_PAGES", defaults.max_empty_pages)?,
                max_calls: number("MAX_GET_RECORDS_CALLS", defaults.max_calls)?,
            },
        })
    }
}

fn number(name: &str, default: u32) -> Result<u32, String> {
    match std::env::var(name) {
        Ok(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{name} must be a positive whole number, not `{v}`")),
        Err(_) => Ok(default),
    }
}
