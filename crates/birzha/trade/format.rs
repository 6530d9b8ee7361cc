//! How `birzha trade` shows what happens: one line per event, tables for books, orders and
//! instruments. Pure functions of the events, so they are tested on their own.

use std::fmt::Write as _;

use birzha_client::{
    CancelRejectTo, Decimal, EntryType, Event, ExecType, ExecutionReport, MarketData,
    MarketDataEntry, SecurityList, TimeInForce, UpdateAction,
};

use super::orders::KnownOrder;

/// A time in force as typed on the command line.
pub(crate) fn tif_name(tif: Option<TimeInForce>) -> String {
    match tif {
        None | Some(TimeInForce::Day) => "day".into(),
        Some(TimeInForce::GoodTillCancel) => "gtc".into(),
        Some(TimeInForce::ImmediateOrCancel) => "ioc".into(),
        Some(TimeInForce::FillOrKill) => "fok".into(),
        Some(TimeInForce::GoodTillDate(date)) => format!("gtd:{date}"),
    }
}

fn price_text(price: Option<Decimal>) -> String {
    price.map_or_else(|| "market".into(), |price| price.normalize().to_string())
}

/// One line for an execution report.
pub(crate) fn execution(report: &ExecutionReport) -> String {
    let resent = if report.poss_dup { " (resent)" } else { "" };
    let id = &report.cl_ord_id;
    let because = report.text.as_deref().map(|text| format!(": {text}")).unwrap_or_default();
    let progress = format!("leaves {}  filled {}", report.leaves, report.cum);
    let line = match report.exec_type {
        ExecType::New => format!(
            "accepted  {id}  {} {} {} @ {} {}  order {}",
            report.side.name(),
            report.quantity,
            report.symbol,
            price_text(report.price),
            tif_name(report.time_in_force),
            report.order_id.as_deref().unwrap_or("NONE"),
        ),
        ExecType::Trade => match &report.fill {
            Some(fill) => format!(
                "filled    {id}  {} @ {} ({})  trade {}  {progress}  avg {}",
                fill.lots,
                fill.price.normalize(),
                if fill.maker { "maker" } else { "taker" },
                fill.trade_id.as_deref().unwrap_or("-"),
                report.average_price.normalize(),
            ),
            None => format!("filled    {id}  {progress}"),
        },
        ExecType::Cancelled => {
            let order = report.orig_cl_ord_id.as_deref().unwrap_or(id);
            format!("cancelled {order}  {progress}{because}")
        }
        ExecType::Replaced => format!(
            "replaced  {} -> {id}  {} @ {}  {progress}",
            report.orig_cl_ord_id.as_deref().unwrap_or("?"),
            report.quantity,
            price_text(report.price),
        ),
        ExecType::Rejected => format!("rejected  {id}{because}"),
        ExecType::Expired => format!("expired   {id}  {progress}{because}"),
        ExecType::Restated => format!("restated  {id}  {progress}{because}"),
        ExecType::OrderStatus => format!(
            "status    {id}  {} {} {} @ {}  {}  {progress}",
            report.side.name(),
            report.quantity,
            report.symbol,
            price_text(report.price),
            report.status.name(),
        ),
    };
    format!("{line}{resent}")
}

