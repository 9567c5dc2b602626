//! What a Kafka cluster is read as, from Secrets Manager secrets in the forms
//! Lambda's own event source mappings read: the SCRAM user
//! (`KAFKA_SCRAM_SECRET_ARN`: `{"username": ..., "password": ...}`) and the
//! client certificate for mutual TLS (`KAFKA_CLIENT_CERTIFICATE_SECRET_ARN`:
//! `{"certificate": PEM chain, "privateKey": PEM key}`).
//!
//! A secret is read once and kept a few minutes, so a storm of Kafka
//! failures costs one `GetSecretValue`, and a rotated secret is taken up
//! soon after. Nothing of a secret's text reaches an error or a log.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::aws::batch_send::CallFailure;
use crate::aws::Secrets;
use crate::kinds::kafka::broker::{ClientCertificate, ClientCertificateError};

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

/// Which secret: the SCRAM user's or the client certificate's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KafkaSecret {
    Scram,
    ClientCertificate,
}

impl KafkaSecret {
    fn variable(self) -> &'static str {
        match self {
            KafkaSecret::Scram => "KAFKA_SCRAM_SECRET_ARN",
            KafkaSecret::ClientCertificate => "KAFKA_CLIENT_CERTIFICATE_SECRET_ARN",
        }
    }

    fn class(self) -> &'static str {
        match self {
            KafkaSecret::Scram => "ScramSecret",
            KafkaSecret::ClientCertificate => "ClientCertificateSecret",
        }
    }
}

/// Why a secret gave nothing to authenticate with.
#[derive(Debug, thiserror::Error)]
pub enum KafkaSecretError {
    #[error("KAFKA_AUTH needs {}, which is not set", .0.variable())]
    NotSet(KafkaSecret),
    #[error("the secret {} names could not be read: {}", .0.variable(), .1.code.as_deref().unwrap_or("no answer"))]
    Unreadable(KafkaSecret, CallFailure),
    #[error("the secret KAFKA_SCRAM_SECRET_ARN names is not a JSON object with a non-empty username and password")]
    NotCredentials,
    #[error("the secret KAFKA_CLIENT_CERTIFICATE_SECRET_ARN names is not a JSON object with a certificate and a privateKey that TLS can use: {0}")]
    NotCertificate(ClientCertificateError),
}

impl KafkaSecretError {
    pub fn class(&self) -> String {
        match self {
            KafkaSecretError::NotSet(which) => format!("Config.Kafka{}NotSet", which.class()),
            KafkaSecretError::Unreadable(which, failure) => {
                format!("Read.Kafka.{}{:?}", which.class(), failure.class)
            }
            KafkaSecretError::NotCredentials => "Config.KafkaScramSecretNotCredentials".into(),
            KafkaSecretError::NotCertificate(_) => {
                "Config.KafkaClientCertificateSecretNotUsable".into()
            }
        }
    }
}

/// Secrets' text by ARN, each kept from its last read a few minutes.
#[derive(Default)]
pub struct KafkaSecrets {
    kept: Mutex<HashMap<String, (Instant, String)>>,
}

impl KafkaSecrets {
    /// The SCRAM user of the secret `arn` names.
    pub async fn user(
        &self,
        secrets: &impl Secrets,
        arn: Option<&str>,
    ) -> Result<ScramUser, KafkaSecretError> {
        let text = self.text(secrets, KafkaSecret::Scram, arn).await?;
        parse_user(&text)
    }

    /// The client certificate of the secret `arn` names.
    pub async fn client_certificate(
        &self,
        secrets: &impl Secrets,
        arn: Option<&str>,
    ) -> Result<ClientCertificate, KafkaSecretError> {
        let text = self
            .text(secrets, KafkaSecret::ClientCertificate, arn)
            .await?;
        parse_certificate(&text)
    }

    async fn text(
        &self,
        secrets: &impl Secrets,
        which: KafkaSecret,
        arn: Option<&str>,
    ) -> Result<String, KafkaSecretError> {
        let arn = arn
            .filter(|a| !a.is_empty())
            .ok_or(KafkaSecretError::NotSet(which))?;
        if let Some(text) = self.fresh(arn) {
            return Ok(text);
        }
        let text = secrets
            .secret_string(arn)
            .await
            .map_err(|failure| KafkaSecretError::Unreadable(which, failure))?;
        // Two invocations reading at once both keep what they read: the same.
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.insert(arn.to_owned(), (Instant::now(), text.clone()));
        Ok(text)
    }

    fn fresh(&self, arn: &str) -> Option<String> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.get(arn)
            .filter(|(at, _)| at.elapsed() < KEEP_FOR)
            .map(|(_, text)| text.clone())
    }
}

/// A secret's text as a JSON object, by name (serde would also take
/// `[name, password]` for a struct); `None` when it is not one or too large.
fn object(text: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    if text.len() > MAX_SECRET_BYTES {
        return None;
    }
    match serde_json::from_str(text).ok()? {
        serde_json::Value::Object(fields) => Some(fields),
        _ => None,
    }
}

