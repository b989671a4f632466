//! `ddns-ctl setup`: the guided path from an AWS account and a hosted zone to
//! a working host. Every question comes before any change, so leaving at any
//! prompt (Ctrl-C, or answering no) leaves nothing half-done; the changes
//! themselves are `deploy`, `alerts enable` when an alert address was given,
//! and `host add`, unchanged.

use std::io::IsTerminal as _;
use std::time::Duration;

use anyhow::Context as _;
use ddns_handler::config::Secret;
use ddns_handler::hostname::Hostname;
use dialoguer::theme::SimpleTheme;
use dialoguer::{Confirm, Input, Select};

use super::{Session, alerts, client_config, deploy, host, teardown};
use crate::cli::{ClientFormat, DeployArgs, GlobalArgs, HostAddArgs, RecordType, SetupArgs, TeardownArgs};
use crate::model::{
    Account, DEFAULT_KEY, DEFAULT_LOG_RETENTION_DAYS, DEFAULT_RATE_LIMIT, DEFAULT_STAGE, Names, Settings,
};

/// Runs the wizard.
pub async fn run(global: &GlobalArgs, args: SetupArgs) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        anyhow::bail!(
            "setup asks questions and needs a terminal; without one, run the same steps directly:\n  \
             ddns-ctl [--profile P] [--region R] [--name N] deploy --yes [--rate-limit N]\n  \
             ddns-ctl [--name N] alerts enable --email ADDRESS   (optional)\n  \
             ddns-ctl [--name N] host add HOST [--type A|AAAA|dual] [--ttl SECS] [--alert-after 1h]\n  \
             ddns-ctl [--name N] client-config HOST --format sh|systemd|cron|ddclient|inadyn|…"
        );
    }
    let theme = SimpleTheme;
    let mut global = global.clone();

    let known = Profiles::load();
    let profiles = &known.names;
    if !profiles.is_empty() {
        let mut items = vec!["(the default credential chain)".to_owned()];
        items.extend(profiles.iter().cloned());
        let pick = Select::with_theme(&theme)
            .with_prompt("AWS profile")
            .items(&items)
            .default(0)
            .interact()?;
        global.profile = (pick > 0).then(|| profiles[pick - 1].clone());
    }
    let region: String = Input::with_theme(&theme)
        .with_prompt("Region")
        .default(
            global
                .region
                .clone()
                .or_else(|| known.region(global.profile.as_deref()).map(str::to_owned))
                .unwrap_or_else(|| "us-east-1".to_owned()),
        )
        .interact_text()?;
    global.region = Some(region);
    let session = Session::connect(&global).await?;
    eprintln!("Account {} in {}.", session.names.account, session.names.region);

    let account = Account {
        id: session.names.account.clone(),
        region: session.names.region.clone(),
    };
    let stack: String = Input::with_theme(&theme)
        .with_prompt("Stack name")
        .default(global.name.clone())
        .validate_with(|name: &String| Names::new(name, &account).map(drop).map_err(|e| e.to_string()))
        .interact_text()?;
    // Only the names change with the stack name; no need to ask STS again.
    let session = Session {
        names: Names::new(&stack, &account)?,
        ..session
    };
    global.name = stack;

    // The one observation of the stack: the choices below, the deploy and
    // the config key all come from it.
    let observed = crate::stack::observe(&session.clients, &session.names, &Settings::default()).await?;
    let exists = observed.exists();
    if exists {
        let choices = [
            "Add a host",
            "Repair the stack (deploy again)",
            "Tear it down",
            "Nothing; quit",
        ];
        let pick = Select::with_theme(&theme)
            .with_prompt(format!("Stack {} exists. What now?", session.names.stack))
            .items(choices)
            .default(0)
            .interact()?;
        match pick {
            0 => {}
            1 => {
                let args = deploy_args(&args, DEFAULT_RATE_LIMIT, None, false);
                let outcome = deploy::apply(&global, &session, &observed, &args, deploy::code(&args)?).await?;
                eprint!("{outcome}");
                return Ok(());
            }
            2 => {
                let outcome = teardown::run(
                    &global,
                    TeardownArgs {
                        yes: false,
                        keep_config: false,
                    },
                )
                .await?;
                eprint!("{outcome}");
                return Ok(());
            }
            _ => return Ok(()),
        }
    }

    let zones = crate::aws::zone::list(&session.clients.route53).await?;
    if zones.is_empty() {
        anyhow::bail!("this account has no Route53 hosted zone; create one for your domain first");
    }
    let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
    let zone = &zones[Select::with_theme(&theme)
        .with_prompt("Hosted zone")
        .items(&names)
        .default(0)
        .interact()?];
    let zone_name = zone.name.clone();
    let hostname: String = Input::with_theme(&theme)
        .with_prompt(format!("Hostname (in {zone_name})"))
        .validate_with(|input: &String| in_zone(input, &zone_name).map(drop))
        .interact_text()?;
    let hostname = in_zone(&hostname, &zone_name).map_err(anyhow::Error::msg)?;
    let types = ["IPv4 (A)", "IPv6 (AAAA)", "Both (A and AAAA)"];
    let record_type = match Select::with_theme(&theme)
        .with_prompt("Record types")
        .items(types)
        .default(0)
        .interact()?
    {
        0 => RecordType::A,
        1 => RecordType::Aaaa,
        _ => RecordType::Dual,
    };
    let ttl: i64 = Input::with_theme(&theme)
        .with_prompt("TTL (seconds)")
        .default(60)
        .validate_with(|t: &i64| {
            if (0..=i64::from(i32::MAX)).contains(t) {
                Ok(())
            } else {
                Err("0 to 2147483647")
            }
        })
        .interact_text()?;
    let rate_limit: f64 = Input::with_theme(&theme)
        .with_prompt("Rate limit (requests per second for the whole endpoint)")
        .default(DEFAULT_RATE_LIMIT)
        .validate_with(|r: &f64| if *r > 0.0 { Ok(()) } else { Err("must be positive") })
        .interact_text()?;
    // A new stack may get a name of its own; an existing one keeps what it
    // has (`deploy --domain` changes it).
    let domain = if exists {
        None
    } else {
        let answer: String = Input::with_theme(&theme)
            .with_prompt("Serve the endpoint at a name of your own, e.g. ddns.example.com (empty: the execute-api URL)")
            .allow_empty(true)
            .validate_with(|d: &String| own_domain(d, &zones).map(drop))
            .interact_text()?;
        own_domain(&answer, &zones).map_err(anyhow::Error::msg)?
    };
    let formats = [
        ("ddns-ctl update from cron", ClientFormat::Cron),
        ("ddns-ctl update from a systemd timer", ClientFormat::Systemd),
        ("a shell script (curl)", ClientFormat::Sh),
        ("ddclient", ClientFormat::Ddclient),
        ("inadyn", ClientFormat::Inadyn),
        ("FRITZ!Box", ClientFormat::Fritzbox),
        ("OPNsense", ClientFormat::Opnsense),
        ("OpenWrt", ClientFormat::Openwrt),
        ("UniFi", ClientFormat::Unifi),
    ];
    let labels: Vec<&str> = formats.iter().map(|(label, _)| *label).collect();
    let format = formats[Select::with_theme(&theme)
        .with_prompt("Client")
        .items(&labels)
        .default(0)
        .interact()?]
    .1;
    // Certificates for the host through acme-dns (DNS-01), with the ACME
    // client the user runs.
    let acme_client = if Confirm::with_theme(&theme)
        .with_prompt(format!(
            "Also issue TLS certificates for {hostname} (and *.{hostname}) through DNS-01?"
        ))
        .default(false)
        .interact()?
    {
        let clients = [
            ("lego", ClientFormat::Lego),
            ("certbot (certbot-dns-acmedns)", ClientFormat::Certbot),
            ("acme.sh", ClientFormat::AcmeSh),
            ("Caddy", ClientFormat::Caddy),
            ("Traefik", ClientFormat::Traefik),
            ("another acme-dns client (its storage JSON)", ClientFormat::AcmeDnsJson),
        ];
        let labels: Vec<&str> = clients.iter().map(|(label, _)| *label).collect();
        Some(
            clients[Select::with_theme(&theme)
                .with_prompt("ACME client")
                .items(&labels)
                .default(0)
                .interact()?]
            .1,
        )
    } else {
        None
    };
    // On a stack whose alerts are on, an empty address keeps them as they
    // are, and the new host may still get a silence alarm.
    let alerts_on = observed.topic.as_ref().is_some_and(|t| t.tagged);
    let alert_email: String = Input::with_theme(&theme)
        .with_prompt(if alerts_on {
            "Another email address for alerts (empty: alerts stay as they are)"
        } else {
            "Email address for alerts (empty: no alerts)"
        })
        .allow_empty(true)
        .validate_with(|e: &String| {
            let e = e.trim();
            if e.is_empty() || alerts::valid_email(e) {
                Ok(())
            } else {
                Err(format!("'{e}' is not an email address"))
            }
        })
        .interact_text()?;
    let alert_email = Some(alert_email.trim().to_owned()).filter(|e| !e.is_empty());
    let alert_after = match &alert_email {
        None if !alerts_on => None,
        _ => {
            let answer: String = Input::with_theme(&theme)
                .with_prompt(format!("Alert when {hostname} sends no update for (5m to 7d, or none)"))
                .default(silence_default(format).to_owned())
                .validate_with(|t: &String| silence(t).map(drop))
                .interact_text()?;
            let after = silence(&answer).map_err(anyhow::Error::msg)?;
            if after.is_some() {
                alerts::silence_fits(&session.names, hostname.as_str())?;
            }
            after
        }
    };

    let alerting = match (&alert_email, alert_after) {
        (None, None) => String::new(),
        (None, Some(secs)) => format!(
            "; silence alarm after {}",
            humantime::format_duration(Duration::from_secs(secs))
        ),
        (Some(email), None) => format!("; alerts to {email}, no silence alarm"),
        (Some(email), Some(secs)) => format!(
            "; alerts to {email}, silence alarm after {}",
            humantime::format_duration(Duration::from_secs(secs))
        ),
    };
    let at = domain
        .as_deref()
        .map(|d| format!(" at https://{d}/ (a free ACM certificate; ACM issues it within minutes)"))
        .unwrap_or_default();
    eprintln!(
        "\nPlan: {} stack {}{at} in {} (account {}), rate limit {rate_limit}/s; \
         add {} ({:?}, TTL {ttl}) in zone {}{alerting}.",
        if exists { "keep" } else { "deploy" },
        session.names.stack,
        session.names.region,
        session.names.account,
        hostname,
        record_type,
        zone_name
    );
    if alert_email.is_some() {
        eprintln!("{}", alerts::ENABLE_COST);
    }
    if alert_after.is_some() {
        eprintln!("{}", alerts::ALERT_AFTER_COST);
    }
    if !Confirm::with_theme(&theme)
        .with_prompt("Go ahead?")
        .default(true)
        .interact()?
    {
        anyhow::bail!("cancelled; nothing was changed");
    }

    let deployed = if exists {
        None
    } else {
        let args = deploy_args(&args, rate_limit, domain.clone(), true);
        let outcome = deploy::apply(&global, &session, &observed, &args, deploy::code(&args)?).await?;
        eprint!("{outcome}");
        outcome.endpoint().map(str::to_owned)
    };
    // Exactly `alerts enable --email`, on the stack as the deploy left it.
    let enabled = match &alert_email {
        Some(email) => {
            let enabled = alerts::enable_email(&global, &session, email).await?;
            eprint!("{enabled}");
            Some(enabled)
        }
        None => None,
    };
    // The key the deployed function reads, as observed; a new stack's is
    // the default.
    let key = observed
        .function
        .as_ref()
        .and_then(|f| f.environment.get(ddns_handler::service::env::KEY).cloned())
        .unwrap_or_else(|| DEFAULT_KEY.to_owned());
    let added = host::add(
        &session,
        &key,
        HostAddArgs {
            host: hostname.to_string(),
            zone_id: Some(zone.id.clone()),
            ttl,
            record_type,
            secret_stdin: false,
            allow_private_addresses: false,
            alert_after,
            notify_on_change: false,
            acme: acme_client.is_some(),
            acme_allow_from: vec![],
        },
    )
    .await?;
    eprint!("{added}");
    // The client setup names the endpoint clients keep (the domain, once
    // there is one); `--check-url` changes only where the check goes.
    let endpoint = deployed
        .or_else(|| added.endpoint.clone())
        .or_else(|| args.check_url.clone())
        .context("the stack has no endpoint")?;
    let (host_name, secret) = (added.host.as_str(), added.secret.as_str());
    eprintln!("\nClient setup ({format:?}):\n");
    println!("{}", client_config::render(format, &endpoint, host_name, secret)?);
    if let (Some(acme_format), Some(acme)) = (acme_client, &added.acme)
        && let Some(key) = &acme.password
    {
        eprintln!("\nCertificate client setup ({acme_format:?}); it holds the account's key:\n");
        println!(
            "{}",
            client_config::render_acme(acme_format, host_name, &acme.account, key, &endpoint)?
        );
    }
    let endpoint = args.check_url.clone().unwrap_or(endpoint);
    let checked = live_check(&endpoint, host_name, secret).await;
    let dns = ddns_handler::dns::Dns::new(session.clients.route53.clone());
    let held = match dns.current(&zone.id, host_name, added.record_type).await {
        Ok(current) => {
            let values: Vec<String> = current.a.iter().chain(&current.aaaa).cloned().collect();
            let shown = if values.is_empty() {
                "no address yet".to_owned()
            } else {
                values.join(", ")
            };
            eprintln!("Route53 now holds for {}: {shown}", host_name);
            Some(values)
        }
        Err(err) => {
            eprintln!("Could not read {}'s record: {err}", host_name);
            None
        }
    };
    if let Some(enabled) = &enabled {
        let confirmed = enabled
            .report
            .subscriptions
            .iter()
            .any(|s| s.confirmed && s.endpoint.eq_ignore_ascii_case(&enabled.email));
        if confirmed {
            eprintln!("Alerts go to {}, a confirmed subscription.", enabled.email);
        } else {
            eprintln!(
                "Alerts: AWS sent a confirmation email to {}; no alert arrives until its link is followed \
                 (`ddns-ctl alerts status` shows the subscription pending until then).",
                enabled.email
            );
        }
    }
    // The stack and the host are in place whatever the check says; a check
    // that did not pass is still a failure, so that nobody walks away from a
    // host that does not update.
    let retry = format!(
        "the stack is deployed and {host} is added; once the cause is fixed, check again with: \
         ddns-ctl update --url {endpoint} --hostname {host} --secret-file FILE (the secret above)",
        host = host_name
    );
    match (checked, held) {
        (Ok(ip), Some(values)) if values.contains(&ip) => {
            eprintln!("Done: {} points at {ip}.", host_name);
            Ok(())
        }
        (Ok(ip), _) => anyhow::bail!(
            "the live check did not pass: the service accepted {ip} for {}, but Route53 does not hold it; {retry}",
            host_name
        ),
        (Err(failure), _) => anyhow::bail!("the live check did not pass: {failure}; {retry}"),
    }
}

