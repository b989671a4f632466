//! The handler's test harness: the real router on a real socket, in this
//! process, against the shared moto server.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ddns_handler::local::{self, LocalOptions};
use ddns_handler::{Service, Settings};
use ddns_testkit::Fixture;
use sha2::{Digest, Sha256};

/// A running local server; it stops when dropped.
pub struct Server {
    pub url: String,
    pub service: Arc<Service>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Serves the fixture's `config.json` on 127.0.0.1 with a given cache age.
pub async fn serve_with(fixture: &Fixture, bind: &str, max_age: Duration, options: LocalOptions) -> Server {
    let settings = Settings {
        max_age,
        ..Settings::new(&fixture.bucket)
    };
    let service = Service::new(&fixture.sdk, settings);
    let listener = tokio::net::TcpListener::bind(bind).await.expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(local::serve(listener, Arc::clone(&service), options.clone(), async {
        let _ = stopped.await;
    }));
    let url = match addr {
        SocketAddr::V4(a) => format!("http://{a}"),
        SocketAddr::V6(a) => format!("http://[{}]:{}", a.ip(), a.port()),
    };
    Server {
        url,
        service,
        _stop: stop,
    }
}

/// Serves with no config caching, so every test sees its writes at once.
pub async fn serve(fixture: &Fixture) -> Server {
    serve_with(fixture, "127.0.0.1:0", Duration::ZERO, LocalOptions::default()).await
}

/// The seed's proof: hex SHA-256 of IP + hostname + secret.
pub fn seed_hash(ip: &str, hostname: &str, secret: &str) -> String {
    hex(&Sha256::digest(format!("{ip}{hostname}{secret}").as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A GET, returning status and body.
pub async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// The seed's JSON reply for a status and message, byte for byte.
pub fn seed_body(success: bool, message: &str) -> String {
    let status = if success { "success" } else { "fail" };
    format!(r#"{{"return_status":"{status}","return_message":"{message}"}}"#)
}

/// An `Authorization: Basic` header value.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}
