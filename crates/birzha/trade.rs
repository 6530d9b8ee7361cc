//! `birzha trade`: a trader's command-line FIX client, built on `birzha-client`.
//!
//! One command per run (`buy`, `sell`, `market`, `cancel`, `cancel-all`, `replace`, `status`,
//! `orders`, `book`, `watch`, `symbols`), or, without a command, an interactive mode that reads
//! the same commands line by line and prints events as they arrive. Every run logs on, does its
//! work, logs out cleanly (so Day orders stay working) and saves the sequence numbers
//! ([`state`]).
//!
//! # Orders
//! The profile has no mass status request, so the trader's orders are learnt from the
//! exchange's own record: commands that need them (`orders`, `cancel`, `replace`, `status`
//! and the interactive mode) log on expecting MsgSeqNum 1, which makes the client ask for a
//! resend of everything the exchange kept for the trader; a SecurityListRequest sent after
//! the Logon marks the end of the replay ([`Trader::sync`]). What a reset (141=Y) dropped is
//! not known.
//!
//! # Exit codes
//! 0 done; 4 the Logon was refused; 5 the exchange rejected the request (order reject,
//! cancel/replace reject, mass cancel or market-data refusal); 1 anything else (no answer in
//! time, connection failure, unknown ClOrdID).

mod args;
mod format;
mod orders;
mod state;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use birzha_client::{
    CancelOrder, Client, ClientConfig, ClientError, Event, Events, ExecType, MarketDataRequest,
    MassCancel, NewOrder, OrderRef, OrderStatus, ReplaceOrder, Request, SecurityListRequest, Side,
    Subscription, TimeInForce,
};
use clap::Parser;
use tokio::io::{AsyncBufReadExt, BufReader};

use args::{LimitArgs, Line, LineCommand, OrderOptions, parse_price};
pub(crate) use args::{TradeArgs, TradeCommand};
use orders::Orders;

/// Why `birzha trade` failed in a way its exit code reports.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TradeError {
    /// The exchange refused the Logon.
    #[error("logon refused: {text}")]
    LogonRefused {
        /// The exchange's reason.
        text: String,
    },
    /// The exchange rejected the request.
    #[error("rejected: {text}")]
    Rejected {
        /// The exchange's reason.
        text: String,
    },
}

/// How long to keep printing after an order is accepted, for fills that follow at once.
const LINGER: Duration = Duration::from_millis(300);

/// Runs `birzha trade`.
///
/// # Errors
/// Returns a [`TradeError`] for a refused Logon or a rejected request, and other errors for
/// connection failures and timeouts.
pub(crate) fn run(args: TradeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(execute(&args, Box::new(std::io::stdout())))
}

/// Logs on, runs the command (or the interactive mode), logs out; output goes to `out`.
///
/// # Errors
/// As [`run`].
pub(crate) async fn execute(args: &TradeArgs, out: Box<dyn Write + Send>) -> anyhow::Result<()> {
    let mut trader = Trader::connect(args, out).await?;
    let result = match args.command.clone() {
        Some(command) => trader.one_shot(command).await,
        None => trader.interactive(BufReader::new(tokio::io::stdin())).await,
    };
    let closed = trader.close().await;
    result.and(closed)
}

/// A logged-on trader and what it knows.
pub(crate) struct Trader {
    client: Client,
    events: Events,
    orders: Orders,
    /// Where the sequence numbers are saved.
    state: PathBuf,
    /// How long to wait for each answer.
    timeout: Duration,
    /// Numbers generated ClOrdIDs and request ids within the run.
    counter: u64,
    /// Where the output goes.
    out: Box<dyn Write + Send>,
}

