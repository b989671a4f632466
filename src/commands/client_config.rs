//! `ddns-ctl client-config`: a ready-to-use setup for a host, rendered from
//! `templates/clients/` with the stack's endpoint and the host's secret.

use std::io::IsTerminal as _;

use anyhow::Context as _;
use ddns_handler::hostname::Hostname;

use super::Session;
use crate::aws::custom_domain;
use crate::cli::{ClientFormat, GlobalArgs};

/// The template for each format.
fn template(format: ClientFormat) -> &'static str {
    match format {
        ClientFormat::Sh => include_str!("../../templates/clients/update.sh"),
        ClientFormat::Systemd => include_str!("../../templates/clients/systemd.txt"),
        ClientFormat::Cron => include_str!("../../templates/clients/cron.txt"),
        ClientFormat::Ddclient => include_str!("../../templates/clients/ddclient.conf"),
        ClientFormat::Inadyn => include_str!("../../templates/clients/inadyn.conf"),
        ClientFormat::Fritzbox => include_str!("../../templates/clients/fritzbox.txt"),
        ClientFormat::Opnsense => include_str!("../../templates/clients/opnsense.txt"),
        ClientFormat::Openwrt => include_str!("../../templates/clients/openwrt.txt"),
        ClientFormat::Unifi => include_str!("../../templates/clients/unifi.txt"),
        // Not a template: `render_acme` writes it, from the account.
        ClientFormat::AcmeDnsJson => "",
        ClientFormat::Lego => include_str!("../../templates/clients/acme/lego.sh"),
        ClientFormat::AcmeSh => include_str!("../../templates/clients/acme/acme.sh.txt"),
        ClientFormat::Certbot => include_str!("../../templates/clients/acme/certbot.sh"),
        ClientFormat::Caddy => include_str!("../../templates/clients/acme/Caddyfile"),
        ClientFormat::Traefik => include_str!("../../templates/clients/acme/traefik.txt"),
    }
}

/// How a value is written where a template puts it: `{{name}}` is a value
/// that is safe anywhere (the host name, the checked URL parts, flags);
/// `{{name:QUOTING}}` is quoted for the syntax around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// One POSIX shell word in single quotes (also UCI's syntax, which
    /// quotes the same way).
    Sh,
    /// ddclient's `password=` value: ddclient takes everything between the
    /// first and the last single quote of the line as it is, with no escapes.
    Ddclient,
    /// A shell word in a crontab line, where `%` means a newline unless
    /// escaped.
    Cron,
    /// One argument of a systemd `Exec*=` line: double quotes with C-style
    /// escapes, `%` and `$` doubled (specifiers and variables).
    Systemd,
    /// A libconfuse string (inadyn): double quotes with backslash escapes.
    Confuse,
}

impl Quoting {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "sh" => Self::Sh,
            "ddclient" => Self::Ddclient,
            "cron" => Self::Cron,
            "systemd" => Self::Systemd,
            "confuse" => Self::Confuse,
            _ => return None,
        })
    }

    fn quote(self, value: &str) -> String {
        match self {
            Self::Sh => format!("'{}'", value.replace('\'', r"'\''")),
            Self::Ddclient => format!("'{value}'"),
            Self::Cron => Self::Sh.quote(value).replace('%', r"\%"),
            Self::Systemd => {
                let escaped = value
                    .replace('\\', r"\\")
                    .replace('"', r#"\""#)
                    .replace('%', "%%")
                    .replace('$', "$$");
                format!("\"{escaped}\"")
            }
            Self::Confuse => format!("\"{}\"", value.replace('\\', r"\\").replace('"', r#"\""#)),
        }
    }
}

/// Why a setup cannot be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The endpoint is not a plain http(s) URL.
    #[error(
        "'{0}' is not a usable endpoint: give an http(s) URL with no user, query or fragment, whose path has only letters, digits and - . _ ~ /"
    )]
    Endpoint(String),
    /// The host is not a host name.
    #[error("'{0}' is not a host name")]
    Host(String),
    /// A format that is made from an acme-dns account, not a template.
    #[error("that format is made from the host's acme-dns account: pass --acme-key-file")]
    NotATemplate,
    /// The secret cannot be written into a setup file.
    #[error(
        "the secret contains control characters, which no client setup can hold; rotate it with `ddns-ctl host rotate-secret`"
    )]
    Secret,
}

