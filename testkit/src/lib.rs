//! Test support shared by the handler's and the CLI's integration tests.
//!
//! [`moto`] starts one moto server per test process on a free loopback port;
//! every [`Fixture`] gets a bucket and a hosted zone of its own, so tests
//! run in parallel against it without resetting anything.
//!
//! [`faults::FaultProxy`] sits between a binary and moto and answers chosen
//! calls with the errors AWS gives and moto never does.
//!
//! moto runs through `scripts/moto_server.py` (which fixes one way its Route53
//! answers differ from AWS), under the Python at `$MOTO_PYTHON`, else the
//! virtualenv that `scripts/bootstrap.sh` creates, else `python3` on `PATH`.

pub mod faults;
pub mod lambda;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType};
use serde_json::{Value, json};

/// The region every fixture uses.
pub const REGION: &str = "us-east-1";

/// A running moto server.
pub struct Moto {
    /// Its base URL, e.g. `http://127.0.0.1:41234`.
    pub endpoint: String,
    /// The directory moto runs in and writes to; removed when it stops.
    pub dir: PathBuf,
    // Holding the watchdog's stdin keeps moto alive; when the test process
    // exits the pipe closes and the watchdog kills moto, so no test run
    // leaves a server behind even if it panics.
    _watchdog: Mutex<(Child, ChildStdin)>,
}

/// The moto server of this test process, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| start_moto(false))
}

/// The Python that has moto installed.
pub fn moto_python() -> PathBuf {
    if let Some(path) = std::env::var_os("MOTO_PYTHON") {
        return path.into();
    }
    if let Some(home) = std::env::var_os("HOME") {
        let venv = PathBuf::from(home).join(".cache/ddns-ctl/venv/bin/python");
        if venv.exists() {
            return venv;
        }
    }
    PathBuf::from("python3")
}

/// The launcher script in this repository.
pub fn moto_script() -> PathBuf {
    repo_root().join("scripts/moto_server.py")
}

/// The checkout the tests run in. Cargo sets `CARGO_MANIFEST_DIR` when it
/// runs a test, to the tested package's directory (the root, or
/// `handler/`), and that is read first: the value compiled in names the
/// checkout that built this crate, and cargo reuses a build from another
/// clone that shares `CARGO_TARGET_DIR` (its fingerprints are relative to
/// the workspace), so a compiled-in path can name a clone that is gone.
pub fn repo_root() -> PathBuf {
    let marker = "scripts/moto_server.py";
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .and_then(|dir| dir.ancestors().find(|d| d.join(marker).is_file()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")))
}

/// A free loopback port (free when asked; good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("no free loopback port")
        .port()
}

fn start_moto(recording: bool) -> Moto {
    let python = moto_python();
    let port = free_port();
    // Everything moto writes (its log, and a recording when asked for) goes
    // into a directory of this server's own, which the watchdog removes once
    // moto has exited: request bodies hold every secret of the config.
    let dir = std::env::temp_dir().join(unique("ddns-moto"));
    std::fs::create_dir_all(&dir).expect("cannot create moto's directory");
    let log = dir.join("moto.log");
    // `cd` first and on its own: in `cd && moto &` the cd would happen in
    // the background subshell only.
    let script = r#"cd "$2" || exit 1; MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ACM_VALIDATION_WAIT=0 "$0" "$3" -H 127.0.0.1 -p "$1" >moto.log 2>&1 & m=$!; echo $m >moto.pid; read _; kill -CONT $m; kill $m; wait $m; rm -rf "$2""#;
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(script)
        .arg(&python)
        .arg(port.to_string())
        .arg(&dir)
        .arg(moto_script())
        // moto reads MOTO_ENABLE_RECORDING as a truthy string, so even
        // "false" turns recording on: the variable is never passed. A
        // recording starts only through the recorder API
        // (`start_recording`), into the file named here.
        .env_remove("MOTO_ENABLE_RECORDING")
        .env_remove("MOTO_RECORDER_FILEPATH")
        .stdin(Stdio::piped());
    if recording {
        command.env("MOTO_RECORDER_FILEPATH", dir.join(RECORDING));
    }
    let mut child = command.spawn().expect("cannot run sh");
    let stdin = child.stdin.take().expect("piped stdin");
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !moto_answers(port) {
        if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
            let output = std::fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "moto did not start with {} (run scripts/bootstrap.sh, or set MOTO_PYTHON):\n{output}",
                python.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto {
        endpoint,
        dir,
        _watchdog: Mutex::new((child, stdin)),
    }
}

/// The file a dedicated server records into, inside [`Moto::dir`].
const RECORDING: &str = "recording.jsonl";

fn moto_answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = "GET /moto-api/data.json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    let mut reply = [0u8; 12];
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && reply.starts_with(b"HTTP/1.")
}

/// One AWS call moto recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCall {
    /// The HTTP method.
    pub method: String,
    /// The URL.
    pub url: String,
    /// The action, for services that name it: IAM and STS (`Action=`),
    /// CloudWatch Logs (`X-Amz-Target`).
    pub action: Option<String>,
}

