//! Baseline for the benchmark: the plainest broadcast server on our stack (tokio +
//! tokio-tungstenite). Every text frame any client sends is sent to every connected client.
//! No authentication, no storage, no ordering guarantees beyond TCP: the ceiling of this machine.
//! With `--batched` it writes every frame already queued for a connection in one system call
//! (feed, then one flush), as Xietong does: the floor to compare Xietong's throughput with.

use futures::{SinkExt, StreamExt};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let batched = std::env::args().any(|a| a == "--batched");
    // The listen queue Xietong asks for (`server/src/lib.rs`, `LISTEN_BACKLOG`): with
    // `bind`'s 128, a burst of connects overflows it and the figure measures 1 s SYN
    // retransmits, not the server.
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let listener = socket.listen(4096)?;
    let (tx, _) = broadcast::channel::<Utf8Bytes>(4096);
    loop {
        let (stream, _) = listener.accept().await?;
        // Tuned like Xietong: no Nagle, same read buffer.
        stream.set_nodelay(true)?;
        let tx = tx.clone();
        tokio::spawn(async move {
            // The same read buffer as Xietong's (the library default is 128 KiB).
            let config = WebSocketConfig::default().read_buffer_size(2 * 1024);
            let Ok(ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await
            else {
                return;
            };
            let (mut sink, mut stream) = ws.split();
            let mut rx = tx.subscribe();
            loop {
                tokio::select! {
                    incoming = stream.next() => match incoming {
                        Some(Ok(Message::Text(text))) => { let _ = tx.send(text); }
                        Some(Ok(_)) => {}
                        _ => break,
                    },
                    outgoing = rx.recv() => match outgoing {
                        Ok(text) if batched => {
                            let mut ok = sink.feed(Message::Text(text)).await.is_ok();
                            // Up to 64 more already queued, like Xietong, then one write.
                            for _ in 0..64 {
                                match rx.try_recv() {
                                    Ok(more) if ok => ok = sink.feed(Message::Text(more)).await.is_ok(),
                                    _ => break,
                                }
                            }
                            if !ok || sink.flush().await.is_err() { break }
                        }
                        Ok(text) => if sink.send(Message::Text(text)).await.is_err() { break },
                        // A receiver that fell 4096 frames behind is cut off, like Xietong's rule.
                        Err(_) => break,
                    },
                }
            }
        });
    }
}
