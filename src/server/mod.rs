//! The standalone HTTP server (containers, benchmarks, tests): HTTP/1.1 with the limits a
//! server facing untrusted clients needs — at most `GATEWAY_MAX_CONNECTIONS` open
//! connections (more wait in the listen queue), request headers within
//! `GATEWAY_HEADER_TIMEOUT_SECS` (idle keep-alive connections included), a whole request
//! body within `GATEWAY_BODY_TIMEOUT_SECS`, the unread rest of a refused body drained so
//! the client reads its 413 (`drain`) — and a graceful shutdown. Under Lambda, API Gateway
//! does all of this and none of it runs.

mod drain;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
// Why a body was cut off; the edge's body reader tells it apart from a broken connection.
use crate::edge::body::BodyTimedOut;
use hyper::body::{Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How long in-flight requests may finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(10);

/// The server's limits, from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
}

impl Limits {
    /// `GATEWAY_MAX_CONNECTIONS` (1024), `GATEWAY_HEADER_TIMEOUT_SECS` (10),
    /// `GATEWAY_BODY_TIMEOUT_SECS` (30); a bad value names its variable.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let num = |name: &str, default: u64, max: u64| -> Result<u64, String> {
            match env(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
            {
                None => Ok(default),
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| format!("{name}: {v:?} is not a whole number from 1 to {max}")),
            }
        };
        Ok(Self {
            max_connections: num("GATEWAY_MAX_CONNECTIONS", 1024, 100_000)? as usize,
            header_timeout: Duration::from_secs(num("GATEWAY_HEADER_TIMEOUT_SECS", 10, 300)?),
            body_timeout: Duration::from_secs(num("GATEWAY_BODY_TIMEOUT_SECS", 30, 900)?),
        })
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets in-flight requests
/// finish (at most `DRAIN`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let body_timeout = limits.body_timeout;
    // Each request's body under its deadline; what the handler leaves unread is drained
    // before the answer goes out (`drain`).
    let service = tower::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let router = router.clone();
        async move {
            let (req, left) = drain::returning(req.map(|b| Deadline::new(b, body_timeout)));
            let resp = router.oneshot(req).await?;
            drain::rest(left).await;
            Ok::<_, std::convert::Infallible>(resp)
        }
    });
    tokio::pin!(shutdown);
    loop {
        // A free slot first: past the limit, new connections wait in the listen queue.
        let permit = tokio::select! {
            p = Arc::clone(&slots).acquire_owned() => p.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, most likely: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let conn = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(service.clone()),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // Errors here are clients going away or timing out: nothing to report.
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(DRAIN) => {
            tracing::warn!("requests still running after the drain time were cut off");
        }
    }
}

/// A request body that must be complete by a deadline set when the request arrived: a
/// client trickling its body is cut off (the handler sees an unreadable body).
struct Deadline<B> {
    inner: B,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl<B> Deadline<B> {
    fn new(inner: B, limit: Duration) -> Self {
        Self {
            inner,
            sleep: Box::pin(tokio::time::sleep(limit)),
        }
    }
}

impl<B> hyper::body::Body for Deadline<B>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyTimedOut.into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn limits_default_and_name_a_bad_variable() {
        let none = Limits::from_env(|_| None).unwrap();
        assert_eq!(none.max_connections, 1024);
        assert_eq!(none.header_timeout, Duration::from_secs(10));
        assert_eq!(none.body_timeout, Duration::from_secs(30));
        for (name, bad) in [
            ("GATEWAY_MAX_CONNECTIONS", "0"),
            ("GATEWAY_HEADER_TIMEOUT_SECS", "ten"),
            ("GATEWAY_BODY_TIMEOUT_SECS", "901"),
        ] {
            let e = Limits::from_env(|k| (k == name).then(|| bad.to_owned())).unwrap_err();
            assert!(e.starts_with(name), "{e}");
        }
    }

    #[tokio::test]
    async fn a_body_that_is_not_complete_by_its_deadline_is_cut_off() {
        let never = http_body_util::StreamBody::new(futures_util::stream::pending::<
            Result<Frame<Bytes>, std::io::Error>,
        >());
        let cut = Deadline::new(never, Duration::from_millis(20))
            .collect()
            .await;
        let e = cut.expect_err("cut off");
        assert!(e.downcast_ref::<BodyTimedOut>().is_some(), "{e}");
        let whole = http_body_util::Full::new(Bytes::from_static(b"{}"));
        let read = Deadline::new(whole, Duration::from_secs(3600))
            .collect()
            .await;
        assert_eq!(read.unwrap().to_bytes(), Bytes::from_static(b"{}"));
    }
}
