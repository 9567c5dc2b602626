//! What the operator chooses about the metrics: on or off, the namespace,
//! and which finer dimensions to add to the function's own.

/// A dimension a line may carry, by its key on the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// The function's name: always there, so the template's alarms find it.
    Function,
    /// `kinesis`, `dynamodb` or `kafka`.
    Source,
    /// The stream's name (the table's, for a DynamoDB stream).
    Stream,
}

impl Dimension {
    pub fn key(self) -> &'static str {
        match self {
            Dimension::Function => "FunctionName",
            Dimension::Source => "SourceKind",
            Dimension::Stream => "StreamName",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    pub enabled: bool,
    pub namespace: String,
    /// The finer set's dimensions besides the function's; empty for the
    /// `[FunctionName]` set alone.
    pub dimensions: Vec<Dimension>,
    /// The `FunctionName` dimension's value.
    pub function_name: String,
}

pub const DEFAULT_NAMESPACE: &str = "Hydrator";

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            namespace: DEFAULT_NAMESPACE.to_owned(),
            dimensions: Vec::new(),
            function_name: "hydrator".to_owned(),
        }
    }
}

impl MetricsSettings {
    /// From `METRICS_ENABLED` (`true`/`false`), `METRICS_NAMESPACE` and
    /// `METRICS_DIMENSIONS` (a comma-separated list of `source` and
    /// `stream`, or `none`), with the function's name from Lambda's
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self::parse(
            var("METRICS_ENABLED").as_deref(),
            var("METRICS_NAMESPACE").as_deref(),
            var("METRICS_DIMENSIONS").as_deref(),
            var("AWS_LAMBDA_FUNCTION_NAME").as_deref(),
        )
    }

    pub fn parse(
        enabled: Option<&str>,
        namespace: Option<&str>,
        dimensions: Option<&str>,
        function_name: Option<&str>,
    ) -> Result<Self, String> {
        let defaults = Self::default();
        let enabled = match enabled.map(str::trim) {
            None => defaults.enabled,
            Some("true") => true,
            Some("false") => false,
            Some(_) => return Err("METRICS_ENABLED must be `true` or `false`".to_owned()),
        };
        let namespace = match namespace {
            None => defaults.namespace,
            Some(n) if is_namespace(n) => n.to_owned(),
            Some(_) => {
                return Err("METRICS_NAMESPACE must be 1 to 255 characters of \
                     [A-Za-z0-9 ._/#:-], not starting with AWS/"
                    .to_owned())
            }
        };
        let mut chosen = Vec::new();
        for word in dimensions.unwrap_or("none").split(',').map(str::trim) {
            let dimension = match word {
                "none" | "" => continue,
                "source" => Dimension::Source,
                "stream" => Dimension::Stream,
                _ => {
                    return Err(
                        "METRICS_DIMENSIONS must list `source` and/or `stream`, or be `none`"
                            .to_owned(),
                    )
                }
            };
            if !chosen.contains(&dimension) {
                chosen.push(dimension);
            }
        }
        // Lambda sets the name; its rules (64 characters of [A-Za-z0-9_-])
        // make it a dimension value as it is.
        let function_name = function_name
            .filter(|n| crate::input::fault::is_identifier(n, 1, 140))
            .map_or(defaults.function_name, str::to_owned);
        Ok(Self {
            enabled,
            namespace,
            dimensions: chosen,
            function_name,
        })
    }
}

/// CloudWatch's namespace rule: alphanumerics and `. - _ / # : space`, at
/// most 255 characters, and `AWS/` is AWS's own.
fn is_namespace(name: &str) -> bool {
    (1..=255).contains(&name.len())
        && !name.starts_with("AWS/")
        && name.trim() == name
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" ._/#:-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_choices_parse() {
        let settings = MetricsSettings::parse(None, None, None, Some("hydrator-prod")).unwrap();
        assert!(settings.enabled);
        assert_eq!(settings.namespace, "Hydrator");
        assert!(settings.dimensions.is_empty());
        assert_eq!(settings.function_name, "hydrator-prod");
        let settings = MetricsSettings::parse(
            Some("false"),
            Some("Team/Hydrator"),
            Some("stream, source,stream"),
            None,
        )
        .unwrap();
        assert!(!settings.enabled);
        assert_eq!(settings.namespace, "Team/Hydrator");
        assert_eq!(settings.dimensions, [Dimension::Stream, Dimension::Source]);
    }

    #[test]
    fn unknown_words_and_bad_namespaces_stop_the_start() {
        for (enabled, namespace, dimensions) in [
            (Some("yes"), None, None),
            (None, Some("AWS/Lambda"), None),
            (None, Some("a\nb"), None),
            (None, Some(&*"n".repeat(256)), None),
            (None, None, Some("shard")),
        ] {
            let error = MetricsSettings::parse(enabled, namespace, dimensions, None).unwrap_err();
            assert!(error.starts_with("METRICS_"), "{error}");
            assert!(
                !error.contains("shard") && !error.contains("Lambda"),
                "no input quoted"
            );
        }
    }
}