impl Trader {
    /// Logs on with the saved sequence numbers (or a reset if there are none). A refusal for
    /// a MsgSeqNum too low is retried once with the number the exchange expects.
    ///
    /// # Errors
    /// Returns [`TradeError::LogonRefused`] or the connection's error.
    pub(crate) async fn connect(
        args: &TradeArgs,
        mut out: Box<dyn Write + Send>,
    ) -> anyhow::Result<Trader> {
        let dir = args.state_dir.clone().unwrap_or_else(state::default_dir);
        let state = state::path(&dir, args.server, &args.user);
        let saved = state::load(&state).with_context(|| {
            format!("cannot read the saved sequence numbers {}", state.display())
        })?;
        let mut config = ClientConfig::new(&args.user, &args.password);
        config.target_comp_id.clone_from(&args.comp_id);
        config.logon_timeout = Duration::from_secs(args.timeout.max(1));
        let history = needs_history(args.command.as_ref());
        match saved {
            Some(numbers) if !args.reset_seq => {
                config.sender_seq_next = numbers.sender_next;
                config.target_seq_next = numbers.target_next;
            }
            // Without saved numbers, a command that needs the trader's orders logs on at 1
            // without a reset, takes the number the exchange's refusal names, and reads what
            // the exchange kept: a reset would make it forget them (and `orders` said "no
            // working orders" while some were working).
            None if history && !args.reset_seq => {}
            _ => config.reset_seq_nums = true,
        }
        if history && !config.reset_seq_nums {
            config.target_seq_next = Some(1);
        }
        let (client, events) = match Client::connect(args.server, config.clone()).await {
            Err(ClientError::LogonRefused { text }) => {
                let Some(expected) = state::expected_by_refusal(&text) else {
                    return Err(TradeError::LogonRefused { text }.into());
                };
                let _ = writeln!(
                    out,
                    "note: the saved sequence numbers were stale ({text}); logging on again"
                );
                config.sender_seq_next = expected;
                connect_once(args, config).await?
            }
            other => other.map_err(|error| refused_or(error, args))?,
        };
        let timeout = Duration::from_secs(args.timeout.max(1));
        let mut trader =
            Trader { client, events, orders: Orders::default(), state, timeout, counter: 0, out };
        trader.save();
        if needs_history(args.command.as_ref()) {
            trader.sync().await?;
        }
        Ok(trader)
    }

    /// Logs out and saves the sequence numbers.
    ///
    /// # Errors
    /// Returns an error if the numbers cannot be saved.
    pub(crate) async fn close(self) -> anyhow::Result<()> {
        let Trader { client, state, .. } = self;
        let before = client.sequence_numbers();
        // A session that failed still leaves numbers the next Logon must use.
        let numbers = client.logout().await.map_or(before, |end| end.numbers);
        state::save(&state, numbers)
            .with_context(|| format!("cannot save the sequence numbers to {}", state.display()))
    }

    fn save(&self) {
        let _ = state::save(&self.state, self.client.sequence_numbers());
    }

    fn say(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }

