# frozen_string_literal: true

require "openssl"

# A throwaway CA and a server certificate for 127.0.0.1, written as PEM files into `dir`.
module TlsCertificates
  module_function

  def write(dir)
    ca_key = OpenSSL::PKey::RSA.new(2048)
    ca = certificate("CN=session_bridge test CA", ca_key, ca_key, nil, ca: true)
    server_key = OpenSSL::PKey::RSA.new(2048)
    server = certificate("CN=127.0.0.1", server_key, ca_key, ca, ca: false)
    paths = { ca: File.join(dir, "ca.pem"), cert: File.join(dir, "server.pem"), key: File.join(dir, "server.key") }
    File.write(paths[:ca], ca.to_pem)
    File.write(paths[:cert], server.to_pem)
    File.write(paths[:key], server_key.to_pem)
    paths
  end

  def certificate(subject, key, signing_key, issuer, ca:)
    cert = OpenSSL::X509::Certificate.new
    cert.version = 2
    cert.serial = rand(1..2**62)
    cert.subject = OpenSSL::X509::Name.parse(subject)
    cert.issuer = issuer ? issuer.subject : cert.subject
    cert.public_key = key.public_key
    cert.not_before = Time.now - 60
    cert.not_after = Time.now + 3600
    extensions = OpenSSL::X509::ExtensionFactory.new
    extensions.subject_certificate = cert
    extensions.issuer_certificate = issuer || cert
    if ca
      cert.add_extension(extensions.create_extension("basicConstraints", "CA:TRUE", true))
      cert.add_extension(extensions.create_extension("keyUsage", "keyCertSign,cRLSign", true))
    else
      cert.add_extension(extensions.create_extension("basicConstraints", "CA:FALSE", true))
      cert.add_extension(extensions.create_extension("subjectAltName", "IP:127.0.0.1,DNS:localhost"))
      cert.add_extension(extensions.create_extension("extendedKeyUsage", "serverAuth"))
    end
    cert.sign(signing_key, OpenSSL::Digest.new("SHA256"))
    cert
  end
end
