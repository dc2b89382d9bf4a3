//! A fault-injecting TCP proxy on 127.0.0.1 for the fault matrix (`tests/services/faults/`):
//! in front of moto, a JWKS, an HTTP target or Lambda's Invoke API, it forwards, refuses
//! connections, resets them, holds requests, delays them, answers canned bytes (garbage, a
//! throttling error, a 5xx, an oversized body) or cuts an answer mid-body. The fault is read
//! on every chunk, so connections the gateway keeps in its pools get it too.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

#[derive(Clone, Debug)]
pub enum Fault {
    /// Forward both ways.
    Pass,
    /// Nothing listens: connections are refused.
    Down,
    /// Each request's connection is reset (RST) when its first bytes arrive.
    Reset,
    /// Requests are read and never forwarded nor answered.
    Blackhole,
    /// Each chunk of a request waits this long before it is forwarded.
    Slow(Duration),
    /// Each request is answered with these bytes, then the connection closes.
    Respond(Vec<u8>),
    /// Answers are forwarded up to this many bytes each, then the connection closes.
    CutAfter(usize),
}

/// An HTTP/1.1 answer for `Fault::Respond`.
pub fn http_answer(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    v.extend_from_slice(body);
    v
}

pub struct FaultProxy {
    pub url: String,
    addr: SocketAddr,
    upstream: SocketAddr,
    fault: Arc<Mutex<Fault>>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl FaultProxy {
    /// A proxy to `upstream` (`http://host:port` or `host:port`), forwarding.
    pub async fn start(upstream: &str) -> Self {
        let hostport = upstream
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap();
        let upstream = tokio::net::lookup_host(hostport)
            .await
            .unwrap()
            .next()
            .unwrap();
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0)));
        let addr = listener.local_addr().unwrap();
        let proxy = Self {
            url: format!("http://{addr}"),
            addr,
            upstream,
            fault: Arc::new(Mutex::new(Fault::Pass)),
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    /// Sets the fault for what comes next. `Down` closes the listener and every connection
    /// through it; any other fault after `Down` listens again on the same port.
    pub fn set(&self, fault: Fault) {
        let was_down = matches!(*self.fault.lock().unwrap(), Fault::Down);
        *self.fault.lock().unwrap() = fault.clone();
        match (was_down, matches!(fault, Fault::Down)) {
            (false, true) => self.tasks.lock().unwrap().drain(..).for_each(|t| t.abort()),
            (true, false) => self.serve(bind(self.addr)),
            _ => {}
        }
    }

    fn serve(&self, listener: TcpListener) {
        let (fault, tasks, upstream) = (
            Arc::clone(&self.fault),
            Arc::clone(&self.tasks),
            self.upstream,
        );
        let accept = tokio::spawn({
            let tasks = Arc::clone(&tasks);
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let conn = tokio::spawn(relay(client, upstream, Arc::clone(&fault)));
                    let mut all = tasks.lock().unwrap();
                    all.retain(|t| !t.is_finished());
                    all.push(conn);
                }
            }
        });
        tasks.lock().unwrap().push(accept);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.tasks.lock().unwrap().drain(..).for_each(|t| t.abort());
    }
}

/// A listener that may take the port back right after it was closed.
fn bind(addr: SocketAddr) -> TcpListener {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind(addr).unwrap();
    socket.listen(64).unwrap()
}

fn current(fault: &Mutex<Fault>) -> Fault {
    fault.lock().unwrap().clone()
}

async fn relay(mut client: TcpStream, upstream: SocketAddr, fault: Arc<Mutex<Fault>>) {
    let mut server: Option<TcpStream> = None;
    let (mut up, mut down) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    // Bytes of the current answer sent back, for `CutAfter`.
    let mut answered = 0usize;
    loop {
        tokio::select! {
            n = client.read(&mut up) => {
                let Ok(n @ 1..) = n else { return };
                answered = 0;
                match current(&fault) {
                    Fault::Pass | Fault::CutAfter(_) => {}
                    Fault::Down => return,
                    Fault::Reset => {
                        let _ = client.set_zero_linger();
                        return;
                    }
                    Fault::Blackhole => continue,
                    Fault::Slow(d) => tokio::time::sleep(d).await,
                    Fault::Respond(bytes) => {
                        let _ = client.write_all(&bytes).await;
                        let _ = client.shutdown().await;
                        return;
                    }
                }
                if server.is_none() {
                    match TcpStream::connect(upstream).await {
                        Ok(s) => server = Some(s),
                        Err(_) => return,
                    }
                }
                if server.as_mut().unwrap().write_all(&up[..n]).await.is_err() {
                    return;
                }
            }
            n = async {
                match server.as_mut() {
                    Some(s) => s.read(&mut down).await,
                    None => std::future::pending().await,
                }
            } => {
                let Ok(n @ 1..) = n else { return };
                if let Fault::CutAfter(limit) = current(&fault) {
                    let room = limit.saturating_sub(answered).min(n);
                    let _ = client.write_all(&down[..room]).await;
                    if answered + n > limit {
                        let _ = client.set_zero_linger();
                        return;
                    }
                    answered += n;
                    continue;
                }
                if client.write_all(&down[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