    /// A new ClOrdID: `C` + milliseconds of the UTC day + `-` + a counter, unique per trader
    /// per day unless two runs start within the same millisecond.
    fn next_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        format!("{prefix}{}-{}", now.as_millis() % 86_400_000, self.counter)
    }

    /// Waits until everything the exchange resent after the Logon has been read: the answer
    /// to a SecurityListRequest comes after it.
    async fn sync(&mut self) -> anyhow::Result<()> {
        let request_id = self.next_id("SYNC");
        self.client.send(SecurityListRequest { request_id: request_id.clone() }).await?;
        self.until("the order history", |_, event| match event {
            Event::SecurityList(list) if list.request_id == request_id => Some(Ok(())),
            _ => None,
        })
        .await
    }

    /// Reads events, applying reports to the orders and printing the lines `show` returns,
    /// until `done` returns a result or the timeout passes.
    async fn until<T>(
        &mut self,
        what: &str,
        mut done: impl FnMut(&mut Trader, &Event) -> Option<anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv()).await;
            let Ok(event) = event else {
                bail!("no answer for {what} within {} s", self.timeout.as_secs());
            };
            let Some(event) = event else { bail!("the session ended while waiting for {what}") };
            if let Event::Execution(report) = &event {
                self.orders.apply(report);
            }
            if let Event::Logout(text) = &event {
                bail!("logged out by the exchange: {}", text.as_deref().unwrap_or("no reason"));
            }
            // A command sends one request: a session Reject or BusinessMessageReject while it
            // waits refuses it (the exchange's BUSY or THROTTLED; it was "no answer" after the
            // timeout).
            if let Event::BusinessReject(reject) | Event::SessionReject(reject) = &event {
                if let Some(line) = format::event(&event) {
                    self.say(&line);
                }
                let text = reject.text.clone().unwrap_or_else(|| "no reason".into());
                return Err(TradeError::Rejected { text }.into());
            }
            if let Some(result) = done(self, &event) {
                return result;
            }
        }
    }

    /// Runs one command and waits for its outcome.
    ///
    /// # Errors
    /// Returns [`TradeError::Rejected`] when the exchange refuses it, or an error when there
    /// is no answer in time or the order is unknown.
    pub(crate) async fn one_shot(&mut self, command: TradeCommand) -> anyhow::Result<()> {
        match command {
            TradeCommand::Watch { symbols } => return self.watch(&symbols).await,
            TradeCommand::Orders => {
                let text = format::orders(&self.orders.working());
                self.say(&text);
                return Ok(());
            }
            _ => {}
        }
        let Some((request, wait)) = self.request(&command)? else { return Ok(()) };
        self.client.send(request).await?;
        self.wait(wait).await
    }

    /// The request a command sends and what answers it; `None` for commands that send
    /// nothing.
    ///
    /// # Errors
    /// Returns an error for a bad price, an unknown order, or `unwatch` outside the
    /// interactive mode.
    fn request(&mut self, command: &TradeCommand) -> anyhow::Result<Option<(Request, Wait)>> {
        Ok(Some(match command {
            TradeCommand::Buy(args) => self.limit(Side::Buy, args)?,
            TradeCommand::Sell(args) => self.limit(Side::Sell, args)?,
            TradeCommand::Market(args) => {
                let id = self.order_id(&args.options);
                let order = NewOrder::market(&id, &args.symbol, args.side.into(), args.quantity);
                let mut order = with_options(order, &args.options);
                if order.time_in_force == TimeInForce::Day {
                    order.time_in_force = TimeInForce::ImmediateOrCancel;
                }
                let to_the_end = immediate(order.time_in_force);
                (order.into(), Wait::Order { id, to_the_end })
            }
            TradeCommand::Cancel { cl_ord_id } => self.cancel(cl_ord_id)?,
            TradeCommand::Replace { cl_ord_id, quantity, price } => {
                let price = parse_price(price).map_err(anyhow::Error::msg)?;
                self.replace(cl_ord_id, *quantity, price)?
            }
            TradeCommand::Status { cl_ord_id } => {
                let order = self.known(cl_ord_id)?;
                let status = OrderStatus {
                    order: OrderRef::ClOrdId(order.cl_ord_id.clone()),
                    symbol: order.symbol.clone(),
                    side: order.side,
                };
                (status.into(), Wait::Status(order.order_id.clone()))
            }
            TradeCommand::CancelAll { symbol } => {
                let id = self.next_id("M");
                let mass = MassCancel { cl_ord_id: id.clone(), symbol: symbol.clone(), side: None };
                (mass.into(), Wait::MassCancel(id))
            }
            TradeCommand::Book { symbol } => {
                let id = self.next_id("BOOK");
                (MarketDataRequest::snapshot(&id, symbol).into(), Wait::MarketData(id))
            }
            TradeCommand::Symbols => {
                let id = self.next_id("SYMBOLS");
                (SecurityListRequest { request_id: id.clone() }.into(), Wait::SecurityList(id))
            }
            TradeCommand::Unwatch { symbol } => {
                let request = MarketDataRequest {
                    subscription: Subscription::Unsubscribe,
                    ..MarketDataRequest::subscribe(watch_id(symbol), symbol)
                };
                (request.into(), Wait::Nothing)
            }
            TradeCommand::Orders | TradeCommand::Watch { .. } => return Ok(None),
        }))
    }

    fn order_id(&mut self, options: &OrderOptions) -> String {
        options.id.clone().unwrap_or_else(|| self.next_id("C"))
    }

    fn limit(&mut self, side: Side, args: &LimitArgs) -> anyhow::Result<(Request, Wait)> {
        let price = parse_price(&args.price).map_err(anyhow::Error::msg)?;
        let id = self.order_id(&args.options);
        let order = with_options(
            NewOrder::limit(&id, &args.symbol, side, args.quantity, price),
            &args.options,
        );
        let to_the_end = immediate(order.time_in_force);
        Ok((order.into(), Wait::Order { id, to_the_end }))
    }

    fn known(&self, cl_ord_id: &str) -> anyhow::Result<orders::KnownOrder> {
        self.orders.find(cl_ord_id).cloned().with_context(|| {
            format!(
                "unknown order {cl_ord_id}: not among the orders the exchange keeps for this \
                 trader (see `orders`)"
            )
        })
    }

    fn cancel(&mut self, cl_ord_id: &str) -> anyhow::Result<(Request, Wait)> {
        let order = self.known(cl_ord_id)?;
        let id = self.next_id("X");
        let cancel = CancelOrder {
            cl_ord_id: id.clone(),
            order: OrderRef::OrderId(order.order_id),
            symbol: order.symbol,
            side: order.side,
        };
        Ok((cancel.into(), Wait::Modify(id)))
    }

    fn replace(
        &mut self,
        cl_ord_id: &str,
        quantity: u64,
        price: birzha_client::Decimal,
    ) -> anyhow::Result<(Request, Wait)> {
        let order = self.known(cl_ord_id)?;
        let id = self.next_id("C");
        let replace = ReplaceOrder {
            cl_ord_id: id.clone(),
            order: OrderRef::OrderId(order.order_id),
            symbol: order.symbol,
            side: order.side,
            quantity,
            price,
            display: None,
        };
        Ok((replace.into(), Wait::Modify(id)))
    }

    /// Prints the events that answer a request until its outcome is known.
    async fn wait(&mut self, wait: Wait) -> anyhow::Result<()> {
        if let Wait::Order { id, to_the_end } = &wait {
            return self.wait_order(id, *to_the_end).await;
        }
        if wait == Wait::Nothing {
            return Ok(());
        }
        // A replace that leaves its order working may trade at once: its fills follow.
        let mut working = false;
        self.until("the answer", |trader, event| {
            let refused = wait.answered_by(event)?;
            if let Some(line) = format::event(event) {
                trader.say(&line);
            }
            if let Event::Execution(report) = event {
                working = report.exec_type == ExecType::Replaced && report.status.is_working();
            }
            Some(match refused {
                Some(text) => Err(TradeError::Rejected { text }.into()),
                None => Ok(()),
            })
        })
        .await?;
        if let (true, Wait::Modify(id)) = (working, &wait) {
            self.linger(id).await;
        }
        Ok(())
    }

    /// Prints an order's reports until it is finished, or (unless `to_the_end`) accepted and
    /// quiet for [`LINGER`].
    async fn wait_order(&mut self, id: &str, to_the_end: bool) -> anyhow::Result<()> {
        let what = if to_the_end { "the order's end (fills or cancel)" } else { "the order" };
        let accepted = self
            .until(what, |trader, event| {
                let Event::Execution(report) = event else { return None };
                if report.cl_ord_id != id {
                    return None;
                }
                trader.say(&format::execution(report));
                match report.exec_type {
                    ExecType::Rejected => {
                        let text = report.text.clone().unwrap_or_else(|| "no reason".into());
                        Some(Err(TradeError::Rejected { text }.into()))
                    }
                    _ if !report.status.is_working() => Some(Ok(false)),
                    _ if to_the_end => None,
                    _ => Some(Ok(true)),
                }
            })
            .await?;
        if !accepted {
            return Ok(());
        }
        self.linger(id).await;
        Ok(())
    }

    /// Prints the reports of order `id` that come within [`LINGER`] (the fills of an order
    /// that trades as soon as it is accepted or replaced).
    async fn linger(&mut self, id: &str) {
        let deadline = tokio::time::Instant::now() + LINGER;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, self.events.recv()).await {
            if let Event::Execution(report) = &event {
                self.orders.apply(report);
                if report.cl_ord_id == id {
                    self.say(&format::execution(report));
                }
            }
        }
    }

    /// Subscribes to `symbols` and prints until Ctrl-C or the end of the session; a refused
    /// subscription ends it with the refusal.
    async fn watch(&mut self, symbols: &[String]) -> anyhow::Result<()> {
        for symbol in symbols {
            self.client.send(MarketDataRequest::subscribe(watch_id(symbol), symbol)).await?;
        }
        let interrupt = tokio::signal::ctrl_c();
        tokio::pin!(interrupt);
        loop {
            tokio::select! {
                _ = &mut interrupt => return Ok(()),
                event = self.events.recv() => {
                    let Some(event) = event else { bail!("the session ended") };
                    self.show(&event);
                    if let Event::MarketDataReject(reject) = &event {
                        let text = reject.text.clone().unwrap_or_else(|| "no reason".into());
                        return Err(TradeError::Rejected { text }.into());
                    }
                }
            }
        }
    }

    /// Prints an event and applies it to the orders.
    fn show(&mut self, event: &Event) {
        if let Event::Execution(report) = event {
            self.orders.apply(report);
        }
        if let Some(line) = format::event(event) {
            self.say(&line);
        }
    }

    /// Reads commands from `input` (standard input) until `quit`, end of input or Ctrl-C,
    /// printing events as they arrive.
    async fn interactive(
        &mut self,
        input: impl tokio::io::AsyncBufRead + Unpin,
    ) -> anyhow::Result<()> {
        let mut lines = input.lines();
        let working = self.orders.working().len();
        self.say(&format!(
            "logged on; {working} working orders. Commands: buy, sell, market, cancel, \
             cancel-all, replace, status, orders, book, watch, unwatch, symbols, help, quit"
        ));
        let interrupt = tokio::signal::ctrl_c();
        tokio::pin!(interrupt);
        loop {
            tokio::select! {
                _ = &mut interrupt => return Ok(()),
                line = lines.next_line() => {
                    let Some(line) = line.context("cannot read standard input")? else {
                        return Ok(());
                    };
                    if !self.line(&line).await? {
                        return Ok(());
                    }
                }
                event = self.events.recv() => {
                    let Some(event) = event else { bail!("the session ended") };
                    // A refusal (a book of an unknown symbol) is a line; the session goes on.
                    self.show(&event);
                }
            }
        }
    }

    /// Runs one typed line without waiting for its answer; `false` to leave.
    async fn line(&mut self, line: &str) -> anyhow::Result<bool> {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            return Ok(true);
        }
        let command = match Line::try_parse_from(&words) {
            Ok(Line { command: LineCommand::Quit }) => return Ok(false),
            Ok(Line { command: LineCommand::Trade(command) }) => command,
            Err(error) => {
                self.say(error.render().to_string().trim_end());
                return Ok(true);
            }
        };
        if command == TradeCommand::Orders {
            let text = format::orders(&self.orders.working());
            self.say(&text);
            return Ok(true);
        }
        let requests: anyhow::Result<Vec<Request>> = match &command {
            TradeCommand::Watch { symbols } => Ok(symbols
                .iter()
                .map(|symbol| MarketDataRequest::subscribe(watch_id(symbol), symbol).into())
                .collect()),
            _ => self
                .request(&command)
                .map(|found| found.map(|(request, _)| request).into_iter().collect()),
        };
        match requests {
            Ok(requests) => {
                for request in requests {
                    match self.client.send(request).await {
                        // A value the client cannot encode is a typo like any other.
                        Err(ClientError::Request(error)) => self.say(&format!("error: {error}")),
                        sent => sent?,
                    }
                }
            }
            Err(error) => self.say(&format!("error: {error:#}")),
        }
        Ok(true)
    }
}

