//! Listens for the server's shutdown signal.

use tokio::sync::broadcast;

/// The receiving side of the shutdown broadcast, remembering whether it has fired.
#[derive(Debug)]
pub(crate) struct Shutdown {
    /// Set once the signal has been received.
    is_shutdown: bool,
    /// Receives the signal: the listener drops the sender (or sends) to start shutdown.
    notify: broadcast::Receiver<()>,
}

impl Shutdown {
    pub(crate) fn new(notify: broadcast::Receiver<()>) -> Self {
        Self { is_shutdown: false, notify }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.is_shutdown
    }

    /// Waits for the signal (returns at once if it has already come).
    pub(crate) async fn recv(&mut self) {
        if self.is_shutdown {
            return;
        }
        let _ = self.notify.recv().await;
        self.is_shutdown = true;
    }
}