/// The text of an event for a person; `None` for events shown otherwise (snapshots are
/// tables) or not at all.
pub(crate) fn event(event: &Event) -> Option<String> {
    let text = |text: &Option<String>| text.clone().unwrap_or_else(|| "no reason given".into());
    Some(match event {
        Event::Execution(report) => execution(report),
        Event::CancelReject(reject) => {
            let what = match reject.response_to {
                CancelRejectTo::Cancel => "cancel",
                CancelRejectTo::Replace => "replace",
            };
            let order = match (reject.orig_cl_ord_id.as_str(), &reject.order_id) {
                ("NONE" | "", Some(order_id)) => format!("order {order_id}"),
                (orig, _) => orig.to_owned(),
            };
            format!("refused   {what} {} of {order}: {}", reject.cl_ord_id, text(&reject.text))
        }
        Event::MassCancel(report) if report.response == b'0' => {
            format!("refused   mass cancel {}: {}", report.cl_ord_id, text(&report.text))
        }
        Event::MassCancel(report) => {
            let scope = report.symbol.as_deref().unwrap_or("all instruments");
            format!("cancelled {} orders ({scope})", report.affected)
        }
        Event::Snapshot(snapshot) => book(snapshot),
        Event::Incremental(update) => {
            let lines: Vec<String> = update.entries.iter().map(book_change).collect();
            lines.join("\n")
        }
        Event::MarketDataReject(reject) => format!(
            "refused   market data {}: {}",
            reject.request_id.as_deref().unwrap_or("?"),
            text(&reject.text)
        ),
        Event::SessionStatus(status) => {
            format!("phase     {}: {} ({})", status.symbol, text(&status.text), status.status)
        }
        Event::SecurityList(list) => securities(list),
        Event::BusinessReject(reject) | Event::SessionReject(reject) => format!(
            "refused   message {} (MsgType {}): {}",
            reject.ref_seq_num.map_or_else(|| "?".into(), |seq| seq.to_string()),
            reject.ref_msg_type.as_deref().unwrap_or("?"),
            text(&reject.text)
        ),
        Event::Logout(reason) => format!("logged out by the exchange: {}", text(reason)),
        _ => return None,
    })
}

/// One line for a change of a watched book or a trade.
fn book_change(entry: &MarketDataEntry) -> String {
    let price = entry.price.normalize();
    let side = match entry.entry_type {
        EntryType::Trade => {
            return format!("trade     {}  {} @ {price}", entry.symbol, entry.size);
        }
        EntryType::AuctionPrice => {
            return format!("auction   {}  indicative {} @ {price}", entry.symbol, entry.size);
        }
        EntryType::Bid => "bid",
        EntryType::Offer => "ask",
    };
    match entry.action {
        UpdateAction::Delete => format!("book      {}  {side} {price}  gone", entry.symbol),
        UpdateAction::New | UpdateAction::Change => {
            format!("book      {}  {side} {price}  {} lots", entry.symbol, entry.size)
        }
    }
}

/// Lays out rows under headers; `right[i]` aligns column `i` to the right.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|header| header.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let line = |cells: &[String]| {
        let mut text = String::new();
        for (index, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            let separator = if index == 0 { "" } else { "  " };
            if right.get(index).copied().unwrap_or(false) {
                let _ = write!(text, "{separator}{cell:>width$}");
            } else {
                let _ = write!(text, "{separator}{cell:<width$}");
            }
        }
        text.trim_end().to_owned()
    };
    let headers: Vec<String> = headers.iter().map(|header| (*header).to_owned()).collect();
    let mut text = line(&headers);
    for row in rows {
        text.push('\n');
        text.push_str(&line(row));
    }
    text
}

/// A depth snapshot: bids and asks side by side, best first, and the last trade.
pub(crate) fn book(snapshot: &MarketData) -> String {
    let of = |wanted: EntryType| -> Vec<&MarketDataEntry> {
        snapshot.entries.iter().filter(|entry| entry.entry_type == wanted).collect()
    };
    let (bids, asks) = (of(EntryType::Bid), of(EntryType::Offer));
    let symbol = snapshot
        .symbol
        .as_deref()
        .or_else(|| snapshot.entries.first().map(|entry| entry.symbol.as_str()))
        .unwrap_or("");
    let mut rows = Vec::new();
    for index in 0..bids.len().max(asks.len()) {
        let cells = |entry: Option<&&MarketDataEntry>| match entry {
            Some(entry) => (entry.size.to_string(), entry.price.normalize().to_string()),
            None => (String::new(), String::new()),
        };
        let (bid_lots, bid_price) = cells(bids.get(index));
        let (ask_lots, ask_price) = cells(asks.get(index));
        rows.push(vec![bid_lots, bid_price, "|".into(), ask_price, ask_lots]);
    }
    let headers = ["BID LOTS", "BID", "|", "ASK", "ASK LOTS"];
    let mut text = format!("book {} ({})\n", symbol, snapshot.request_id);
    if rows.is_empty() {
        text.push_str("(empty)");
    } else {
        text.push_str(&table(&headers, &rows, &[true, true, false, false, true]));
    }
    for trade in of(EntryType::Trade) {
        let _ = write!(text, "\nlast trade: {} @ {}", trade.size, trade.price.normalize());
    }
    for auction in of(EntryType::AuctionPrice) {
        let _ = write!(text, "\nindicative: {} @ {}", auction.size, auction.price.normalize());
    }
    text
}

