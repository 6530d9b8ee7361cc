//! The trader's orders as `birzha trade` knows them: built from every ExecutionReport seen,
//! including the ones the exchange resends after a Logon (see `docs/tools.md`, "orders").

use std::collections::BTreeMap;

use birzha_client::{Decimal, ExecType, ExecutionReport, OrdStatus, Side, TimeInForce};

/// One order, as its latest report describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KnownOrder {
    /// The exchange's OrderID.
    pub(crate) order_id: String,
    /// The order's current ClOrdID (the last replace's).
    pub(crate) cl_ord_id: String,
    /// Earlier ClOrdIDs of the order, before replaces.
    pub(crate) aliases: Vec<String>,
    pub(crate) symbol: String,
    pub(crate) side: Side,
    /// OrderQty: the total, lots.
    pub(crate) quantity: u64,
    pub(crate) price: Option<Decimal>,
    pub(crate) time_in_force: Option<TimeInForce>,
    pub(crate) leaves: u64,
    pub(crate) cum: u64,
    pub(crate) average_price: Decimal,
    pub(crate) status: OrdStatus,
}

/// Every order seen, by OrderID.
#[derive(Debug, Default)]
pub(crate) struct Orders {
    by_order_id: BTreeMap<String, KnownOrder>,
}

impl Orders {
    /// Applies a report. Rejected new orders (no OrderID) are not orders.
    pub(crate) fn apply(&mut self, report: &ExecutionReport) {
        let Some(order_id) = &report.order_id else { return };
        // A cancel's report carries the cancel request's ClOrdID and the order's as 41.
        let own_id = match (report.exec_type, &report.orig_cl_ord_id) {
            (ExecType::Cancelled, Some(orig)) => orig.clone(),
            _ => report.cl_ord_id.clone(),
        };
        let order = self.by_order_id.entry(order_id.clone()).or_insert_with(|| KnownOrder {
            order_id: order_id.clone(),
            cl_ord_id: own_id.clone(),
            aliases: Vec::new(),
            symbol: report.symbol.clone(),
            side: report.side,
            quantity: report.quantity,
            price: report.price,
            time_in_force: report.time_in_force,
            leaves: report.leaves,
            cum: report.cum,
            average_price: report.average_price,
            status: report.status,
        });
        if report.exec_type == ExecType::Replaced && order.cl_ord_id != report.cl_ord_id {
            let old = std::mem::replace(&mut order.cl_ord_id, report.cl_ord_id.clone());
            order.aliases.push(old);
        }
        order.quantity = report.quantity;
        order.price = report.price.or(order.price);
        order.time_in_force = report.time_in_force.or(order.time_in_force);
        order.leaves = report.leaves;
        order.cum = report.cum;
        order.average_price = report.average_price;
        order.status = report.status;
    }

    /// The order whose current or earlier ClOrdID is `cl_ord_id` (the latest such order).
    pub(crate) fn find(&self, cl_ord_id: &str) -> Option<&KnownOrder> {
        self.by_order_id.values().rev().find(|order| {
            order.cl_ord_id == cl_ord_id || order.aliases.iter().any(|a| a == cl_ord_id)
        })
    }

    /// The working orders, oldest first.
    pub(crate) fn working(&self) -> Vec<&KnownOrder> {
        let mut working: Vec<&KnownOrder> =
            self.by_order_id.values().filter(|order| order.status.is_working()).collect();
        working.sort_by_key(|order| (order.order_id.len(), order.order_id.clone()));
        working
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(
        exec_type: ExecType,
        status: OrdStatus,
        cl: &str,
        orig: Option<&str>,
    ) -> ExecutionReport {
        ExecutionReport {
            order_id: Some("7".into()),
            cl_ord_id: cl.into(),
            orig_cl_ord_id: orig.map(Into::into),
            exec_id: "E".into(),
            exec_type,
            status,
            reject_reason: None,
            account: None,
            symbol: "S".into(),
            side: Side::Buy,
            quantity: 5,
            price: Some(Decimal::from(10)),
            time_in_force: Some(TimeInForce::Day),
            fill: None,
            leaves: 5,
            cum: 0,
            average_price: Decimal::ZERO,
            transact_time: None,
            text: None,
            poss_dup: false,
        }
    }

    #[test]
    fn replaces_keep_the_order_and_cancels_finish_it() {
        let mut orders = Orders::default();
        orders.apply(&report(ExecType::New, OrdStatus::New, "C1", None));
        orders.apply(&ExecutionReport {
            quantity: 4,
            leaves: 4,
            ..report(ExecType::Replaced, OrdStatus::New, "C2", Some("C1"))
        });
        let order = orders.find("C1").expect("by its first ClOrdID");
        assert_eq!((order.cl_ord_id.as_str(), order.quantity), ("C2", 4));
        assert_eq!(orders.find("C2").map(|o| &o.order_id), Some(&"7".to_string()));
        assert_eq!(orders.working().len(), 1);
        orders.apply(&ExecutionReport {
            leaves: 0,
            ..report(ExecType::Cancelled, OrdStatus::Cancelled, "X1", Some("C2"))
        });
        assert!(orders.working().is_empty());
        assert_eq!(orders.find("C2").map(|o| o.status), Some(OrdStatus::Cancelled));
        assert!(orders.find("X1").is_none(), "the cancel request is not an order");
        orders.apply(&ExecutionReport {
            order_id: None,
            ..report(ExecType::Rejected, OrdStatus::Rejected, "R", None)
        });
        assert!(orders.find("R").is_none());
    }
}