/// The wizard's answer for a domain of one's own: `None` for none; the
/// name, if it is one a certificate can hold and one of `zones` holds it.
fn own_domain(answer: &str, zones: &[crate::aws::zone::Zone]) -> Result<Option<String>, String> {
    let answer = answer.trim();
    if answer.is_empty() {
        return Ok(None);
    }
    let name = crate::aws::custom_domain::parse_name(answer)?;
    let host = Hostname::parse(&name).map_err(|e| e.to_string())?;
    if !zones.iter().any(|z| host.is_within(&z.name)) {
        return Err(format!("{name} is in none of this account's hosted zones"));
    }
    Ok(Some(name))
}

fn deploy_args(args: &SetupArgs, rate_limit: f64, domain: Option<String>, yes: bool) -> DeployArgs {
    DeployArgs {
        arch: args.arch,
        handler_zip: args.handler_zip.clone(),
        build_handler: false,
        sources: None,
        stage: DEFAULT_STAGE.to_owned(),
        rate_limit,
        burst_limit: (rate_limit * 2.0).ceil().max(1.0) as i32,
        log_retention_days: DEFAULT_LOG_RETENTION_DAYS,
        key: DEFAULT_KEY.to_owned(),
        domain,
        no_domain: false,
        disable_execute_api_endpoint: false,
        enable_execute_api_endpoint: false,
        dry_run: false,
        yes,
    }
}