/// The working orders as a table.
pub(crate) fn orders(orders: &[&KnownOrder]) -> String {
    if orders.is_empty() {
        return "no working orders".into();
    }
    let rows: Vec<Vec<String>> = orders
        .iter()
        .map(|order| {
            vec![
                order.cl_ord_id.clone(),
                order.side.name().into(),
                order.symbol.clone(),
                order.quantity.to_string(),
                price_text(order.price),
                order.cum.to_string(),
                order.leaves.to_string(),
                tif_name(order.time_in_force),
                order.status.name().into(),
                order.order_id.clone(),
            ]
        })
        .collect();
    let headers = [
        "CLORDID", "SIDE", "SYMBOL", "LOTS", "PRICE", "FILLED", "LEAVES", "TIF", "STATUS", "ORDER",
    ];
    let right = [false, false, false, true, true, true, true, false, false, false];
    table(&headers, &rows, &right)
}

/// The instruments as a table.
fn securities(list: &SecurityList) -> String {
    let rows: Vec<Vec<String>> = list
        .securities
        .iter()
        .map(|security| {
            vec![
                security.symbol.clone(),
                security.currency.clone().unwrap_or_default(),
                security.lot_size.map(|lot| lot.normalize().to_string()).unwrap_or_default(),
                security.description.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(&["SYMBOL", "CCY", "LOT", "DESCRIPTION"], &rows, &[false, false, true, false])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(entry_type: EntryType, price: i64, size: u64) -> MarketDataEntry {
        MarketDataEntry {
            action: UpdateAction::New,
            entry_type,
            symbol: "BUT82-FCA-USD".into(),
            price: Decimal::from(price),
            size,
        }
    }

    #[test]
    fn a_book_shows_both_sides_in_aligned_columns() {
        let snapshot = MarketData {
            request_id: "MD1".into(),
            symbol: Some("BUT82-FCA-USD".into()),
            entries: vec![
                entry(EntryType::Bid, 6790, 12),
                entry(EntryType::Offer, 6805, 4),
                entry(EntryType::Offer, 6810, 100),
                entry(EntryType::Trade, 6800, 3),
            ],
        };
        let expected = "\
book BUT82-FCA-USD (MD1)
BID LOTS   BID  |  ASK   ASK LOTS
      12  6790  |  6805         4
                |  6810       100
last trade: 3 @ 6800";
        assert_eq!(book(&snapshot), expected);
        let empty = MarketData { request_id: "MD2".into(), symbol: None, entries: Vec::new() };
        assert_eq!(book(&empty), "book  (MD2)\n(empty)");
    }

    #[test]
    fn changes_and_trades_are_one_line_each() {
        let mut gone = entry(EntryType::Bid, 6790, 0);
        gone.action = UpdateAction::Delete;
        let update = MarketData {
            request_id: "W".into(),
            symbol: None,
            entries: vec![entry(EntryType::Trade, 6805, 1), gone, entry(EntryType::Offer, 6805, 3)],
        };
        assert_eq!(
            event(&Event::Incremental(update)).expect("shown"),
            "trade     BUT82-FCA-USD  1 @ 6805\nbook      BUT82-FCA-USD  bid 6790  gone\n\
             book      BUT82-FCA-USD  ask 6805  3 lots"
        );
    }
}
