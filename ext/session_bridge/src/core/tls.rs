//! TLS for `rediss://` URLs: rustls with the ring provider, trusting either the CA file the
//! user names or the system's certificate store.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use super::Error;

/// What a connection needs to start a TLS session with one server.
#[derive(Clone)]
pub struct Tls {
    pub config: Arc<ClientConfig>,
    pub server_name: ServerName<'static>,
}

impl Tls {
    /// Built once at configure time, so a bad CA file is a configuration error.
    pub fn new(host: &str, ca_file: Option<&str>) -> Result<Tls, Error> {
        let bad = |why: String| Error::Configuration(format!("TLS is not usable: {why}"));
        let mut roots = RootCertStore::empty();
        match ca_file {
            Some(path) => {
                let certificates = CertificateDer::pem_file_iter(path)
                    .map_err(|e| bad(format!("cannot read ssl_ca_file {path}: {e}")))?;
                for certificate in certificates {
                    let certificate = certificate.map_err(|e| bad(format!("ssl_ca_file {path}: {e}")))?;
                    roots.add(certificate).map_err(|e| bad(format!("ssl_ca_file {path}: {e}")))?;
                }
                if roots.is_empty() {
                    return Err(bad(format!("ssl_ca_file {path} holds no certificate")));
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
                if roots.is_empty() {
                    return Err(bad("no ssl_ca_file given and no system certificates found".into()));
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let server_name = ServerName::try_from(host.to_owned())
            .map_err(|_| bad(format!("{host:?} is not a valid server name")))?;
        Ok(Tls { config: Arc::new(config), server_name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_ca_file_is_a_configuration_error() {
        assert!(matches!(Tls::new("127.0.0.1", Some("/nonexistent/ca.pem")), Err(Error::Configuration(_))));
        let empty = std::env::temp_dir().join("session_bridge-empty-ca.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        assert!(
            matches!(Tls::new("127.0.0.1", empty.to_str()), Err(Error::Configuration(m)) if m.contains("no certificate"))
        );
    }
}
