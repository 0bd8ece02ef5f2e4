//! [`LookupCounters`], the work a handle's lookups did, and [`Counters`], their atomic totals
//! that concurrent lookups add to. Both are declared from one list of fields.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! lookup_counters {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// What a handle's lookups did so far (totals since it was opened), or one lookup.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct LookupCounters {
            $($(#[$doc])* pub $name: u64,)*
        }

        impl LookupCounters {
            /// The work done since `earlier`.
            pub fn since(&self, earlier: &LookupCounters) -> LookupCounters {
                LookupCounters {
                    $($name: self.$name - earlier.$name,)*
                }
            }
        }

        /// The totals of a handle, added to by each completed lookup.
        #[derive(Debug, Default)]
        pub(crate) struct Counters {
            $($name: AtomicU64,)*
        }

        impl Counters {
            /// Adds one lookup's counts.
            pub fn add(&self, l: &LookupCounters) {
                $(if l.$name > 0 {
                    self.$name.fetch_add(l.$name, Ordering::Relaxed);
                })*
            }

            /// The totals now.
            pub fn load(&self) -> LookupCounters {
                LookupCounters {
                    $($name: self.$name.load(Ordering::Relaxed),)*
                }
            }
        }
    };
}

lookup_counters! {
    /// Keys looked up.
    keys,
    /// Files whose key range held a key (summed over keys).
    files_in_range,
    /// Of those, files a bloom filter ruled out.
    bloom_skips,
    /// Files whose page index was searched, or whose whole-file unit (ORC, Avro) was.
    files_searched,
    /// Files whose footer was read (footer-cache misses), or ORC/Avro files decoded whole.
    files_opened,
    /// Pages (units) decoded.
    units_decoded,
    /// Pages (units) found in the page cache.
    unit_cache_hits,
    /// Records of looked-up keys found in files (all versions).
    rows_matched,
    /// Lookups that stopped before their last candidate file because the newest version was
    /// certain.
    early_stops,
}
