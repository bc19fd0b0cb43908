//! The engine's side of the channel to fabricks: JSON lines over the socket fabricks opened as
//! fd 3 (docs/host-protocol.md). The program's own stdio never carries anything of fabricks'.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::FromRawFd;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;

pub struct Channel {
    writer: Mutex<UnixStream>,
    reader: Mutex<BufReader<UnixStream>>,
}

impl Channel {
    /// The socket on fd 3. Only `main` calls this, once.
    pub fn open() -> std::io::Result<Channel> {
        // SAFETY: fabricks starts the engine with a socket as fd 3, and nothing else owns it.
        let stream = unsafe { UnixStream::from_raw_fd(3) };
        let reader = stream.try_clone()?;
        Ok(Channel { writer: Mutex::new(stream), reader: Mutex::new(BufReader::new(reader)) })
    }

    /// Sends one message. A channel fabricks closed is not an error here: fabricks is gone, and
    /// the engine ends when it next reads.
    pub fn send(&self, message: &Value) {
        let mut line = serde_json::to_vec(message).expect("a JSON value serializes");
        line.push(b'\n');
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let _ = w.write_all(&line);
    }

    /// The next message, or None once fabricks has closed the channel.
    pub fn receive(&self) -> Option<Value> {
        let mut r = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let mut line = String::new();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => serde_json::from_str(&line).ok(),
        }
    }
}