fn text_field(fields: &serde_json::Map<String, serde_json::Value>, name: &str) -> Option<String> {
    fields
        .get(name)
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The user of a secret's text; its text never reaches the error.
fn parse_user(text: &str) -> Result<ScramUser, KafkaSecretError> {
    let fields = object(text).ok_or(KafkaSecretError::NotCredentials)?;
    let field = |name| text_field(&fields, name).ok_or(KafkaSecretError::NotCredentials);
    Ok(ScramUser {
        username: field("username")?,
        password: field("password")?,
    })
}

/// The client certificate of a secret's text. An encrypted key (Lambda's
/// `privateKeyPassword`) is named as such: it is not supported.
fn parse_certificate(text: &str) -> Result<ClientCertificate, KafkaSecretError> {
    let not = KafkaSecretError::NotCertificate;
    let fields = object(text).ok_or(not(ClientCertificateError::NoCertificate))?;
    let certificate =
        text_field(&fields, "certificate").ok_or(not(ClientCertificateError::NoCertificate))?;
    let key = text_field(&fields, "privateKey").ok_or(not(ClientCertificateError::NoKey))?;
    if text_field(&fields, "privateKeyPassword").is_some() {
        return Err(not(ClientCertificateError::KeyEncrypted));
    }
    ClientCertificate::from_pem(&certificate, &key).map_err(not)
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
        let users = KafkaSecrets::default();
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
            let error = KafkaSecrets::default()
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
        let error = KafkaSecrets::default()
            .user(&secret(Ok("x")), None)
            .await
            .unwrap_err();
        assert_eq!(error.class(), "Config.KafkaScramSecretNotSet");
        let error = KafkaSecrets::default()
            .user(&secret(Err(ErrorClass::Permanent)), ARN)
            .await
            .unwrap_err();
        assert_eq!(error.class(), "Read.Kafka.ScramSecretPermanent");
        assert!(
            error.to_string().contains("ResourceNotFoundException"),
            "{error}"
        );
    }

    const CERTIFICATE: &str = include_str!("testdata/client.pem");
    const KEY: &str = include_str!("testdata/client.key");

    fn certificate_secret(fields: serde_json::Value) -> OneSecret {
        secret(Ok(Box::leak(fields.to_string().into_boxed_str())))
    }

    #[tokio::test]
    async fn a_client_certificate_secret_in_lambdas_form_is_usable() {
        let secrets = certificate_secret(serde_json::json!({
            "certificate": CERTIFICATE, "privateKey": KEY}));
        let kept = KafkaSecrets::default();
        for _ in 0..2 {
            kept.client_certificate(&secrets, ARN)
                .await
                .expect("usable");
        }
        assert_eq!(secrets.reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_client_certificate_tls_cannot_use_is_named_without_its_text() {
        let cases = [
            (
                serde_json::json!({"privateKey": KEY}),
                ClientCertificateError::NoCertificate,
            ),
            (
                serde_json::json!({"certificate": KEY, "privateKey": KEY}),
                ClientCertificateError::NoCertificate,
            ),
            (
                serde_json::json!({"certificate": CERTIFICATE}),
                ClientCertificateError::NoKey,
            ),
            (
                serde_json::json!({"certificate": CERTIFICATE, "privateKey": CERTIFICATE}),
                ClientCertificateError::NoKey,
            ),
            (
                serde_json::json!({"certificate": CERTIFICATE,
                "privateKey": include_str!("testdata/client-encrypted.key")}),
                ClientCertificateError::KeyEncrypted,
            ),
            (
                serde_json::json!({"certificate": CERTIFICATE, "privateKey": KEY,
                "privateKeyPassword": "pw"}),
                ClientCertificateError::KeyEncrypted,
            ),
            (
                serde_json::json!({"certificate": CERTIFICATE,
                "privateKey": include_str!("testdata/other.key")}),
                ClientCertificateError::Refused,
            ),
        ];
        for (fields, expected) in cases {
            let error = KafkaSecrets::default()
                .client_certificate(&certificate_secret(fields.clone()), ARN)
                .await
                .err()
                .unwrap_or_else(|| panic!("{fields} was taken"));
            assert_eq!(
                error.class(),
                "Config.KafkaClientCertificateSecretNotUsable"
            );
            assert!(
                matches!(&error, KafkaSecretError::NotCertificate(found) if *found == expected),
                "{fields}: {error:?}"
            );
            assert!(!error.to_string().contains("BEGIN"), "{error}");
        }
        let error = KafkaSecrets::default()
            .client_certificate(&secret(Ok("x")), None)
            .await
            .err()
            .unwrap();
        assert_eq!(error.class(), "Config.KafkaClientCertificateSecretNotSet");
    }
}
