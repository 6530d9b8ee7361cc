//! A deliberately naive order book, the yardstick of the `book` benchmarks: a `BTreeMap` of
//! price levels per side, a `VecDeque` per level and a flat id table. It supports only what the
//! benchmark streams use (limit orders, IOC, cancel, replace as cancel + add) and reports fills
//! to a counter: it is what a competent first version looks like, not a competitor.

use std::collections::{BTreeMap, VecDeque};

#[derive(Clone, Copy)]
pub(crate) struct Entry {
    id: u64,
    lots: u32,
}

#[derive(Clone, Default)]
pub(crate) struct NaiveBook {
    bids: BTreeMap<i64, VecDeque<Entry>>,
    asks: BTreeMap<i64, VecDeque<Entry>>,
    /// Order id → (is_bid, price) of resting orders.
    ids: Vec<Option<(bool, i64)>>,
    pub(crate) fills: u64,
}

impl NaiveBook {
    pub(crate) fn add(&mut self, id: u64, is_bid: bool, price: i64, mut lots: u32, rests: bool) {
        while lots > 0 {
            let best = if is_bid {
                self.asks.first_entry().filter(|level| *level.key() <= price)
            } else {
                self.bids.last_entry().filter(|level| *level.key() >= price)
            };
            let Some(mut level) = best else { break };
            let queue = level.get_mut();
            while lots > 0 {
                let Some(maker) = queue.front_mut() else { break };
                let traded = lots.min(maker.lots);
                maker.lots -= traded;
                lots -= traded;
                self.fills += 1;
                if maker.lots == 0 {
                    let gone = maker.id as usize;
                    queue.pop_front();
                    self.ids[gone] = None;
                }
            }
            if queue.is_empty() {
                level.remove();
            }
        }
        if lots > 0 && rests {
            let side = if is_bid { &mut self.bids } else { &mut self.asks };
            side.entry(price).or_default().push_back(Entry { id, lots });
            if self.ids.len() <= id as usize {
                self.ids.resize(id as usize + 1, None);
            }
            self.ids[id as usize] = Some((is_bid, price));
        }
    }

    pub(crate) fn cancel(&mut self, id: u64) -> Option<u32> {
        let (is_bid, price) = self.ids.get_mut(id as usize)?.take()?;
        let side = if is_bid { &mut self.bids } else { &mut self.asks };
        let queue = side.get_mut(&price)?;
        let at = queue.iter().position(|entry| entry.id == id)?;
        let entry = queue.remove(at)?;
        if queue.is_empty() {
            side.remove(&price);
        }
        Some(entry.lots)
    }

    pub(crate) fn replace(&mut self, id: u64, price: i64, lots: u32) {
        if let Some(&Some((is_bid, _))) = self.ids.get(id as usize)
            && self.cancel(id).is_some()
        {
            self.add(id, is_bid, price, lots, true);
        }
    }
}