impl RecordedCall {
    /// Whether the call can change anything: REST calls other than GET and
    /// HEAD, and named actions other than Get*, List* and Describe*.
    pub fn is_mutating(&self) -> bool {
        match &self.action {
            Some(action) => !["Get", "List", "Describe"].iter().any(|read| action.starts_with(read)),
            None => !matches!(self.method.as_str(), "GET" | "HEAD"),
        }
    }
}

impl std::fmt::Display for RecordedCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.url)?;
        if let Some(action) = &self.action {
            write!(f, " Action={action}")?;
        }
        Ok(())
    }
}

impl Moto {
    /// A moto server of the caller's own, with moto's request recorder
    /// available, for tests that count calls. Stopped when dropped.
    pub fn dedicated() -> Self {
        start_moto(true)
    }

    fn moto_api(&self, method: &str, path: &str) -> String {
        let port = self.endpoint.rsplit(':').next().unwrap_or_default();
        let mut stream = TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect to moto");
        let request = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
        stream.write_all(request.as_bytes()).expect("write to moto");
        let mut reply = String::new();
        stream.read_to_string(&mut reply).expect("read from moto");
        reply
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    }

    /// Stops moto (SIGSTOP): it still accepts connections, as the kernel
    /// does for it, but answers nothing, like a stalled AWS endpoint.
    pub fn pause(&self) {
        self.signal("STOP");
    }

    /// Lets a paused moto go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = std::fs::read_to_string(self.dir.join("moto.pid")).expect("moto's pid file");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.trim())
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal} moto failed");
    }

    /// Forgets what was recorded and starts recording.
    pub fn start_recording(&self) {
        self.moto_api("POST", "/moto-api/recorder/reset-recording");
        self.moto_api("POST", "/moto-api/recorder/start-recording");
    }

    /// Stops recording and returns the AWS calls since `start_recording`.
    ///
    /// Panics on a line it cannot read: a call dropped here would make a
    /// "no mutating call" check pass for the wrong reason.
    pub fn recorded(&self) -> Vec<RecordedCall> {
        self.moto_api("POST", "/moto-api/recorder/stop-recording");
        let text = self.moto_api("GET", "/moto-api/recorder/download-recording");
        parse_recording(&text)
    }

    /// The messages published to the SNS topic `topic_arn`, oldest first, as
    /// (message, subject), read from moto's SNS backend.
    pub fn sns_messages(&self, topic_arn: &str) -> Vec<(String, Option<String>)> {
        let data: Value = serde_json::from_str(&self.moto_api("GET", "/moto-api/data.json")).expect("moto's data");
        let topics = data["sns"]["Topic"].as_array().cloned().unwrap_or_default();
        let topic = topics.iter().find(|t| t["arn"] == topic_arn);
        topic
            .and_then(|t| t["sent_notifications"].as_array())
            .map(|sent| {
                sent.iter()
                    .map(|n| {
                        (
                            n[1].as_str().unwrap_or_default().to_owned(),
                            n[2].as_str().map(str::to_owned),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// An SDK config pointing at this server with dummy credentials.
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config_for(&self.endpoint, aws_config::retry::RetryConfig::standard()).await
    }

    /// Environment for a child process (ddns-ctl, bootstrap) to use this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        child_env(&self.endpoint)
    }
}

/// An SDK config for `endpoint` with dummy credentials and `retry`.
pub async fn sdk_config_for(endpoint: &str, retry: aws_config::retry::RetryConfig) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .retry_config(retry)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "testkit",
        ))
        .load()
        .await
}

/// Environment for a child process to reach AWS at `endpoint` (moto, or a
/// proxy in front of it) with dummy credentials and nothing from the
/// caller's own AWS setup.
pub fn child_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", REGION.into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_CONFIG_FILE", "/dev/null".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
    ]
}

