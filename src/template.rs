//! Rendering the JSON documents in `templates/`.
//!
//! Templates are JSON with `{{name}}` placeholders inside strings. A string
//! that is exactly one placeholder is replaced by the value, which may be a
//! list; a placeholder inside a longer string is replaced by the value's text.
//! A statement whose `Resource` renders to an empty list is dropped, since
//! IAM rejects it and it would grant nothing anyway.

use serde_json::Value;

/// The trust policy of the function's role.
pub const LAMBDA_TRUST_POLICY: &str = include_str!("../templates/iam/lambda-trust-policy.json");
/// The function role's inline policy.
pub const LAMBDA_POLICY: &str = include_str!("../templates/iam/lambda-policy.json");
/// The config bucket's policy.
pub const BUCKET_POLICY: &str = include_str!("../templates/iam/bucket-policy.json");

/// Renders `template` with `values`. The templates ship inside the binary and
/// are checked by tests, so a parse failure is a build defect, not user input.
pub fn render(template: &str, values: &[(&str, Value)]) -> Value {
    let mut doc: Value = serde_json::from_str(template).unwrap_or(Value::Null);
    substitute(&mut doc, values);
    if let Some(statements) = doc.get_mut("Statement").and_then(Value::as_array_mut) {
        statements.retain(|s| !matches!(s.get("Resource"), Some(Value::Array(r)) if r.is_empty()));
    }
    doc
}

fn substitute(value: &mut Value, values: &[(&str, Value)]) {
    match value {
        Value::String(text) => {
            for (name, replacement) in values {
                let placeholder = format!("{{{{{name}}}}}");
                if *text == placeholder {
                    *value = replacement.clone();
                    return;
                }
                if text.contains(&placeholder) {
                    let with = replacement
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| replacement.to_string());
                    *text = text.replace(&placeholder, &with);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| substitute(v, values)),
        Value::Object(map) => map.values_mut().for_each(|v| substitute(v, values)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_template_is_json() {
        for t in [LAMBDA_TRUST_POLICY, LAMBDA_POLICY, BUCKET_POLICY] {
            serde_json::from_str::<Value>(t).unwrap();
        }
    }

    #[test]
    fn fills_strings_and_lists_and_drops_empty_statements() {
        let zones = json!(["arn:aws:route53:::hostedzone/Z1"]);
        let doc = render(
            LAMBDA_POLICY,
            &[
                ("log_group_arn", json!("arn:aws:logs:r:1:log-group:/aws/lambda/f")),
                ("config_object_arn", json!("arn:aws:s3:::b/config.json")),
                ("zone_arns", zones.clone()),
            ],
        );
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 3);
        assert_eq!(
            statements[0]["Resource"][1],
            "arn:aws:logs:r:1:log-group:/aws/lambda/f:*"
        );
        assert_eq!(statements[2]["Resource"], zones);
        assert!(!doc.to_string().contains("{{"));

        let none = render(LAMBDA_POLICY, &[("zone_arns", json!([]))]);
        assert_eq!(none["Statement"].as_array().unwrap().len(), 2);
        assert!(!none.to_string().contains("route53"));
    }
}