/// Logs on once more after a refusal.
async fn connect_once(args: &TradeArgs, config: ClientConfig) -> anyhow::Result<(Client, Events)> {
    Client::connect(args.server, config).await.map_err(|error| refused_or(error, args))
}

/// A refused Logon as a [`TradeError`], other failures with the address.
fn refused_or(error: ClientError, args: &TradeArgs) -> anyhow::Error {
    match error {
        ClientError::LogonRefused { text } => TradeError::LogonRefused { text }.into(),
        // The exchange numbers from 1 again (its data directory was reset or restored): the
        // saved numbers belong to the old one.
        error @ ClientError::SequenceTooLow { .. } => anyhow::Error::new(error).context(format!(
            "cannot log on to {} as {}: the exchange's sequence numbers are behind the saved \
             ones (was its data reset?); run again with --reset-seq to start both at 1",
            args.server, args.user
        )),
        other => anyhow::Error::new(other)
            .context(format!("cannot log on to {} as {}", args.server, args.user)),
    }
}

/// Whether a command needs the trader's orders learnt from the exchange's resend.
fn needs_history(command: Option<&TradeCommand>) -> bool {
    matches!(
        command,
        None | Some(
            TradeCommand::Orders
                | TradeCommand::Cancel { .. }
                | TradeCommand::Replace { .. }
                | TradeCommand::Status { .. }
        )
    )
}

