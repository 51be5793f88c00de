//! Bounded concurrency per client and in total: connections, `?wait` requests, tick streams.
//!
//! Owns: the counts and the RAII slot that gives a place back when dropped. Never: decides what
//! a refusal looks like on the wire (the caller answers or closes).

use crate::client::ClientKey;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Why a slot was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// Every slot of the server is taken.
    Total,
    /// This client holds its share.
    Client,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_client: HashMap<ClientKey, usize>,
}

/// At most `total` places at once, at most `per_client` for one client.
#[derive(Debug)]
pub struct Slots {
    total: usize,
    per_client: usize,
    counts: Mutex<Counts>,
}

/// One taken place; dropping it gives the place back.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    client: Option<ClientKey>,
}

impl Slots {
    /// A pool of `total` places, `per_client` of them for any one client.
    pub fn new(total: usize, per_client: usize) -> Arc<Slots> {
        Arc::new(Slots {
            total,
            per_client,
            counts: Mutex::new(Counts::default()),
        })
    }

    /// Takes a place for `client`; `None` as the client counts only against the total (a
    /// trusted proxy carries many clients).
    pub fn try_take(self: &Arc<Slots>, client: Option<ClientKey>) -> Result<Slot, Full> {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if c.total >= self.total {
            return Err(Full::Total);
        }
        if let Some(key) = client {
            let held = c.by_client.entry(key).or_default();
            if *held >= self.per_client {
                return Err(Full::Client);
            }
            *held += 1;
        }
        c.total += 1;
        Ok(Slot {
            slots: self.clone(),
            client,
        })
    }

    /// Places taken now, in total.
    pub fn taken(&self) -> usize {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).total
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.slots.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(key) = self.client
            && let Some(held) = c.by_client.get_mut(&key)
        {
            *held -= 1;
            if *held == 0 {
                c.by_client.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_held_to_its_share_and_places_come_back_on_drop() {
        let s = Slots::new(3, 2);
        let a = ClientKey::of([127, 0, 0, 2].into());
        let b = ClientKey::of([127, 0, 0, 1].into());
        let a1 = s.try_take(Some(a)).unwrap();
        let _a2 = s.try_take(Some(a)).unwrap();
        assert_eq!(s.try_take(Some(a)).unwrap_err(), Full::Client);
        let _b1 = s.try_take(Some(b)).unwrap();
        assert_eq!(s.try_take(Some(b)).unwrap_err(), Full::Total);
        assert_eq!(s.try_take(None).unwrap_err(), Full::Total);
        drop(a1);
        assert_eq!(s.taken(), 2);
        assert!(s.try_take(Some(a)).is_ok());
    }
}