/// Fills a client template. `endpoint` is the stage URL with its trailing
/// slash, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod/`.
/// Every value is checked or quoted for the format, so that no host name,
/// URL or secret can break out of the place it is written into.
pub fn render(format: ClientFormat, endpoint: &str, host: &str, secret: &str) -> Result<String, RenderError> {
    if !format.updates() {
        return Err(RenderError::NotATemplate);
    }
    let Endpoint {
        url: endpoint,
        api_host,
        stage_path,
        https,
    } = Endpoint::parse(endpoint)?;
    let host = checked_host(host)?;
    if secret.chars().any(char::is_control) {
        return Err(RenderError::Secret);
    }
    let values = [
        ("endpoint", endpoint.as_str()),
        ("api_host", &api_host),
        ("stage_path", &stage_path),
        ("host", &host),
        ("host_file", host.trim_end_matches('.')),
        ("secret", secret),
        ("ssl", if https { "true" } else { "false" }),
        ("ssl_yes_no", if https { "yes" } else { "no" }),
    ];
    Ok(fill(template(format), &values))
}

/// A host name in normal form, or the error that names it.
fn checked_host(host: &str) -> Result<String, RenderError> {
    Hostname::parse(host)
        .map(|h| h.to_string())
        .map_err(|_| RenderError::Host(host.to_owned()))
}

/// An endpoint URL split as the templates write it.
struct Endpoint {
    /// The URL, with the stage path's trailing slash.
    url: String,
    /// Host and port.
    api_host: String,
    /// The stage path, ending in `/`.
    stage_path: String,
    /// Whether it is https.
    https: bool,
}

impl Endpoint {
    /// A plain http(s) URL with no user, query or fragment, whose path has
    /// only characters that need no quoting anywhere.
    fn parse(endpoint: &str) -> Result<Self, RenderError> {
        let bad_endpoint = || RenderError::Endpoint(endpoint.to_owned());
        let url = reqwest::Url::parse(endpoint).map_err(|_| bad_endpoint())?;
        let plain_path = url
            .path()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~/".contains(c));
        if !matches!(url.scheme(), "http" | "https")
            || !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
            || !plain_path
        {
            return Err(bad_endpoint());
        }
        let mut api_host = url.host_str().ok_or_else(bad_endpoint)?.to_owned();
        if let Some(port) = url.port() {
            api_host.push_str(&format!(":{port}"));
        }
        let mut stage_path = url.path().to_owned();
        if !stage_path.ends_with('/') {
            stage_path.push('/');
        }
        Ok(Self {
            url: format!("{}://{api_host}{stage_path}", url.scheme()),
            https: url.scheme() == "https",
            api_host,
            stage_path,
        })
    }
}

/// Replaces every `{{name}}` and `{{name:QUOTING}}` in `template`.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else { break };
        let placeholder = &rest[start + 2..start + end];
        let (name, quoting) = match placeholder.split_once(':') {
            Some((name, quoting)) => (name, Quoting::parse(quoting)),
            None => (placeholder, None),
        };
        match values.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => match quoting {
                Some(quoting) => out.push_str(&quoting.quote(value)),
                None => out.push_str(value),
            },
            // Left as it is, so the template tests see it.
            None => out.push_str(&rest[start..start + end + 2]),
        }
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

/// Prints the setup for `host`, or writes it to `out` with mode 600.
pub async fn run(
    global: &GlobalArgs,
    host: &str,
    format: ClientFormat,
    url: Option<String>,
    out: Option<std::path::PathBuf>,
    acme_key_file: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let session = Session::connect(global).await?;
    let key = session.config_key().await;
    let config = session.config(&key).current().await?;
    let entry = config
        .host(host)
        .with_context(|| format!("{host} is not a host of stack {}", session.names.stack))?;
    let endpoint = match url {
        Some(url) => url,
        None => custom_domain::endpoint(&session.clients, &session.names)
            .await?
            .context("the stack has no endpoint yet: run `ddns-ctl deploy`, or pass --url")?,
    };
    let setup = match format {
        format if format.updates() => render(format, &endpoint, entry.name, entry.config.shared_secret.expose())?,
        format => {
            let (account, key) = acme_account(entry, acme_key_file.as_deref())?;
            render_acme(format, entry.name, account, &key, &endpoint)?
        }
    };
    match out {
        Some(path) => {
            write_private(&path, &setup).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("Wrote {} (mode 600: it holds the secret).", path.display());
        }
        None => {
            if !std::io::stdout().is_terminal() {
                eprintln!(
                    "note: this setup holds the secret; a file made by a redirect is as private as your umask \
                     (run `umask 077` first), or use --out FILE, which writes mode 600"
                );
            }
            print!("{setup}");
        }
    }
    Ok(())
}

