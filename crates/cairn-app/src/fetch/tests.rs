use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

#[test]
fn did_web_maps_to_https_or_loopback_http() {
    assert_eq!(did_web_url("did:web:example.org").as_deref(), Some("https://example.org/.well-known/did.json"));
    assert_eq!(did_web_url("did:web:example.org%3A8443:issuers:1").as_deref(), Some("https://example.org:8443/issuers/1/did.json"));
    assert_eq!(did_web_url("did:web:127.0.0.1%3A8080:issuers:1").as_deref(), Some("http://127.0.0.1:8080/issuers/1/did.json"));
    assert_eq!(did_web_url("did:web:localhost%3A3000").as_deref(), Some("http://localhost:3000/.well-known/did.json"));
    assert_eq!(did_web_url("did:key:z6Mk"), None);
    assert_eq!(did_web_url("did:web:"), None);
}

#[track_caller]
fn permit(policy: &HostPolicy, url: &str) -> Result<Permit, String> {
    policy.permit(&Url::parse(url).unwrap())
}

#[test]
fn the_cli_fetches_only_from_loopback_unless_allowed() {
    assert!(is_loopback("127.0.0.1") && is_loopback("localhost") && is_loopback("[::1]") && is_loopback("127.8.9.10") && is_loopback("a.localhost"));
    assert!(!is_loopback("10.0.0.1") && !is_loopback("example.org"));
    let policy = HostPolicy::loopback(&[]);
    assert_eq!(permit(&policy, "http://127.0.0.1:8080/x"), Ok(Permit::Loopback));
    assert_eq!(permit(&policy, "http://localhost/x"), Ok(Permit::Loopback));
    assert_eq!(permit(&policy, "http://[::1]/x"), Ok(Permit::Loopback));
    let error = permit(&policy, "https://example.org/x").unwrap_err();
    assert!(error.contains("--allow-host example.org"), "{error}");
    assert!(permit(&policy, "file:///etc/passwd").unwrap_err().contains("only http and https"));
    let allowed = HostPolicy::loopback(&["Example.ORG".into(), "[::ffff:10.0.0.1]".into(), "10.1.2.3".into()]);
    assert_eq!(permit(&allowed, "https://example.org./x"), Ok(Permit::Explicit));
    assert_eq!(permit(&allowed, "http://10.1.2.3/x"), Ok(Permit::Explicit));
    assert_eq!(permit(&allowed, "http://[::ffff:a00:1]/x"), Ok(Permit::Explicit));
}

#[test]
fn the_server_fetches_only_from_public_addresses_unless_allowed() {
    let policy = HostPolicy::public(&[]);
    assert_eq!(permit(&policy, "https://badges.example.org/assertions/1"), Ok(Permit::Public));
    assert_eq!(permit(&policy, "http://93.184.215.14/x"), Ok(Permit::Public));
    for url in ["http://localhost:8080/x", "http://127.0.0.1/x", "http://[::1]/x", "http://issuer.localhost/x"] {
        let error = permit(&policy, url).unwrap_err();
        assert!(error.contains("loopback") && error.contains("verify_allow_hosts"), "{url}: {error}");
    }
    assert!(permit(&policy, "ftp://example.org/x").unwrap_err().contains("only http and https"));
    let allowed = HostPolicy::public(&["127.0.0.1".into(), "intranet.example".into()]);
    assert_eq!(permit(&allowed, "http://127.0.0.1:9000/x"), Ok(Permit::Explicit));
    assert_eq!(permit(&allowed, "http://intranet.example/x"), Ok(Permit::Explicit));
}

#[test]
fn special_addresses_are_refused_by_name() {
    for policy in [HostPolicy::loopback(&[]), HostPolicy::public(&[])] {
        for (url, why) in [
            ("http://0.0.0.0:8080/", "unspecified"),
            ("http://0.1.2.3/", "0.0.0.0/8"),
            ("http://[::]/", "unspecified"),
            ("http://10.0.0.1/", "a private address"),
            ("http://172.16.5.4/", "a private address"),
            ("http://192.168.1.1/", "a private address"),
            ("http://169.254.169.254/latest/meta-data", "a link-local address"),
            ("http://100.64.0.1/", "carrier-grade NAT"),
            ("http://198.18.0.1/", "a reserved address"),
            ("http://192.0.2.1/", "a reserved address"),
            ("http://224.0.0.1/", "multicast"),
            ("http://[::ffff:10.0.0.1]/", "an IPv4-mapped IPv6 address"),
            ("http://[::ffff:127.0.0.1]/", "an IPv4-mapped IPv6 address"),
            ("http://[fe80::1]/", "a link-local address"),
            ("http://[fd00::1]/", "a unique-local address"),
            ("http://[64:ff9b::a00:1]/", "NAT64"),
            ("http://[2001:db8::1]/", "a documentation address"),
        ] {
            let error = permit(&policy, url).unwrap_err();
            assert!(error.contains(why), "{url}: {error}");
        }
        // The unspecified address is refused even when named.
        assert!(permit(&HostPolicy::public(&["0.0.0.0".into()]), "http://0.0.0.0/").is_err());
    }
    assert!(permit(&HostPolicy::loopback(&[]), "http://8.8.8.8/").unwrap_err().contains("not loopback and not allowed"));
}

#[test]
fn resolved_addresses_are_checked_against_how_the_host_was_allowed() {
    let at = |ip: IpAddr| SocketAddr::new(ip, 0);
    let loopback = at(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let private = at(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    let public = at(IpAddr::V4(Ipv4Addr::new(93, 184, 215, 14)));
    let mapped = at(IpAddr::V6(Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped()));
    let unspecified = at(IpAddr::V6(Ipv6Addr::UNSPECIFIED));

    let cli = HostPolicy::loopback(&["intranet.example".into()]);
    // A loopback name must stay on loopback addresses.
    assert_eq!(cli.check_addresses("localhost", vec![loopback, private]), Ok(vec![loopback]));
    assert!(cli.check_addresses("localhost", vec![private]).unwrap_err().contains("10.0.0.1, a private address"));
    assert!(cli.check_addresses("localhost", vec![mapped]).unwrap_err().contains("IPv4-mapped"));
    assert!(cli.check_addresses("localhost", vec![public]).unwrap_err().contains("not a loopback address"));
    // A named host may have any address but the unspecified one.
    assert_eq!(cli.check_addresses("intranet.example", vec![private, public]), Ok(vec![private, public]));
    assert!(cli.check_addresses("intranet.example", vec![unspecified]).unwrap_err().contains("unspecified"));
    // Any other name is not resolved for a request at all.
    assert!(cli.check_addresses("elsewhere.example", vec![public]).is_err());

    // On the server a public name must stay on public addresses: no rebinding to this machine
    // or the private network.
    let server = HostPolicy::public(&[]);
    assert_eq!(server.check_addresses("badges.example", vec![public, private]), Ok(vec![public]));
    assert!(server.check_addresses("badges.example", vec![loopback]).unwrap_err().contains("a loopback address"));
    assert!(server.check_addresses("badges.example", vec![private]).unwrap_err().contains("a private address"));
    assert!(server.check_addresses("badges.example", vec![mapped]).unwrap_err().contains("IPv4-mapped"));
}
