//! A connection that must keep taking our bytes: a write (or flush) that cannot make progress
//! for `write-timeout-ms` fails the connection. Without it a client that stops reading holds
//! its connection, and the slot of a tick stream or a large answer, for as long as TCP keeps
//! the socket open.
//!
//! Owns: the stall timer around one stream's writes. Never: reads (the head and body
//! timeouts bound those) or decides what is written.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// `inner` whose writes fail after `limit` without progress; `tripped` is set when one does.
pub struct WriteDeadline<T> {
    inner: T,
    limit: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
    tripped: Arc<AtomicBool>,
}

impl<T> WriteDeadline<T> {
    /// Wraps `inner`; the returned flag becomes `true` if the deadline ever fails a write.
    pub fn new(inner: T, limit: Duration) -> (WriteDeadline<T>, Arc<AtomicBool>) {
        let tripped = Arc::new(AtomicBool::new(false));
        (
            WriteDeadline {
                inner,
                limit,
                stalled: None,
                tripped: tripped.clone(),
            },
            tripped,
        )
    }

    /// After the inner write returned `result`: progress clears the timer; a stall starts it
    /// (or fails once it has run out).
    fn watch<R>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        if result.is_ready() {
            self.stalled = None;
            return result;
        }
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if timer.as_mut().poll(cx).is_ready() {
            self.tripped.store(true, Ordering::Relaxed);
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client took no bytes within the write timeout",
            )));
        }
        Poll::Pending
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteDeadline<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, result)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, result)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test(start_paused = true)]
    async fn a_reader_that_stops_fails_the_writer_after_the_limit() {
        // A 1 KiB pipe whose far end never reads.
        let (near, _far) = tokio::io::duplex(1024);
        let (mut w, tripped) = WriteDeadline::new(near, Duration::from_secs(5));
        let err = w.write_all(&[0u8; 64 * 1024]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(tripped.load(Ordering::Relaxed));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_but_steady_reader_is_not_cut_off() {
        use tokio::io::AsyncReadExt;
        let (near, mut far) = tokio::io::duplex(1024);
        let (mut w, tripped) = WriteDeadline::new(near, Duration::from_secs(5));
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let mut total = 0;
            while total < 16 * 1024 {
                tokio::time::sleep(Duration::from_secs(2)).await;
                total += far.read(&mut buf).await.unwrap();
            }
        });
        w.write_all(&[0u8; 16 * 1024]).await.unwrap();
        reader.await.unwrap();
        assert!(!tripped.load(Ordering::Relaxed));
    }
}
