//! Merge engines (owned by the reader work).
