//! What the standalone server does with the part of a request body its handler left unread
//! — a body over the limit, refused with 413 from its `Content-Length` or once the limit is
//! reached: it reads and discards the rest, up to `DRAIN_BOUND` and within the body's
//! deadline, before the answer goes out. Closing the connection with the client's bytes
//! still arriving makes the kernel reset it, and a client still sending (Python's urllib,
//! curl with a large upload) then loses the 413 it was sent; drained, the connection even
//! stays open for the next request. Past the bound the answer goes out and the connection
//! closes as before: a client cannot make the gateway read without end.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use http_body_util::BodyExt;
use hyper::body::{Frame, SizeHint};
use tokio::sync::oneshot;

/// The most that is read and thrown away after the handler is done (8 MiB).
pub const DRAIN_BOUND: usize = 8 << 20;

/// The request with its body wrapped so that, dropped unfinished, it comes back through the
/// receiver to be drained.
pub fn returning<B>(
    req: axum::http::Request<B>,
) -> (axum::http::Request<Body>, oneshot::Receiver<B>)
where
    B: hyper::body::Body<Data = axum::body::Bytes> + Send + Unpin + 'static,
    B::Error: Into<axum::BoxError>,
{
    let (tx, rx) = oneshot::channel();
    let req = req.map(|inner| {
        Body::new(Returned {
            inner: Some(inner),
            back: Some(tx),
            ended: false,
        })
    });
    (req, rx)
}

/// Reads what the handler left of the body, if it left any, up to `DRAIN_BOUND`.
pub async fn rest<B>(left: oneshot::Receiver<B>)
where
    B: hyper::body::Body<Data = axum::body::Bytes> + Unpin,
{
    let Ok(mut body) = left.await else {
        return;
    };
    let mut read = 0usize;
    while let Some(frame) = body.frame().await {
        // An unreadable body (the client went away, or its deadline passed): nothing more.
        let Ok(frame) = frame else { return };
        if let Some(data) = frame.data_ref() {
            read += data.len();
            if read > DRAIN_BOUND {
                return;
            }
        }
    }
}

struct Returned<B> {
    inner: Option<B>,
    back: Option<oneshot::Sender<B>>,
    ended: bool,
}

impl<B> Drop for Returned<B> {
    fn drop(&mut self) {
        // Sent even when nothing was read (a GET's empty body ends at once when drained);
        // the receiver is gone only if the request itself was dropped.
        if let (false, Some(inner), Some(back)) = (self.ended, self.inner.take(), self.back.take())
        {
            let _ = back.send(inner);
        }
    }
}

impl<B> hyper::body::Body for Returned<B>
where
    B: hyper::body::Body + Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            self.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), |b| b.size_hint())
    }
}
