//! A least-recently-used cache bounded by bytes, shared behind a mutex, with hit/miss counts.
//!
//! Entries are kept in a slab with an intrusive doubly linked list (most recent at the head),
//! so `get` and `insert` are a hash lookup plus a few index updates. An entry heavier than
//! the whole budget is not stored.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Mutex;

const NIL: usize = usize::MAX;

/// A fast hasher for the small integer keys of the lookup caches (file numbers, row groups,
/// row offsets): multiply-rotate mixing of each word, not DoS-resistant (keys are not chosen
/// by users).
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

struct Node<K, V> {
    key: K,
    value: V,
    weight: usize,
    prev: usize,
    next: usize,
}

/// The unsynchronized LRU.
pub struct Lru<K, V> {
    map: FastMap<K, usize>,
    nodes: Vec<Option<Node<K, V>>>,
    free: Vec<usize>,
    head: usize,
    tail: usize,
    used: usize,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V: Clone> Lru<K, V> {
    /// A cache holding at most `capacity` bytes of entries.
    pub fn new(capacity: usize) -> Self {
        Lru {
            map: FastMap::default(),
            nodes: vec![],
            free: vec![],
            head: NIL,
            tail: NIL,
            used: 0,
            capacity,
        }
    }

    fn node(&self, i: usize) -> &Node<K, V> {
        self.nodes[i].as_ref().expect("linked node is live")
    }

    fn node_mut(&mut self, i: usize) -> &mut Node<K, V> {
        self.nodes[i].as_mut().expect("linked node is live")
    }

    fn unlink(&mut self, i: usize) {
        let (prev, next) = {
            let n = self.node(i);
            (n.prev, n.next)
        };
        match prev {
            NIL => self.head = next,
            p => self.node_mut(p).next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.node_mut(n).prev = prev,
        }
    }

    fn push_front(&mut self, i: usize) {
        let old = self.head;
        {
            let n = self.node_mut(i);
            n.prev = NIL;
            n.next = old;
        }
        if old != NIL {
            self.node_mut(old).prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    /// The value for `key`, marking it most recently used.
    pub fn get(&mut self, key: &K) -> Option<V> {
        let i = *self.map.get(key)?;
        if self.head != i {
            self.unlink(i);
            self.push_front(i);
        }
        Some(self.node(i).value.clone())
    }

    /// Stores `value` weighing `weight` bytes, evicting least recently used entries to make
    /// room. Returns how many entries were evicted.
    pub fn insert(&mut self, key: K, value: V, weight: usize) -> usize {
        self.remove(&key);
        if weight > self.capacity {
            return 0;
        }
        let mut evicted = 0;
        while self.used + weight > self.capacity && self.tail != NIL {
            let t = self.tail;
            let k = self.node(t).key.clone();
            self.remove(&k);
            evicted += 1;
        }
        let node = Node {
            key: key.clone(),
            value,
            weight,
            prev: NIL,
            next: NIL,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i] = Some(node);
                i
            }
            None => {
                self.nodes.push(Some(node));
                self.nodes.len() - 1
            }
        };
        self.push_front(i);
        self.map.insert(key, i);
        self.used += weight;
        evicted
    }

    /// Drops `key`; true when it was present.
    pub fn remove(&mut self, key: &K) -> bool {
        let Some(i) = self.map.remove(key) else {
            return false;
        };
        self.unlink(i);
        if let Some(n) = self.nodes[i].take() {
            self.used -= n.weight;
        }
        self.free.push(i);
        true
    }

    /// Bytes held.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// The byte budget.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// Counters of one cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounters {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    /// Entries and bytes held now, and the byte budget.
    pub entries: usize,
    pub bytes: usize,
    pub capacity: usize,
}

struct Inner<K, V> {
    lru: Lru<K, V>,
    hits: u64,
    misses: u64,
    evictions: u64,
}

/// An [`Lru`] behind a mutex, counting hits and misses.
pub struct SharedLru<K, V> {
    inner: Mutex<Inner<K, V>>,
}

impl<K: Hash + Eq + Clone, V: Clone> SharedLru<K, V> {
    pub fn new(capacity: usize) -> Self {
        SharedLru {
            inner: Mutex::new(Inner {
                lru: Lru::new(capacity),
                hits: 0,
                misses: 0,
                evictions: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        // A panic while holding the lock leaves a consistent LRU (no await, no partial
        // update escapes), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let mut g = self.lock();
        let v = g.lru.get(key);
        if v.is_some() {
            g.hits += 1;
        } else {
            g.misses += 1;
        }
        v
    }

    pub fn insert(&self, key: K, value: V, weight: usize) {
        let mut g = self.lock();
        let evicted = g.lru.insert(key, value, weight) as u64;
        g.evictions += evicted;
    }

    pub fn counters(&self) -> CacheCounters {
        let g = self.lock();
        CacheCounters {
            hits: g.hits,
            misses: g.misses,
            evictions: g.evictions,
            entries: g.lru.len(),
            bytes: g.lru.used(),
            capacity: g.lru.capacity(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used_first() {
        let mut c = Lru::new(10);
        c.insert("a", 1, 4);
        c.insert("b", 2, 4);
        assert_eq!(c.get(&"a"), Some(1));
        // "b" is now the oldest and goes first.
        assert_eq!(c.insert("c", 3, 4), 1);
        assert_eq!(c.get(&"b"), None);
        assert_eq!(c.get(&"a"), Some(1));
        assert_eq!(c.get(&"c"), Some(3));
        assert_eq!(c.used(), 8);
        // Too heavy for the whole budget: not stored, nothing evicted.
        assert_eq!(c.insert("d", 4, 11), 0);
        assert_eq!(c.len(), 2);
        // Replacing a key replaces its weight.
        c.insert("a", 5, 1);
        assert_eq!(c.used(), 5);
        assert_eq!(c.get(&"a"), Some(5));
        assert!(c.remove(&"c"));
        assert!(!c.remove(&"c"));
        assert_eq!(c.used(), 1);
    }

    #[test]
    fn many_operations_keep_the_list_consistent() {
        let mut c: Lru<u64, u64> = Lru::new(100);
        let mut x = 7u64;
        for _ in 0..10_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let k = (x >> 33) % 50;
            if x & 1 == 0 {
                c.insert(k, k * 2, (k % 7 + 1) as usize);
            } else if let Some(v) = c.get(&k) {
                assert_eq!(v, k * 2);
            }
            assert!(c.used() <= 100);
        }
        // Walk the list: it holds exactly the mapped entries.
        let mut n = 0;
        let mut i = c.head;
        while i != NIL {
            n += 1;
            i = c.node(i).next;
        }
        assert_eq!(n, c.len());
    }

    #[test]
    fn shared_cache_counts() {
        let c = SharedLru::new(10);
        assert_eq!(c.get(&1), None::<u8>);
        c.insert(1, 9u8, 6);
        c.insert(2, 8u8, 6);
        assert_eq!(c.get(&2), Some(8));
        let k = c.counters();
        assert_eq!(
            (k.hits, k.misses, k.evictions, k.entries, k.bytes),
            (1, 1, 1, 1, 6)
        );
    }
}