/// The MDReqID of a watch of `symbol`, so `unwatch` can name it.
fn watch_id(symbol: &str) -> String {
    format!("WATCH-{symbol}")
}

/// Whether an order with this time in force finishes at once (its command waits for that).
fn immediate(tif: TimeInForce) -> bool {
    matches!(tif, TimeInForce::ImmediateOrCancel | TimeInForce::FillOrKill)
}

fn with_options(mut order: NewOrder, options: &OrderOptions) -> NewOrder {
    if let Some(tif) = options.tif {
        order.time_in_force = tif;
    }
    order.display = options.display;
    order.post_only = options.post_only;
    order.self_match = options.self_match.map(Into::into);
    order.account.clone_from(&options.account);
    order
}

/// What answers a request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Wait {
    /// Reports of the new order with this ClOrdID: until it is finished (an IOC or FOK
    /// order), or acknowledged and quiet for [`LINGER`].
    Order { id: String, to_the_end: bool },
    /// The cancel's or replace's report, or its OrderCancelReject.
    Modify(String),
    /// The status report of the order with this OrderID.
    Status(String),
    /// The MassCancelReport.
    MassCancel(String),
    /// The snapshot or its reject.
    MarketData(String),
    /// The SecurityList.
    SecurityList(String),
    /// Nothing.
    Nothing,
}

