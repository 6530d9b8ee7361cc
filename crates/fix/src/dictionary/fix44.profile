# Birzha FIX 4.4 profile dictionary.
#
# This is the data dictionary the gateway validates inbound messages against. It lists only what
# the Birzha profile accepts and sends (see docs/fix.md), plus what the QuickFIX session-layer
# acceptance scripts exercise, plus the one Birzha extension tag. It is written in the project's
# own line format, read by `birzha_fix::Dictionary::profile()`:
#
#   known-tags <ranges>                 tag numbers FIX 4.4 defines; a tag outside them (and not an
#                                       extension) is an "invalid tag number" (SessionRejectReason 0),
#                                       a tag inside them that this profile does not allow in a
#                                       message is "not defined for this message type" (2)
#   field <tag> <Name> <TYPE> [enum…]   a field, its FIX data type and, if it is an enumeration,
#                                       every value it may take
#   extension <tag> <Name> <TYPE> [enum…]  a Birzha field outside FIX 4.4
#   header | trailer | message <MsgType> <Name> <admin|app>   starts a section
#   req <tag…> / opt <tag…>             required / optional fields of the section, in order
#   group <count tag> <req|opt> <delimiter> <member…>   a repeating group (one level)
#
# Types, names and enumerations agree with the stock FIX44.xml on every tag listed here: the test
# `dictionary_agreement` checks it.

known-tags 1-19 21-23 25-45 48-50 52-75 77-85 87-91 93-100 102-104 106-108 110-124 126-165 167-172 188-203 206-218 220-260 262-313 315-318 320-369 371-438 441-448 451-464 466-652 654-684 686-808 810-830 832-956

