//! The SCRAM user a Kafka cluster is read as, from the Secrets Manager secret
//! `KAFKA_SCRAM_SECRET_ARN` names, in the form Lambda's own event source
//! mappings read (`{"username": ..., "password": ...}`).
//!
//! The secret is read once and kept a few minutes, so a storm of Kafka
//! failures costs one `GetSecretValue`, and a rotated password is taken up
//! soon after. Nothing of the secret's text reaches an error or a log.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::aws::batch_send::CallFailure;
use crate::aws::Secrets;

/// How long a secret read is used before it is read again.
const KEEP_FOR: Duration = Duration::from_secs(300);

/// The largest secret taken: Secrets Manager's own limit on a secret's value.
const MAX_SECRET_BYTES: usize = 65_536;

/// A SCRAM user name and password. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramUser {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for ScramUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScramUser")
    }
}

/// Why no SCRAM user could be had.
#[derive(Debug, thiserror::Error)]
pub enum ScramSecretError {
    #[error("KAFKA_AUTH=scram-sha-512 needs KAFKA_SCRAM_SECRET_ARN, which is not set")]
    NotSet,
    #[error("the SCRAM secret (KAFKA_SCRAM_SECRET_ARN) could not be read: {}", .0.code.as_deref().unwrap_or("no answer"))]
    Unreadable(CallFailure),
    #[error("the SCRAM secret (KAFKA_SCRAM_SECRET_ARN) is not a JSON object with a non-empty username and password")]
    NotCredentials,
}

impl ScramSecretError {
    pub fn class(&self) -> String {
        match self {
            ScramSecretError::NotSet => "Config.KafkaScramSecretNotSet".into(),
            ScramSecretError::Unreadable(failure) => {
                format!("Read.Kafka.ScramSecret{:?}", failure.class)
            }
            ScramSecretError::NotCredentials => "Config.KafkaScramSecretNotCredentials".into(),
        }
    }
}

/// The SCRAM user, read from its secret or kept from a recent read.
#[derive(Default)]
pub struct ScramUsers {
    kept: Mutex<Option<(Instant, ScramUser)>>,
}

impl ScramUsers {
    pub async fn user(
        &self,
        secrets: &impl Secrets,
        arn: Option<&str>,
    ) -> Result<ScramUser, ScramSecretError> {
        let arn = arn
            .filter(|a| !a.is_empty())
            .ok_or(ScramSecretError::NotSet)?;
        if let Some(user) = self.fresh() {
            return Ok(user);
        }
        let text = secrets
            .secret_string(arn)
            .await
            .map_err(ScramSecretError::Unreadable)?;
        let user = parse(&text)?;
        // Two invocations reading at once both keep what they read: the same.
        *self.kept.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), user.clone()));
        Ok(user)
    }

    fn fresh(&self) -> Option<ScramUser> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.as_ref()
            .filter(|(at, _)| at.elapsed() < KEEP_FOR)
            .map(|(_, user)| user.clone())
    }
}

/// The user of a secret's text; its text never reaches the error.
fn parse(text: &str) -> Result<ScramUser, ScramSecretError> {
    if text.len() > MAX_SECRET_BYTES {
        return Err(ScramSecretError::NotCredentials);
    }
    // An object, by name: serde would also take `[name, password]`.
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| ScramSecretError::NotCredentials)?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or(ScramSecretError::NotCredentials)
    };
    let user = ScramUser {
        username: field("username")?,
        password: field("password")?,
    };
    Ok(user)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::aws::error::ErrorClass;

    struct OneSecret {
        text: Result<&'static str, ErrorClass>,
        reads: AtomicU32,
    }

    impl Secrets for OneSecret {
        async fn secret_string(&self, _arn: &str) -> Result<String, CallFailure> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            self.text.map(str::to_owned).map_err(|class| CallFailure {
                class,
                code: Some("ResourceNotFoundException".into()),
                message: "not found".into(),
            })
        }
    }

    fn secret(text: Result<&'static str, ErrorClass>) -> OneSecret {
        OneSecret {
            text,
            reads: AtomicU32::new(0),
        }
    }

    const ARN: Option<&str> =
        Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:AmazonMSK_orders-a1b2c3");

    #[tokio::test]
    async fn the_user_is_read_once_and_kept() {
        let secrets = secret(Ok(r#"{"username": "hydrator", "password": "s3cr3t-pa55"}"#));
        let users = ScramUsers::default();
        for _ in 0..3 {
            let user = users.user(&secrets, ARN).await.unwrap();
            assert_eq!(
                (user.username.as_str(), user.password.as_str()),
                ("hydrator", "s3cr3t-pa55")
            );
        }
        assert_eq!(secrets.reads.load(Ordering::SeqCst), 1);
        assert_eq!(
            format!("{:?}", users.user(&secrets, ARN).await.unwrap()),
            "ScramUser"
        );
    }

    #[tokio::test]
    async fn a_secret_that_is_not_a_user_is_named_without_its_text() {
        for text in [
            "s3cr3t-pa55",
            r#"{"username": "hydrator"}"#,
            r#"{"username": "", "password": "s3cr3t-pa55"}"#,
            r#"["hydrator", "s3cr3t-pa55"]"#,
        ] {
            let leaked = Box::leak(text.to_owned().into_boxed_str());
            let error = ScramUsers::default()
                .user(&secret(Ok(leaked)), ARN)
                .await
                .unwrap_err();
            assert_eq!(
                error.class(),
                "Config.KafkaScramSecretNotCredentials",
                "{text}"
            );
            assert!(!error.to_string().contains("s3cr3t"), "{error}");
        }
        let error = ScramUsers::default()
            .user(&secret(Ok("x")), None)
            .await
            .unwrap_err();
        assert_eq!(error.class(), "Config.KafkaScramSecretNotSet");
        let error = ScramUsers::default()
            .user(&secret(Err(ErrorClass::Permanent)), ARN)
            .await
            .unwrap_err();
        assert_eq!(error.class(), "Read.Kafka.ScramSecretPermanent");
        assert!(
            error.to_string().contains("ResourceNotFoundException"),
            "{error}"
        );
    }
}
