//! The regions of each AWS partition, as the SDK knows them.
//!
//! A region comes from input (a stream ARN, an S3 event), and every new
//! region string would get an SDK client of its own, kept for the life of the
//! container. A pattern such as the SDK's `regionRegex` lets `us-fake-9`
//! through, so only the regions listed here are accepted. The list is the
//! SDK's own partition data (`endpoint_lib.rs` of the service crates), less
//! the `*-global` pseudo-regions; a test compares the two, so a new region
//! arrives with an SDK update, as it does for the SDK itself.

/// Each partition with its regions.
pub const PARTITIONS: &[(&str, &[&str])] = &[
    (
        "aws",
        &[
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "mx-central-1",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ],
    ),
    ("aws-cn", &["cn-north-1", "cn-northwest-1"]),
    ("aws-eusc", &["eusc-de-east-1"]),
    ("aws-iso", &["us-iso-east-1", "us-iso-west-1"]),
    ("aws-iso-b", &["us-isob-east-1", "us-isob-west-1"]),
    ("aws-iso-e", &["eu-isoe-west-1"]),
    ("aws-iso-f", &["us-isof-east-1", "us-isof-south-1"]),
    ("aws-us-gov", &["us-gov-east-1", "us-gov-west-1"]),
];

/// The regions of `partition`, or `None` for a partition that does not exist.
pub fn of_partition(partition: &str) -> Option<&'static [&'static str]> {
    PARTITIONS
        .iter()
        .find(|(name, _)| *name == partition)
        .map(|(_, regions)| *regions)
}

/// Whether `region` exists in some partition (an S3 event names no partition).
pub fn exists(region: &str) -> bool {
    PARTITIONS
        .iter()
        .any(|(_, regions)| regions.contains(&region))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_belong_to_their_partition() {
        assert!(of_partition("aws").unwrap().contains(&"eu-west-1"));
        assert!(!of_partition("aws").unwrap().contains(&"cn-north-1"));
        assert!(of_partition("aws-cn").unwrap().contains(&"cn-north-1"));
        assert!(of_partition("gcp").is_none());
        assert!(exists("us-gov-west-1"));
        for made_up in ["us-fake-9", "us-east-10", "", "aws-global", "US-EAST-1"] {
            assert!(!exists(made_up), "{made_up}");
        }
    }

    /// The SDK's partition data, from the source of the service crate this
    /// build uses: a new region arrives with an SDK update and fails this
    /// test until it is listed here too.
    #[test]
    fn the_list_is_the_sdks() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
        let version = lock
            .split("[[package]]")
            .find(|p| p.contains("name = \"aws-sdk-kinesis\""))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
            .map(|v| v.trim_end_matches('"'))
            .expect("aws-sdk-kinesis in Cargo.lock");
        let cargo_home = std::env::var("CARGO_HOME")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| {
                std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo")
            });
        let crate_dir = std::fs::read_dir(cargo_home.join("registry/src"))
            .unwrap()
            .map(|index| {
                index
                    .unwrap()
                    .path()
                    .join(format!("aws-sdk-kinesis-{version}"))
            })
            .find(|dir| dir.is_dir())
            .expect("the SDK's source in the cargo registry");
        let source = crate_dir.join("src/endpoint_lib.rs");
        let source = std::fs::read_to_string(source).unwrap();
        let start = source
            .find("new_from_json(b\"")
            .expect("the embedded partitions")
            + 16;
        let end = start + source[start..].find("\")").unwrap();
        // A Rust byte string whose only escapes are \" and \\.
        let json = source[start..end]
            .replace("\\\\", "\u{1}")
            .replace("\\\"", "\"")
            .replace('\u{1}', "\\");
        let data: serde_json::Value = serde_json::from_str(&json).unwrap();
        let mut sdk: Vec<(String, Vec<String>)> = data["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let mut regions: Vec<String> = p["regions"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .filter(|r| !r.ends_with("-global"))
                    .cloned()
                    .collect();
                regions.sort();
                (p["id"].as_str().unwrap().to_owned(), regions)
            })
            .collect();
        sdk.sort();
        let mut ours: Vec<(String, Vec<String>)> = PARTITIONS
            .iter()
            .map(|(p, regions)| {
                let mut regions: Vec<String> = regions.iter().map(|r| r.to_string()).collect();
                regions.sort();
                (p.to_string(), regions)
            })
            .collect();
        ours.sort();
        assert_eq!(ours, sdk);
    }
}
