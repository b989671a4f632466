//! `ddns-ctl logs`: the function's request lines (see
//! `ddns_handler::record`) from its log group, once or, with `--follow`,
//! until Ctrl-C.

use std::collections::HashMap;
use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use ddns_handler::hostname::Hostname;

use super::Session;
use crate::aws::log_events::{self, Request};
use crate::cli::{GlobalArgs, LogsArgs, OutputFormat};

/// How far back each `--follow` poll looks again: CloudWatch may store an
/// event a while after its timestamp (Lambda ships lines in batches), so a
/// poll that started at the newest time printed would miss one that
/// arrived late with an older time. Event ids keep the overlap from
/// printing anything twice.
const LATE: Duration = Duration::from_secs(120);

/// Prints the request lines of the last `--since`, then follows.
pub async fn run(global: &GlobalArgs, args: LogsArgs) -> anyhow::Result<()> {
    let host = match &args.host {
        Some(host) => Some(record_name(host)?),
        None => None,
    };
    let poll = Duration::try_from_secs_f64(args.poll_interval)
        .ok()
        .filter(|p| !p.is_zero())
        .context("--poll-interval must be a positive number of seconds")?;
    let session = Session::connect(global).await?;
    let group = session.names.log_group.clone();
    let logs = &session.clients.logs;
    let mut start = now_ms().saturating_sub(millis(*args.since));
    let mut printer = Printer {
        output: global.output,
        printed: HashMap::new(),
        newest: start,
        closed: false,
    };
    let found = log_events::requests(logs, &group, host.as_deref(), start, None, &mut |page| {
        printer.print(page)
    })
    .await?;
    if !found && !args.follow {
        anyhow::bail!(
            "stack {} has no log group {group}: it is not deployed, or its function has not run yet",
            session.names.stack
        );
    }
    if !args.follow {
        return Ok(());
    }
    loop {
        // `logs --follow | head` ends when its reader does.
        if printer.closed {
            return Ok(());
        }
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
        start = start.max(printer.newest.saturating_sub(millis(LATE)));
        // Ids older than the window cannot come again; forgetting them keeps
        // a long follow to the last two minutes' worth.
        printer.printed.retain(|_, at| *at >= start);
        log_events::requests(logs, &group, host.as_deref(), start, None, &mut |page| {
            printer.print(page)
        })
        .await?;
    }
}

/// Prints each request once, however often the polls' windows overlap.
struct Printer {
    output: OutputFormat,
    /// Each id printed, with its time.
    printed: HashMap<String, i64>,
    /// The newest time printed.
    newest: i64,
    /// Standard output was closed by its reader.
    closed: bool,
}

impl Printer {
    fn print(&mut self, page: Vec<Request>) {
        let mut out = std::io::stdout().lock();
        for request in page {
            if self.printed.insert(request.id.clone(), request.at_ms).is_some() {
                continue;
            }
            self.newest = self.newest.max(request.at_ms);
            let written = match self.output {
                OutputFormat::Text => writeln!(out, "{}", text(&request)),
                OutputFormat::Json => writeln!(out, "{}", serde_json::to_string(&request).unwrap_or_default()),
            };
            if written.and_then(|()| out.flush()).is_err() {
                self.closed = true;
                return;
            }
        }
    }
}

/// The host as request lines name it, or why it is not a host name.
fn record_name(host: &str) -> anyhow::Result<String> {
    let host = Hostname::parse(host).with_context(|| format!("--host {host:?}"))?;
    Ok(ddns_handler::record::normalized(host.as_str()))
}

/// One request for people: time, host, protocol, result, old → new, caller.
fn text(request: &Request) -> String {
    let logged = &request.logged;
    let host = if logged.host.is_empty() { "-" } else { &logged.host };
    let result = match logged.reason.as_str() {
        "" => logged.result.clone(),
        reason => format!("{} {reason}", logged.result),
    };
    let values = match (logged.old.as_str(), logged.new.as_str()) {
        ("", "") => "-".to_owned(),
        (old, new) if logged.result == "changed" => format!("{} → {new}", if old.is_empty() { "none" } else { old }),
        (_, new) => new.to_owned(),
    };
    let agent = if logged.user_agent.is_empty() {
        String::new()
    } else {
        format!(" ({})", logged.user_agent)
    };
    format!(
        "{}  {host:<32} {:<7} {result:<18} {values:<40} from {}{agent}",
        request.time, logged.protocol, logged.caller
    )
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn now_ms() -> i64 {
    millis(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use ddns_handler::record::Logged;

    use super::*;

    fn request(result: &str, reason: &str, old: &str, new: &str) -> Request {
        Request {
            id: "1".into(),
            at_ms: 0,
            time: "2026-12-01T15:20:00Z".into(),
            logged: Logged {
                protocol: "dyndns2".into(),
                host: "home.example.com".into(),
                result: result.into(),
                reason: reason.into(),
                old: old.into(),
                new: new.into(),
                caller: "203.0.113.10".into(),
                user_agent: "ddclient/3.11".into(),
            },
        }
    }

    #[test]
    fn a_line_says_what_happened() {
        let changed = text(&request("changed", "", "198.51.100.7", "203.0.113.10"));
        assert!(changed.contains("home.example.com"), "{changed}");
        assert!(changed.contains("198.51.100.7 → 203.0.113.10"), "{changed}");
        assert!(changed.ends_with("from 203.0.113.10 (ddclient/3.11)"), "{changed}");
        let refused = text(&request("refused", "badauth", "", ""));
        assert!(refused.contains("refused badauth"), "{refused}");
        let first = text(&request("changed", "", "", "203.0.113.10"));
        assert!(first.contains("none → 203.0.113.10"), "{first}");
    }

    #[test]
    fn hosts_are_checked_and_named_as_lines_name_them() {
        assert_eq!(record_name("Home.Example.com.").unwrap(), "home.example.com");
        assert!(record_name("not a host").is_err());
        assert!(record_name("*.example.com").is_err());
    }
}