/// `entry`'s acme-dns account and its key, read from `key_file` and checked
/// against the account's hash, so that a wrong key never makes a setup
/// that fails at the first certificate.
fn acme_account<'a>(
    entry: ddns_handler::config::Host<'a>,
    key_file: Option<&std::path::Path>,
) -> anyhow::Result<(&'a ddns_handler::config::AcmeAccount, String)> {
    let account = entry.config.acme.as_ref().with_context(|| {
        format!(
            "{} has no acme-dns account; give it one with `ddns-ctl host set {} --acme`",
            entry.name, entry.name
        )
    })?;
    let path = key_file.context(
        "this format needs the acme-dns account's key: pass --acme-key-file FILE (or - for standard input); \
         ddns-ctl keeps only its hash, and `ddns-ctl host rotate-secret HOST --acme` makes a new one",
    )?;
    let key = if path == std::path::Path::new("-") {
        crate::secret::read_stdin().context("cannot read the key from standard input")?
    } else {
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .trim()
            .to_owned()
    };
    if crate::acme::key_sha256(&key) != account.key_sha256 {
        anyhow::bail!(
            "that is not the key of {}'s acme-dns account (`ddns-ctl host rotate-secret {} --acme` makes a new one)",
            entry.name,
            entry.name
        );
    }
    Ok((account, key))
}

/// The setup of an ACME client for `host`'s acme-dns `account` with `key`:
/// acme-dns's storage JSON itself, or a template built on it. Every value
/// is a UUID, base64url, a host name or a checked URL, and is quoted where
/// a shell reads it.
pub fn render_acme(
    format: ClientFormat,
    host: &str,
    account: &ddns_handler::config::AcmeAccount,
    key: &str,
    endpoint: &str,
) -> Result<String, RenderError> {
    // The same checks as an update client's endpoint and host; the account's
    // values are UUIDs and base64url, made by ddns-ctl.
    let endpoint = Endpoint::parse(endpoint)?.url;
    let host = checked_host(host)?;
    let storage = crate::acme::storage(&host, account, key, &endpoint);
    let storage = serde_json::to_string_pretty(&storage).unwrap_or_default();
    if format == ClientFormat::AcmeDnsJson {
        return Ok(format!("{storage}\n"));
    }
    let host = host.trim_end_matches('.');
    let wildcard = format!("*.{host}");
    let api_base = crate::acme::server(&endpoint);
    let values = [
        ("host", host),
        ("wildcard", wildcard.as_str()),
        ("storage", storage.as_str()),
        ("api_base", api_base.as_str()),
        ("username", account.username.as_str()),
        ("password", key),
        ("subdomain", account.subdomain.as_str()),
    ];
    Ok(fill(template(format), &values))
}

