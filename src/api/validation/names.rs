//! String format checks from apimachinery's `pkg/util/validation` (v1.32): DNS-1123
//! labels and subdomains, DNS-1035 labels, qualified names (label keys), label values,
//! port names, environment variable names, config keys, IPs and path-segment names.
//!
//! Each check returns Kubernetes' list of failure messages (empty when valid); callers wrap
//! them in `field.Invalid` errors. The regular expressions are matched by hand.

use super::messages::{
    self, CONFIG_MAP_KEY_ERR, CONFIG_MAP_KEY_FMT, DNS1035_LABEL_ERR, DNS1035_LABEL_FMT,
    DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT,
    EMPTY_ERROR, LABEL_VALUE_ERR, LABEL_VALUE_FMT, MUST_NOT_CONTAIN_DOTS, QUALIFIED_NAME_ERR,
    QUALIFIED_NAME_FMT, QUALIFIED_NAME_PREFIX_HINT, RELAXED_ENV_VAR_NAME_ERR, max_len_error,
    regex_error,
};

/// `DNS1123LabelMaxLength`
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;
/// `DNS1123SubdomainMaxLength`
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
/// `qualifiedNameMaxLength` / `LabelValueMaxLength`
pub const QUALIFIED_NAME_MAX_LENGTH: usize = 63;

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
fn matches_dns1123_label(value: &str) -> bool {
    let b = value.as_bytes();
    match (b.first(), b.last()) {
        (Some(&first), Some(&last)) => {
            is_lower_alnum(first)
                && is_lower_alnum(last)
                && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// `^label(\.label)*$`
fn matches_dns1123_subdomain(value: &str) -> bool {
    value.split('.').all(matches_dns1123_label)
}

/// `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`
fn matches_qualified_name_part(value: &str) -> bool {
    let b = value.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// Go `IsDNS1123Label`.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns1123_label(value) {
        if matches_dns1123_subdomain(value) {
            errs.push(MUST_NOT_CONTAIN_DOTS.to_string());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// Go `IsDNS1123Subdomain`.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !matches_dns1123_subdomain(value) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// Go `IsDNS1035Label`.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    let b = value.as_bytes();
    let ok = matches_dns1123_label(value) && b.first().is_some_and(u8::is_ascii_lowercase);
    if !ok {
        errs.push(regex_error(
            DNS1035_LABEL_ERR,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// Go `IsQualifiedName` (label keys, annotation keys, finalizers, resource names).
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push(format!("prefix part {EMPTY_ERROR}"));
            } else {
                errs.extend(
                    is_dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {}{QUALIFIED_NAME_PREFIX_HINT}",
                regex_error(
                    QUALIFIED_NAME_ERR,
                    QUALIFIED_NAME_FMT,
                    &["MyName", "my.name", "123-abc"]
                )
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push(format!("name part {EMPTY_ERROR}"));
    } else if name.len() > QUALIFIED_NAME_MAX_LENGTH {
        errs.push(format!(
            "name part {}",
            max_len_error(QUALIFIED_NAME_MAX_LENGTH)
        ));
    }
    if !matches_qualified_name_part(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// Go `IsValidLabelValue`.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > QUALIFIED_NAME_MAX_LENGTH {
        errs.push(max_len_error(QUALIFIED_NAME_MAX_LENGTH));
    }
    if !value.is_empty() && !matches_qualified_name_part(value) {
        errs.push(regex_error(
            LABEL_VALUE_ERR,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// Go `IsValidPortName` (IANA_SVC_NAME).
pub fn is_valid_port_name(port: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if port.len() > 15 {
        errs.push(max_len_error(15));
    }
    let charset_ok = !port.is_empty()
        && port
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !charset_ok {
        errs.push(messages::PORT_NAME_CHARSET.to_string());
    }
    if !port.bytes().any(|b| b.is_ascii_lowercase()) {
        errs.push(messages::PORT_NAME_ONE_LETTER.to_string());
    }
    if port.contains("--") {
        errs.push(messages::PORT_NAME_CONSECUTIVE_HYPHENS.to_string());
    }
    if port.starts_with('-') || port.ends_with('-') {
        errs.push(messages::PORT_NAME_HYPHEN_ENDS.to_string());
    }
    errs
}

/// Go `IsValidPortNum`.
pub fn is_valid_port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec![messages::inclusive_range_error(1, 65535)]
    }
}

/// Go `IsRelaxedEnvVarName` (the 1.32 default, RelaxedEnvironmentVariableValidation on).
pub fn is_relaxed_env_var_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.is_empty() {
        errs.push(format!("environment variable name {EMPTY_ERROR}"));
    }
    if value.chars().any(|c| !(' '..='~').contains(&c) || c == '=') {
        errs.push(RELAXED_ENV_VAR_NAME_ERR.to_string());
    }
    errs
}

/// Go `IsConfigMapKey` (also used for configMapKeyRef / secretKeyRef keys).
pub fn is_config_map_key(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !ok {
        errs.push(regex_error(
            CONFIG_MAP_KEY_ERR,
            CONFIG_MAP_KEY_FMT,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    errs.extend(has_chdir_prefix(value));
    errs
}

fn has_chdir_prefix(value: &str) -> Option<String> {
    match value {
        "." => Some("must not be '.'".to_string()),
        ".." => Some("must not be '..'".to_string()),
        v if v.starts_with("..") => Some("must not start with '..'".to_string()),
        _ => None,
    }
}

/// Go `path.IsValidPathSegmentName` (the generic name rule for every stored object).
pub fn is_valid_path_segment_name(name: &str) -> Vec<String> {
    if name == "." || name == ".." {
        return vec![messages::may_not_be(name)];
    }
    ["/", "%"]
        .iter()
        .filter(|part| name.contains(*part))
        .map(|part| messages::may_not_contain(part))
        .collect()
}

/// Go `path.IsValidPathSegmentPrefix` (for `generateName`).
pub fn is_valid_path_segment_prefix(name: &str) -> Vec<String> {
    ["/", "%"]
        .iter()
        .filter(|part| name.contains(*part))
        .map(|part| messages::may_not_contain(part))
        .collect()
}

/// An IP address as `netutils.ParseIPSloppy` accepts it (IPv4 octets may have leading
/// zeros). Returns whether it is IPv4.
pub fn parse_ip_sloppy(value: &str) -> Option<bool> {
    if value.contains(':') {
        return value.parse::<std::net::Ipv6Addr>().ok().map(|_| false);
    }
    let octets: Vec<&str> = value.split('.').collect();
    // Go's old parser: decimal octets of any length (leading zeros allowed) up to 255.
    let valid = octets.len() == 4
        && octets.iter().all(|o| {
            !o.is_empty()
                && o.bytes().all(|b| b.is_ascii_digit())
                && o.parse::<u32>().is_ok_and(|n| n <= 255)
        });
    valid.then_some(true)
}

/// Go `IsValidIP` message list.
pub fn is_valid_ip(value: &str) -> Vec<String> {
    match parse_ip_sloppy(value) {
        Some(_) => Vec::new(),
        None => vec![messages::INVALID_IP.to_string()],
    }
}

/// A CIDR as `netutils.ParseCIDRSloppy` accepts it. Returns whether it is IPv4.
pub fn parse_cidr_sloppy(value: &str) -> Option<bool> {
    let (ip, bits) = value.split_once('/')?;
    let is_v4 = parse_ip_sloppy(ip)?;
    let max = if is_v4 { 32 } else { 128 };
    let ok = !bits.is_empty()
        && bits.bytes().all(|b| b.is_ascii_digit())
        && bits.parse::<u32>().is_ok_and(|n| n <= max);
    ok.then_some(is_v4)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABEL_REGEX: &str = "a lowercase RFC 1123 label must consist of lower case \
        alphanumeric characters or '-', and must start and end with an alphanumeric character \
        (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const SUBDOMAIN_REGEX: &str = "a lowercase RFC 1123 subdomain must consist of lower case \
        alphanumeric characters, '-' or '.', and must start and end with an alphanumeric \
        character (e.g. 'example.com', regex used for validation is \
        '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const NAME_PART_REGEX: &str = "name part must consist of alphanumeric characters, '-', '_' \
        or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or \
        'my.name',  or '123-abc', regex used for validation is \
        '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    #[test]
    fn dns1123_labels() {
        let long = "a".repeat(64);
        let cases: Vec<(&str, Vec<String>)> = vec![
            ("web", vec![]),
            ("a-1", vec![]),
            ("9", vec![]),
            ("Web", vec![LABEL_REGEX.to_string()]),
            ("-a", vec![LABEL_REGEX.to_string()]),
            ("", vec![LABEL_REGEX.to_string()]),
            ("a.b", vec![MUST_NOT_CONTAIN_DOTS.to_string()]),
            (long.as_str(), vec![max_len_error(63)]),
        ];
        for (input, expected) in cases {
            assert_eq!(is_dns1123_label(input), expected, "{input}");
        }
    }

    #[test]
    fn dns1123_subdomains() {
        let long = format!("{}.{}", "a".repeat(200), "b".repeat(60));
        assert!(is_dns1123_subdomain("web.example-1.com").is_empty());
        assert_eq!(
            is_dns1123_subdomain("Web"),
            vec![SUBDOMAIN_REGEX.to_string()]
        );
        assert_eq!(
            is_dns1123_subdomain("a..b"),
            vec![SUBDOMAIN_REGEX.to_string()]
        );
        assert_eq!(is_dns1123_subdomain(&long), vec![max_len_error(253)]);
    }

    #[test]
    fn dns1035_labels() {
        assert!(is_dns1035_label("web-1").is_empty());
        assert_eq!(
            is_dns1035_label("1web"),
            vec![
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', \
                 start with an alphabetic character, and end with an alphanumeric character \
                 (e.g. 'my-name',  or 'abc-123', regex used for validation is \
                 '[a-z]([-a-z0-9]*[a-z0-9])?')"
                    .to_string()
            ]
        );
    }

    #[test]
    fn qualified_names() {
        assert!(is_qualified_name("app").is_empty());
        assert!(is_qualified_name("example.com/My_Name.1").is_empty());
        assert_eq!(
            is_qualified_name("bad key"),
            vec![NAME_PART_REGEX.to_string()]
        );
        assert_eq!(
            is_qualified_name("/x"),
            vec!["prefix part must be non-empty".to_string()]
        );
        assert_eq!(
            is_qualified_name("Ex.com/x"),
            vec![format!("prefix part {SUBDOMAIN_REGEX}")]
        );
        assert_eq!(
            is_qualified_name("x/"),
            vec![
                "name part must be non-empty".to_string(),
                NAME_PART_REGEX.to_string()
            ]
        );
        assert_eq!(
            is_qualified_name(&"a".repeat(64)),
            vec!["name part must be no more than 63 characters".to_string()]
        );
        assert_eq!(
            is_qualified_name("a/b/c"),
            vec![
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and \
                 must start and end with an alphanumeric character (e.g. 'MyName',  or \
                 'my.name',  or '123-abc', regex used for validation is \
                 '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain \
                 prefix and '/' (e.g. 'example.com/MyName')"
                    .to_string()
            ]
        );
    }

    #[test]
    fn label_values() {
        assert!(is_valid_label_value("").is_empty());
        assert!(is_valid_label_value("v1.2_x-y").is_empty());
        assert_eq!(
            is_valid_label_value("-bad"),
            vec![
                "a valid label must be an empty string or consist of alphanumeric characters, \
                 '-', '_' or '.', and must start and end with an alphanumeric character (e.g. \
                 'MyValue',  or 'my_value',  or '12345', regex used for validation is \
                 '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
                    .to_string()
            ]
        );
        assert_eq!(
            is_valid_label_value(&"a".repeat(64)),
            vec![max_len_error(63)]
        );
    }

    #[test]
    fn port_names_and_numbers() {
        assert!(is_valid_port_name("http").is_empty());
        assert_eq!(
            is_valid_port_name("HTTP"),
            vec![
                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "must contain at least one letter (a-z)"
            ]
        );
        assert_eq!(
            is_valid_port_name("-a--b-cdefghijklmn"),
            vec![
                "must be no more than 15 characters",
                "must not contain consecutive hyphens",
                "must not begin or end with a hyphen"
            ]
        );
        assert!(is_valid_port_num(80).is_empty());
        assert_eq!(
            is_valid_port_num(0),
            vec!["must be between 1 and 65535, inclusive"]
        );
    }

    #[test]
    fn env_var_names_and_keys() {
        assert!(is_relaxed_env_var_name("1 weird-NAME.ok").is_empty());
        assert_eq!(
            is_relaxed_env_var_name("A=B"),
            vec![RELAXED_ENV_VAR_NAME_ERR.to_string()]
        );
        assert_eq!(
            is_relaxed_env_var_name("é"),
            vec![RELAXED_ENV_VAR_NAME_ERR.to_string()]
        );
        assert_eq!(
            is_relaxed_env_var_name(""),
            vec!["environment variable name must be non-empty".to_string()]
        );
        assert!(is_config_map_key("key.name").is_empty());
        assert_eq!(
            is_config_map_key(".."),
            vec!["must not be '..'".to_string()]
        );
        assert_eq!(
            is_config_map_key("a b"),
            vec![
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.' \
                 (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation \
                 is '[-._a-zA-Z0-9]+')"
                    .to_string()
            ]
        );
    }

    #[test]
    fn path_segments_and_ips() {
        assert_eq!(is_valid_path_segment_name(".."), vec!["may not be '..'"]);
        assert_eq!(
            is_valid_path_segment_name("a/b%"),
            vec!["may not contain '/'", "may not contain '%'"]
        );
        assert!(is_valid_path_segment_name("web.1").is_empty());
        assert_eq!(
            is_valid_path_segment_prefix("a/"),
            vec!["may not contain '/'"]
        );
        assert_eq!(parse_ip_sloppy("10.0.0.1"), Some(true));
        assert_eq!(parse_ip_sloppy("010.000.000.001"), Some(true));
        assert_eq!(parse_ip_sloppy("0001.0.0.1"), Some(true));
        assert_eq!(parse_ip_sloppy("fd00::1"), Some(false));
        assert_eq!(parse_ip_sloppy("10.0.0.256"), None);
        assert_eq!(parse_ip_sloppy("nope"), None);
        assert_eq!(is_valid_ip("x"), vec![messages::INVALID_IP.to_string()]);
        assert_eq!(parse_cidr_sloppy("10.0.0.0/24"), Some(true));
        assert_eq!(parse_cidr_sloppy("fd00::/64"), Some(false));
        assert_eq!(parse_cidr_sloppy("10.0.0.0/33"), None);
        assert_eq!(parse_cidr_sloppy("10.0.0.0"), None);
    }
}
