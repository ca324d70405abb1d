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
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        let mut c = client;
        c.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    };
    let target = target.to_owned();
    let upstream = match TcpStream::connect(&target) {
        Ok(u) => u,
        Err(_) => {
            let mut c = client;
            c.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
            return Ok(());
        }
    };
    tunnels.lock().unwrap().push(target);
    let mut c = client.try_clone()?;
    c.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    // Anything the client sent after the head is still in `reader`'s buffer.
    let buffered = reader.buffer().to_vec();
    let mut up_writer = upstream.try_clone()?;
    up_writer.write_all(&buffered)?;
    let mut up_reader = upstream.try_clone()?;
    let mut client_writer = client.try_clone()?;
    let down = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_reader, &mut client_writer);
        let _ = client_writer.shutdown(Shutdown::Write);
    });
    let mut client_reader = reader.into_inner();
    let _ = std::io::copy(&mut client_reader, &mut up_writer);
    let _ = up_writer.shutdown(Shutdown::Write);
    let _ = down.join();
    Ok(())
}