/// The AWS calls in a moto recording (one JSON object a line), without the
/// recorder's own calls. Panics on a line that is not a recorded request.
pub fn parse_recording(text: &str) -> Vec<RecordedCall> {
    use base64::Engine as _;
    let field = |call: &Value, name: &str, line: &str| -> String {
        call[name]
            .as_str()
            .unwrap_or_else(|| panic!("a recorded call without {name:?}: {line}"))
            .to_owned()
    };
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let call: Value =
                serde_json::from_str(line).unwrap_or_else(|err| panic!("unreadable recording line ({err}): {line}"));
            let url = field(&call, "url", line);
            let method = field(&call, "method", line);
            let body = call["body"].as_str().unwrap_or_default();
            let decoded = if call["body_encoded"].as_bool().unwrap_or(false) {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(body)
                    .unwrap_or_else(|err| panic!("a recorded body that is not base64 ({err}): {line}"));
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                body.to_owned()
            };
            // Query-protocol services (IAM, STS) name the action in the
            // body, JSON-protocol ones (CloudWatch Logs) in X-Amz-Target.
            let target = call["headers"]
                .as_object()
                .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target")))
                .and_then(|(_, v)| v.as_str())
                .and_then(|t| t.rsplit('.').next())
                .map(str::to_owned);
            // Smithy RPC v2 CBOR ones (CloudWatch) in the path, though
            // scripts/moto_server.py hands moto the JSON form.
            let rpc = url
                .split("/operation/")
                .nth(1)
                .map(|op| op.trim_end_matches('/').to_owned());
            let action = decoded
                .split('&')
                .find_map(|pair| pair.strip_prefix("Action="))
                .map(str::to_owned)
                .or(target)
                .or(rpc);
            RecordedCall { method, url, action }
        })
        .filter(|call| !call.url.contains("/moto-api/"))
        .collect()
}

/// A name no other fixture in any test process uses.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// An S3 client for `sdk`, path-style as moto on loopback needs.
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build())
}

/// Creates a hosted zone with a unique name; returns its id (without
/// `/hostedzone/`) and its name (with the trailing dot).
pub async fn create_zone(route53: &aws_sdk_route53::Client) -> (String, String) {
    let name = format!("{}.test.", unique("zone"));
    let created = route53
        .create_hosted_zone()
        .name(&name)
        .caller_reference(unique("ref"))
        .send()
        .await
        .expect("create zone");
    let id = created
        .hosted_zone()
        .expect("zone")
        .id()
        .trim_start_matches("/hostedzone/")
        .to_owned();
    (id, name)
}

/// The values of `name`'s record of type `kind` ("A" or "AAAA") in a zone.
pub async fn record(route53: &aws_sdk_route53::Client, zone_id: &str, name: &str, kind: &str) -> Vec<String> {
    let out = route53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .start_record_name(name)
        .start_record_type(RrType::from(kind))
        .max_items(1)
        .send()
        .await
        .expect("list records");
    out.resource_record_sets()
        .iter()
        .filter(|s| s.name().eq_ignore_ascii_case(name) && s.r#type().as_str() == kind)
        .flat_map(|s| s.resource_records().iter().map(|r| r.value().to_owned()))
        .collect()
}

/// A seed-format config entry for a host of type `kind` in `zone_id`.
pub fn host_entry(zone_id: &str, kind: &str, secret: &str, allow_private_addresses: bool) -> Value {
    json!({
        "aws_region": REGION,
        "route_53_zone_id": zone_id,
        "route_53_record_ttl": 60,
        "route_53_record_type": kind,
        "shared_secret": secret,
        "allow_private_addresses": allow_private_addresses,
    })
}

/// The names ddns-ctl gives a stack's resources in moto's account, written
/// out independently of the code under test so that a change there shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackNames {
    /// The config bucket.
    pub bucket: String,
    /// The function's role.
    pub role: String,
    /// The function.
    pub function: String,
    /// The function's log group.
    pub log_group: String,
}

impl StackNames {
    /// The names for stack `stack` in moto's account, in [`REGION`].
    pub fn new(stack: &str) -> Self {
        Self {
            bucket: format!("ddns-ctl-{stack}-{ACCOUNT}-{REGION}"),
            role: format!("ddns-ctl-{stack}-{REGION}"),
            function: format!("ddns-ctl-{stack}"),
            log_group: format!("/aws/lambda/ddns-ctl-{stack}"),
        }
    }
}

