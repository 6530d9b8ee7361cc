//! Operator logs: `tracing` events to standard output, through a non-blocking writer so that
//! no thread ever waits for the terminal or a pipe (lines are dropped rather than block; the
//! log says how many, every ten seconds in which some were).
//! JSON lines when the output is not a terminal or `--log-format json`; `RUST_LOG` filters
//! (default `info`).

use std::io::IsTerminal;
use std::time::Duration;

use tracing_appender::non_blocking::{ErrorCounter, WorkerGuard};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. Keep the guard alive until exit: dropping it flushes.
///
/// # Errors
/// Returns an error if a global subscriber is already installed.
pub(crate) fn init(format: LogFormat) -> anyhow::Result<WorkerGuard> {
    let (writer, guard) = tracing_appender::non_blocking(std::io::stdout());
    let dropped = writer.error_counter();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    let installed = if json {
        builder.json().flatten_event(true).with_current_span(true).try_init()
    } else {
        builder.with_target(false).try_init()
    };
    installed.map_err(|error| anyhow::anyhow!("cannot install the log subscriber: {error}"))?;
    std::thread::Builder::new()
        .name("log-drops".into())
        .spawn(move || watch_drops(&dropped))
        .map_err(|error| anyhow::anyhow!("cannot start the log-drop watcher: {error}"))?;
    Ok(guard)
}

/// How often the count of dropped log lines is looked at.
const DROPS_CHECKED_EVERY: Duration = Duration::from_secs(10);

/// Says in the log, every [`DROPS_CHECKED_EVERY`] in which some were dropped, how many lines
/// the writer dropped because its reader (terminal, pipe, file) fell behind: an operator must
/// know the log has holes. The line itself may be dropped too; the next one counts since the
/// start, so nothing goes unsaid for long.
fn watch_drops(counter: &ErrorCounter) {
    let mut reported = 0;
    loop {
        std::thread::sleep(DROPS_CHECKED_EVERY);
        if let Some(dropped) = newly_dropped(reported, counter.dropped_lines()) {
            tracing::warn!(
                dropped,
                since_start = reported + dropped,
                "log lines dropped: the log's reader fell behind"
            );
            reported += dropped;
        }
    }
}

/// The lines dropped since `reported` were, if any.
fn newly_dropped(reported: usize, total: usize) -> Option<usize> {
    total.checked_sub(reported).filter(|dropped| *dropped > 0)
}

#[cfg(test)]
mod tests {
    use super::newly_dropped;

    #[test]
    fn only_new_drops_are_reported() {
        assert_eq!(newly_dropped(0, 0), None);
        assert_eq!(newly_dropped(0, 7), Some(7));
        assert_eq!(newly_dropped(7, 7), None);
        assert_eq!(newly_dropped(7, 10), Some(3));
    }
}