impl Wait {
    /// `Some` if `event` answers the request, holding the refusal's text if it refuses it.
    fn answered_by(&self, event: &Event) -> Option<Option<String>> {
        let text = |text: &Option<String>| Some(text.clone().unwrap_or_else(|| "no reason".into()));
        match (self, event) {
            (Wait::Modify(id), Event::Execution(report)) if &report.cl_ord_id == id => {
                let refused = report.exec_type == ExecType::Rejected;
                Some(if refused { text(&report.text) } else { None })
            }
            (Wait::Modify(id), Event::CancelReject(reject)) if &reject.cl_ord_id == id => {
                Some(text(&reject.text))
            }
            (Wait::Status(order_id), Event::Execution(report))
                if report.order_id.as_ref() == Some(order_id)
                    && report.exec_type == ExecType::OrderStatus =>
            {
                Some(None)
            }
            (Wait::MassCancel(id), Event::MassCancel(report)) if &report.cl_ord_id == id => {
                Some((report.response == b'0').then(|| text(&report.text)).flatten())
            }
            (Wait::MarketData(id), Event::Snapshot(snapshot)) if &snapshot.request_id == id => {
                Some(None)
            }
            (Wait::MarketData(id), Event::MarketDataReject(reject))
                if reject.request_id.as_ref() == Some(id) =>
            {
                Some(text(&reject.text))
            }
            (Wait::SecurityList(id), Event::SecurityList(list)) if &list.request_id == id => {
                Some(None)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex, PoisonError};

    use super::*;
    use crate::testing::TestExchange;

    /// Output collected for assertions.
    #[derive(Clone, Default)]
    struct Output(Arc<Mutex<Vec<u8>>>);

    impl Write for Output {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Runs `birzha trade --user USER --password demo WORDS…`; returns the result and output.
    async fn trade(
        exchange: &TestExchange,
        state: &std::path::Path,
        user: &str,
        words: &str,
    ) -> (anyhow::Result<()>, String) {
        let args = args_at(exchange.address, state, user, words);
        let output = Output::default();
        let result = execute(&args, Box::new(output.clone())).await;
        let text = String::from_utf8_lossy(&output.0.lock().expect("not poisoned")).into_owned();
        (result, text)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_shot_commands_trade_list_and_cancel() {
        let exchange = TestExchange::start(crate::config::DEFAULT_TOML).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let state = dir.path();
        let sell = "sell BUT82-FCA-USD 3 @ 6800 --tif gtc --id S1";
        let (result, text) = trade(&exchange, state, "TRADER1", sell).await;
        result.expect("accepted");
        assert!(
            text.starts_with("accepted  S1  sell 3 BUT82-FCA-USD @ 6800 gtc  order "),
            "{text}"
        );
        let buy = "buy BUT82-FCA-USD 4 @ 6805 --tif ioc --id B1";
        let (result, text) = trade(&exchange, state, "TRADER3", buy).await;
        result.expect("filled");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("filled    B1  3 @ 6800 (taker)  trade "), "{text}");
        assert!(lines[1].ends_with("leaves 1  filled 3  avg 6800"), "{text}");
        assert!(lines[2].starts_with("cancelled B1  leaves 0  filled 3: "), "{text}");
        let (result, text) =
            trade(&exchange, state, "TRADER1", "sell BUT82-FCA-USD 2 6900 --id S2").await;
        result.expect("accepted");
        assert!(text.contains("accepted  S2"), "{text}");
        // `orders` learns the orders from the exchange's resend: S1 is filled, S2 works.
        let (result, text) = trade(&exchange, state, "TRADER1", "orders").await;
        result.expect("listed");
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 2, "{text}");
        let cells: Vec<&str> = rows[1].split_whitespace().collect();
        assert_eq!(
            cells[..9],
            ["S2", "sell", "BUT82-FCA-USD", "2", "6900", "0", "2", "day", "new"]
        );
        let (result, text) = trade(&exchange, state, "TRADER1", "cancel S2").await;
        result.expect("cancelled");
        assert!(text.starts_with("cancelled S2  leaves 0  filled 0"), "{text}");
        let (result, text) = trade(&exchange, state, "TRADER1", "orders").await;
        result.expect("listed");
        assert_eq!(text.trim(), "no working orders");
        exchange.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rejects_and_refused_logons_are_errors_with_the_reason() {
        let exchange = TestExchange::start(crate::config::DEFAULT_TOML).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let (result, text) =
            trade(&exchange, dir.path(), "TRADER2", "buy BUT82-FCA-USD 1 @ 6000").await;
        let error = result.expect_err("rejected");
        assert!(matches!(error.downcast_ref::<TradeError>(), Some(TradeError::Rejected { .. })));
        assert!(text.contains(": PRICE_OUTSIDE_BAND: price 6000 outside band [6120, 7480]"));
        let (result, _) = trade(&exchange, dir.path(), "TRADER2", "cancel NO-SUCH").await;
        assert!(result.expect_err("unknown").to_string().starts_with("unknown order NO-SUCH"));
        let (result, text) = trade(&exchange, dir.path(), "TRADER2", "book NO-SUCH").await;
        assert!(result.is_err() && text.starts_with("refused   market data"), "{text}");
        let (result, text) = trade(&exchange, dir.path(), "TRADER2", "book BUT82-FCA-USD").await;
        result.expect("a snapshot");
        assert!(text.starts_with("book BUT82-FCA-USD"), "{text}");
        let (result, _) = trade(&exchange, dir.path(), "NOBODY", "orders").await;
        let error = result.expect_err("refused");
        assert!(matches!(
            error.downcast_ref::<TradeError>(),
            Some(TradeError::LogonRefused { .. })
        ));
        exchange.stop().await;
    }

    // Regressions found by a review of the tools (2026-11-29).

    /// The arguments of `birzha trade --user USER --password demo WORDS…` against `address`.
    fn args_at(
        address: std::net::SocketAddr,
        state: &std::path::Path,
        user: &str,
        words: &str,
    ) -> TradeArgs {
        let server = address.to_string();
        let state = state.display().to_string();
        let mut line = vec!["birzha", "trade", "--server", &server, "--state-dir", &state];
        line.extend(["--user", user, "--password", "demo"]);
        line.extend(words.split_whitespace());
        let cli = <crate::cli::Cli as Parser>::try_parse_from(line).expect("valid command line");
        let crate::cli::Command::Trade(args) = cli.command else { panic!("not trade") };
        args
    }

    /// In the interactive mode a typo is printed and the session goes on (clap errors,
    /// a bad price, an unknown ClOrdID), but a value only the client's validation refuses
    /// (0 lots, a ClOrdID or symbol over 64 characters or not printable ASCII) ends the whole
    /// interactive session with an error: `self.client.send(request).await?` in `line`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bad_order_line_does_not_end_the_interactive_session() {
        let exchange = TestExchange::start(crate::config::DEFAULT_TOML).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let args = args_at(exchange.address, dir.path(), "TRADER1", "");
        let output = Output::default();
        let mut trader = Trader::connect(&args, Box::new(output.clone())).await.expect("logon");
        let kept = trader.line("buy BUT82-FCA-USD 0 @ 6800").await;
        let kept_too = trader.line("sell BUT82-FCA-USD 1 @ 6900 --id ÜBER-1").await;
        trader.close().await.expect("closed");
        exchange.stop().await;
        assert!(matches!(kept, Ok(true)), "0 lots ended the session: {kept:?}");
        assert!(
            matches!(kept_too, Ok(true)),
            "a non-ASCII ClOrdID ended the session: {kept_too:?}"
        );
    }

    /// tools.md: exit code 5 for "a refused mass cancel or market-data request". `watch` of a
    /// symbol the exchange refuses prints `refused market data …` and then waits for Ctrl-C
    /// for ever (exit 0 when interrupted): the refusal is neither an error nor an end.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_watch_ends_with_the_rejection() {
        let exchange = TestExchange::start(crate::config::DEFAULT_TOML).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let outcome = tokio::time::timeout(
            Duration::from_secs(10),
            trade(&exchange, dir.path(), "TRADER2", "watch NO-SUCH"),
        )
        .await;
        exchange.stop().await;
        let (result, text) = outcome.expect("a refused watch ends (it waited for Ctrl-C instead)");
        assert!(text.contains("refused   market data"), "{text}");
        let error = result.expect_err("refused");
        assert!(matches!(error.downcast_ref::<TradeError>(), Some(TradeError::Rejected { .. })));
    }

    /// tools.md: "an IOC, FOK or market order's command waits until the order is finished".
    /// `wait_order` stops at the acknowledgement of any working order and lingers 300 ms, so an
    /// IOC whose end comes later (a loaded exchange; a market order resting in a call phase)
    /// exits 0 without its fills or its cancel, its outcome unknown.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_ioc_command_waits_until_the_order_is_finished() {
        use crate::testing::fake;
        let script: fake::Script =
            std::sync::Arc::new(|inbound: &fake::Inbound| match inbound.msg_type.as_str() {
                "D" => vec![
                    fake::send(0, "8", fake::report(inbound, '0', '0', "|59=3")),
                    fake::send(
                        1000,
                        "8",
                        fake::report(
                            inbound,
                            '4',
                            '4',
                            "|59=3|58=IOC: unfilled remainder of an immediate order",
                        ),
                    ),
                ],
                _ => vec![],
            });
        let address = fake::start(script).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let args =
            args_at(address, dir.path(), "TRADER3", "buy BUT82-FCA-USD 4 @ 6805 --tif ioc --id I1");
        let output = Output::default();
        let result = execute(&args, Box::new(output.clone())).await;
        let text = String::from_utf8_lossy(&output.0.lock().expect("not poisoned")).into_owned();
        result.expect("done");
        assert!(text.contains("accepted  I1"), "{text}");
        assert!(text.contains("cancelled I1"), "the IOC's end was not awaited: {text}");
    }

