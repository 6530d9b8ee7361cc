#!/usr/bin/env python3
"""Two traders on QuickFIX (the C++ engine, through its Python binding) against a running Birzha.

usage: trader.py HOST PORT WORKDIR BIRZHA_BINARY ADMIN_ADDRESS

The interop check of tests/quickfix.rs: TRADER1 (FIRM-A) and TRADER3 (FIRM-B) log on with
QuickFIX's stock FIX44.xml and its default validation, and go through what a trader does:
security list, market data, orders that rest, trade, are replaced, cancelled and refused, a
status request, a mass cancel, good-till-date, iceberg, post-only and market orders, a halt,
resume and reopening seen as TradingSessionStatus, an opening call with its indicative uncross
and the auction's fills, and a logout while an order fills followed by a logon that gets the
fill through QuickFIX's ResendRequest.

Every application message QuickFIX accepts from the exchange is printed as one JSON line
({"trader", "type", fields...}). A message QuickFIX finds invalid never reaches the
application: QuickFIX answers it with a Reject (35=3) or a BusinessMessageReject (35=j), which
this script sees leaving and counts as a failure. Exit 0: every step got its answer and nothing
was rejected either way; 1: a step failed (the reason on stderr).
"""

import json
import os
import queue
import subprocess
import sys
import threading
import time

import quickfix as fix
import quickfix44 as fix44

SYMBOL = "BUT82-FCA-USD"
WAIT = 20.0
PASSWORD = "demo"


class Failure(Exception):
    pass


def fields_of(message):
    """The message's body and header fields as a tag -> value dict (groups flattened, last wins)."""
    result = {}
    for part in message.toString().split("\x01"):
        if "=" in part:
            tag, value = part.split("=", 1)
            result[int(tag)] = value
    return result


def naming(message, orig, cl_ord_id):
    """`message` (a cancel or replace) naming the sell order `orig`, as request `cl_ord_id`."""
    message.setField(fix.OrigClOrdID(orig))
    message.setField(fix.ClOrdID(cl_ord_id))
    message.setField(fix.Symbol(SYMBOL))
    message.setField(fix.Side(fix.Side_SELL))
    message.setField(fix.TransactTime())
    return message


class Trader(fix.Application):
    """Collects what QuickFIX accepts; records what it refuses to the exchange."""

    def __init__(self):
        super().__init__()
        self.received = queue.Queue()
        self.logons = queue.Queue()
        self.refusals = []
        self.lock = threading.Lock()

    def onCreate(self, session_id):
        pass

    def onLogon(self, session_id):
        self.logons.put(session_id.getSenderCompID().getValue())

    def onLogout(self, session_id):
        pass

    def toAdmin(self, message, session_id):
        fields = fields_of(message)
        if fields.get(35) == "A":
            message.setField(fix.Password(PASSWORD))
        if fields.get(35) == "3":
            with self.lock:
                self.refusals.append(("QuickFIX sent a Reject", fields))

    def fromAdmin(self, message, session_id):
        fields = fields_of(message)
        if fields.get(35) == "3":
            with self.lock:
                self.refusals.append(("the exchange sent a Reject", fields))

    def toApp(self, message, session_id):
        fields = fields_of(message)
        if fields.get(35) == "j":
            with self.lock:
                self.refusals.append(("QuickFIX sent a BusinessMessageReject", fields))

    def fromApp(self, message, session_id):
        fields = fields_of(message)
        trader = session_id.getSenderCompID().getValue()
        line = {"trader": trader, "type": fields.get(35)}
        line.update({str(tag): value for tag, value in fields.items() if tag not in (8, 9, 10)})
        print(json.dumps(line), flush=True)
        self.received.put((trader, fields))