/// What the silence question offers for `format`: an hour for `ddns-ctl
/// update` from cron or a systemd timer, which call every 5 minutes, so an
/// hour is twelve missed calls; none for the others (the script, whose
/// schedule is the user's, and ddclient, inadyn and routers, which call only
/// when the address changes, so any threshold would fire on a quiet line).
fn silence_default(format: ClientFormat) -> &'static str {
    match format {
        ClientFormat::Cron | ClientFormat::Systemd => "1h",
        _ => "none",
    }
}

/// An answer to the silence question: `none` (or nothing) for no silence
/// alarm, else a duration with `--alert-after`'s bounds, in seconds.
fn silence(answer: &str) -> Result<Option<u64>, String> {
    let answer = answer.trim();
    if answer.is_empty() || answer.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    crate::cli::alert_after(answer).map(Some)
}

/// `input` as a host in `zone`: a full name inside it, or a label to put in
/// front of it.
fn in_zone(input: &str, zone: &str) -> Result<Hostname, String> {
    let full = if input.contains('.') {
        input.to_owned()
    } else {
        format!("{input}.{zone}")
    };
    let host = Hostname::parse(&full).map_err(|e| e.to_string())?;
    if !host.is_within(zone) {
        return Err(format!("{host} is not inside {zone}"));
    }
    Ok(host)
}

