//! The gateway's own guarantees, beyond the QuickFIX scripts.
