//! [`OrderedMap`]: the server's dict, keyed by encoded keys, in insertion order as a
//! Python dict is.

use std::collections::HashMap;

use crate::wire::Bytes;

/// A map from encoded keys to encoded values that iterates in insertion order. A removal
/// leaves a hole that is compacted away once holes outnumber entries.
#[derive(Debug, Default)]
pub(crate) struct OrderedMap {
    slots: Vec<Option<(Bytes, Bytes)>>,
    index: HashMap<Bytes, usize>,
}

impl OrderedMap {
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<&Bytes> {
        let slot = *self.index.get(key)?;
        self.slots.get(slot)?.as_ref().map(|(_, value)| value)
    }

    pub(crate) fn contains_key(&self, key: &[u8]) -> bool {
        self.index.contains_key(key)
    }

    /// Inserts or replaces (a replaced key keeps its place, as in Python); returns the old
    /// value.
    pub(crate) fn insert(&mut self, key: Bytes, value: Bytes) -> Option<Bytes> {
        if let Some(&slot) = self.index.get(&key)
            && let Some(Some((_, old))) = self.slots.get_mut(slot)
        {
            return Some(std::mem::replace(old, value));
        }
        self.index.insert(key.clone(), self.slots.len());
        self.slots.push(Some((key, value)));
        None
    }

    pub(crate) fn remove(&mut self, key: &[u8]) -> Option<Bytes> {
        let slot = self.index.remove(key)?;
        let removed = self.slots.get_mut(slot)?.take().map(|(_, value)| value);
        if self.slots.len() > 2 * self.index.len() + 16 {
            self.compact();
        }
        removed
    }

    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.index.clear();
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Bytes, &Bytes)> {
        self.slots.iter().flatten().map(|(key, value)| (key, value))
    }

    fn compact(&mut self) {
        self.slots.retain(Option::is_some);
        for (slot, entry) in self.slots.iter().enumerate() {
            if let Some((key, _)) = entry
                && let Some(index) = self.index.get_mut(key)
            {
                *index = slot;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: u32) -> Bytes {
        x.to_le_bytes().to_vec()
    }

    #[test]
    fn keeps_insertion_order_through_removals_and_compaction() {
        let mut map = OrderedMap::default();
        for i in 0..100 {
            assert_eq!(map.insert(b(i), b(i * 10)), None);
        }
        for i in (0..100).filter(|i| i % 3 != 0) {
            assert_eq!(map.remove(&b(i)), Some(b(i * 10)));
        }
        assert_eq!(map.insert(b(3), b(0)), Some(b(30)));
        map.insert(b(1000), b(1));
        let keys: Vec<Bytes> = map.iter().map(|(k, _)| k.clone()).collect();
        let mut expected: Vec<Bytes> = (0..100).filter(|i| i % 3 == 0).map(b).collect();
        expected.push(b(1000));
        assert_eq!(keys, expected);
        assert_eq!(map.len(), expected.len());
        assert_eq!(map.get(&b(3)), Some(&b(0)));
        assert!(!map.contains_key(&b(4)));
    }
}
