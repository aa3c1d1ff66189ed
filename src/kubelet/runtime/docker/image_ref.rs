//! Image references (`[domain[:port]/]path[:tag][@digest]`) checked with the grammar of
//! distribution's `reference` package, which the kubelet applies before it pulls: a reference
//! that does not parse is `InvalidImageName`, not a pull error.

/// A parsed reference; `repository` keeps the domain as written (no `docker.io/library/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

const NAME_TOTAL_LENGTH_MAX: usize = 255;

impl Reference {
    /// The `fromImage` and `tag` a pull sends: by digest when there is one, else by tag with
    /// `latest` as the default (Kubernetes applies the default tag before pulling, so a pull
    /// never fetches every tag of a repository).
    pub fn pull_args(&self) -> (String, String) {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => (format!("{}@{digest}", self.repository), String::new()),
            (None, Some(tag)) => (self.repository.clone(), tag.clone()),
            (None, None) => (self.repository.clone(), "latest".into()),
        }
    }
}

/// Parses `image` the way the kubelet does; the error is Kubernetes' `InvalidImageName` message.
pub fn parse(image: &str) -> Result<Reference, String> {
    parse_inner(image).map_err(|reason| {
        format!(
            "Failed to apply default image tag \"{image}\": couldn't parse image reference \
             \"{image}\": {reason}"
        )
    })
}

fn parse_inner(image: &str) -> Result<Reference, String> {
    const INVALID: &str = "invalid reference format";
    let (name_tag, digest) = match image.split_once('@') {
        Some((name_tag, digest)) => {
            if !valid_digest(digest) {
                return Err(INVALID.into());
            }
            (name_tag, Some(digest.to_string()))
        }
        None => (image, None),
    };
    // The tag follows the last ':' that is after the last '/' (a ':' before it is a port).
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => {
            let at = last_slash + i;
            (&name_tag[..at], Some(&name_tag[at + 1..]))
        }
        None => (name_tag, None),
    };
    if let Some(tag) = tag
        && !valid_tag(tag)
    {
        return Err(INVALID.into());
    }
    if name.is_empty() {
        return Err(INVALID.into());
    }
    let mut components: Vec<&str> = name.split('/').collect();
    let first = components[0];
    let has_domain = components.len() > 1
        && (first.contains('.')
            || first.contains(':')
            || first == "localhost"
            || first.chars().any(|c| c.is_ascii_uppercase()));
    if has_domain {
        if !valid_domain(first) {
            return Err(INVALID.into());
        }
        components.remove(0);
    }
    for component in &components {
        if !valid_path_component(component) {
            let lowered = component.to_ascii_lowercase();
            return Err(if valid_path_component(&lowered) {
                format!("{INVALID}: repository name must be lowercase")
            } else {
                INVALID.into()
            });
        }
    }
    if name.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(format!(
            "repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
        ));
    }
    Ok(Reference {
        repository: name.to_string(),
        tag: tag.map(str::to_string),
        digest,
    })
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn valid_path_component(s: &str) -> bool {
    let bytes = s.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == bytes.len() {
            return true;
        }
        let sep = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &s[sep..i];
        let ok = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
}

/// `host[:port]`, host being dot-separated labels `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?`.
fn valid_domain(s: &str) -> bool {
    let (host, port) = match s.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (s, None),
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
        })
}

/// `[\w][\w.-]{0,127}`
fn valid_tag(s: &str) -> bool {
    let b = s.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

/// `algorithm:hex`, algorithm `[a-z0-9]+([+._-][a-z0-9]+)*`, at least 32 hex digits
/// (exactly 64 for sha256).
fn valid_digest(s: &str) -> bool {
    let Some((algorithm, hex)) = s.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.split(['+', '.', '_', '-']).all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    let hex_ok = hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    algorithm_ok && hex_ok && (algorithm != "sha256" || hex.len() == 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(image: &str) -> Reference {
        parse(image).unwrap_or_else(|e| panic!("{image}: {e}"))
    }

    #[test]
    fn valid_references() {
        let r = ok("busybox");
        assert_eq!(
            (r.repository.as_str(), r.tag, r.digest),
            ("busybox", None, None)
        );
        assert_eq!(
            ok("busybox").pull_args(),
            ("busybox".into(), "latest".into())
        );
        assert_eq!(
            ok("busybox:1.36").pull_args(),
            ("busybox".into(), "1.36".into())
        );
        let r = ok("localhost:5000/team/app:v1_2-rc.3");
        assert_eq!(r.repository, "localhost:5000/team/app");
        assert_eq!(r.tag.as_deref(), Some("v1_2-rc.3"));
        let digest = format!("sha256:{}", "a".repeat(64));
        let r = ok(&format!("registry.k8s.io/pause:3.10@{digest}"));
        assert_eq!(r.tag.as_deref(), Some("3.10"));
        assert_eq!(
            r.pull_args(),
            (format!("registry.k8s.io/pause@{digest}"), String::new())
        );
        ok("a__b/c-d---e/f.g_h");
        ok("kubox/pause:1");
        ok("Registry.Example.com/app");
    }

    #[test]
    fn invalid_references() {
        for image in [
            "",
            ":latest",
            "busybox:",
            "busy box",
            "busybox:-x",
            "-busybox",
            "busybox_",
            "a/b//c",
            "busybox@sha256:abc",
            "example.com:port/app",
            "busybox:1:2",
        ] {
            let err = parse(image).unwrap_err();
            assert!(err.ends_with("invalid reference format"), "{image}: {err}");
        }
        assert_eq!(
            parse("Busybox").unwrap_err(),
            "Failed to apply default image tag \"Busybox\": couldn't parse image reference \
             \"Busybox\": invalid reference format: repository name must be lowercase"
        );
        assert!(parse(&"a".repeat(256)).unwrap_err().contains("255"));
    }
}