/// The profiles of the AWS config and credentials files, and their regions.
#[derive(Debug, Default, PartialEq, Eq)]
struct Profiles {
    /// Profile names, in file order.
    names: Vec<String>,
    /// The `region` each profile of the config file sets.
    regions: std::collections::BTreeMap<String, String>,
}

impl Profiles {
    /// Reads `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE` (default
    /// `~/.aws/config` and `~/.aws/credentials`); missing files are empty.
    fn load() -> Self {
        let home = std::env::var_os("HOME")
            .map(std::path::PathBuf::from)
            .unwrap_or_default();
        let read = |var: &str, default: &str| {
            let path = std::env::var_os(var)
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| home.join(default));
            std::fs::read_to_string(path).unwrap_or_default()
        };
        Self::parse(
            &read("AWS_CONFIG_FILE", ".aws/config"),
            &read("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"),
        )
    }

    /// In the config file only `[default]` and `[profile NAME]` are profiles
    /// (`[sso-session …]` and `[services …]` are not); in the credentials
    /// file every section is one.
    fn parse(config: &str, credentials: &str) -> Self {
        let mut profiles = Self::default();
        for (text, in_config) in [(config, true), (credentials, false)] {
            let mut current: Option<String> = None;
            for line in text.lines().map(str::trim) {
                if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                    let section = section.trim();
                    current = match (in_config, section.strip_prefix("profile ")) {
                        (true, Some(name)) => Some(name.trim().to_owned()),
                        (true, None) if section == "default" => Some(section.to_owned()),
                        (true, None) => None,
                        (false, _) => Some(section.to_owned()),
                    };
                    if let Some(name) = current.as_ref().filter(|n| !n.is_empty())
                        && !profiles.names.contains(name)
                    {
                        profiles.names.push(name.clone());
                    }
                } else if let (true, Some(name), Some((key, value))) = (in_config, &current, line.split_once('='))
                    && key.trim() == "region"
                {
                    profiles.regions.insert(name.clone(), value.trim().to_owned());
                }
            }
        }
        profiles
    }

    /// The region to offer for `profile` (the default profile when none).
    fn region(&self, profile: Option<&str>) -> Option<&str> {
        self.regions.get(profile.unwrap_or("default")).map(String::as_str)
    }
}

