//! An echo [`Application`]: what QuickFIX's acceptance-test acceptor runs, so that its scripts
//! exercise the session layer only.
//!
//! It authenticates a fixed set of SenderCompIDs (no password), and echoes every
//! NewOrderSingle (D) and SecurityDefinition (d) back to its sender with the body fields in
//! ascending tag order (repeating groups kept whole), which is how QuickFIX's field map writes
//! them, and PossResend (97) kept. A NewOrderSingle with PossResend = Y whose ClOrdID this
//! session has already seen is not echoed again. Any other application message is unsupported.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use birzha_fix::session::{Application, Delivery, LogonRequest, Refusal, SessionId};
use birzha_fix::{Dictionary, MessageView};
use tracing::warn;

use crate::{OutboundMessage, Sessions};

/// The echo application. See the module documentation.
#[derive(Debug)]
pub struct EchoApplication {
    /// Where echoes are pushed.
    sessions: Sessions,
    /// The SenderCompIDs allowed to log on.
    comp_ids: BTreeSet<String>,
    /// Tells repeating groups apart when sorting body fields.
    dictionary: Dictionary,
    /// (SenderCompID, ClOrdID) of orders echoed this logon.
    orders: Mutex<BTreeSet<(String, Vec<u8>)>>,
}

impl EchoApplication {
    /// An echo application that lets `comp_ids` log on and echoes through `sessions`.
    pub fn new(sessions: Sessions, comp_ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            sessions,
            comp_ids: comp_ids.into_iter().map(Into::into).collect(),
            dictionary: Dictionary::profile(),
            orders: Mutex::new(BTreeSet::new()),
        }
    }

    /// The message's body fields as byte blocks (a field, or a group with its entries), sorted
    /// by leading tag and joined.
    fn sorted_body(&self, message: &MessageView<'_>) -> Vec<u8> {
        let bytes = message.bytes();
        let fields = message.fields();
        let definition = self.dictionary.message(message.msg_type());
        let mut blocks: Vec<(u32, usize, usize)> = Vec::new();
        let mut position = 3;
        while position < fields.len() {
            let field = &fields[position];
            position += 1;
            if self.dictionary.is_header_tag(field.tag) || matches!(field.tag, 10 | 89 | 93) {
                continue;
            }
            let group = definition
                .and_then(|definition| definition.body.members.iter().find(|m| m.tag == field.tag))
                .and_then(|member| member.group)
                .map(|group| self.dictionary.group(group));
            let mut end = field.value_end as usize + 1;
            if let Some(group) = group {
                while let Some(member) = fields.get(position) {
                    if !group.entry.members.iter().any(|candidate| candidate.tag == member.tag) {
                        break;
                    }
                    end = member.value_end as usize + 1;
                    position += 1;
                }
            }
            blocks.push((field.tag, field.start as usize, end));
        }
        blocks.sort_by_key(|(tag, _, _)| *tag);
        blocks.iter().flat_map(|&(_, start, end)| bytes[start..end].iter().copied()).collect()
    }
}

impl Application for EchoApplication {
    fn authenticate(&self, logon: &LogonRequest<'_>) -> Result<(), Refusal> {
        if self.comp_ids.contains(logon.sender_comp_id) {
            Ok(())
        } else {
            Err(Refusal::new(format!("Unknown SenderCompID {}", logon.sender_comp_id)))
        }
    }

    fn on_message(&self, session: &SessionId, message: &MessageView<'_>) -> Delivery {
        let msg_type = message.msg_type();
        let poss_resend = message.get(97) == Some(b"Y");
        match msg_type {
            b"D" => {
                let order = (session.remote.clone(), message.get(11).unwrap_or_default().to_vec());
                let mut orders = self.orders.lock().unwrap_or_else(PoisonError::into_inner);
                if !orders.insert(order) && poss_resend {
                    return Delivery::Accepted;
                }
            }
            b"d" => {}
            _ => return Delivery::Unsupported,
        }
        let echo = OutboundMessage {
            msg_type: msg_type.to_vec().into(),
            body: self.sorted_body(message).into(),
            poss_resend,
        };
        if let Err(error) = self.sessions.send(&session.remote, echo) {
            warn!(%error, "could not echo");
        }
        Delivery::Accepted
    }

    fn on_logout(&self, session: &SessionId, _voluntary: bool) {
        let mut orders = self.orders.lock().unwrap_or_else(PoisonError::into_inner);
        orders.retain(|(comp_id, _)| *comp_id != session.remote);
    }
}
