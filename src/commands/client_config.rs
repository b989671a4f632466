//! `ddns-ctl client-config`: a ready-to-use setup for a host, rendered from
//! `templates/clients/` with the stack's endpoint and the host's secret.

use anyhow::Context as _;

use super::Session;
use crate::aws::api;
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
    }
}

/// Fills a client template. `endpoint` is the stage URL with its trailing
/// slash, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod/`.
pub fn render(format: ClientFormat, endpoint: &str, host: &str, secret: &str) -> anyhow::Result<String> {
    let url = reqwest::Url::parse(endpoint).with_context(|| format!("'{endpoint}' is not a URL"))?;
    let mut api_host = url.host_str().context("the endpoint has no host")?.to_owned();
    if let Some(port) = url.port() {
        api_host.push_str(&format!(":{port}"));
    }
    let mut stage_path = url.path().to_owned();
    if !stage_path.ends_with('/') {
        stage_path.push('/');
    }
    let endpoint = format!("{}://{api_host}{stage_path}", url.scheme());
    let https = url.scheme() == "https";
    let values = [
        ("endpoint", endpoint.as_str()),
        ("api_host", &api_host),
        ("stage_path", &stage_path),
        ("host", host),
        ("host_file", host.trim_end_matches('.')),
        ("secret", secret),
        ("ssl", if https { "true" } else { "false" }),
        ("ssl_yes_no", if https { "yes" } else { "no" }),
    ];
    let mut text = template(format).to_owned();
    for (name, value) in values {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    Ok(text)
}

/// Prints the setup for `host`.
pub async fn run(global: &GlobalArgs, host: &str, format: ClientFormat, url: Option<String>) -> anyhow::Result<()> {
    let session = Session::connect(global).await?;
    let key = session.config_key().await;
    let config = session.config(&key).current().await?;
    let entry = config
        .host(host)
        .with_context(|| format!("{host} is not a host of stack {}", session.names.stack))?;
    let endpoint = match url {
        Some(url) => url,
        None => api::endpoint(&session.clients.apigateway, &session.names)
            .await?
            .context("the stack has no endpoint yet: run `ddns-ctl deploy`, or pass --url")?,
    };
    print!(
        "{}",
        render(format, &endpoint, entry.name, entry.config.shared_secret.expose())?
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum as _;

    #[test]
    fn every_format_renders_every_placeholder() {
        for format in ClientFormat::value_variants() {
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
}
