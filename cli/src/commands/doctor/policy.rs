//! Whether a role's IAM policies allow an action on a resource: the Allow and
//! Deny statements of its inline and attached policies, with `*` and `?` in
//! actions and resources. Conditions are not evaluated (a conditional Allow
//! counts as an Allow), nor are permission boundaries, SCPs or resource
//! policies: the doctor tells a missing grant, not every possible denial.

use serde_json::Value;

/// One policy document's statements, as IAM returns them (URL-encoded or not).
#[derive(Debug, Clone, Default)]
pub struct Policies {
    statements: Vec<Value>,
}

impl Policies {
    /// Adds one policy document. A document that is not a JSON policy adds
    /// nothing: it can grant nothing the doctor could tell.
    pub fn add_document(&mut self, document: &str) {
        let text = if document.trim_start().starts_with('{') {
            document.to_owned()
        } else {
            percent_decoded(document)
        };
        let Ok(parsed) = serde_json::from_str::<Value>(&text) else {
            return;
        };
        match &parsed["Statement"] {
            Value::Array(statements) => self.statements.extend(statements.iter().cloned()),
            statement @ Value::Object(_) => self.statements.push(statement.clone()),
            _ => {}
        }
    }

    /// True when a statement allows `action` on `resource` and none denies it.
    pub fn allows(&self, action: &str, resource: &str) -> bool {
        let matching = |effect: &str| {
            self.statements.iter().any(|statement| {
                statement["Effect"] == effect
                    && strings(&statement["Action"]).iter().any(|pattern| {
                        wildcard_match(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase())
                    })
                    && strings(&statement["Resource"])
                        .iter()
                        .any(|pattern| wildcard_match(pattern, resource))
            })
        };
        matching("Allow") && !matching("Deny")
    }
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// IAM's glob: `*` any run of characters, `?` any one.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // The classic two-pointer match with backtracking to the last `*`:
    // linear in practice, and bounded by |p| * |t| at worst.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((star_p, star_t)) = star {
            pi = star_p + 1;
            ti = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// `%XX` sequences decoded (IAM returns policy documents URL-encoded); an
/// invalid sequence is kept as it is.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allow_grants_what_it_names_and_a_deny_takes_it_back() {
        let mut policies = Policies::default();
        policies.add_document(
            r#"{"Statement": [{"Effect": "Allow", "Action": ["sns:Publish", "kms:GenerateDataKey*"], "Resource": "arn:aws:sns:eu-west-1:1:topic-*"}]}"#,
        );
        assert!(policies.allows("sns:Publish", "arn:aws:sns:eu-west-1:1:topic-a"));
        assert!(policies.allows("SNS:publish", "arn:aws:sns:eu-west-1:1:topic-a"));
        assert!(policies.allows("kms:GenerateDataKey", "arn:aws:sns:eu-west-1:1:topic-b"));
        assert!(!policies.allows("sns:Publish", "arn:aws:sns:eu-west-1:1:other"));
        assert!(!policies.allows("sns:Subscribe", "arn:aws:sns:eu-west-1:1:topic-a"));
        policies.add_document(
            r#"{"Statement": {"Effect": "Deny", "Action": "sns:*", "Resource": "*"}}"#,
        );
        assert!(!policies.allows("sns:Publish", "arn:aws:sns:eu-west-1:1:topic-a"));
    }

    #[test]
    fn url_encoded_documents_are_read_and_garbage_grants_nothing() {
        let mut policies = Policies::default();
        policies.add_document("%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22kinesis%3AGetRecords%22%2C%22Resource%22%3A%22*%22%7D%5D%7D");
        assert!(policies.allows("kinesis:GetRecords", "arn:aws:kinesis:eu-west-1:1:stream/s"));
        let mut garbage = Policies::default();
        garbage.add_document("%ZZ not a policy %");
        assert!(!garbage.allows("kinesis:GetRecords", "x"));
    }

    #[test]
    fn wildcards_match_as_iam_matches_them() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*c", "abbbc"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(wildcard_match(
            "*:stream/*",
            "arn:aws:kinesis:r:1:stream/orders"
        ));
        assert!(!wildcard_match(
            "*:stream/x",
            "arn:aws:kinesis:r:1:stream/orders"
        ));
    }
}