field 1 Account STRING
field 6 AvgPx PRICE
field 7 BeginSeqNo SEQNUM
field 8 BeginString STRING
field 9 BodyLength LENGTH
field 10 CheckSum STRING
field 11 ClOrdID STRING
field 14 CumQty QTY
field 15 Currency CURRENCY
field 16 EndSeqNo SEQNUM
field 17 ExecID STRING
field 18 ExecInst MULTIPLEVALUESTRING 1 2 3 4 5 6 7 8 9 0 A B C D E F G H I J K L M N O P Q R S U V W X Y Z a b c d e
field 21 HandlInst CHAR 1 2 3
field 22 SecurityIDSource STRING 1 2 3 4 5 6 7 8 9 A B C D E F G H I J
field 31 LastPx PRICE
field 32 LastQty QTY
field 34 MsgSeqNum SEQNUM
field 35 MsgType STRING 0 1 2 3 4 5 6 7 8 9 A B C D E F G H J K L M N P Q R S T V W X Y Z a b c d e f g h i j k l m n o p q r s t u v w x y z AA AB AC AD AE AF AG AH AI AJ AK AL AM AN AO AP AQ AR AS AT AU AV AW AX AY AZ BA BB BC BD BE BF BG BH
field 36 NewSeqNo SEQNUM
field 37 OrderID STRING
field 38 OrderQty QTY
field 39 OrdStatus CHAR 0 1 2 3 4 6 7 8 9 A B C D E
field 40 OrdType CHAR 1 2 3 4 6 7 8 9 D E G I J K L M P
field 41 OrigClOrdID STRING
field 43 PossDupFlag BOOLEAN Y N
field 44 Price PRICE
field 45 RefSeqNum SEQNUM
field 48 SecurityID STRING
field 49 SenderCompID STRING
field 50 SenderSubID STRING
field 52 SendingTime UTCTIMESTAMP
field 54 Side CHAR 1 2 3 4 5 6 7 8 9 A B C D E F G
field 55 Symbol STRING
field 56 TargetCompID STRING
field 57 TargetSubID STRING
field 58 Text STRING
field 59 TimeInForce CHAR 0 1 2 3 4 5 6 7
field 60 TransactTime UTCTIMESTAMP
field 89 Signature DATA
field 90 SecureDataLen LENGTH
field 91 SecureData DATA
field 93 SignatureLength LENGTH
field 95 RawDataLength LENGTH
field 96 RawData DATA
field 97 PossResend BOOLEAN Y N
field 98 EncryptMethod INT 0 1 2 3 4 5 6
field 102 CxlRejReason INT 0 1 2 3 4 5 6 99
field 103 OrdRejReason INT 0 1 2 3 4 5 6 7 8 9 10 11 13 14 15 99
field 107 SecurityDesc STRING
field 108 HeartBtInt INT
field 111 MaxFloor QTY
field 112 TestReqID STRING
field 115 OnBehalfOfCompID STRING
field 116 OnBehalfOfSubID STRING
field 122 OrigSendingTime UTCTIMESTAMP
field 123 GapFillFlag BOOLEAN Y N
field 126 ExpireTime UTCTIMESTAMP
field 128 DeliverToCompID STRING
field 129 DeliverToSubID STRING
field 141 ResetSeqNumFlag BOOLEAN Y N
field 142 SenderLocationID STRING
field 143 TargetLocationID STRING
field 144 OnBehalfOfLocationID STRING
field 145 DeliverToLocationID STRING
field 146 NoRelatedSym NUMINGROUP
field 150 ExecType CHAR 0 3 4 5 6 7 8 9 A B C D E F G H I
field 151 LeavesQty QTY
field 167 SecurityType STRING EUSUPRA FAC FADN PEF SUPRA CORP CPP CB DUAL EUCORP XLINKD STRUCT YANK FOR CS PS BRADY EUSOV TBOND TINT TIPS TCAL TPRN UST USTB TNOTE TBILL REPO FORWARD BUYSELL SECLOAN SECPLEDGE TERM RVLV RVLVTRM BRIDGE LOFC SWING DINP DEFLTED WITHDRN REPLACD MATURED AMENDED RETIRED BA BN BOX CD CL CP DN EUCD EUCP LQN MTN ONITE PN PZFJ STN TD XCN YCD ABS CMBS CMO IET MBS MIO MPO MPP MPT PFAND TBA AN COFO COFP GO MT RAN REV SPCLA SPCLO SPCLT TAN TAXA TECP TRAN VRDN WAR MF MLEG NONE FUT OPT
field 212 XmlDataLen LENGTH
field 213 XmlData DATA
field 231 ContractMultiplier FLOAT
field 262 MDReqID STRING
field 263 SubscriptionRequestType CHAR 0 1 2
field 264 MarketDepth INT
field 265 MDUpdateType INT 0 1
field 267 NoMDEntryTypes NUMINGROUP
field 268 NoMDEntries NUMINGROUP
field 269 MDEntryType CHAR 0 1 2 3 4 5 6 7 8 9 A B C
field 270 MDEntryPx PRICE
field 271 MDEntrySize QTY
field 272 MDEntryDate UTCDATEONLY
field 273 MDEntryTime UTCTIMEONLY
field 279 MDUpdateAction CHAR 0 1 2
field 281 MDReqRejReason CHAR 0 1 2 3 4 5 6 7 8 9 A B C
field 320 SecurityReqID STRING
field 322 SecurityResponseID STRING
field 323 SecurityResponseType INT 1 2 5 6
field 335 TradSesReqID STRING
field 336 TradingSessionID STRING
field 340 TradSesStatus INT 0 1 2 3 4 5 6
field 347 MessageEncoding STRING ISO-2022-JP EUC-JP Shift_JIS UTF-8
field 354 EncodedTextLen LENGTH
field 355 EncodedText DATA
field 369 LastMsgSeqNumProcessed SEQNUM
field 371 RefTagID INT
field 372 RefMsgType STRING
field 373 SessionRejectReason INT 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 99
field 379 BusinessRejectRefID STRING
field 380 BusinessRejectReason INT 0 1 2 3 4 5 6 7
field 383 MaxMessageSize LENGTH
field 386 NoTradingSessions NUMINGROUP
field 393 TotNoRelatedSym INT
field 432 ExpireDate LOCALMKTDATE
field 434 CxlRejResponseTo CHAR 1 2
field 454 NoSecurityAltID NUMINGROUP
field 455 SecurityAltID STRING
field 456 SecurityAltIDSource STRING
field 464 TestMessageIndicator BOOLEAN Y N
field 527 SecondaryExecID STRING
field 530 MassCancelRequestType CHAR 1 2 3 4 5 6 7
field 531 MassCancelResponse CHAR 0 1 2 3 4 5 6 7
field 532 MassCancelRejectReason STRING 0 1 2 3 4 5 6 99
field 533 TotalAffectedOrders INT
field 553 Username STRING
field 554 Password STRING
field 559 SecurityListRequestType INT 0 1 2 3 4
field 560 SecurityRequestResult INT 0 1 2 3 4 5
field 561 RoundLot QTY
field 625 TradingSessionSubID STRING
field 627 NoHops NUMINGROUP
field 628 HopCompID STRING
field 629 HopSendingTime UTCTIMESTAMP
field 630 HopRefID SEQNUM
field 789 NextExpectedMsgSeqNum SEQNUM
field 851 LastLiquidityInd INT 1 2 3
field 893 LastFragment BOOLEAN Y N
extension 2964 SelfMatchPreventionMode INT 1 2 3 4