/// Writes `text` to `path` so that only its owner can read it, from the
/// first byte: the file is created (or truncated) with mode 600, and an
/// existing file's mode is narrowed before anything is written.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.set_len(0)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum as _;

    #[test]
    fn every_format_renders_every_placeholder() {
        for format in ClientFormat::value_variants().iter().filter(|f| f.updates()) {
            let text = render(
                *format,
                "https://abc.execute-api.eu-west-1.amazonaws.com/prod/",
                "h.example.com.",
                "S3CRET",
            )
            .unwrap();
            assert!(!text.contains("{{"), "{format:?} left a placeholder:\n{text}");
            assert!(text.contains("h.example.com"), "{format:?}");
        }
    }

    #[test]
    fn urls_split_into_host_and_stage_path() {
        let text = render(
            ClientFormat::Inadyn,
            "http://127.0.0.1:8080/prod",
            "h.example.com.",
            "s",
        )
        .unwrap();
        assert!(text.contains(r#"ddns-server    = "127.0.0.1:8080""#), "{text}");
        assert!(
            text.contains(r#"ddns-path      = "/prod/nic/update?hostname=%h&myip=%i""#),
            "{text}"
        );
        assert!(text.contains("ssl            = false"), "{text}");
        let text = render(
            ClientFormat::Ddclient,
            "https://abc.example/prod/",
            "h.example.com.",
            "s",
        )
        .unwrap();
        assert!(text.contains("server=abc.example\nscript=/prod/nic/update"), "{text}");
        assert!(render(ClientFormat::Sh, "not a url", "h", "s").is_err());
    }

    /// A secret a passphrase manager may well produce, with every character
    /// that means something to a shell, systemd, cron or libconfuse.
    const HOSTILE: &str = r#"it's "a" $(touch PWNED) `x` %d \ ;|&<>*?~#!{}[]"#;

    #[test]
    fn every_quoting_keeps_hostile_values_data() {
        assert_eq!(Quoting::Sh.quote("it's"), r"'it'\''s'");
        assert_eq!(Quoting::Cron.quote("50%"), r"'50\%'");
        assert_eq!(Quoting::Systemd.quote(r#"a"b\c%d$e"#), r#""a\"b\\c%%d$$e""#);
        assert_eq!(Quoting::Confuse.quote(r#"a"b\c"#), r#""a\"b\\c""#);
        // The shell reads the quoted word back as exactly the value.
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", Quoting::Sh.quote(HOSTILE)))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), HOSTILE);
    }

    #[test]
    fn hostile_values_never_reach_a_template_unquoted() {
        for format in ClientFormat::value_variants().iter().filter(|f| f.updates()) {
            let text = render(*format, "https://abc.example/prod/", "h.example.com.", HOSTILE).unwrap();
            assert!(!text.contains("{{"), "{format:?}");
            // Only the formats a person reads, and ddclient's password
            // (quoted without escapes), show the secret as it is.
            let raw = text.contains(HOSTILE);
            let for_people = matches!(
                format,
                ClientFormat::Fritzbox | ClientFormat::Opnsense | ClientFormat::Unifi | ClientFormat::Ddclient
            );
            assert_eq!(raw, for_people, "{format:?}:\n{text}");
        }
        let sh = render(ClientFormat::Sh, "https://abc.example/prod/", "h.example.com.", HOSTILE).unwrap();
        let check = std::process::Command::new("sh")
            .arg("-n")
            .arg("-c")
            .arg(&sh)
            .output()
            .unwrap();
        assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    }

    #[test]
    fn values_that_cannot_be_written_safely_are_refused() {
        let render = |endpoint: &str, host: &str, secret: &str| render(ClientFormat::Sh, endpoint, host, secret);
        assert!(matches!(
            render("https://a.example/prod'x/", "h.example.com.", "s"),
            Err(RenderError::Endpoint(_))
        ));
        assert!(matches!(
            render("https://u:p@a.example/prod/", "h.example.com.", "s"),
            Err(RenderError::Endpoint(_))
        ));
        assert!(matches!(
            render("https://a.example/prod/?x=1", "h.example.com.", "s"),
            Err(RenderError::Endpoint(_))
        ));
        assert!(matches!(
            render("https://a.example/prod/", "h'.example.com.", "s"),
            Err(RenderError::Host(_))
        ));
        assert!(matches!(
            render("https://a.example/prod/", "h.example.com.", "line\nbreak"),
            Err(RenderError::Secret)
        ));
    }

    fn acme_account() -> (ddns_handler::config::AcmeAccount, String) {
        crate::acme::new_account(vec![]).unwrap()
    }

    #[test]
    fn every_acme_format_carries_the_account_and_both_names() {
        let (account, key) = acme_account();
        for format in ClientFormat::value_variants().iter().filter(|f| !f.updates()) {
            let text = render_acme(*format, "h.example.com.", &account, &key, "https://ddns.example.com/").unwrap();
            assert!(!text.contains("{{"), "{format:?} left a placeholder:\n{text}");
            for value in [
                "h.example.com",
                "*.h.example.com",
                key.as_str(),
                account.username.as_str(),
                account.subdomain.as_str(),
                "https://ddns.example.com/acme-dns",
            ] {
                assert!(text.contains(value), "{format:?} lacks {value}:\n{text}");
            }
        }
        assert!(matches!(
            render(ClientFormat::Lego, "https://ddns.example.com/", "h.example.com", "s"),
            Err(RenderError::NotATemplate)
        ));
    }

    /// Runs the rendered `format` script with `sh`, a stub of `program` on
    /// PATH that records its arguments and environment, and `env`.
    fn run_script(
        format: ClientFormat,
        program: &str,
        args: &[&str],
        env: &[(&str, &std::path::Path)],
    ) -> (tempfile::TempDir, String, String) {
        let (account, key) = acme_account();
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("setup.sh");
        let storage = render_acme(
            ClientFormat::AcmeDnsJson,
            "h.example.com.",
            &account,
            &key,
            "https://ddns.example.com/",
        )
        .unwrap();
        std::fs::write(
            &script,
            render_acme(format, "h.example.com.", &account, &key, "https://ddns.example.com/").unwrap(),
        )
        .unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let stub = bin.join(program);
        std::fs::write(
            &stub,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" > {0}/args\nprintf '%s\\n' \"$ACME_DNS_API_BASE\" > {0}/api\n",
                dir.path().display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut command = std::process::Command::new("sh");
        command
            .arg(&script)
            .args(args)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env_remove("ACME_DNS_STORAGE_PATH");
        for (name, value) in env {
            command.env(name, value);
        }
        let out = command.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
        (dir, args, storage)
    }

    #[test]
    fn the_lego_script_writes_the_storage_beside_itself_and_runs_lego_with_the_users_flags() {
        let (dir, args, storage) = run_script(
            ClientFormat::Lego,
            "lego",
            &["--email", "me@example.com", "--accept-tos"],
            &[],
        );
        assert_eq!(
            args,
            "--dns\nacme-dns\n--domains\nh.example.com\n--domains\n*.h.example.com\n--email\nme@example.com\n--accept-tos\nrun\n"
        );
        let written = dir.path().join("acme-dns-h.example.com.json");
        assert_eq!(std::fs::read_to_string(&written).unwrap(), storage);
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&written).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("api")).unwrap(),
            "https://ddns.example.com/acme-dns\n"
        );
        // ACME_DNS_STORAGE_PATH, when set, is where it goes.
        let elsewhere = tempfile::tempdir().unwrap();
        let path = elsewhere.path().join("store.json");
        let (_dir, _, storage) = run_script(ClientFormat::Lego, "lego", &[], &[("ACME_DNS_STORAGE_PATH", &path)]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), storage);
    }

    #[test]
    fn the_certbot_script_writes_the_plugin_s_files_and_runs_certbot() {
        let target = tempfile::tempdir().unwrap();
        let (_dir, args, storage) = run_script(
            ClientFormat::Certbot,
            "certbot",
            &["--agree-tos"],
            &[("CERTBOT_ACMEDNS_DIR", target.path())],
        );
        let ini = target.path().join("acmedns-h.example.com.ini");
        let registration = target.path().join("acmedns-h.example.com.json");
        assert_eq!(std::fs::read_to_string(&registration).unwrap(), storage);
        let ini_text = std::fs::read_to_string(&ini).unwrap();
        assert!(
            ini_text.contains("dns_acmedns_api_url = https://ddns.example.com/acme-dns\n"),
            "{ini_text}"
        );
        assert!(
            ini_text.contains(&format!("dns_acmedns_registration_file = {}", registration.display())),
            "{ini_text}"
        );
        assert!(
            args.starts_with("certonly\n--authenticator\ndns-acmedns\n--dns-acmedns-credentials\n"),
            "{args}"
        );
        assert!(
            args.ends_with("-d\nh.example.com\n-d\n*.h.example.com\n--agree-tos\n"),
            "{args}"
        );
        let status = std::process::Command::new("sh")
            .arg("-n")
            .arg({
                let f = target.path().join("acme.sh");
                let (account, key) = acme_account();
                std::fs::write(
                    &f,
                    render_acme(
                        ClientFormat::AcmeSh,
                        "h.example.com",
                        &account,
                        &key,
                        "https://ddns.example.com/",
                    )
                    .unwrap(),
                )
                .unwrap();
                f
            })
            .status()
            .unwrap();
        assert!(status.success(), "the acme.sh setup is not valid sh");
    }
}
