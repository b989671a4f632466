//! The config store against S3 answers moto never gives: through the fault
//! proxy (`testkit/src/faults.rs`).

use std::time::Duration;

use ddns_handler::store::{ConfigStore, LoadError};
use ddns_testkit::Fixture;
use ddns_testkit::faults::{Fault, FaultProxy};

/// A store for the fixture's `config.json` that reads S3 through `proxy`
/// and keeps what it read for `max_age`.
fn store_via(fixture: &Fixture, proxy: &FaultProxy, max_age: Duration) -> ConfigStore {
    let sdk = fixture.sdk.to_builder().endpoint_url(proxy.url()).build();
    ConfigStore::new(
        ddns_testkit::s3_client(&sdk),
        fixture.bucket.clone(),
        "config.json",
        max_age,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_403_for_the_config_is_a_missing_config_with_the_reason() {
    let fixture = Fixture::new().await;
    let proxy = FaultProxy::start(&fixture.moto.endpoint);
    let store = store_via(&fixture, &proxy, Duration::ZERO);

    // moto answers the missing key with 404, as S3 does a reader that may
    // list the bucket.
    let missing = store.current().await.unwrap_err();
    assert!(
        matches!(missing, LoadError::Missing { denied: false, .. }),
        "{missing:?}"
    );
    assert!(missing.to_string().ends_with("does not exist"), "{missing}");

    // The function may only get its one key, so S3 answers it 403.
    proxy.inject(Fault::error("s3", "GetObject", 403, "AccessDenied", "Access Denied"));
    let denied = store.current().await.unwrap_err();
    assert!(matches!(denied, LoadError::Missing { denied: true, .. }), "{denied:?}");
    let message = denied.to_string();
    assert!(
        message.starts_with(&format!(
            "the config object s3://{}/config.json does not exist (S3 answered 403 AccessDenied",
            fixture.bucket
        )),
        "{message}"
    );
    assert!(message.contains("may not read it"), "{message}");
    // Each load read it once and again after each of the waits.
    let reads = 1 + ddns_handler::store::MISSING_RETRIES.len();
    assert_eq!(proxy.calls_to("s3", "GetObject").len(), 2 * reads);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_config_s3_does_not_serve_yet_is_read_again_not_taken_for_missing() {
    let fixture = Fixture::new().await;
    fixture.put_config_bytes("config.json", "{}").await;
    let proxy = FaultProxy::start(&fixture.moto.endpoint);
    let store = store_via(&fixture, &proxy, Duration::ZERO);

    // Read-after-versioning: the first reads answer 404 though the object
    // is there, as S3 may for a while after versioning is enabled.
    proxy.inject(Fault::error("s3", "GetObject", 404, "NoSuchKey", "The specified key does not exist.").first(2));
    let config = store.current().await.expect("the config, once S3 serves it");
    assert_eq!(config.len(), 0);
    let calls = proxy.calls_to("s3", "GetObject");
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(calls[2].fault.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_queued_behind_a_missing_config_share_its_answer() {
    let fixture = Fixture::new().await;
    let proxy = FaultProxy::start(&fixture.moto.endpoint);
    let store = store_via(&fixture, &proxy, Duration::from_secs(60));

    // Three requests at once: one load reads and retries; the others wait
    // for it and get its answer, without reading again.
    let (a, b, c) = tokio::join!(store.current(), store.current(), store.current());
    for result in [a, b, c] {
        assert!(
            matches!(result, Err(LoadError::Missing { denied: false, .. })),
            "{result:?}"
        );
    }
    let reads = 1 + ddns_handler::store::MISSING_RETRIES.len();
    assert_eq!(proxy.calls_to("s3", "GetObject").len(), reads);
}
