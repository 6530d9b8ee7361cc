//! A hierarchical bitset over price-level indices: which levels of a ladder are occupied.
//!
//! Layer 0 holds one bit per level; bit `j` of layer `k + 1` is set exactly when word `j` of
//! layer `k` is non-zero. Finding the first occupied level at or after an index therefore looks
//! at no more than two words per layer: `O(log64 levels)`, at most 4 layers for
//! [`LEVELS_MAX`](crate::LEVELS_MAX) levels. This is what keeps a wide, sparse book fast when
//! its best level empties: no scan over empty prices.

use crate::instrument::LEVELS_MAX;

/// Layers needed for the widest band: 64⁴ bits cover [`LEVELS_MAX`].
const LAYERS_MAX: usize = 4;
const _: () = assert!(64u64.pow(LAYERS_MAX as u32) >= LEVELS_MAX as u64);

/// The occupied levels of one side of a book.
#[derive(Clone, Debug)]
pub(crate) struct Bitset {
    /// All layers' words, layer 0 first.
    words: Vec<u64>,
    /// Where each layer starts in `words`; layer `layers - 1` is exactly one word.
    starts: [usize; LAYERS_MAX],
    /// Words per layer.
    lengths: [usize; LAYERS_MAX],
    /// Number of layers in use.
    layers: usize,
    /// Number of bits (levels) covered.
    bits: usize,
}

impl Bitset {
    /// Returns an empty set over `bits` indices.
    ///
    /// # Panics
    /// Panics if `bits` is 0 or above [`LEVELS_MAX`].
    pub(crate) fn new(bits: usize) -> Bitset {
        assert!(bits > 0 && bits <= LEVELS_MAX as usize, "bitset of {bits} bits");
        let mut starts = [0; LAYERS_MAX];
        let mut lengths = [0; LAYERS_MAX];
        let mut layers = 0;
        let mut width = bits;
        let mut total = 0;
        loop {
            let length = width.div_ceil(64);
            starts[layers] = total;
            lengths[layers] = length;
            total += length;
            layers += 1;
            if length == 1 {
                break;
            }
            width = length;
        }
        Bitset { words: vec![0; total], starts, lengths, layers, bits }
    }

    /// Returns whether index `i` is set.
    pub(crate) fn contains(&self, i: usize) -> bool {
        assert!(i < self.bits);
        self.words[i >> 6] & (1 << (i & 63)) != 0
    }

    /// Sets index `i`.
    pub(crate) fn insert(&mut self, i: usize) {
        assert!(i < self.bits);
        let mut index = i;
        for layer in 0..self.layers {
            let word = &mut self.words[self.starts[layer] + (index >> 6)];
            let was_empty = *word == 0;
            *word |= 1 << (index & 63);
            if !was_empty {
                break;
            }
            index >>= 6;
        }
        debug_assert!(self.contains(i));
    }

    /// Clears index `i`.
    pub(crate) fn remove(&mut self, i: usize) {
        assert!(i < self.bits);
        let mut index = i;
        for layer in 0..self.layers {
            let word = &mut self.words[self.starts[layer] + (index >> 6)];
            *word &= !(1 << (index & 63));
            if *word != 0 {
                break;
            }
            index >>= 6;
        }
        debug_assert!(!self.contains(i));
    }

    /// Returns the smallest set index `≥ from`, if any.
    pub(crate) fn first_from(&self, from: usize) -> Option<usize> {
        let mut index = from;
        let mut layer = 0;
        // Ascend until a word holds a set bit at or after the position.
        loop {
            if layer == self.layers {
                return None;
            }
            let word_index = index >> 6;
            if word_index >= self.lengths[layer] {
                return None;
            }
            let word = self.words[self.starts[layer] + word_index] & (u64::MAX << (index & 63));
            if word != 0 {
                index = (word_index << 6) + word.trailing_zeros() as usize;
                break;
            }
            index = word_index + 1;
            layer += 1;
        }
        // Descend, taking the lowest set bit of each word below.
        while layer > 0 {
            layer -= 1;
            let word = self.words[self.starts[layer] + index];
            assert!(word != 0, "Invariant: a set summary bit has a non-empty word below it");
            index = (index << 6) + word.trailing_zeros() as usize;
        }
        assert!(index < self.bits, "Invariant: set bits are below the bitset's size");
        Some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn finds_the_first_set_index_across_layers() {
        let mut set = Bitset::new(300_000);
        assert_eq!(set.first_from(0), None);
        for i in [5, 64, 4095, 4096, 262_143, 262_144, 299_999] {
            set.insert(i);
        }
        assert_eq!(set.first_from(0), Some(5));
        assert_eq!(set.first_from(6), Some(64));
        assert_eq!(set.first_from(65), Some(4095));
        assert_eq!(set.first_from(4097), Some(262_143));
        assert_eq!(set.first_from(262_145), Some(299_999));
        assert_eq!(set.first_from(300_000), None);
        set.remove(299_999);
        assert_eq!(set.first_from(262_145), None);
    }

    #[test]
    fn agrees_with_a_btreeset_on_a_pseudo_random_walk() {
        let bits = 70_000;
        let mut set = Bitset::new(bits);
        let mut model = BTreeSet::new();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let i = (state % bits as u64) as usize;
            if state & (1 << 40) == 0 {
                set.insert(i);
                model.insert(i);
            } else {
                set.remove(i);
                model.remove(&i);
            }
            let from = ((state >> 20) % bits as u64) as usize;
            assert_eq!(set.first_from(from), model.range(from..).next().copied());
        }
    }

    #[test]
    fn one_word_sets_work() {
        let mut set = Bitset::new(1);
        set.insert(0);
        assert_eq!(set.first_from(0), Some(0));
        set.remove(0);
        assert_eq!(set.first_from(0), None);
    }
}