/// moto's account id.
pub const ACCOUNT: &str = "123456789012";

/// A bucket and a hosted zone of a test's own.
pub struct Fixture {
    /// The moto server.
    pub moto: &'static Moto,
    /// The SDK config for it.
    pub sdk: SdkConfig,
    /// S3, path-style.
    pub s3: aws_sdk_s3::Client,
    /// Route53.
    pub route53: aws_sdk_route53::Client,
    /// The config bucket.
    pub bucket: String,
    /// The hosted zone's id, without `/hostedzone/`.
    pub zone_id: String,
    /// The zone's name with its trailing dot.
    pub zone: String,
}

impl Fixture {
    /// Creates a fresh bucket and hosted zone on the shared moto.
    pub async fn new() -> Self {
        Self::on(moto()).await
    }

    /// Creates a fresh bucket and hosted zone on `moto`.
    pub async fn on(moto: &'static Moto) -> Self {
        let sdk = moto.sdk_config().await;
        let s3 = s3_client(&sdk);
        let route53 = aws_sdk_route53::Client::new(&sdk);
        let bucket = unique("ddns-test");
        s3.create_bucket().bucket(&bucket).send().await.expect("create bucket");
        let (zone_id, zone) = create_zone(&route53).await;
        Self {
            moto,
            sdk,
            s3,
            route53,
            bucket,
            zone_id,
            zone,
        }
    }

    /// A hostname inside the fixture's zone.
    pub fn host(&self, label: &str) -> String {
        format!("{label}.{}", self.zone)
    }

    /// A seed-format entry for a host in this zone. Loopback tests need
    /// `allow_private_addresses`, so it is on unless `extra` says otherwise.
    pub fn entry(&self, kind: &str, secret: &str, extra: Value) -> Value {
        let mut entry = host_entry(&self.zone_id, kind, secret, true);
        if let (Some(entry), Value::Object(extra)) = (entry.as_object_mut(), extra) {
            entry.extend(extra);
        }
        entry
    }

    /// Writes the config object (any bytes) and returns its ETag.
    pub async fn put_config_bytes(&self, key: &str, body: impl Into<Vec<u8>>) -> String {
        let out = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(body.into().into())
            .send()
            .await
            .expect("put config");
        out.e_tag().unwrap_or_default().to_owned()
    }

    /// Writes `config.json`.
    pub async fn put_config(&self, config: &Value) -> String {
        self.put_config_bytes("config.json", serde_json::to_vec_pretty(config).expect("json"))
            .await
    }

    /// The ETag of `config.json`, to prove a request did not rewrite it.
    pub async fn config_etag(&self) -> Option<String> {
        let out = self
            .s3
            .head_object()
            .bucket(&self.bucket)
            .key("config.json")
            .send()
            .await
            .ok()?;
        out.e_tag().map(str::to_owned)
    }

    /// The values of `name`'s record of type `kind` ("A" or "AAAA").
    pub async fn record(&self, name: &str, kind: &str) -> Vec<String> {
        record(&self.route53, &self.zone_id, name, kind).await
    }

    /// Every record set in the zone, as (name, type, values), to prove a
    /// request changed nothing.
    pub async fn all_records(&self) -> Vec<(String, String, Vec<String>)> {
        let out = self
            .route53
            .list_resource_record_sets()
            .hosted_zone_id(&self.zone_id)
            .send()
            .await
            .expect("list records");
        out.resource_record_sets()
            .iter()
            .map(|s| {
                let values = s.resource_records().iter().map(|r| r.value().to_owned()).collect();
                (s.name().to_owned(), s.r#type().as_str().to_owned(), values)
            })
            .collect()
    }

    /// Sets `name`'s record of type `kind` to `values`.
    pub async fn set_record(&self, name: &str, kind: &str, values: &[&str]) {
        let mut set = ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::from(kind))
            .ttl(60);
        for v in values {
            set = set.resource_records(ResourceRecord::builder().value(*v).build().expect("record"));
        }
        let change = Change::builder()
            .action(ChangeAction::Upsert)
            .resource_record_set(set.build().expect("set"))
            .build()
            .expect("change");
        self.route53
            .change_resource_record_sets()
            .hosted_zone_id(&self.zone_id)
            .change_batch(ChangeBatch::builder().changes(change).build().expect("batch"))
            .send()
            .await
            .expect("upsert record");
    }
}