    /// Regression (a review of 2026-11-29): a BusinessMessageReject (j) or session Reject (3) of the request
    /// (the exchange's `BUSY` when its dispatcher queue is full, `THROTTLED` for a status
    /// request) was not an answer to `wait_order`/`until`: the one-shot command ignored it,
    /// waited out `--timeout` and exited 1 with "no answer", though the exchange refused it at
    /// once (tools.md: exit 5 "the exchange rejected the request ... the reason is printed").
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_business_reject_of_the_order_is_a_rejection_not_a_timeout() {
        use crate::testing::fake;
        let script: fake::Script =
            std::sync::Arc::new(|inbound: &fake::Inbound| match inbound.msg_type.as_str() {
                "D" => vec![fake::send(
                    0,
                    "j",
                    format!("45={}|372=D|380=4|58=BUSY: the exchange is busy", inbound.seq),
                )],
                _ => vec![],
            });
        let address = fake::start(script).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let args = args_at(address, dir.path(), "TRADER3", "buy BUT82-FCA-USD 1 @ 6805 --id J1");
        let output = Output::default();
        let started = std::time::Instant::now();
        let result = execute(&args, Box::new(output.clone())).await;
        let text = String::from_utf8_lossy(&output.0.lock().expect("not poisoned")).into_owned();
        let error = result.expect_err("refused");
        assert!(
            matches!(error.downcast_ref::<TradeError>(), Some(TradeError::Rejected { .. })),
            "after {:?}: {error:#}; output: {text}",
            started.elapsed()
        );
        assert!(text.contains("BUSY"), "{text}");
    }

