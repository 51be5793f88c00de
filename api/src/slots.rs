//! Bounded concurrency per client, per network of clients (IPv4 /24, IPv6 /48) and in total:
//! connections, `?wait` requests, tick streams.
//!
//! Owns: the counts and the RAII slot that gives a place back when dropped. Never: decides what
//! a refusal looks like on the wire (the caller answers or closes).

use crate::client::{ClientKey, NetworkKey};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Why a slot was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// Every slot of the server is taken.
    Total,
    /// This client holds its share.
    Client,
    /// This client's network (a /24 or a /48) holds its share.
    Network,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_client: HashMap<ClientKey, usize>,
    by_network: HashMap<NetworkKey, usize>,
}

/// At most `total` places at once, at most `per_client` for one client and `per_network` for
/// one network of clients.
#[derive(Debug)]
pub struct Slots {
    total: usize,
    per_client: usize,
    per_network: usize,
    counts: Mutex<Counts>,
}

/// One taken place; dropping it gives the place back.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    client: Option<ClientKey>,
}

impl Slots {
    /// A pool of `total` places, `per_client` of them for any one client and `network_percent`
    /// percent of `total` (at least `per_client`) for any one network.
    pub fn new(total: usize, per_client: usize, network_percent: usize) -> Arc<Slots> {
        Arc::new(Slots {
            total,
            per_client,
            per_network: (total * network_percent / 100).max(per_client),
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
            let held = c.by_client.get(&key).copied().unwrap_or(0);
            if held >= self.per_client {
                return Err(Full::Client);
            }
            let in_network = c.by_network.get(&key.network()).copied().unwrap_or(0);
            if in_network >= self.per_network {
                return Err(Full::Network);
            }
            *c.by_client.entry(key).or_default() += 1;
            *c.by_network.entry(key.network()).or_default() += 1;
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
        if let Some(key) = self.client {
            if let Some(held) = c.by_client.get_mut(&key) {
                *held -= 1;
                if *held == 0 {
                    c.by_client.remove(&key);
                }
            }
            if let Some(held) = c.by_network.get_mut(&key.network()) {
                *held -= 1;
                if *held == 0 {
                    c.by_network.remove(&key.network());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_held_to_its_share_and_places_come_back_on_drop() {
        let s = Slots::new(3, 2, 100);
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

    #[test]
    fn one_network_holds_at_most_its_percentage_of_the_total() {
        let s = Slots::new(100, 10, 25);
        let mut held = Vec::new();
        // 192.0.2.0/24: three clients of 10 each reach 25 places, then the network is full.
        for host in 1..=3u8 {
            for _ in 0..10 {
                match s.try_take(Some(ClientKey::of([192, 0, 2, host].into()))) {
                    Ok(slot) => held.push(slot),
                    Err(e) => assert_eq!(e, Full::Network),
                }
            }
        }
        assert_eq!(held.len(), 25);
        let other = ClientKey::of([198, 51, 100, 1].into());
        assert!(s.try_take(Some(other)).is_ok(), "another network is served");
        held.pop();
        assert!(
            s.try_take(Some(ClientKey::of([192, 0, 2, 4].into())))
                .is_ok()
        );
    }
}
