//! Checks on every request before anything else runs: the `Host` it names (DNS rebinding) and,
//! for state-changing requests, where it comes from (cross-site request forgery).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{HOST, ORIGIN};
use http::{HeaderMap, Method, StatusCode};

use crate::AppState;

/// Which hosts and origins this server answers to, from its configuration.
#[derive(Debug, Clone)]
pub struct Sites {
    /// `host[:port]` values served, lower-case.
    hosts: Vec<String>,
    /// Bound to every address without a public URL: any IP-literal `Host` is served (a DNS
    /// rebinding attack needs a name, never an IP literal).
    any_ip_literal: bool,
    /// Full origins (`scheme://host[:port]`) of `--public-url`; when set, a browser's `Origin`
    /// must be one of them (scheme included) or an allowed origin.
    public_origins: Vec<String>,
    /// `--allowed-origins`, normalised.
    allowed_origins: Vec<String>,
}

fn normalise_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

fn host_of(origin: &str) -> Option<&str> {
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
}

impl Sites {
    pub fn new(config: &crate::Config, bound: std::net::SocketAddr) -> Sites {
        let mut hosts = Vec::new();
        let port = bound.port();
        let ip = bound.ip();
        hosts.push(if ip.is_ipv6() {
            format!("[{ip}]:{port}")
        } else {
            format!("{ip}:{port}")
        });
        if ip.is_loopback() || ip.is_unspecified() {
            hosts.push(format!("localhost:{port}"));
            hosts.push(format!("127.0.0.1:{port}"));
            hosts.push(format!("[::1]:{port}"));
        }
        let public_origins: Vec<String> = config
            .public_url
            .iter()
            .map(|u| normalise_origin(&u.origin().ascii_serialization()))
            .collect();
        let allowed_origins: Vec<String> = config
            .allowed_origins
            .iter()
            .map(|o| normalise_origin(o))
            .filter(|o| !o.is_empty())
            .collect();
        for origin in public_origins.iter().chain(&allowed_origins) {
            if let Some(host) = host_of(origin) {
                hosts.push(host.to_owned());
                // A default port may be left out of `Host`, or spelled out.
                if let Some(bare) = host
                    .strip_suffix(":443")
                    .or_else(|| host.strip_suffix(":80"))
                {
                    hosts.push(bare.to_owned());
                } else if !host.ends_with(']') && host.contains(':') {
                    // An explicit port: only that.
                } else {
                    let port = if origin.starts_with("https://") {
                        443
                    } else {
                        80
                    };
                    hosts.push(format!("{host}:{port}"));
                }
            }
        }
        Sites {
            hosts,
            any_ip_literal: ip.is_unspecified() && config.public_url.is_empty(),
            public_origins,
            allowed_origins,
        }
    }

    pub fn host_allowed(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        if self.hosts.contains(&host) {
            return true;
        }
        if self.any_ip_literal {
            let name = match host.rsplit_once(':') {
                Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
                _ => host.as_str(),
            };
            let name = name.trim_start_matches('[').trim_end_matches(']');
            return name.parse::<std::net::IpAddr>().is_ok();
        }
        false
    }

    /// Whether a browser `Origin` may talk to this server: the server's own origin (the public
    /// URL's, scheme included, when one is configured; else the request's own `Host`) or an
    /// allowed origin.
    pub fn origin_allowed(&self, origin: &str, headers: &HeaderMap) -> bool {
        let origin = normalise_origin(origin);
        if self.allowed_origins.contains(&origin) {
            return true;
        }
        if !self.public_origins.is_empty() {
            return self.public_origins.contains(&origin);
        }
        let host = headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        host_of(&origin).is_some() && host_of(&origin) == host.as_deref()
    }
}

/// Refuses requests for a host this server does not serve (421), and state-changing requests
/// a browser sent from another site (403). Requests with neither `Origin` nor `Sec-Fetch-Site`
/// come from programs, not browsers, and cannot carry a forged user intent.
pub async fn check_request(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let sites = &state.sites;
    let host = req
        .headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    match host {
        Some(host) if sites.host_allowed(host) => {}
        _ => {
            return (
                StatusCode::MISDIRECTED_REQUEST,
                "this server does not serve that host name",
            )
                .into_response()
        }
    }
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if changes_state && !same_site(sites, req.headers()) {
        return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
    }
    next.run(req).await
}

fn same_site(sites: &Sites, headers: &HeaderMap) -> bool {
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    match (origin, fetch_site) {
        (Some(origin), _) => sites.origin_allowed(origin, headers),
        (None, Some(site)) => site == "same-origin" || site == "none",
        (None, None) => true,
    }
}

/// The `/ws` upgrade: an `Origin` is required (every browser sends one) and must be allowed.
pub fn ws_origin_allowed(sites: &Sites, headers: &HeaderMap) -> bool {
    headers
        .get(ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| sites.origin_allowed(origin, headers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn sites(args: &[&str], bound: &str) -> Sites {
        let mut all = vec!["xietong"];
        all.extend_from_slice(args);
        Sites::new(&crate::Config::parse_from(all), bound.parse().unwrap())
    }

    fn with_host(host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, host.parse().unwrap());
        h
    }

    #[test]
    fn only_configured_hosts_are_served() {
        let s = sites(
            &["--public-url", "https://chat.example.com"],
            "127.0.0.1:3000",
        );
        assert!(s.host_allowed("127.0.0.1:3000"));
        assert!(s.host_allowed("localhost:3000"));
        assert!(s.host_allowed("chat.example.com"));
        assert!(s.host_allowed("chat.example.com:443"));
        assert!(!s.host_allowed("rebind.evil:3000"));
        assert!(!s.host_allowed("localhost:3001"));
        let open = sites(&[], "0.0.0.0:3000");
        assert!(open.host_allowed("10.1.2.3:3000"));
        assert!(open.host_allowed("[fe80::1]:3000"));
        assert!(!open.host_allowed("rebind.evil:3000"));
    }

    #[test]
    fn origins_need_the_scheme_when_a_public_url_is_set() {
        let s = sites(
            &["--public-url", "https://chat.example.com"],
            "127.0.0.1:3000",
        );
        let h = with_host("chat.example.com");
        assert!(s.origin_allowed("https://chat.example.com", &h));
        assert!(!s.origin_allowed("http://chat.example.com", &h));
        let plain = sites(&[], "127.0.0.1:3000");
        let h = with_host("127.0.0.1:3000");
        assert!(plain.origin_allowed("http://127.0.0.1:3000", &h));
        assert!(!plain.origin_allowed("http://evil.example", &h));
        assert!(!plain.origin_allowed("null", &h));
    }
}