class Scenario:
    def __init__(self, app, sessions, birzha, admin_address):
        self.app = app
        self.sessions = sessions
        self.birzha = birzha
        self.admin_address = admin_address
        self.backlog = []
        self.logons_seen = []
        self.counter = 0

    def next_id(self, prefix):
        self.counter += 1
        return "%s-%d-%d" % (prefix, os.getpid(), self.counter)

    def send(self, trader, message):
        if not fix.Session.sendToTarget(message, self.sessions[trader]):
            raise Failure("QuickFIX did not send %s for %s" % (message.toString(), trader))

    def expect(self, trader, what, wanted):
        """The first message for `trader` (received now or earlier and not yet taken) that
        satisfies `wanted`."""
        deadline = time.monotonic() + WAIT
        while True:
            for index, (owner, fields) in enumerate(self.backlog):
                if owner == trader and wanted(fields):
                    del self.backlog[index]
                    return fields
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("%s: no %s within %.0f s" % (trader, what, WAIT))
            try:
                self.backlog.append(self.app.received.get(timeout=left))
            except queue.Empty:
                pass

    def report(self, trader, cl_ord_id, exec_type):
        return self.expect(
            trader,
            "ExecutionReport 11=%s 150=%s" % (cl_ord_id, exec_type),
            lambda f: f.get(35) == "8" and f.get(11) == cl_ord_id and f.get(150) == exec_type,
        )

    def wait_logon(self, trader):
        """Takes one logon of `trader` (a logon of the other trader meanwhile is kept)."""
        deadline = time.monotonic() + WAIT
        while trader not in self.logons_seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("%s: not logged on within %.0f s" % (trader, WAIT))
            try:
                self.logons_seen.append(self.app.logons.get(timeout=left))
            except queue.Empty:
                pass
        self.logons_seen.remove(trader)

    def order(self, trader, side, lots, price, tif=fix.TimeInForce_DAY, extra=()):
        """Sends a NewOrderSingle (a market order when `price` is None); `extra`: more fields."""
        cl_ord_id = self.next_id(trader)
        message = fix44.NewOrderSingle()
        message.setField(fix.ClOrdID(cl_ord_id))
        message.setField(fix.Symbol(SYMBOL))
        message.setField(fix.Side(side))
        message.setField(fix.TransactTime())
        message.setField(fix.OrderQty(lots))
        if price is None:
            message.setField(fix.OrdType(fix.OrdType_MARKET))
        else:
            message.setField(fix.OrdType(fix.OrdType_LIMIT))
            message.setField(fix.Price(price))
        message.setField(fix.TimeInForce(tif))
        for field in extra:
            message.setField(field)
        self.send(trader, message)
        return cl_ord_id

    def admin(self, *args):
        command = [self.birzha, "admin", "--address", self.admin_address] + list(args)
        done = subprocess.run(command, capture_output=True, text=True, timeout=WAIT)
        if done.returncode != 0:
            raise Failure("%s: %s" % (" ".join(command), done.stderr))

    def run(self):
        for trader in self.sessions:
            self.wait_logon(trader)
        self.security_list()
        self.market_data()
        resting = self.trade()
        self.replace_cancel_status(resting)
        self.refusals_answered()
        self.mass_cancel()
        self.order_variants()
        self.halt_and_resume()
        self.auction()
        self.fill_while_logged_out()

    def security_list(self):
        request = fix44.SecurityListRequest()
        request.setField(fix.SecurityReqID(self.next_id("SL")))
        request.setField(fix.SecurityListRequestType(4))
        self.send("TRADER1", request)
        answer = self.expect("TRADER1", "SecurityList", lambda f: f.get(35) == "y")
        if int(answer.get(146, "0")) < 1:
            raise Failure("SecurityList without instruments: %s" % answer)

    def market_data(self):
        request = fix44.MarketDataRequest()
        request.setField(fix.MDReqID(self.next_id("MD")))
        request.setField(fix.SubscriptionRequestType(fix.SubscriptionRequestType_SNAPSHOT_AND_UPDATES))
        request.setField(fix.MarketDepth(0))
        request.setField(fix.MDUpdateType(fix.MDUpdateType_INCREMENTAL_REFRESH))
        for entry_type in (fix.MDEntryType_BID, fix.MDEntryType_OFFER, fix.MDEntryType_TRADE):
            group = fix44.MarketDataRequest.NoMDEntryTypes()
            group.setField(fix.MDEntryType(entry_type))
            request.addGroup(group)
        symbols = fix44.MarketDataRequest.NoRelatedSym()
        symbols.setField(fix.Symbol(SYMBOL))
        request.addGroup(symbols)
        self.send("TRADER3", request)
        self.expect("TRADER3", "MarketDataSnapshotFullRefresh", lambda f: f.get(35) == "W")

    def trade(self):
        """TRADER1 rests a sell; TRADER3 lifts it with an IOC for more, the rest cancelled."""
        sell = self.order("TRADER1", fix.Side_SELL, 3, 6800, fix.TimeInForce_GOOD_TILL_CANCEL)
        self.report("TRADER1", sell, "0")
        self.expect("TRADER3", "an incremental offer", lambda f: f.get(35) == "X" and f.get(269) == "1")
        buy = self.order("TRADER3", fix.Side_BUY, 4, 6805, fix.TimeInForce_IMMEDIATE_OR_CANCEL)
        taker = self.report("TRADER3", buy, "F")
        maker = self.report("TRADER1", sell, "F")
        if (taker.get(32), taker.get(31), maker.get(39)) != ("3", "6800", "2"):
            raise Failure("fills: taker %s maker %s" % (taker, maker))
        self.report("TRADER3", buy, "4")
        self.expect("TRADER3", "an incremental trade", lambda f: f.get(35) == "X" and f.get(269) == "2")
        rest = self.order("TRADER1", fix.Side_SELL, 2, 6850, fix.TimeInForce_GOOD_TILL_CANCEL)
        self.report("TRADER1", rest, "0")
        return rest

    def replace_cancel_status(self, resting):
        replace_id = self.next_id("TRADER1")
        replace = naming(fix44.OrderCancelReplaceRequest(), resting, replace_id)
        replace.setField(fix.OrderQty(4))
        replace.setField(fix.OrdType(fix.OrdType_LIMIT))
        replace.setField(fix.Price(6860))
        self.send("TRADER1", replace)
        replaced = self.report("TRADER1", replace_id, "5")
        if (replaced.get(41), replaced.get(38), replaced.get(44)) != (resting, "4", "6860"):
            raise Failure("replace: %s" % replaced)

        status = fix44.OrderStatusRequest()
        status.setField(fix.ClOrdID(replace_id))
        status.setField(fix.Symbol(SYMBOL))
        status.setField(fix.Side(fix.Side_SELL))
        self.send("TRADER1", status)
        answer = self.report("TRADER1", replace_id, "I")
        if answer.get(39) != "0":
            raise Failure("status: %s" % answer)

        cancel_id = self.next_id("TRADER1")
        self.send("TRADER1", self.cancel_request(replace_id, cancel_id))
        cancelled = self.report("TRADER1", cancel_id, "4")
        if cancelled.get(41) != replace_id:
            raise Failure("cancel: %s" % cancelled)

    def cancel_request(self, orig, cl_ord_id):
        return naming(fix44.OrderCancelRequest(), orig, cl_ord_id)

    def refusals_answered(self):
        """An order outside the price band and a cancel of an unknown order are answered."""
        far = self.order("TRADER3", fix.Side_BUY, 1, 6000)
        rejected = self.report("TRADER3", far, "8")
        if rejected.get(39) != "8" or not rejected.get(58):
            raise Failure("band reject: %s" % rejected)
        cancel_id = self.next_id("TRADER3")
        self.send("TRADER3", self.cancel_request("NO-SUCH-ORDER", cancel_id))
        self.expect(
            "TRADER3",
            "OrderCancelReject",
            lambda f: f.get(35) == "9" and f.get(11) == cancel_id and bool(f.get(58)),
        )

    def mass_cancel(self):
        orders = [self.order("TRADER3", fix.Side_BUY, 1, price) for price in (6700, 6710)]
        for cl_ord_id in orders:
            self.report("TRADER3", cl_ord_id, "0")
        request = fix44.OrderMassCancelRequest()
        request.setField(fix.ClOrdID(self.next_id("TRADER3")))
        request.setField(fix.MassCancelRequestType(fix.MassCancelRequestType_CANCEL_ORDERS_FOR_A_SECURITY))
        request.setField(fix.Symbol(SYMBOL))
        request.setField(fix.TransactTime())
        self.send("TRADER3", request)
        for cl_ord_id in orders:
            self.report("TRADER3", cl_ord_id, "4")
        done = self.expect("TRADER3", "OrderMassCancelReport", lambda f: f.get(35) == "r")
        if done.get(533) != "2":
            raise Failure("mass cancel: %s" % done)

    def order_variants(self):
        """Good till date, iceberg and post-only orders rest; a market order takes the first
        two; the post-only one is cancelled."""
        tomorrow = time.strftime("%Y%m%d", time.gmtime(time.time() + 2 * 86400))
        gtd = self.order(
            "TRADER1", fix.Side_SELL, 1, 6810, fix.TimeInForce_GOOD_TILL_DATE,
            [fix.ExpireDate(tomorrow)],
        )
        acked = self.report("TRADER1", gtd, "0")
        if (acked.get(59), acked.get(432)) != ("6", tomorrow):
            raise Failure("GTD acknowledgement: %s" % acked)
        iceberg = self.order("TRADER1", fix.Side_SELL, 4, 6820, extra=[fix.MaxFloor(1)])
        self.report("TRADER1", iceberg, "0")
        post_only = self.order("TRADER1", fix.Side_SELL, 1, 6830, extra=[fix.ExecInst("6")])
        self.report("TRADER1", post_only, "0")
        # The market order takes the GTD lot, then the iceberg's four one lot at a time.
        market = self.order("TRADER3", fix.Side_BUY, 5, None, fix.TimeInForce_IMMEDIATE_OR_CANCEL)
        fills = [self.report("TRADER3", market, "F") for _ in range(5)]
        prices = [f.get(31) for f in fills]
        if prices != ["6810"] + ["6820"] * 4 or fills[-1].get(39) != "2" or fills[-1].get(6) != "6818":
            raise Failure("market order fills: %s" % fills)
        self.report("TRADER1", gtd, "F")
        peaks = [self.report("TRADER1", iceberg, "F") for _ in range(4)]
        if [f.get(151) for f in peaks] != ["3", "2", "1", "0"]:
            raise Failure("iceberg fills: %s" % peaks)
        cancel_id = self.next_id("TRADER1")
        self.send("TRADER1", self.cancel_request(post_only, cancel_id))
        self.report("TRADER1", cancel_id, "4")

    def auction(self):
        """An opening call: crossing orders rest, the subscriber sees the indicative uncross
        (269=4) and the call; the reopening uncrosses them (auction fills)."""
        self.admin("phase", SYMBOL, "PreOpen")
        self.expect("TRADER3", "TradingSessionStatus pre-open", lambda f: f.get(35) == "h" and f.get(340) == "4")
        sell = self.order("TRADER1", fix.Side_SELL, 2, 6790)
        self.report("TRADER1", sell, "0")
        buy = self.order("TRADER3", fix.Side_BUY, 2, 6800)
        self.report("TRADER3", buy, "0")
        self.expect("TRADER3", "an indicative uncross", lambda f: f.get(35) == "X" and f.get(269) == "4")
        self.admin("phase", SYMBOL, "Continuous")
        fills = [self.report(trader, order, "F") for trader, order in (("TRADER3", buy), ("TRADER1", sell))]
        if fills[0].get(31) != fills[1].get(31) or fills[0].get(32) != "2":
            raise Failure("auction fills: %s" % fills)
        self.expect("TRADER3", "TradingSessionStatus open again", lambda f: f.get(35) == "h" and f.get(340) == "2")

    def halt_and_resume(self):
        self.admin("halt", SYMBOL)
        self.expect("TRADER3", "TradingSessionStatus halted", lambda f: f.get(35) == "h" and f.get(340) == "1")
        # A resume starts a call (340=4) of resume_call_seconds; the operator ends it at once.
        self.admin("resume", SYMBOL)
        self.expect("TRADER3", "TradingSessionStatus call", lambda f: f.get(35) == "h" and f.get(340) == "4")
        self.admin("phase", SYMBOL, "Continuous")
        self.expect("TRADER3", "TradingSessionStatus open", lambda f: f.get(35) == "h" and f.get(340) == "2")

    def fill_while_logged_out(self):
        """TRADER1 logs out with an order resting; it fills; at its next logon QuickFIX sees
        the gap, asks for a resend and takes the fill flagged as a possible duplicate."""
        sell = self.order("TRADER1", fix.Side_SELL, 2, 6800, fix.TimeInForce_GOOD_TILL_CANCEL)
        self.report("TRADER1", sell, "0")
        session = fix.Session.lookupSession(self.sessions["TRADER1"])
        session.logout("back soon")
        deadline = time.monotonic() + WAIT
        while session.isLoggedOn():
            if time.monotonic() > deadline:
                raise Failure("TRADER1 did not log out")
            time.sleep(0.05)
        buy = self.order("TRADER3", fix.Side_BUY, 2, 6800)
        self.report("TRADER3", buy, "F")
        session.logon()
        self.wait_logon("TRADER1")
        fill = self.report("TRADER1", sell, "F")
        if fill.get(43) != "Y" or not fill.get(122):
            raise Failure("the fill after the logon is not a resend (43=Y with 122): %s" % fill)


