//! Exchange deposits: per firm and currency, what is free, reserved by working orders, and
//! consumed as security for traded contracts (market model §2).
//!
//! # Invariant
//! Every change is a transfer between the three buckets or an operator's credit, so for every
//! firm and currency `free + reserved + consumed = credited` at all times, and `free ≥ 0`.
//!
//! # Amounts
//! Amounts are integers in millionths of the currency unit. An order reserves
//! `ceil(notional × ratio)`, where `notional = price × lot_size × lots`; as it fills, each fill
//! consumes its share of the reservation (`reservation × lots / leaves`, rounded down, and all
//! that is left on the last fill); cancels, expiries and self-trade decrements release their
//! share to `free`.

/// One firm's deposit in one currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// Available for new reservations.
    pub free: i128,
    /// Held by working orders.
    pub reserved: i128,
    /// Securing traded contracts.
    pub consumed: i128,
}

/// The deposits of every firm in every currency of a shard.
#[derive(Clone, Debug)]
pub(crate) struct Deposits {
    /// `accounts[firm × currencies + currency]`.
    accounts: Vec<Account>,
    /// Currencies known to the shard.
    currencies: usize,
}

impl Deposits {
    pub(crate) fn new(firms: usize, currencies: usize) -> Deposits {
        Deposits { accounts: vec![Account::default(); firms * currencies], currencies }
    }

    pub(crate) fn account(&self, firm: u32, currency: usize) -> Account {
        self.accounts[firm as usize * self.currencies + currency]
    }

    fn account_mut(&mut self, firm: u32, currency: usize) -> &mut Account {
        &mut self.accounts[firm as usize * self.currencies + currency]
    }

    /// Every account in (firm, currency) order: for snapshots.
    pub(crate) fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// Replaces every account: for restores.
    /// Replaces the first accounts (those of the firms a snapshot knew; firms appended since
    /// keep theirs).
    pub(crate) fn restore(&mut self, accounts: &[Account]) {
        assert!(accounts.len() <= self.accounts.len(), "snapshot deposit table size");
        self.accounts[..accounts.len()].copy_from_slice(accounts);
    }

    /// Credits (or debits, if negative) `amount` to the free deposit. Returns `false`, changing
    /// nothing, when a debit exceeds the free deposit.
    pub(crate) fn credit(&mut self, firm: u32, currency: usize, amount: i128) -> bool {
        let account = self.account_mut(firm, currency);
        if account.free + amount < 0 {
            return false;
        }
        account.free += amount;
        true
    }

    /// Moves `amount` from free to reserved if the free deposit covers it.
    pub(crate) fn reserve(&mut self, firm: u32, currency: usize, amount: i128) -> bool {
        assert!(amount >= 0, "Invariant: reservations are not negative");
        let account = self.account_mut(firm, currency);
        if amount > account.free {
            return false;
        }
        account.free -= amount;
        account.reserved += amount;
        true
    }

    /// Moves `amount` from reserved back to free.
    pub(crate) fn release(&mut self, firm: u32, currency: usize, amount: i128) {
        let account = self.account_mut(firm, currency);
        assert!(amount >= 0 && amount <= account.reserved, "Invariant: release ≤ reserved");
        account.reserved -= amount;
        account.free += amount;
    }

    /// Moves `amount` from reserved to consumed.
    pub(crate) fn consume(&mut self, firm: u32, currency: usize, amount: i128) {
        let account = self.account_mut(firm, currency);
        assert!(amount >= 0 && amount <= account.reserved, "Invariant: consume ≤ reserved");
        account.reserved -= amount;
        account.consumed += amount;
    }
}

/// The share of a reservation that goes with `lots` of an order's `leaves`: proportional,
/// rounded down, and everything when the lots are all that is left.
pub(crate) fn share(reservation: i128, lots: u32, leaves: u32) -> i128 {
    assert!(lots <= leaves && leaves > 0, "Invariant: a share is of working lots");
    if lots == leaves { reservation } else { reservation * i128::from(lots) / i128::from(leaves) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_conserve_the_total_and_refuse_overdrafts() {
        let mut deposits = Deposits::new(2, 3);
        assert!(deposits.credit(1, 2, 1_000));
        assert!(!deposits.reserve(1, 2, 1_001));
        assert!(deposits.reserve(1, 2, 600));
        deposits.consume(1, 2, 200);
        deposits.release(1, 2, 100);
        let account = deposits.account(1, 2);
        assert_eq!(account, Account { free: 500, reserved: 300, consumed: 200 });
        assert_eq!(account.free + account.reserved + account.consumed, 1_000);
        assert!(!deposits.credit(1, 2, -501));
        assert_eq!(deposits.account(0, 2), Account::default());
    }

    #[test]
    fn shares_add_up_to_the_whole_reservation() {
        let reservation = 1_000;
        let mut leaves = 7;
        let mut left = reservation;
        for lots in [3, 1, 3] {
            let part = share(left, lots, leaves);
            left -= part;
            leaves -= lots;
        }
        assert_eq!((left, leaves), (0, 0));
    }
}
