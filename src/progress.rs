//! Progress on stderr: an indicatif spinner on a terminal, plain lines
//! otherwise (CI logs, pipes), nothing with `-q`.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Reports the steps of a long command.
pub struct Progress {
    spinner: Option<ProgressBar>,
    quiet: bool,
}

impl Progress {
    /// A spinner when stderr is a terminal and colour is allowed.
    pub fn new(quiet: bool) -> Self {
        let tty = std::io::stderr().is_terminal() && !quiet;
        let spinner = tty.then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Self { spinner, quiet }
    }

    /// Starts a step.
    pub fn step(&self, message: impl Into<String>) {
        let message = message.into();
        match &self.spinner {
            Some(bar) => bar.set_message(message),
            None if !self.quiet => eprintln!("{message}"),
            None => {}
        }
    }

    /// Reports a finished step that is worth keeping on screen.
    pub fn done(&self, message: impl AsRef<str>) {
        match &self.spinner {
            Some(bar) => bar.println(format!("✓ {}", message.as_ref())),
            None if !self.quiet => eprintln!("{}", message.as_ref()),
            None => {}
        }
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        if let Some(bar) = &self.spinner {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