def settings_text(host, port, workdir, dictionary):
    lines = [
        "[DEFAULT]",
        "ConnectionType=initiator",
        "BeginString=FIX.4.4",
        "TargetCompID=BIRZHA",
        "SocketConnectHost=%s" % host,
        "SocketConnectPort=%s" % port,
        "HeartBtInt=30",
        "ReconnectInterval=1",
        "StartTime=00:00:00",
        "EndTime=00:00:00",
        "UseDataDictionary=Y",
        "DataDictionary=%s" % dictionary,
        "FileStorePath=%s" % os.path.join(workdir, "store"),
        "FileLogPath=%s" % os.path.join(workdir, "log"),
    ]
    for trader in ("TRADER1", "TRADER3"):
        lines += ["", "[SESSION]", "SenderCompID=%s" % trader]
    return "\n".join(lines) + "\n"


def stock_dictionary():
    """The FIX44.xml shipped with the quickfix package (the stock dictionary traders use)."""
    here = os.path.dirname(fix.__file__)
    for root in (here, os.path.join(sys.prefix, "share", "quickfix")):
        for directory, _, files in os.walk(root):
            if "FIX44.xml" in files:
                return os.path.join(directory, "FIX44.xml")
    raise Failure("the quickfix package ships no FIX44.xml")


def main():
    host, port, workdir, birzha, admin_address = sys.argv[1:6]
    dictionary = stock_dictionary()
    print(json.dumps({"dictionary": dictionary}), flush=True)
    path = os.path.join(workdir, "quickfix.cfg")
    with open(path, "w") as file:
        file.write(settings_text(host, port, workdir, dictionary))
    settings = fix.SessionSettings(path)
    app = Trader()
    initiator = fix.SocketInitiator(app, fix.FileStoreFactory(settings), settings, fix.FileLogFactory(settings))
    sessions = {}
    for session_id in settings.getSessions():
        sessions[session_id.getSenderCompID().getValue()] = session_id
    initiator.start()
    status = 0
    try:
        Scenario(app, sessions, birzha, admin_address).run()
        time.sleep(0.5)  # a late Reject either way still counts
    except Failure as failure:
        print("FAILED: %s" % failure, file=sys.stderr)
        status = 1
    finally:
        initiator.stop()
    for what, fields in app.refusals:
        print("FAILED: %s: %s" % (what, fields), file=sys.stderr)
        status = 1
    print(json.dumps({"done": status == 0}), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
