//! Inbound messages: one bounded queue per peer, drained fairly.
//!
//! Owns: each peer's queue (a frame count and a byte budget), the backpressure a full queue
//! puts on that peer's streams alone, and the round-robin that hands the consumer one message
//! per peer in turn. Never: drops an authenticated message (a full queue makes its peer wait,
//! and QUIC flow control slows that peer only), or lets one peer's backlog delay another's
//! messages by more than one message per peer.

use std::sync::Arc;
use std::task::{Context, Poll};
use tickchain_sdk::NodeId;
use tokio::sync::{Semaphore, mpsc};

/// A message from a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The authenticated sender.
    pub from: NodeId,
    /// The message bytes.
    pub payload: Vec<u8>,
}

/// The sending half of one peer's queue, held by that peer's stream readers.
#[derive(Clone)]
pub(super) struct PeerInbox {
    tx: mpsc::Sender<Vec<u8>>,
    bytes: Arc<Semaphore>,
}

impl PeerInbox {
    /// Reserves `len` bytes of the peer's budget, waiting while the queue is over it. Call
    /// before reading the body, so a peer that floods waits with its bytes still in QUIC's
    /// flow-control window rather than in our memory.
    pub async fn reserve(&self, len: usize) -> Option<Reserved> {
        let n = u32::try_from(len.max(1)).ok()?;
        let permit = self.bytes.acquire_many(n).await.ok()?;
        permit.forget();
        Some(Reserved {
            bytes: self.bytes.clone(),
            n,
            tx: self.tx.clone(),
            sent: false,
        })
    }
}

/// Bytes of a peer's budget reserved for one message; returned when the consumer takes the
/// message off the queue, or when the reservation is dropped unused.
pub(super) struct Reserved {
    bytes: Arc<Semaphore>,
    n: u32,
    tx: mpsc::Sender<Vec<u8>>,
    sent: bool,
}

impl Reserved {
    /// Queues the message; false if the consumer is gone.
    pub async fn send(mut self, payload: Vec<u8>) -> bool {
        let ok = self.tx.send(payload).await.is_ok();
        self.sent = ok;
        ok
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        if !self.sent {
            self.bytes.add_permits(self.n as usize);
        }
    }
}

struct PeerQueue {
    from: NodeId,
    rx: mpsc::Receiver<Vec<u8>>,
    bytes: Arc<Semaphore>,
    open: bool,
}

/// The consumer's side: every peer's queue, read in turn.
pub struct InboundQueue {
    queues: Vec<PeerQueue>,
    next: usize,
}

impl Drop for InboundQueue {
    /// Releases every reader waiting for its peer's budget: nobody will consume again.
    fn drop(&mut self) {
        for q in &self.queues {
            q.bytes.close();
        }
    }
}

impl InboundQueue {
    /// Queues for `n` nodes (the entry for `me` stays empty), each holding at most `frames`
    /// messages and `budget` bytes; returns the consumer and each node's inbox.
    pub(super) fn new(n: usize, frames: usize, budget: usize) -> (InboundQueue, Vec<PeerInbox>) {
        let mut queues = Vec::with_capacity(n);
        let mut inboxes = Vec::with_capacity(n);
        for i in 0..n {
            let (tx, rx) = mpsc::channel(frames.max(1));
            let bytes = Arc::new(Semaphore::new(budget.min(Semaphore::MAX_PERMITS)));
            queues.push(PeerQueue {
                from: NodeId(i as u16),
                rx,
                bytes: bytes.clone(),
                open: true,
            });
            inboxes.push(PeerInbox { tx, bytes });
        }
        (InboundQueue { queues, next: 0 }, inboxes)
    }

    /// The next message, taking peers in turn; `None` once every queue has closed (the
    /// transport stopped).
    pub async fn recv(&mut self) -> Option<Inbound> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The next message if one is waiting now (taking peers in turn), without waiting.
    pub fn try_recv(&mut self) -> Option<Inbound> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match self.poll_recv(&mut cx) {
            Poll::Ready(m) => m,
            Poll::Pending => None,
        }
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Inbound>> {
        let n = self.queues.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            let q = &mut self.queues[i];
            if !q.open {
                continue;
            }
            match q.rx.poll_recv(cx) {
                Poll::Ready(Some(payload)) => {
                    q.bytes.add_permits(payload.len().max(1));
                    self.next = (i + 1) % n;
                    return Poll::Ready(Some(Inbound {
                        from: q.from,
                        payload,
                    }));
                }
                Poll::Ready(None) => q.open = false,
                Poll::Pending => {}
            }
        }
        if self.queues.iter().any(|q| q.open) {
            Poll::Pending
        } else {
            Poll::Ready(None)
        }
    }

    /// Messages waiting, over all peers.
    pub fn len(&self) -> usize {
        self.queues.iter().map(|q| q.rx.len()).sum()
    }

    /// Whether no message is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
