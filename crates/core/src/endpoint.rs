//! Where Bauhinia sends something on its own initiative (webhooks): an address checked once,
//! and a form of it fit for logs. Pure.

/// The longest endpoint address accepted, in bytes.
pub const URL_BYTES_MAX: usize = 2048;

/// An endpoint address: `https://…`, or `http://…` only to a loopback host (`localhost`,
/// `127.0.0.0/8`, `::1`), for a participant's gateway on the same machine and for tests. No
/// user name or password, no fragment.
#[derive(Clone, PartialEq, Eq)]
pub struct EndpointUrl(url::Url);

impl std::fmt::Debug for EndpointUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EndpointUrl({})", self.redacted())
    }
}

impl EndpointUrl {
    pub fn parse(text: &str) -> Result<EndpointUrl, &'static str> {
        if text.len() > URL_BYTES_MAX {
            return Err("must be at most 2,048 bytes");
        }
        let url = url::Url::parse(text).map_err(|_| "must be an absolute http(s) URL")?;
        let host = url.host().ok_or("must name a host")?;
        let loopback = match host {
            url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
            url::Host::Ipv4(ip) => ip.is_loopback(),
            url::Host::Ipv6(ip) => ip.is_loopback(),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => return Err("must be https (http only to localhost or a loopback address)"),
            _ => return Err("must be an https URL"),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry a user name or password");
        }
        if url.fragment().is_some() {
            return Err("must not have a fragment");
        }
        Ok(EndpointUrl(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The path, without the query (what a signature over the request binds).
    pub fn path(&self) -> &str {
        self.0.path()
    }

    /// Scheme, host, port and path: what logs and audit events may show (a query string may
    /// hold a participant's own token).
    pub fn redacted(&self) -> String {
        let mut url = self.0.clone();
        url.set_query(None);
        url.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for ok in [
            "https://hooks.example.hk/fps",
            "https://hooks.example.hk:8443/fps?k=1",
            "http://localhost:8080/x",
            "http://127.0.0.1:9/x",
            "http://[::1]/x",
        ] {
            assert!(EndpointUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.hk/x",
            "http://10.0.0.1/x",
            "ftp://example.hk/x",
            "https://user:pw@example.hk/x",
            "https://example.hk/x#frag",
            "/relative",
            "",
        ] {
            assert!(EndpointUrl::parse(bad).is_err(), "{bad}");
        }
        let url = EndpointUrl::parse("https://h.example/p?token=abc").expect("valid");
        assert_eq!(url.redacted(), "https://h.example/p");
    }

    proptest::proptest! {
        /// Any text: an answer, never a panic; what is accepted is http(s), and its redacted
        /// form has no query.
        #[test]
        fn endpoint_parser_takes_any_text(
            text in "\\PC{0,80}",
            scheme in "(https?|ftp)://",
            host in "[a-z0-9.:@\\[\\]]{0,20}",
        ) {
            for candidate in [format!("{scheme}{host}/{text}"), text.clone()] {
                if let Ok(url) = EndpointUrl::parse(&candidate) {
                    let s = url.as_str();
                    proptest::prop_assert!(s.starts_with("https://") || s.starts_with("http://"));
                    proptest::prop_assert!(!url.redacted().contains('?'));
                    proptest::prop_assert!(url.path().starts_with('/'));
                }
            }
        }
    }
}