/// Why the live check did not pass.
#[derive(Debug, thiserror::Error)]
enum CheckFailure {
    /// The endpoint could not be reached, or answered something else than
    /// the seed API's JSON.
    #[error("the endpoint did not answer {mode} ({reason})")]
    NoAnswer { mode: &'static str, reason: String },
    /// The service answered, and refused.
    #[error("the service refused the update: {0}")]
    Refused(String),
}

/// How long the check keeps trying an endpoint that is not answering yet: a
/// new API and its invoke permission can take a few seconds to work.
const CHECK_PATIENCE: Duration = Duration::from_secs(30);

/// How long the check keeps trying while the function cannot change the
/// record: the role's policy was just widened for the new host, and IAM takes
/// seconds, at times up to a minute, to let the function use it. Until then
/// Route53 answers the function AccessDenied, which the seed API reports as
/// a 502 with its JSON (dyndns2 as `dnserr`, 502).
const IAM_PATIENCE: Duration = Duration::from_secs(60);

/// The pause between two tries.
const CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// mode=get, then a set, through the endpoint, as a client would. Returns
/// the address the service published.
async fn live_check(endpoint: &str, host: &str, secret: &str) -> Result<String, CheckFailure> {
    eprintln!("Live check through {endpoint}:");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|err| CheckFailure::NoAnswer {
            mode: "mode=get",
            reason: err.to_string(),
        })?;
    let get = seed_call(&client, endpoint, "mode=get", &[("mode", "get")], host).await?;
    let ip = get.message;
    eprintln!("  mode=get: {ip}");
    let hash = ddns_handler::auth::seed_hash(&ip, host, &Secret::new(secret.to_owned()));
    let set = seed_call(
        &client,
        endpoint,
        "mode=set",
        &[("mode", "set"), ("hostname", host), ("hash", &hash)],
        host,
    )
    .await?;
    eprintln!("  mode=set: {}", set.message);
    if set.success {
        Ok(ip)
    } else {
        Err(CheckFailure::Refused(set.message))
    }
}

