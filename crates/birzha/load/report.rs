//! The load report: counts, throughput and latency, as text or JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latency percentiles, microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Latency {
    pub(crate) count: u64,
    pub(crate) p50: u64,
    pub(crate) p90: u64,
    pub(crate) p99: u64,
    pub(crate) p999: u64,
    pub(crate) max: u64,
    pub(crate) mean: f64,
}

impl std::fmt::Display for Latency {
    /// The quantiles, as the text report shows them.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Latency { p50, p90, p99, p999, max, mean, .. } = self;
        write!(formatter, "p50 {p50}  p90 {p90}  p99 {p99}  p99.9 {p999}  max {max}  mean {mean}")
    }
}

impl Latency {
    pub(crate) fn of(histogram: &Histogram<u64>) -> Latency {
        if histogram.is_empty() {
            return Latency::default();
        }
        Latency {
            count: histogram.len(),
            p50: histogram.value_at_quantile(0.50),
            p90: histogram.value_at_quantile(0.90),
            p99: histogram.value_at_quantile(0.99),
            p999: histogram.value_at_quantile(0.999),
            max: histogram.max(),
            mean: (histogram.mean() * 10.0).round() / 10.0,
        }
    }
}

/// Everything a load run measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Report {
    /// Sessions (traders) used.
    pub(crate) sessions: usize,
    /// `open-loop` or `flat-out`.
    pub(crate) mode: String,
    /// The requested rate with open loop, requests per second over all sessions.
    pub(crate) target_rate: Option<u32>,
    /// Seconds spent sending.
    pub(crate) seconds: f64,
    /// New orders sent.
    pub(crate) sent_orders: u64,
    /// Cancels sent.
    pub(crate) sent_cancels: u64,
    /// New orders accepted (ExecType 0).
    pub(crate) acks: u64,
    /// New orders rejected (ExecType 8), by the reason's code (the text before `:`).
    pub(crate) rejects: BTreeMap<String, u64>,
    /// Fill reports received (both sides of a trade between two load sessions count).
    pub(crate) fills: u64,
    /// Lots in those fills.
    pub(crate) filled_lots: u64,
    /// Cancels confirmed.
    pub(crate) cancels: u64,
    /// Cancels refused, by reason (TOO_LATE: the order had filled).
    pub(crate) cancel_rejects: BTreeMap<String, u64>,
    /// Requests without an answer when the run ended.
    pub(crate) unanswered: u64,
    /// Requests sent per second.
    pub(crate) sent_per_second: f64,
    /// Answers (acks, rejects, cancel confirmations and refusals) per second.
    pub(crate) answered_per_second: f64,
    /// Time from a request's scheduled send time (open loop) or actual send time (flat out)
    /// to its first answer: ack or reject of a new order, confirmation or refusal of a cancel.
    pub(crate) latency_us: Latency,
    /// The same from the moment the request was handed to the client: without the lateness
    /// of the open-loop sender itself, whose timer fires on a 1 ms grid.
    pub(crate) from_send_us: Latency,
    /// The whole machine's CPU time while the senders ran (Linux only): busy and stolen by
    /// the hypervisor, in percent.
    pub(crate) cpu: Option<super::cpu::CpuShare>,
}

impl Report {
    /// Total rejects of new orders.
    pub(crate) fn rejected(&self) -> u64 {
        self.rejects.values().sum()
    }

    /// The report for a person.
    pub(crate) fn text(&self) -> String {
        let mut text = String::new();
        let rate = self.target_rate.map(|rate| format!(", target {rate}/s")).unwrap_or_default();
        let _ = writeln!(
            text,
            "birzha load: {} sessions, {}{rate}, {:.1} s",
            self.sessions, self.mode, self.seconds
        );
        let sent = self.sent_orders + self.sent_cancels;
        let _ = writeln!(
            text,
            "  sent       {sent:>9}  ({} orders, {} cancels)  {:.0}/s",
            self.sent_orders, self.sent_cancels, self.sent_per_second
        );
        let _ = writeln!(
            text,
            "  acks       {:>9}  answered {:.0}/s",
            self.acks, self.answered_per_second
        );
        let _ = writeln!(text, "  rejects    {:>9}{}", self.rejected(), reasons(&self.rejects));
        let _ = writeln!(text, "  fills      {:>9}  ({} lots)", self.fills, self.filled_lots);
        let _ = writeln!(text, "  cancels    {:>9}", self.cancels);
        let refused: u64 = self.cancel_rejects.values().sum();
        let _ = writeln!(text, "  cxl refused{refused:>9}{}", reasons(&self.cancel_rejects));
        let _ = writeln!(text, "  unanswered {:>9}", self.unanswered);
        let _ = writeln!(text, "  latency µs {}  (n = {})", self.latency_us, self.latency_us.count);
        if self.target_rate.is_some() {
            let _ = writeln!(text, "  from send  {}", self.from_send_us);
        }
        if let Some(cpu) = &self.cpu {
            let (busy, steal) = (cpu.busy_percent, cpu.steal_percent);
            let _ = writeln!(text, "  machine    cpu busy {busy} %  stolen by the host {steal} %");
        }
        text
    }
}

fn reasons(reasons: &BTreeMap<String, u64>) -> String {
    if reasons.is_empty() {
        return String::new();
    }
    let parts: Vec<String> =
        reasons.iter().map(|(reason, count)| format!("{reason} {count}")).collect();
    format!("  ({})", parts.join(", "))
}

/// The code of a reject text: `PRICE_OUTSIDE_BAND: price …` gives `PRICE_OUTSIDE_BAND`.
pub(crate) fn reason_code(text: Option<&str>) -> String {
    let text = text.unwrap_or("no reason");
    text.split(':').next().unwrap_or(text).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_reads_as_text_and_json() {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
        for value in 1..=1000 {
            histogram.record(value).expect("in bounds");
        }
        let report = Report {
            sessions: 2,
            mode: "open-loop".into(),
            target_rate: Some(100),
            seconds: 2.0,
            sent_orders: 150,
            sent_cancels: 50,
            acks: 149,
            rejects: [("THROTTLED".to_string(), 1)].into(),
            latency_us: Latency::of(&histogram),
            from_send_us: Latency::of(&histogram),
            cpu: Some(super::super::cpu::CpuShare { busy_percent: 52.5, steal_percent: 3.0 }),
            ..Report::default()
        };
        let text = report.text();
        assert!(text.starts_with("birzha load: 2 sessions, open-loop, target 100/s, 2.0 s\n"));
        assert!(text.contains("  rejects            1  (THROTTLED 1)\n"), "{text}");
        assert!(text.contains("p50 500  p90 900  p99 990  p99.9 999  max 1000"), "{text}");
        assert!(text.contains("  from send  p50 500  p90 900"), "{text}");
        assert!(text.contains("  machine    cpu busy 52.5 %  stolen by the host 3 %\n"), "{text}");
        let json = serde_json::to_value(&report).expect("serialises");
        assert_eq!(json["latency_us"]["p99"], 990);
        assert_eq!(json["rejects"]["THROTTLED"], 1);
        assert_eq!(json["cpu"]["steal_percent"], 3.0);
        assert_eq!(reason_code(Some("PRICE_OUTSIDE_BAND: price 1")), "PRICE_OUTSIDE_BAND");
    }
}
