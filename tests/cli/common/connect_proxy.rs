//! A tiny loopback HTTP proxy that only tunnels (`CONNECT host:port`), counting the tunnels it
//! opened and where to, so a test can tell whether a request went through it.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub struct ConnectProxy {
    addr: SocketAddr,
    tunnels: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl ConnectProxy {
    /// Listens on 127.0.0.1, on a free port.
    pub fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().unwrap();
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (tunnels2, stop2) = (tunnels.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let tunnels = tunnels2.clone();
                std::thread::spawn(move || {
                    let _ = tunnel(conn, &tunnels);
                });
            }
        });
        ConnectProxy {
            addr,
            tunnels,
            stop,
        }
    }

    /// `http://127.0.0.1:PORT`, as `http.proxy` takes it.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `host:port` of every tunnel opened so far.
    pub fn tunnels(&self) -> Vec<String> {
        self.tunnels.lock().unwrap().clone()
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn tunnel(client: TcpStream, tunnels: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let (reader, target) = read_connect(&client)?;
    let Some(target) = target else {
        let mut c = client;
        c.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    };
    let upstream = match TcpStream::connect(&target) {
        Ok(u) => u,
        Err(_) => {
            let mut c = client;
            c.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
            return Ok(());
        }
    };
    tunnels.lock().unwrap().push(target);
    splice(reader, client, upstream)
}

/// Reads a proxy request's head from `client`: the reader (holding whatever the client sent
/// after the head) and the `CONNECT` target, `None` for any other method.
pub fn read_connect(client: &TcpStream) -> std::io::Result<(BufReader<TcpStream>, Option<String>)> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let target = match (parts.next(), parts.next()) {
        (Some("CONNECT"), Some(target)) => Some(target.to_owned()),
        _ => None,
    };
    Ok((reader, target))
}

/// Answers `200 Connection established` and copies bytes both ways between `client` (read
/// through `reader`, which may hold bytes already) and `upstream` until both sides close.
pub fn splice(
    reader: BufReader<TcpStream>,
    client: TcpStream,
    upstream: TcpStream,
) -> std::io::Result<()> {
    let mut c = client;
    c.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    let mut up_writer = upstream.try_clone()?;
    up_writer.write_all(reader.buffer())?;
    let mut up_reader = upstream;
    let down = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_reader, &mut c);
        let _ = c.shutdown(Shutdown::Write);
    });
    let mut client_reader = reader.into_inner();
    let _ = std::io::copy(&mut client_reader, &mut up_writer);
    let _ = up_writer.shutdown(Shutdown::Write);
    let _ = down.join();
    Ok(())
}