/// A seed API answer.
struct SeedAnswer {
    success: bool,
    message: String,
}

/// What one try came to.
enum Try {
    /// The service answered; success or a refusal that is the client's
    /// (a non-public address, a wrong proof): never tried again.
    Answered(SeedAnswer),
    /// The function answered that Route53 failed it: worth
    /// [`IAM_PATIENCE`] while the role's new policy propagates.
    Route53Failed(String),
    /// No connection, throttled, or a 5xx from before the function: worth
    /// [`CHECK_PATIENCE`].
    NotYet(String),
}

/// One seed API request, tried again while the endpoint is not answering
/// yet (for up to [`CHECK_PATIENCE`]) or the function may not yet change
/// `host`'s record (for up to [`IAM_PATIENCE`], said once on stderr).
async fn seed_call(
    client: &reqwest::Client,
    endpoint: &str,
    mode: &'static str,
    query: &[(&str, &str)],
    host: &str,
) -> Result<SeedAnswer, CheckFailure> {
    let started = tokio::time::Instant::now();
    let mut said = false;
    loop {
        let (reason, patience) = match seed_try(client, endpoint, mode, query).await? {
            Try::Answered(answer) => return Ok(answer),
            Try::Route53Failed(message) => {
                if !said {
                    eprintln!(
                        "  {mode}: waiting for IAM to let the function change {host}'s record \
                         (the function answered 502: \"{message}\"); a new role policy can take a minute to apply"
                    );
                    said = true;
                }
                (format!("HTTP 502: {message}"), IAM_PATIENCE)
            }
            Try::NotYet(reason) => (reason, CHECK_PATIENCE),
        };
        if started.elapsed() >= patience {
            return Err(CheckFailure::NoAnswer { mode, reason });
        }
        tokio::time::sleep(CHECK_INTERVAL).await;
    }
}