# Standard header, in the order the stock FIX 4.4 dictionary lists it.
header
  req 8 9 35 49 56
  opt 115 128 90 91
  req 34
  opt 50 142 57 143 116 144 129 145 43 97
  req 52
  opt 122 212 213 347 369
  group 627 opt 628 629 630

trailer
  opt 93 89
  req 10

message 0 Heartbeat admin
  opt 112

message 1 TestRequest admin
  req 112

message 2 ResendRequest admin
  req 7 16

message 3 Reject admin
  req 45
  opt 371 372 373 58 354 355

message 4 SequenceReset admin
  opt 123
  req 36

message 5 Logout admin
  opt 58 354 355

message A Logon admin
  req 98 108
  opt 95 96 141 383 464 553 554 789

# Trader -> exchange.
message D NewOrderSingle app
  req 11
  opt 1 18 21 111
  group 386 opt 336 625
  opt 55 167
  req 54 60
  opt 38
  req 40
  opt 44 59 432 126 58 2964

message F OrderCancelRequest app
  req 41
  opt 37
  req 11
  opt 1 55
  req 54 60
  opt 38 58

message G OrderCancelReplaceRequest app
  opt 37
  req 41 11
  opt 1 18 21 111 55
  req 54 60
  opt 38
  req 40
  opt 44 59 432 126 58

message q OrderMassCancelRequest app
  req 11 530
  opt 55 54
  req 60
  opt 58

message H OrderStatusRequest app
  opt 37
  req 11
  opt 1 55
  req 54

message V MarketDataRequest app
  req 262 263 264
  opt 265
  group 267 req 269
  group 146 req 55

message x SecurityListRequest app
  req 320 559
  opt 55 263

# Exercised by the QuickFIX acceptance scripts (echoed by the test application).
message d SecurityDefinition app
  req 320 322 323
  opt 55 48 22
  group 454 opt 455 456
  opt 167 107 15 336 625 58

# Exchange -> trader.
message 8 ExecutionReport app
  req 37
  opt 11 41
  req 17 150 39
  opt 103 1 55
  req 54
  opt 38 40 44 59 432 126 18 111 32 31 851
  req 151 14 6
  opt 527 60 58

message 9 OrderCancelReject app
  req 37 11 41 39
  opt 1 60
  req 434
  opt 102 58

message r OrderMassCancelReport app
  opt 11
  req 37 530 531
  opt 532 533 55 54 60 58

message W MarketDataSnapshotFullRefresh app
  opt 262 55
  group 268 req 269 270 271 272 273 58

message X MarketDataIncrementalRefresh app
  opt 262
  group 268 req 279 269 55 270 271 272 273 58

message Y MarketDataRequestReject app
  req 262
  opt 281 58

message h TradingSessionStatus app
  opt 335
  req 336 340
  opt 58

message y SecurityList app
  req 320 322 560
  opt 393 893
  group 146 opt 55 107 15 231 561

message j BusinessMessageReject app
  opt 45
  req 372
  opt 379
  req 380
  opt 58
