//! Where deliveries may go. With `deny_private`, targets on loopback, private, link-local,
//! CGNAT, unique-local or unspecified addresses are refused — both for IP literals and for
//! every address a host name resolves to (checked again at connect time by the client's
//! resolver, so a name that changes its answer between the check and the request is refused
//! too). Off by default so local development (a receiver on 127.0.0.1) works.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// True for an address an operator who denies private targets does not want reached.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_multicast()
                || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64.0.0/10
                || o[0] == 0
        }
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = a.segments();
            a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // fe80::/10
        }
    }
}

/// A resolver that leaves out private addresses (and fails when nothing else is left).
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| !is_private(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{} resolves only to private addresses", name.as_str()).into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// Why a delivery to `url` is refused under `deny_private`, if it is.
pub async fn denied(url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    let port = url.port_or_known_default().unwrap_or(80);
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let ips: Vec<IpAddr> = match literal.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => match tokio::net::lookup_host((host, port)).await {
            Ok(found) => found.map(|a| a.ip()).collect(),
            // Not resolvable now: the attempt fails as a connection error (and is retried).
            Err(_) => return None,
        },
    };
    if !ips.is_empty() && ips.iter().all(|ip| is_private(*ip)) {
        return Some(format!(
            "refused: {} is a private or loopback address and private targets are denied (--webhook-deny-private)",
            ips[0]
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(a.parse().unwrap()), "{a}");
        }
        for a in ["8.8.8.8", "1.1.1.1", "100.128.0.1", "2606:4700::1111", "172.32.0.1"] {
            assert!(!is_private(a.parse().unwrap()), "{a}");
        }
    }
}
