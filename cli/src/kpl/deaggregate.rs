//! A record's data checked (magic, MD5 digest) and taken apart.

use md5::{Digest, Md5};

use super::proto::aggregated_record;
use super::record::{Kpl, KplError, MAGIC};

const DIGEST_LEN: usize = 16;

/// Takes `data` apart if it is a KPL aggregate.
pub fn deaggregate(data: &[u8]) -> Kpl<'_> {
    let Some(rest) = data.strip_prefix(&MAGIC) else {
        return Kpl::Plain;
    };
    let Some(body_len) = rest.len().checked_sub(DIGEST_LEN) else {
        return Kpl::Invalid(KplError::TooShort);
    };
    let (body, digest) = rest.split_at(body_len);
    if Md5::digest(body).as_slice() != digest {
        return Kpl::Invalid(KplError::Digest);
    }
    match aggregated_record(body) {
        Ok(records) => Kpl::Aggregated(records),
        Err(error) => Kpl::Invalid(error),
    }
}
