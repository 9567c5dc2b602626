//! An S3 object read within a bound: refused unread when S3 declares it
//! larger, cut off as soon as its body runs past. The hydrator reads S3
//! on-failure objects this way, and the tool the message bodies that
//! delivery offloaded: what an object claims never decides how much is held.

use crate::aws::clients::Clients;
use crate::aws::{ObjectBody, ObjectStore};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    #[error("{0}")]
    Fetch(String),
    /// `size` is what S3 declared, or how far the body had run when it was cut off.
    #[error("the object is {size} bytes or more, over the {limit}-byte bound")]
    TooLarge { size: u64, limit: usize },
}

/// The bytes of `body`, whose answer declared `declared` bytes, if they fit `limit`.
pub async fn read_within(
    declared: Option<u64>,
    mut body: impl ObjectBody,
    limit: usize,
) -> Result<Vec<u8>, ObjectError> {
    let too_large = |size: u64| ObjectError::TooLarge { size, limit };
    if let Some(size) = declared.filter(|size| *size > limit as u64) {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    while let Some(chunk) = body.next_chunk().await.map_err(ObjectError::Fetch)? {
        if bytes.len() + chunk.len() > limit {
            return Err(too_large((bytes.len() + chunk.len()) as u64));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Reads objects in the SDK configuration's region, as the tool does.
pub struct ObjectReader {
    clients: Clients,
    region: String,
}

impl ObjectReader {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        let region = sdk.region().map_or("us-east-1", |r| r.as_ref()).to_owned();
        Self {
            clients: Clients::new(sdk.clone()),
            region,
        }
    }

    /// The object's bytes, if they fit `limit`.
    pub async fn read(
        &self,
        bucket: &str,
        key: &str,
        limit: usize,
    ) -> Result<Vec<u8>, ObjectError> {
        let (declared, body) = self
            .clients
            .get_object(&self.region, bucket, key)
            .await
            .map_err(ObjectError::Fetch)?;
        read_within(declared, body, limit).await
    }

    /// Deletes the object; `Err` holds the service's words.
    pub async fn delete(&self, bucket: &str, key: &str) -> Result<(), String> {
        self.clients
            .s3(&self.region)
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| crate::aws::error::classify(&e).1)
    }
}
