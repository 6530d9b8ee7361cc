//! Operator commands.

use birzha_book::{CancelReason, MassCancel};

use super::ShardState;
use crate::input::Admin;
use crate::output::{DepositChange, Output, OutputEvent};
use crate::phase::Phase;

impl ShardState {
    pub(super) fn admin(&mut self, admin: &Admin, out: &mut Vec<Output>) {
        match *admin {
            Admin::Halt(instrument) if self.book(instrument).is_some() => {
                let phase = self.phases[instrument.0 as usize];
                if phase.is_open() {
                    self.halt(instrument, out);
                } else {
                    self.push(OutputEvent::HaltRefused { instrument, phase }, out);
                }
            }
            Admin::Resume(instrument) if self.book(instrument).is_some() => {
                let phase = self.phases[instrument.0 as usize];
                if phase == Phase::Halted {
                    self.resume(instrument, out);
                } else {
                    self.push(OutputEvent::ResumeRefused { instrument, phase }, out);
                }
            }
            Admin::SetPhase(instrument, phase) if self.book(instrument).is_some() => {
                self.force_phase(instrument, phase, out);
            }
            Admin::Halt(_) | Admin::Resume(_) | Admin::SetPhase(..) => {}
            Admin::Deposit { firm, currency, amount_micros } => {
                let Some(index) =
                    self.registry.currencies.keys().position(|c| c == currency.as_str())
                else {
                    return;
                };
                if self.registry.currencies[currency.as_str()] != usize::from(self.shard) {
                    return;
                }
                let applied = self.deposits.credit(firm.0, index, amount_micros);
                let account = self.deposits.account(firm.0, index);
                let change = DepositChange {
                    firm,
                    currency,
                    amount_micros,
                    applied,
                    free_micros: account.free,
                    reserved_micros: account.reserved,
                };
                self.push(OutputEvent::Deposit(change), out);
            }
            Admin::SuspendFirm(firm) | Admin::ReinstateFirm(firm) => {
                let suspended = matches!(admin, Admin::SuspendFirm(_));
                self.suspended[firm.0 as usize] = suspended;
                if self.shard == 0 {
                    self.push(OutputEvent::FirmStatus { firm, suspended }, out);
                }
            }
            Admin::MassCancel(instrument) => {
                self.mass_cancel(instrument, &MassCancel::default(), CancelReason::Operator, out);
            }
        }
    }
}
