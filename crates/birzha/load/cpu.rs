//! The machine's CPU time during a run, from Linux's `/proc/stat`: how busy the cores were, and
//! above all the *steal*, the time the hypervisor kept a virtual machine's CPUs from running.
//! On a shared VM the steal decides the latency tail more than anything the exchange does
//! (docs/performance.md), so the report shows it beside every figure.

use serde::Serialize;

/// Cumulative CPU time of all cores, in the kernel's clock ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CpuTimes {
    /// user, nice, system, irq and softirq.
    busy: u64,
    /// idle and iowait.
    idle: u64,
    /// Stolen by the hypervisor.
    steal: u64,
}

/// The split of the CPU time between two readings, in percent of all of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub(crate) struct CpuShare {
    /// Cores running anything (this process, the server, everything else).
    pub(crate) busy_percent: f64,
    /// Cores wanting to run but kept off by the hypervisor.
    pub(crate) steal_percent: f64,
}

impl CpuTimes {
    /// The current totals; `None` where `/proc/stat` cannot be read (not Linux).
    pub(crate) fn read() -> Option<CpuTimes> {
        Self::parse(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// Parses the first line of `/proc/stat`: `cpu user nice system idle iowait irq softirq
    /// steal ...`.
    fn parse(text: &str) -> Option<CpuTimes> {
        let mut fields = text.lines().next()?.split_whitespace();
        if fields.next()? != "cpu" {
            return None;
        }
        let mut value = || fields.next()?.parse::<u64>().ok();
        let (user, nice, system, idle, iowait) = (value()?, value()?, value()?, value()?, value()?);
        let (irq, softirq, steal) = (value()?, value()?, value()?);
        Some(CpuTimes { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal })
    }

    /// The split since `earlier`; `None` if no time passed. (The kernel's iowait count can
    /// go backwards, so a part that shrank counts as zero.)
    pub(crate) fn since(self, earlier: CpuTimes) -> Option<CpuShare> {
        let busy = self.busy.saturating_sub(earlier.busy);
        let idle = self.idle.saturating_sub(earlier.idle);
        let steal = self.steal.saturating_sub(earlier.steal);
        let total = (busy + idle + steal) as f64;
        let percent = |part: u64| (1000.0 * part as f64 / total).round() / 10.0;
        (total > 0.0)
            .then(|| CpuShare { busy_percent: percent(busy), steal_percent: percent(steal) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_comes_from_the_first_line_of_proc_stat() {
        let before = CpuTimes::parse("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n").unwrap();
        let after = CpuTimes::parse("cpu  160 10 70 900 60 5 5 90 0 0\n").unwrap();
        let share = after.since(before).unwrap();
        // busy 100, idle 110, steal 90 ticks of 300.
        assert_eq!(share, CpuShare { busy_percent: 33.3, steal_percent: 30.0 });
        assert_eq!(before.since(before), None, "no time passed");
        assert_eq!(before.since(after), None, "counters went back: no time passed");
        assert_eq!(CpuTimes::parse("intr 1 2 3\n"), None);
        assert_eq!(CpuTimes::parse("cpu 1 2 3\n"), None, "too few fields");
        if let Some(now) = CpuTimes::read() {
            assert!(now.busy + now.idle > 0, "a Linux machine has spent some time");
        }
    }
}
