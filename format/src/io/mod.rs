//! Table I/O
