//! The pace of an open-loop run (`--rate`): a thread that releases each request at its due
//! time.
//!
//! tokio's timer fires on a 1 ms grid, so senders sleeping on it send a millisecond's requests
//! at once (20 at 20 000/s), and the exchange answers the last of each burst after the other
//! nineteen. A thread of its own sleeping to each due time (the kernel's high-resolution timer,
//! about 50 µs of slack) releases the requests one by one, as independent traders send them.
//!
//! Request `n` of the run is due at `started + n × spacing` and belongs to session
//! `n mod sessions`, whose `k`-th request it is for `k = n div sessions` ([`Schedule::due`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

/// The longest the metronome sleeps before it looks at its stop flag again.
const SLEEP_MAX: Duration = Duration::from_millis(100);

/// When each request of an open-loop run is due.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schedule {
    /// The run's start.
    pub(crate) started: Instant,
    /// Requests at or after this are not sent.
    pub(crate) end: Instant,
    /// Time between two requests of the run (of any sessions).
    pub(crate) spacing: Duration,
    /// Sessions sharing the run.
    pub(crate) sessions: usize,
}

impl Schedule {
    /// A schedule of `rate` requests a second over all `sessions`.
    pub(crate) fn new(started: Instant, duration: Duration, rate: u32, sessions: usize) -> Self {
        let spacing = Duration::from_nanos(1_000_000_000 / u64::from(rate.max(1)));
        Schedule { started, end: started + duration, spacing, sessions: sessions.max(1) }
    }

    /// When request `number` of session `index` is due; `None` once that is past the end.
    pub(crate) fn due(&self, index: usize, number: u64) -> Option<Instant> {
        let n = number.checked_mul(self.sessions as u64)?.checked_add(index as u64)?;
        let nanos = u64::try_from(self.spacing.as_nanos()).ok()?.checked_mul(n)?;
        let due = self.started.checked_add(Duration::from_nanos(nanos))?;
        (due < self.end).then_some(due)
    }
}

/// The thread releasing requests; stops at the schedule's end or when dropped.
pub(crate) struct Metronome {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Metronome {
    /// Starts releasing: at each request's due time, one permit to its session's semaphore
    /// (`releases[index]`).
    pub(crate) fn start(schedule: Schedule, releases: Vec<Arc<Semaphore>>) -> Metronome {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("load-metronome".into())
            .spawn(move || run(schedule, &releases, &flag))
            .ok();
        if thread.is_none() {
            // Without the thread no request is released: say why the run sends nothing.
            eprintln!("warning: cannot start the load generator's pacing thread");
        }
        Metronome { stop, thread }
    }
}

impl Drop for Metronome {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(schedule: Schedule, releases: &[Arc<Semaphore>], stop: &AtomicBool) {
    for n in 0u64.. {
        let index = (n % schedule.sessions as u64) as usize;
        let Some(due) = schedule.due(index, n / schedule.sessions as u64) else { return };
        loop {
            if stop.load(Ordering::Acquire) {
                return;
            }
            let now = Instant::now();
            if now >= due {
                break;
            }
            std::thread::sleep((due - now).min(SLEEP_MAX));
        }
        if let Some(release) = releases.get(index) {
            release.add_permits(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_take_turns_and_the_schedule_ends() {
        let started = Instant::now();
        let schedule = Schedule::new(started, Duration::from_millis(1), 20_000, 4);
        assert_eq!(schedule.spacing, Duration::from_micros(50));
        // Request 5 of the run is session 1's second.
        assert_eq!(schedule.due(1, 1), Some(started + Duration::from_micros(250)));
        assert_eq!(schedule.due(3, 4), Some(started + Duration::from_micros(950)));
        assert_eq!(schedule.due(0, 5), None, "1 000 µs is the end");
        assert_eq!(schedule.due(0, u64::MAX), None);
    }

    #[test]
    fn every_due_request_is_released_to_its_session() {
        let releases: Vec<_> = (0..3).map(|_| Arc::new(Semaphore::new(0))).collect();
        let schedule = Schedule::new(Instant::now(), Duration::from_millis(20), 1_000, 3);
        let metronome = Metronome::start(schedule, releases.clone());
        std::thread::sleep(Duration::from_millis(60));
        drop(metronome);
        // 20 requests over three sessions, in turn.
        let counts: Vec<usize> = releases.iter().map(|r| r.available_permits()).collect();
        assert_eq!(counts, [7, 7, 6]);
    }

    #[test]
    fn a_dropped_metronome_stops() {
        let release = Arc::new(Semaphore::new(0));
        // One request a second for an hour: only the first is due before the drop.
        let schedule = Schedule::new(Instant::now(), Duration::from_secs(3_600), 1, 1);
        drop(Metronome::start(schedule, vec![Arc::clone(&release)]));
        assert!(release.available_permits() <= 1);
    }
}