/// One seed API request.
async fn seed_try(
    client: &reqwest::Client,
    endpoint: &str,
    mode: &'static str,
    query: &[(&str, &str)],
) -> Result<Try, CheckFailure> {
    let response = match client.get(endpoint).query(query).send().await {
        Ok(response) => response,
        Err(err) => return Ok(Try::NotYet(err.to_string())),
    };
    let status = response.status();
    let server_side = status.is_server_error() || status.as_u16() == 429;
    let body = response.json::<serde_json::Value>().await;
    let answer = match &body {
        Ok(body) if body["return_message"].is_string() => Some(SeedAnswer {
            success: body["return_status"] == "success",
            message: body["return_message"].as_str().unwrap_or_default().to_owned(),
        }),
        _ => None,
    };
    Ok(match (answer, server_side) {
        // The seed API answers 502 only when Route53 failed the function
        // (`UpdateError::Dns`); an API Gateway 502 has no `return_message`.
        (Some(answer), true) if status.as_u16() == 502 => Try::Route53Failed(answer.message),
        (_, true) => Try::NotYet(format!("HTTP {status}")),
        (Some(answer), false) => Try::Answered(answer),
        (None, false) => {
            return Err(CheckFailure::NoAnswer {
                mode,
                reason: match body {
                    Ok(_) => format!("HTTP {status} without a return_message"),
                    Err(err) => format!("HTTP {status}, not JSON: {err}"),
                },
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_silence_answer_has_the_bounds_of_alert_after() {
        assert_eq!(silence("30m"), Ok(Some(1800)));
        assert_eq!(silence(" 1h "), Ok(Some(3600)));
        assert_eq!(silence("7d"), Ok(Some(7 * 86_400)));
        for none in ["", "none", "None", "  "] {
            assert_eq!(silence(none), Ok(None), "{none:?}");
        }
        for bad in ["4m", "90s", "8d", "1h30s", "soon", "-5m"] {
            assert!(silence(bad).is_err(), "{bad}");
        }
        // Each offered default is itself a valid answer.
        for format in [ClientFormat::Cron, ClientFormat::Systemd, ClientFormat::Ddclient] {
            assert!(silence(silence_default(format)).is_ok());
        }
        assert_eq!(silence(silence_default(ClientFormat::Cron)), Ok(Some(3600)));
        assert_eq!(silence(silence_default(ClientFormat::Inadyn)), Ok(None));
    }

    #[test]
    fn only_profiles_are_offered_with_their_regions() {
        let config = "[default]\nregion = eu-west-1\n\n[profile work]\nregion=us-west-2\nsso_session = corp\n\n\
                      [sso-session corp]\nsso_region = us-east-1\n\n[services local]\ns3 =\n  endpoint_url = x\n";
        let credentials = "[default]\naws_access_key_id = x\n[old]\naws_access_key_id = y\n";
        let profiles = Profiles::parse(config, credentials);
        assert_eq!(profiles.names, ["default", "work", "old"]);
        assert_eq!(profiles.region(None), Some("eu-west-1"));
        assert_eq!(profiles.region(Some("work")), Some("us-west-2"));
        assert_eq!(profiles.region(Some("old")), None);
    }
}
