//! The resend window: the outbound application messages a store keeps in memory, by MsgSeqNum.
//!
//! Every message a session sends is kept here, so it is on the hot path of every report. The
//! messages share one ring of bytes instead of an allocation each: once the ring has grown to
//! its working size, keeping a message is a copy into it, and dropping the oldest is moving a
//! start offset, with no allocation or free either way.

use std::collections::VecDeque;

/// Outbound messages by MsgSeqNum, oldest first, at most `messages_max` of them.
///
/// # Invariants
/// - `entries` ascend strictly by sequence number;
/// - entry `i` holds absolute byte offset `start`; its message is the bytes from that offset to
///   the next entry's start (or to `end` for the last entry); absolute offset `bytes_dropped` is
///   `bytes[0]`, so `end == bytes_dropped + bytes.len()`;
/// - `entries.len() <= messages_max`.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    /// The kept messages back to back, oldest first.
    bytes: VecDeque<u8>,
    /// Sequence number and absolute start offset of each kept message.
    entries: VecDeque<(u64, u64)>,
    /// Absolute offset of `bytes[0]`: how many bytes were ever dropped from the front.
    bytes_dropped: u64,
    /// The most messages kept.
    messages_max: usize,
}

impl Window {
    /// An empty window that keeps at most `messages_max` messages.
    pub(crate) fn new(messages_max: usize) -> Self {
        Self { bytes: VecDeque::new(), entries: VecDeque::new(), bytes_dropped: 0, messages_max }
    }

    /// How many messages are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Keeps `message` as number `seq`, dropping the oldest beyond the limit. A `seq` at or
    /// below the newest kept one replaces it and drops every newer one (sequence numbers only go
    /// back after a reset, which clears the window first, so this is a safety net).
    pub(crate) fn push(&mut self, seq: u64, message: &[u8]) {
        if self.entries.back().is_some_and(|&(newest, _)| newest >= seq) {
            let newer = self.entries.partition_point(|&(kept, _)| kept < seq);
            let start = self.entries[newer].1;
            self.bytes.truncate((start - self.bytes_dropped) as usize);
            self.entries.truncate(newer);
        }
        self.entries.push_back((seq, self.end()));
        self.bytes.extend(message);
        while self.entries.len() > self.messages_max {
            self.entries.pop_front();
            let start = self.entries.front().map_or(self.end(), |&(_, start)| start);
            self.bytes.drain(..(start - self.bytes_dropped) as usize);
            self.bytes_dropped = start;
        }
    }

    /// Calls `visit` with every kept message numbered `begin..=end`, in order.
    pub(crate) fn visit(&self, begin: u64, end: u64, visit: &mut dyn FnMut(u64, &[u8])) {
        let first = self.entries.partition_point(|&(seq, _)| seq < begin);
        let mut scratch = Vec::new();
        for index in first..self.entries.len() {
            let (seq, start) = self.entries[index];
            if seq > end {
                break;
            }
            let stop = self.entries.get(index + 1).map_or(self.end(), |&(_, start)| start);
            let range = (start - self.bytes_dropped) as usize..(stop - self.bytes_dropped) as usize;
            let (front, back) = self.bytes.as_slices();
            if range.end <= front.len() {
                visit(seq, &front[range]);
            } else if range.start >= front.len() {
                visit(seq, &back[range.start - front.len()..range.end - front.len()]);
            } else {
                scratch.clear();
                scratch.extend(self.bytes.range(range));
                visit(seq, &scratch);
            }
        }
    }

    /// Drops every message and gives their memory back (a reset is rare; the ring grows again
    /// by doubling, so at most twice the bytes it holds).
    pub(crate) fn clear(&mut self) {
        self.bytes_dropped = self.end();
        self.bytes = VecDeque::new();
        self.entries = VecDeque::new();
    }

    /// The absolute offset just past the newest message.
    fn end(&self) -> u64 {
        self.bytes_dropped + self.bytes.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn kept(window: &Window, begin: u64, end: u64) -> Vec<(u64, Vec<u8>)> {
        let mut seen = Vec::new();
        window.visit(begin, end, &mut |seq, message| seen.push((seq, message.to_vec())));
        seen
    }

    /// The window against a map model, over messages of every size (so the ring wraps in
    /// every way), repeated and backward sequence numbers, clears and every range.
    #[test]
    fn agrees_with_a_map_model() {
        let seed = 0x0077_1d0e_u64;
        let mut next = crate::testing::xorshift(seed);
        for messages_max in [1, 2, 5, 64] {
            let mut window = Window::new(messages_max);
            let mut model: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
            let mut seq = 1u64;
            for step in 0..5_000 {
                match next(100) {
                    0 => {
                        window.clear();
                        model.clear();
                    }
                    1..=4 => seq = seq.saturating_sub(next(4)).max(1),
                    _ => {
                        let message: Vec<u8> = (0..next(300)).map(|_| next(256) as u8).collect();
                        window.push(seq, &message);
                        model.retain(|&kept, _| kept < seq);
                        model.insert(seq, message);
                        while model.len() > messages_max {
                            model.pop_first();
                        }
                        seq += 1 + next(3);
                    }
                }
                let (begin, end) = (next(seq + 2), next(seq + 2));
                let expected: Vec<(u64, Vec<u8>)> = if begin <= end {
                    model.range(begin..=end).map(|(&seq, m)| (seq, m.clone())).collect()
                } else {
                    Vec::new()
                };
                assert_eq!(kept(&window, begin, end), expected, "seed {seed:#x}, step {step}");
                assert_eq!(window.len(), model.len(), "seed {seed:#x}, step {step}");
            }
        }
    }

    #[test]
    fn keeping_a_message_allocates_nothing_once_the_ring_has_grown() {
        let mut window = Window::new(4);
        for seq in 1..=16 {
            window.push(seq, &[seq as u8; 100]);
        }
        let capacity = (window.bytes.capacity(), window.entries.capacity());
        for seq in 17..=1_000 {
            window.push(seq, &[seq as u8; 100]);
        }
        assert_eq!((window.bytes.capacity(), window.entries.capacity()), capacity);
        assert_eq!(
            kept(&window, 999, 1_000),
            [(999, vec![999u16 as u8; 100]), (1_000, vec![1_000u16 as u8; 100])]
        );
    }
}