    /// Regression (a review of 2026-11-29): `replace` to a price that crosses printed only the replace report
    /// ("leaves 3  filled 0") and exited; the fills that follow at once were not shown, unlike
    /// a new order's command, which lingers 300 ms for them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_replace_that_trades_shows_its_fills() {
        let exchange = TestExchange::start(crate::config::DEFAULT_TOML).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let state = dir.path();
        let (result, _) =
            trade(&exchange, state, "TRADER1", "sell BUT82-FCA-USD 2 @ 6810 --id S1").await;
        result.expect("accepted");
        let (result, _) =
            trade(&exchange, state, "TRADER3", "buy BUT82-FCA-USD 1 @ 6800 --id B1").await;
        result.expect("accepted");
        let (result, text) = trade(&exchange, state, "TRADER3", "replace B1 3 @ 6810").await;
        exchange.stop().await;
        result.expect("replaced");
        assert!(text.contains("replaced  B1 -> "), "{text}");
        assert!(text.contains("filled    "), "the replace's fill was not shown: {text}");
    }

    /// Regression (a review of 2026-11-29): tools.md says a typo in the interactive mode is an
    /// error line and the session goes on; `book NO-SUCH` (refused with a
    /// MarketDataRequestReject) ended the whole session with exit 5.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_book_does_not_end_the_interactive_session() {
        let exchange = TestExchange::start(crate::config::DEFAULT_TOML).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let args = args_at(exchange.address, dir.path(), "TRADER1", "");
        let output = Output::default();
        let mut trader = Trader::connect(&args, Box::new(output.clone())).await.expect("logon");
        // The book's refusal comes while the next line waits: then `symbols` and `quit`.
        let (mut typing, input) = tokio::io::duplex(1024);
        let typist = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            typing.write_all(b"book NO-SUCH\n").await.expect("typed");
            tokio::time::sleep(Duration::from_millis(500)).await;
            typing.write_all(b"symbols\n").await.expect("typed");
            tokio::time::sleep(Duration::from_millis(500)).await;
            typing.write_all(b"quit\n").await.expect("typed");
        });
        let result = trader.interactive(BufReader::new(input)).await;
        typist.await.expect("typed");
        let _ = trader.close().await;
        exchange.stop().await;
        let text = String::from_utf8_lossy(&output.0.lock().expect("not poisoned")).into_owned();
        result.expect("the session went on to `quit`");
        assert!(text.contains("refused   market data"), "{text}");
        assert!(text.contains("BUT82-FCA-USD"), "the symbols after it: {text}");
    }

    /// Regression (a review of 2026-11-29): without a state file (another machine, another
    /// `$HOME`) `orders` logged on with a reset, said "no working orders" while some were, and
    /// made the exchange forget them for every later run.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn orders_without_saved_numbers_lists_the_working_orders() {
        let exchange = TestExchange::start(crate::config::DEFAULT_TOML).await;
        let first = tempfile::tempdir().expect("temp dir");
        let sell = "sell BUT82-FCA-USD 2 @ 6900 --tif gtc --id G1";
        let (result, _) = trade(&exchange, first.path(), "TRADER1", sell).await;
        result.expect("accepted");
        let elsewhere = tempfile::tempdir().expect("temp dir");
        let (result, text) = trade(&exchange, elsewhere.path(), "TRADER1", "orders").await;
        result.expect("listed");
        assert!(text.contains("G1"), "{text}");
        let (result, text) = trade(&exchange, first.path(), "TRADER1", "orders").await;
        exchange.stop().await;
        result.expect("listed");
        assert!(text.contains("G1"), "still known where it was entered: {text}");
    }
}
