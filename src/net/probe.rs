//! What `gocred doctor` needs below HTTP: DNS, a TCP connection (direct or through git's proxy
//! with CONNECT), one TLS handshake that records the certificate chain the server presents, and
//! checking that chain against the roots [`super::Net`] would trust. The same rustls (ring) that
//! ureq uses; nothing is sent over the probing connection after the handshake.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A CA file and the certificates (DER) it holds, or why it cannot be read.
pub type CaFile = (PathBuf, Result<Vec<Vec<u8>>, String>);

/// The roots `Net` trusts for a URL, as DER.
pub struct Trust {
    pub system: Vec<Vec<u8>>,
    /// git's `http.sslCAInfo` (or `GIT_SSL_CAINFO`) for the URL and what it holds.
    pub git_ca: Option<CaFile>,
}

impl super::Net<'_> {
    /// The system roots and git's CA file for `url`, as a request to it would use them.
    pub fn trust(&self, url: &str) -> Result<Trust, super::NetError> {
        let route = self.route(url)?;
        let system = self
            .system_roots()
            .iter()
            .map(|c| c.der().to_vec())
            .collect();
        let git_ca = route.ca_file.map(|path| {
            let certs =
                super::read_pem(&path).map(|cs| cs.iter().map(|c| c.der().to_vec()).collect());
            (path, certs)
        });
        Ok(Trust { system, git_ca })
    }
}

/// The certificates (DER) of a PEM file, or why it cannot be used.
pub fn pem_file(path: &std::path::Path) -> Result<Vec<Vec<u8>>, String> {
    super::read_pem(path).map(|cs| cs.iter().map(|c| c.der().to_vec()).collect())
}

/// `http.proxy` and `http.sslCAInfo` as git resolves them for `url` (`None`: not set; an
/// empty proxy: "no proxy"), without `GIT_SSL_CAINFO` or the proxy variables.
pub fn git_http(url: &str, env: super::Env<'_>) -> (Option<String>, Option<String>) {
    let c = super::git_http_config(url, env);
    (c.proxy, c.ca_info)
}

/// Whether a `no_proxy` list exempts `host` (curl's reading; go's agrees for host names).
pub fn no_proxy(list: &str, host: &str) -> bool {
    super::no_proxy_matches(list, host)
}

/// `host:port` resolved, within `timeout` (getaddrinfo has none of its own).
pub fn resolve(host: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let name = format!("{host}:{port}");
    std::thread::spawn(move || {
        let _ = tx.send(name.to_socket_addrs().map(|a| a.collect::<Vec<_>>()));
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err("no address".into()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {}", super::seconds(timeout))),
    }
}

/// The first address that accepts a connection within `timeout` each.
pub fn connect(addrs: &[SocketAddr], timeout: Duration) -> Result<(TcpStream, SocketAddr), String> {
    let mut last = String::from("no address");
    for addr in addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(s) => {
                let _ = s.set_read_timeout(Some(timeout));
                let _ = s.set_write_timeout(Some(timeout));
                return Ok((s, *addr));
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                last = format!("{addr}: no answer within {}", super::seconds(timeout));
            }
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    Err(last)
}

/// Opens a tunnel to `host:port` through an http:// proxy on `stream` (already connected to it).
pub fn connect_tunnel(stream: &mut TcpStream, host: &str, port: u16) -> Result<(), String> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    stream
        .write_all(format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err("the proxy's answer is too long".into());
        }
        match stream.read(&mut byte) {
            Ok(0) => return Err("the proxy closed the connection".into()),
            Ok(_) => head.push(byte[0]),
            Err(e) => return Err(e.to_string()),
        }
    }
    let status = String::from_utf8_lossy(&head);
    let line = status.lines().next().unwrap_or_default().to_owned();
    if line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        Err(format!("CONNECT refused: {}", line.trim()))
    }
}

/// Records the chain instead of judging it: the probe judges it afterwards, against each set of
/// roots, to say who trusts it. Signatures are still checked (the handshake is real).
#[derive(Debug)]
struct Recorder {
    chain: Mutex<Vec<CertificateDer<'static>>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = self.chain.lock().unwrap_or_else(|e| e.into_inner());
        chain.push(end_entity.clone().into_owned());
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS handshake with `host` on `stream`; the chain the server presented (leaf first).
pub fn handshake(stream: &mut TcpStream, host: &str) -> Result<Vec<Vec<u8>>, String> {
    let provider = provider();
    let recorder = Arc::new(Recorder {
        chain: Mutex::new(Vec::new()),
        provider: provider.clone(),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        match conn.complete_io(stream) {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err("the server did not finish the TLS handshake in time".into());
            }
            Err(e) => {
                return Err(e
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                    .map_or_else(|| e.to_string(), super::tls::words));
            }
        }
    }
    conn.send_close_notify();
    let _ = conn.complete_io(stream);
    let chain = recorder.chain.lock().unwrap_or_else(|e| e.into_inner());
    Ok(chain.iter().map(|c| c.to_vec()).collect())
}

/// Whether `chain` (leaf first) is valid for `host` under `roots`; the reason when not.
pub fn verify(chain: &[Vec<u8>], host: &str, roots: &[Vec<u8>]) -> Result<(), String> {
    let Some((leaf, rest)) = chain.split_first() else {
        return Err("the server presented no certificate".into());
    };
    let mut store = rustls::RootCertStore::empty();
    for r in roots {
        let _ = store.add(CertificateDer::from(r.clone()));
    }
    if store.is_empty() {
        return Err("no trusted roots".into());
    }
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider())
            .build()
            .map_err(|e| e.to_string())?;
    let leaf = CertificateDer::from(leaf.clone());
    let rest: Vec<CertificateDer> = rest
        .iter()
        .map(|c| CertificateDer::from(c.clone()))
        .collect();
    let name = ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
    verifier
        .verify_server_cert(&leaf, &rest, &name, &[], UnixTime::now())
        .map(|_| ())
        .map_err(|e| super::tls::words(&e))
}

/// One DER element: (tag, content, rest).
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&first, mut b) = b.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || b.len() < n {
            return None;
        }
        let len = b[..n]
            .iter()
            .fold(0usize, |l, &x| (l << 8) | usize::from(x));
        b = &b[n..];
        len
    };
    (b.len() >= len).then(|| (tag, &b[..len], &b[len..]))
}

/// The issuer of a DER certificate as `CN=…, O=…` (the parts present), or `None` if unreadable.
pub fn issuer(cert: &[u8]) -> Option<String> {
    let (_, cert, _) = tlv(cert)?;
    let (_, tbs, _) = tlv(cert)?;
    let (mut tag, mut field, mut rest) = tlv(tbs)?;
    if tag == 0xa0 {
        (tag, field, rest) = tlv(rest)?; // version, then serial
    }
    let _ = (tag, field);
    let (_, _signature, rest) = tlv(rest)?;
    let (_, name, _) = tlv(rest)?;
    let mut parts = Vec::new();
    let mut sets = name;
    while let Some((_, set, next)) = tlv(sets) {
        sets = next;
        let mut atvs = set;
        while let Some((_, atv, next)) = tlv(atvs) {
            atvs = next;
            let (_, oid, value) = tlv(atv)?;
            let (_, value, _) = tlv(value)?;
            let label = match oid {
                [0x55, 0x04, 0x03] => "CN",
                [0x55, 0x04, 0x0a] => "O",
                [0x55, 0x04, 0x0b] => "OU",
                _ => continue,
            };
            parts.push(format!("{label}={}", String::from_utf8_lossy(value)));
        }
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}
